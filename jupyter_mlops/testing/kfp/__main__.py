"""Run the KFP API emulator as a process until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .server import DEFAULT_NAMESPACE, KfpEmulator


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_mlops.testing.kfp",
        description="Serve an emulated Kubeflow Pipelines API (v2beta1 REST) on loopback.",
    )
    parser.add_argument("--port", type=int, default=8888, help="TCP port (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--kube", default=None, help="Kubernetes API URL where task pods go")
    parser.add_argument("--kube-token", default=None, help="bearer token for that API")
    parser.add_argument("--token", default=None, help="bearer token callers must send")
    parser.add_argument(
        "--session-cookie", default=None, help="accepted authservice_session cookie value"
    )
    parser.add_argument(
        "--namespace",
        action="append",
        default=None,
        help=f"profile namespace with a Default experiment (repeatable; {DEFAULT_NAMESPACE})",
    )
    parser.add_argument(
        "--single-user", action="store_true", help="a standalone server without namespaces"
    )
    parser.add_argument("--step-seconds", type=float, default=1.0, help="time per state step")
    parser.add_argument("--task-seconds", type=float, default=None, help="time a task runs")
    parser.add_argument(
        "--fail-task", action="append", default=[], help="task name that always fails"
    )
    parser.add_argument("--seed-runs", type=int, default=0, help="finished runs to add")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the emulator, print its URL, serve until SIGINT or SIGTERM."""
    args = _arguments(argv)
    namespaces = args.namespace or [DEFAULT_NAMESPACE]
    emulator = KfpEmulator(
        port=args.port,
        kube_url=args.kube,
        kube_token=args.kube_token,
        host=args.host,
        token=args.token,
        session_cookie=args.session_cookie,
        multi_user=not args.single_user,
        namespaces=namespaces,
        step_seconds=args.step_seconds,
        task_seconds=args.task_seconds,
        failing_task_names=args.fail_task,
    )
    if args.seed_runs:
        emulator.seed_runs(args.seed_runs, namespace="" if args.single_user else namespaces[0])
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    emulator.start()
    print(f"KFP API emulator serving at {emulator.url}", flush=True)
    stopping.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
