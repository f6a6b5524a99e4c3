"""`python -m jupyter_mlops.demo`: a demo Kubeflow namespace, then JupyterLab on the demo notebook.

No cluster is needed: the Kubernetes API emulator serves a seeded Kubeflow profile namespace
(a notebook, a pipeline run's pods, a model server, Katib, Spark, and the failures people meet:
a claim stuck Pending without a default StorageClass, a pod asking for more CPU than a node has,
a crash loop). Pipelines run locally through kfp.local and MLflow keeps its runs in the
workspace. The cluster starts from its seed each time; `--keep-state` (or
MLOPS_DEMO_KEEP_STATE=1) carries on from the last run's state instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

NOTEBOOK = Path(__file__).with_name("demo.ipynb")
NAMESPACE = "kubeflow-user-example-com"
EDITOR_TOKEN = "demo-default-editor"
ADMIN_TOKEN = "demo-admin"
#: Set to 1 to carry on from the last run's cluster state (what `--keep-state` does).
KEEP_STATE_VARIABLE = "MLOPS_DEMO_KEEP_STATE"


def prepare(workspace: Path) -> Path:
    """Copy the demo notebook into `workspace`, never overwriting the user's edits."""
    (workspace / ".mlops").mkdir(parents=True, exist_ok=True)
    target = workspace / NOTEBOOK.name
    if not target.exists():
        shutil.copyfile(NOTEBOOK, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def start_cluster(
    workspace: Path, *, keep_state: bool = False
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the emulated cluster from its seed (or its last state) and write the kubeconfig."""
    state = workspace / ".mlops" / "demo-cluster.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "jupyter_mlops.demo.cluster",
        f"--port={port}",
        f"--state={state}",
        f"--admin-token={ADMIN_TOKEN}",
        f"--profile={NAMESPACE}:{EDITOR_TOKEN}",
    ]
    process = subprocess.Popen(command + (["--keep-state"] if keep_state else []))
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/version", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the demo cluster did not start; see the messages above") from None
            time.sleep(0.1)
    kubeconfig = workspace / ".mlops" / "demo-kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "demo", "cluster": {"server": url}}],
                "users": [{"name": "default-editor", "user": {"token": EDITOR_TOKEN}}],
                "contexts": [
                    {
                        "name": "demo",
                        "context": {
                            "cluster": "demo",
                            "user": "default-editor",
                            "namespace": NAMESPACE,
                        },
                    }
                ],
                "current-context": "demo",
            }
        )
    )
    return process, kubeconfig


def lab_command(workspace: Path, notebook: Path, extra: list[str]) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        f"--LabApp.default_url=/lab/tree/{notebook.name}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    return command + extra


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workspace",
        type=Path,
        default=Path("demo-workspace"),
        help="folder for the demo notebook and local state (default: ./demo-workspace)",
    )
    parser.add_argument(
        "--no-cluster", action="store_true", help="no emulated cluster: show the unconfigured state"
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="prepare the workspace, start nothing"
    )
    parser.add_argument(
        "--keep-state",
        action="store_true",
        default=os.environ.get(KEEP_STATE_VARIABLE, "") not in ("", "0"),
        help="carry on from the last run's cluster (deleted pods stay deleted) instead of "
        f"starting from the seed; also {KEEP_STATE_VARIABLE}=1",
    )
    args, extra = parser.parse_known_args(argv)
    workspace = args.workspace.resolve()
    notebook = prepare(workspace)
    if args.prepare_only:
        print(workspace)
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNETES_", "KF_"))}
    cluster = None
    if not args.no_cluster:
        if args.keep_state:
            print(
                "demo cluster: keeping the last run's state; start without --keep-state "
                f"(and {KEEP_STATE_VARIABLE} unset) to begin again from the seed"
            )
        else:
            print(
                "demo cluster: starting from the seed; to keep what you change for the next "
                f"start, run with --keep-state (or {KEEP_STATE_VARIABLE}=1)"
            )
        cluster, kubeconfig = start_cluster(workspace, keep_state=args.keep_state)
        env["KUBECONFIG"] = str(kubeconfig)
    try:
        subprocess.run(lab_command(workspace, notebook, extra), env=env, check=False)
    except KeyboardInterrupt:
        pass
    finally:
        if cluster is not None:
            cluster.terminate()
            cluster.wait(timeout=10)


if __name__ == "__main__":
    main()
