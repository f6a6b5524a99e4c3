"""The notebook image's steps, run in a fresh venv with the Dockerfile's own commands.

No container engine exists here, so the test does what `docker build` and the base image's s6
service would do, reading the steps from image/Dockerfile so that it follows the file:
- build the wheel with the command of the Dockerfile's header;
- COPY each file of the build context to its destination, with `CONDA_DIR` the fresh venv;
- run each RUN command with the Dockerfile's SHELL, its bind mounts pointed at the build
  context; the one change is that pip may use its cache (no `--no-cache-dir`), to stay fast;
- start JupyterLab as the base's s6 service does, under NB_PREFIX, on an empty HOME as a fresh
  workspace volume is, with a token (the image runs without one, behind Kubeflow's auth);
- check the server, the extension's route, both extension lists, and that a kernel and an
  IPython shell have the magics without `%load_ext`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
IMAGE = ROOT / "image"
NB_PREFIX = "/notebook/kubeflow-user-example-com/mlops-image-test"
MAGICS = {"k8s", "kfp", "mlflow", "mlops"}


@dataclass
class Instruction:
    keyword: str
    flags: list[str] = field(default_factory=list)
    args: str = ""


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their `--flags`; continuations joined, comment lines dropped."""
    instructions: list[Instruction] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or not line:
            continue  # comments inside a continuation are dropped too, as Docker does
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, rest = logical.partition(" ")
        flags = []
        rest = rest.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            flags.append(flag)
            rest = rest.strip()
        instructions.append(Instruction(keyword.upper(), flags, rest))
        logical = ""
    return instructions


def expand(value: str, env: dict[str, str]) -> str:
    """Docker's `${VAR}` / `${VAR:-default}` expansion in COPY and USER."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        return env.get(name) or (default if default is not None else "")

    return re.sub(r"\$\{(\w+)(:-([^}]*))?\}", one, value)


def header_command(text: str, marker: str) -> str:
    """The build command the Dockerfile's header tells people to run."""
    for raw in text.splitlines():
        if raw.startswith("#") and marker in raw:
            return raw.lstrip("#").strip()
    raise AssertionError(f"the Dockerfile's header has no `{marker}` command")


def constraints() -> dict[str, str]:
    """image/constraints.txt as {name: version}."""
    lines = (IMAGE / "constraints.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{shlex.join(cmd)}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


def get_json(url: str, token: str) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, url
        body: dict[str, object] = json.loads(response.read())
        return body


def test_the_dockerfile_keeps_the_notebook_image_contract() -> None:
    steps = parse_dockerfile((IMAGE / "Dockerfile").read_text())
    keywords = [s.keyword for s in steps]
    # The base's ENTRYPOINT (/init, s6) and its services start JupyterLab on 8888 under
    # NB_PREFIX; HOME stays the base's /home/jovyan, where the workspace volume is mounted.
    assert not {"ENTRYPOINT", "CMD", "EXPOSE", "VOLUME", "WORKDIR"} & set(keywords)
    assert not [s for s in steps if s.keyword == "ENV" and re.search(r"\b(HOME|NB_)", s.args)]
    base = next(s.args for s in steps if s.keyword == "ARG" and s.args.startswith("BASE="))
    assert re.fullmatch(
        r"BASE=ghcr\.io/kubeflow/kubeflow/notebook-servers/jupyter-(scipy|pytorch|tensorflow)"
        r"(-cuda|-full)*:v\d+\.\d+\.\d+",
        base,
    ), base
    assert [s.args for s in steps if s.keyword == "USER"][-1] == "${NB_UID}"
    # The JupyterLab pinned for the image is one this extension is built for.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = next(
        Requirement(d) for d in pyproject["project"]["dependencies"] if d.startswith("jupyterlab")
    )
    pins = constraints()
    assert wanted.specifier.contains(pins["jupyterlab"]), (wanted, pins["jupyterlab"])
    assert {"numpy", "pandas", "scikit-learn"} <= set(pins)


@pytest.fixture
def image_venv(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh venv with the image's COPY and RUN steps done in it."""
    labextension = ROOT / "jupyter_mlops" / "labextension"
    assert (labextension / "static" / "style.js").exists(), (
        "the prebuilt labextension is missing: run `make build` (make test does)"
    )
    dockerfile = (IMAGE / "Dockerfile").read_text()
    steps = parse_dockerfile(dockerfile)

    venv = tmp_path / "conda"  # plays $CONDA_DIR, the base's Python environment
    home = tmp_path / "home" / "jovyan"  # an empty workspace volume
    home.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        key: value
        for key, value in os.environ.items()
        if key.startswith(("PIP_", "LANG", "LC_"))
        or key.lower() in ("http_proxy", "https_proxy", "no_proxy", "ssl_cert_file", "tmpdir")
    }
    env.update(
        PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        HOME=str(home),
        CONDA_DIR=str(venv),
        NB_USER="jovyan",
        NB_UID="1000",
        NB_PREFIX=NB_PREFIX,
        SHELL="/bin/bash",
        # HOME moved: keep pip's own cache, so that a second run downloads nothing.
        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )

    # The build context: image/ with the wheel built into its dist/ as the header says.
    context = tmp_path / "context"
    shutil.copytree(IMAGE, context, ignore=shutil.ignore_patterns("dist"))
    build = header_command(dockerfile, "pip wheel").replace("image/dist", str(context / "dist"))
    run(["bash", "-o", "pipefail", "-c", build], env, ROOT, timeout=240)
    assert list((context / "dist").glob("jupyter_mlops-*.whl"))

    # The conda pins of the base's jupyter image (its Dockerfile writes them before installing).
    pinned = venv / "conda-meta" / "pinned"
    pinned.parent.mkdir()
    pinned.write_text("python 3.11.*\njupyterlab ==4.2.5\nnotebook ==7.2.2\n")

    shell = ["/bin/sh", "-c"]
    for step in steps:
        if step.keyword == "SHELL":
            shell = json.loads(step.args)
        elif step.keyword == "COPY":
            *sources, dest = shlex.split(step.args)
            target = Path(expand(dest, env))
            assert target.is_relative_to(venv), f"COPY outside $CONDA_DIR: {dest}"
            for source in sources:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(context / source, target)
        elif step.keyword == "RUN":
            command = step.args.replace("--no-cache-dir", "")
            for flag in step.flags:
                if flag.startswith("--mount="):
                    mount = dict(part.split("=", 1) for part in flag[8:].split(","))
                    assert mount["type"] == "bind", flag
                    command = command.replace(mount["target"], str(context / mount["source"]))
            run([*shell, command], env, home, timeout=300)
    # conda would otherwise take JupyterLab back to the base's version at the next install.
    pins = constraints()
    assert pinned.read_text().splitlines() == [
        "python 3.11.*",
        f"jupyterlab =={pins['jupyterlab']}",
        f"notebook =={pins['notebook']}",
    ]
    yield venv, env


