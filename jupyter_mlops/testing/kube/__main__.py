"""Run the Kubernetes API emulator as a process: `python -m jupyter_mlops.testing.kube`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .emulator import KubeEmulator
from .rbac import kubeflow_edit_rules


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_mlops.testing.kube",
        description="Serve an emulated Kubernetes API on loopback (plain HTTP).",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--seed", action="append", default=[], metavar="FILE.yaml", help="objects to apply at start"
    )
    parser.add_argument("--state", metavar="FILE", help="keep state in FILE across restarts")
    parser.add_argument(
        "--save-interval", type=float, default=5.0, help="seconds between saves of --state"
    )
    parser.add_argument(
        "--no-controllers", action="store_true", help="no deployments, scheduling or pod start"
    )
    parser.add_argument(
        "--pod-start-delay", type=float, default=1.0, help="seconds from scheduled to running"
    )
    parser.add_argument(
        "--pod-termination-delay",
        type=float,
        default=0.5,
        help="seconds a deleted pod stays Terminating (0: removed at once)",
    )
    parser.add_argument("--history", type=int, default=1000, help="watch events kept for resuming")
    parser.add_argument("--admin-token", default="admin", help="the token with every right")
    parser.add_argument(
        "--anonymous",
        metavar="TOKEN",
        help="requests without credentials act as this token's user (kubectl sends none over HTTP)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAMESPACE:TOKEN",
        help="a Kubeflow profile namespace and the token of its default-editor service account",
    )
    parser.add_argument(
        "--kubeconfig", metavar="FILE", help="write a kubeconfig (admin token) here"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT, then save state and exit."""
    args = parse_args(argv)
    emulator = KubeEmulator(
        args.port,
        host=args.host,
        controllers=not args.no_controllers,
        history=args.history,
        seed=args.seed,
        state_file=args.state,
        save_interval=args.save_interval,
        anonymous=args.anonymous,
        admin_token=args.admin_token,
        pod_start_delay=args.pod_start_delay,
        pod_termination_delay=args.pod_termination_delay,
    )
    for entry in args.profile:
        namespace, _, token = entry.partition(":")
        if emulator.get("v1", "Namespace", namespace) is None:
            emulator.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )
        emulator.add_token(
            token or f"{namespace}-editor-token",
            f"system:serviceaccount:{namespace}:default-editor",
            kubeflow_edit_rules(namespace),
        )
    emulator.start()
    if args.kubeconfig:
        emulator.write_kubeconfig(args.kubeconfig)
    done = threading.Event()

    def finish(_signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    print(f"Kubernetes API emulator listening on {emulator.url}", flush=True)
    done.wait()
    emulator.stop()
    print("Kubernetes API emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
