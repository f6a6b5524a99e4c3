"""The demo's emulated cluster: `python -m jupyter_mlops.demo.cluster`, seeded with the demo story.

Each start begins from the seed (the objects of `jupyter_mlops.testing.kubeflow`, timed
relative to the start, with their pods' logs) unless `--keep-state` asks to carry on from the
state file. Pods that controllers make later (a deleted pod's replacement) get a log too.
"""

from __future__ import annotations

import argparse
import queue
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..testing.kube import KubeEmulator
from ..testing.kube.rbac import kubeflow_edit_rules
from ..testing.kube.store import Event
from ..testing.kubeflow import LoadedObjects, seed_emulator, write_logs, write_pod_logs
from ..testing.kubeflow.logs import epoch_line

NAMESPACE = "kubeflow-user-example-com"
#: The crash-looping Job: a pod it makes again crashes the same way (the image is unchanged).
CRASHING_JOB = "mnist-train"
TRAINER = "iris-trainer"
_EPOCH = timedelta(seconds=15)


def seed(
    emulator: KubeEmulator, namespace: str = NAMESPACE, now: datetime | None = None
) -> LoadedObjects:
    """Put the demo story into an emulator that controllers do not yet run: objects and logs."""
    now = now or datetime.now(timezone.utc)
    loaded = seed_emulator(emulator, namespace=namespace, now=now)
    write_logs(emulator, namespace, now)
    return loaded


class PodLogs:
    """Writes the log of every pod the emulated kubelet starts, and keeps the trainers training.

    The emulator has no hook for what a container prints; its store's write listener is
    the hook: a pod turning Running is handed to a thread that writes its log.
    """

    def __init__(self, emulator: KubeEmulator, namespace: str = NAMESPACE) -> None:
        self.emulator = emulator
        self.namespace = namespace
        self._started: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._epochs: dict[str, int] = {}
        emulator.store.add_listener(self._on_write)
        self._threads = [
            threading.Thread(target=self._write_started, name="demo-pod-logs", daemon=True),
            threading.Thread(target=self._train, name="demo-trainers", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Stop writing."""
        self.emulator.store.remove_listener(self._on_write)
        self._stop.set()
        self._started.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def _on_write(self, event: Event) -> None:
        # Under the store lock: only note the pod.
        if event.key != ("", "pods") or event.type != "MODIFIED" or event.old is None:
            return
        pod = event.new.obj
        if pod["metadata"].get("namespace") != self.namespace:
            return
        before = (event.old.obj.get("status") or {}).get("phase")
        if before == "Pending" and (pod.get("status") or {}).get("phase") == "Running":
            self._started.put(str(pod["metadata"]["name"]))

    def _write_started(self) -> None:
        while True:
            name = self._started.get()
            if name is None:
                return
            pod = self.emulator.get("v1", "Pod", name, self.namespace)
            if pod is None:
                continue
            labels = pod["metadata"].get("labels") or {}
            if labels.get("job-name") == CRASHING_JOB:
                self._crash(pod)
            else:
                write_pod_logs(self.emulator, pod)

    def _crash(self, pod: dict[str, Any]) -> None:
        """The Job's new pod fails as its predecessor did, and backs off."""
        name = pod["metadata"]["name"]
        container = pod["spec"]["containers"][0]["name"]
        self.emulator.restart_container(self.namespace, name, container, exit_code=1)
        pods = self.emulator.registry.lookup("", "v1", "pods")
        assert pods is not None

        def back_off(obj: dict[str, Any]) -> None:
            for status in (obj.get("status") or {}).get("containerStatuses") or []:
                if status.get("name") == container:
                    status.update(ready=False, started=False)
                    status["state"] = {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": f"back-off 10s restarting failed container={container} "
                            f"pod={name}_{self.namespace}({obj['metadata']['uid']})",
                        }
                    }

        stored = self.emulator.store.mutate(pods, self.namespace, name, back_off)
        if stored is not None:
            write_pod_logs(self.emulator, stored.obj)

    def _train(self) -> None:
        # One epoch line per trainer pod every 15 s, so `%k8s logs -f` has something to show.
        while not self._stop.wait(_EPOCH.total_seconds()):
            now = datetime.now(timezone.utc)
            for pod in self.emulator.objects("v1", "Pod", self.namespace):
                meta, status = pod["metadata"], pod.get("status") or {}
                if (meta.get("labels") or {}).get("app") != TRAINER:
                    continue
                if status.get("phase") != "Running" or meta.get("deletionTimestamp"):
                    continue
                started: dict[str, Any] = next(iter(status.get("containerStatuses") or []), {})
                since = ((started.get("state") or {}).get("running") or {}).get("startedAt")
                if not since:
                    continue
                start = datetime.strptime(since[:19], "%Y-%m-%dT%H:%M:%S").replace(
                    tzinfo=timezone.utc
                )
                epoch = int((now - start) / _EPOCH)
                if epoch <= self._epochs.get(meta["name"], epoch - 1) or not 1 <= epoch <= 200:
                    continue
                self._epochs[meta["name"]] = epoch
                self.emulator.logs.append(
                    self.namespace, meta["name"], "trainer", epoch_line(meta["name"], epoch) + "\n"
                )


def build(
    state: Path | None,
    *,
    keep_state: bool = False,
    port: int = 0,
    admin_token: str = "admin",
    profiles: Sequence[tuple[str, str]] = (),
) -> tuple[KubeEmulator, str]:
    """An emulator from the seed, or from `state` when asked to keep it; and what was done."""
    kept = keep_state and state is not None and state.exists()
    if state is not None and state.exists() and not kept:
        state.unlink()
    emulator = KubeEmulator(
        port,
        state_file=state,
        admin_token=admin_token,
        nodes=0,
        pod_start_delay=1.0,
        pod_termination_delay=0.5,
    )
    if kept:
        said = f"demo cluster: kept the state of the last run ({state})"
    else:
        loaded = seed(emulator)
        said = f"demo cluster: seeded {len(loaded)} objects in namespace {NAMESPACE}"
    for namespace, token in profiles:
        emulator.add_token(
            token,
            f"system:serviceaccount:{namespace}:default-editor",
            kubeflow_edit_rules(namespace),
        )
    return emulator, said


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the demo cluster until SIGTERM or SIGINT, then save its state."""
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_mlops.demo.cluster", description=__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--state", type=Path, help="state file, saved on stop")
    parser.add_argument(
        "--keep-state", action="store_true", help="carry on from --state instead of the seed"
    )
    parser.add_argument("--admin-token", default="admin", help="the token with every right")
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAMESPACE:TOKEN",
        help="a profile namespace and the token of its default-editor service account",
    )
    args = parser.parse_args(argv)
    profiles = [(p.partition(":")[0], p.partition(":")[2]) for p in args.profile]
    emulator, said = build(
        args.state,
        keep_state=args.keep_state,
        port=args.port,
        admin_token=args.admin_token,
        profiles=profiles,
    )
    emulator.start()
    logs = PodLogs(emulator)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    print(said, flush=True)
    done.wait()
    logs.close()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