def test_the_image_steps_install_and_start_jupyterlab_with_the_extension(
    image_venv: tuple[Path, dict[str, str]],
) -> None:
    venv, env = image_venv
    home = Path(env["HOME"])
    # The image's numbers, not whatever the resolver liked.
    pins = constraints()
    frozen = dict(
        line.split("==")
        for line in run(
            [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"], env, home, 60
        ).splitlines()
        if "==" in line
    )
    assert {name: frozen.get(name) for name in pins} == pins

    labextensions = run([str(venv / "bin" / "jupyter"), "labextension", "list"], env, home, 60)
    assert re.search(r"jupyter-mlops v\S+ \S*enabled\S* \S*OK", labextensions), labextensions
    serverextensions = run(
        [str(venv / "bin" / "jupyter"), "server", "extension", "list"], env, home, 60
    )
    assert re.search(r"jupyter_mlops \S*enabled", serverextensions), serverextensions
    assert re.search(r"jupyter_mlops \S+ \S*OK", serverextensions), serverextensions

    # The base's s6 service (jupyterlab/run), with a loopback address, a free port and a token.
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(venv / "bin" / "jupyter"),
        "lab",
        f"--notebook-dir={home}",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--no-browser",
        f"--ServerApp.token={token}",
        "--ServerApp.password=",
        "--ServerApp.allow_origin=*",
        "--ServerApp.allow_remote_access=True",
        "--ServerApp.authenticate_prometheus=False",
        f"--ServerApp.base_url={env['NB_PREFIX']}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = home.parent / "jupyterlab.log"
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}{NB_PREFIX}"
        deadline = time.monotonic() + 90
        while True:
            try:
                status = get_json(f"{base}/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, log.read_text()[-4000:]
                assert time.monotonic() < deadline, log.read_text()[-4000:]
                time.sleep(0.5)
        assert "started" in status
        mlops = get_json(f"{base}/mlops/api/status", token)
        # The extension answers under NB_PREFIX and reads the namespace from it, as in a pod.
        assert mlops["identity"] == {**mlops["identity"], "namespace": "kubeflow-user-example-com"}
        assert {"cluster", "pipelines", "tracking"} <= set(mlops)
        lab = urllib.request.urlopen(
            urllib.request.Request(f"{base}/lab", headers={"Authorization": f"token {token}"}),
            timeout=30,
        ).read()
        assert b"jupyter-mlops" in lab  # the page's config lists the federated extension
    finally:
        server.terminate()
        server.wait(timeout=30)

    # A kernel started as JupyterLab starts one, and a terminal IPython shell: both have the
    # magics with no `%load_ext`, from the config file the image installed in $CONDA_DIR.
    probe = (
        "import json; ip = get_ipython(); m = ip.magics_manager.magics; "
        "print('PROBE=' + json.dumps({'line': sorted(m['line']), 'cell': sorted(m['cell']), "
        "'loaded': sorted(ip.extension_manager.loaded)}))"
    )
    kernel = (
        "import sys\n"
        "from jupyter_client.manager import start_new_kernel\n"
        "km, kc = start_new_kernel(kernel_name='python3', startup_timeout=120)\n"
        "try:\n"
        f"    reply = kc.execute_interactive({probe!r}, timeout=120)\n"
        "    sys.exit(reply['content']['status'] != 'ok')\n"
        "finally:\n"
        "    kc.stop_channels()\n"
        "    km.shutdown_kernel(now=True)\n"
    )
    for argv in (
        [str(venv / "bin" / "python"), "-c", kernel],
        [str(venv / "bin" / "ipython"), "--no-banner", "-c", probe],
    ):
        output = run(argv, env, home, timeout=180)
        found = json.loads(output.split("PROBE=", 1)[1].splitlines()[0])
        assert "jupyter_mlops" in found["loaded"], output
        assert set(found["line"]) >= MAGICS, found["line"]
        assert "kfp_component" in found["cell"], found["cell"]
        assert "Error in loading extension" not in output, output

    # A user's own profile on the workspace volume, written the usual way, keeps the magics.
    profile = home / ".ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)  # IPython made it on the first start
    (profile / "ipython_config.py").write_text(
        'c.InteractiveShellApp.extensions = ["autoreload"]\n'
    )
    output = run([str(venv / "bin" / "ipython"), "--no-banner", "-c", probe], env, home, 120)
    loaded = json.loads(output.split("PROBE=", 1)[1].splitlines()[0])["loaded"]
    assert {"jupyter_mlops", "IPython.extensions.autoreload"} <= set(loaded), output
