"""`python -m jupyter_mlops.demo`: a demo Kubeflow namespace, then JupyterLab on the demo notebook.

No cluster is needed: the Kubernetes API emulator serves a seeded Kubeflow profile namespace
(a notebook, a pipeline run's pods, a model server, Katib, Spark, and the failures people meet:
a claim stuck Pending without a default StorageClass, a pod asking for more CPU than a node has,
a crash loop). Pipelines run locally through kfp.local and MLflow keeps its runs in the
workspace. The emulator keeps its state in the workspace across restarts.
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


def start_cluster(workspace: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the emulated cluster, seed it once, and write the notebook's kubeconfig."""
    state = workspace / ".mlops" / "demo-cluster.json"
    seeded = state.exists()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_mlops.testing.kube",
            f"--port={port}",
            f"--state={state}",
            f"--admin-token={ADMIN_TOKEN}",
            f"--profile={NAMESPACE}:{EDITOR_TOKEN}",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/version", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the demo cluster did not start; see the messages above") from None
            time.sleep(0.1)
    if not seeded:
        seed(url)
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


def seed(url: str) -> None:
    from kubernetes import client

    from ..testing.kubeflow import load_kubeflow

    configuration = client.Configuration(host=url)
    configuration.api_key = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    with client.ApiClient(configuration) as api:
        # The seeded node replaces the emulator's own, so that its 2 CPUs are the whole
        # cluster and the notebook asking for too much stays Pending, as it did for real.
        client.CoreV1Api(api).delete_node("emulated-node")
        loaded = load_kubeflow(api, namespace=NAMESPACE)
    print(f"demo cluster: seeded {len(loaded.created)} objects in namespace {NAMESPACE}")


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
    args, extra = parser.parse_known_args(argv)
    workspace = args.workspace.resolve()
    notebook = prepare(workspace)
    if args.prepare_only:
        print(workspace)
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNETES_", "KF_"))}
    cluster = None
    if not args.no_cluster:
        cluster, kubeconfig = start_cluster(workspace)
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
