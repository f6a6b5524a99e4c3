"""Runs advancing through their states, each executor backed by a pod in a Kubernetes API."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ..control_plane import CRASH_LOOP, SUCCEED, ControlPlane, lifecycle
from .argo import RESET, Drive, Timing
from .resources import Run, Task, now

__all__ = ["ARGO_EXEC_IMAGE", "LAUNCHER_IMAGE", "KubePods", "Schedule", "TaskRunner"]

log = logging.getLogger(__name__)

ARGO_EXEC_IMAGE = "quay.io/argoproj/argoexec:v3.5.14"
LAUNCHER_IMAGE = "ghcr.io/kubeflow/kfp-launcher:2.5.0"
SERVICE_ACCOUNT = "default-editor"
#: Seconds a task waits on the plane for kwok to end its pod before it ends anyway.
POD_END_WAIT = 30.0


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class KubePods:
    """The pods of a run's tasks in a Kubernetes API, over its plain REST interface.

    The emulator plays Argo's part: it creates each executor's pod and marks it completed. On
    the Kubernetes emulator it also plays the kubelet's: it writes the pod's status and log.
    On a real control plane (`plane`) the real scheduler places the pod and kwok plays the
    kubelet: the pod runs, and when the task ends its program "exits" through kwok's lifecycle
    labels (SUCCEED, or CRASH_LOOP, which fails a `restartPolicy: Never` pod); the log is the
    file kwok serves.

    Failures never stop a run: they are logged and kept in ``errors`` for tests to read.
    """

    def __init__(self, url: str, token: str | None, *, plane: ControlPlane | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.plane = plane
        self.errors: list[str] = []
        self._client: AsyncHTTPClient | None = None
        self._workflows: dict[str, str] = {}

    def close(self) -> None:
        """Close the HTTP client (it belongs to the loop that made it)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _send(self, method: str, path: str, body: str, content_type: str) -> bool:
        return await self._answer(method, path, body, content_type) is not None

    async def _answer(self, method: str, path: str, body: str, content_type: str) -> Any:
        """The decoded answer, or None when the call failed (recorded)."""
        if self._client is None:
            self._client = AsyncHTTPClient(force_instance=True)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers=headers,
            body=body if method != "DELETE" else None,
            request_timeout=10,
            allow_nonstandard_methods=True,
            ca_certs=str(self.plane.ca_file) if self.plane else None,
        )
        try:
            response = await self._client.fetch(request)
        except HTTPClientError as error:
            detail = error.response.body.decode(errors="replace") if error.response else ""
            self._record(f"{method} {path}: HTTP {error.code} {detail[:300]}")
            return None
        except OSError as error:
            self._record(f"{method} {path}: {error}")
            return None
        return json.loads(response.body or b"{}")

    async def _workflow_uid(self, run: Run) -> str:
        """The uid the pods' owner reference names. On a real plane that is the run's Argo
        Workflow, made here as the KFP server makes it: its garbage collector deletes pods
        whose owner does not exist."""
        if self.plane is None:
            return run.run_id
        if run.run_id not in self._workflows:
            path = f"/apis/argoproj.io/v1alpha1/namespaces/{quote(run.namespace)}/workflows"
            workflow = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"name": run.workflow, "labels": {"pipeline/runid": run.run_id}},
                "spec": {"entrypoint": "entrypoint"},
            }
            made = await self._answer("POST", path, json.dumps(workflow), "application/json")
            if made is None:  # made by an earlier try of the same run (a retry)
                made = await self._answer("GET", f"{path}/{quote(run.workflow)}", "", "")
            self._workflows[run.run_id] = str((made or {}).get("metadata", {}).get("uid", ""))
        return self._workflows[run.run_id]

    def _record(self, text: str) -> None:
        log.warning("Kubernetes API call failed: %s", text)
        self.errors.append(text)

    @staticmethod
    def _pod_path(namespace: str, name: str) -> str:
        return f"/api/v1/namespaces/{quote(namespace)}/pods/{quote(name)}"

    async def create(self, run: Run, task: Task) -> bool:
        """Create the task's pod, labelled and annotated as KFP v2 on Argo does."""
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": task.pod_name,
                "namespace": run.namespace,
                "labels": {
                    "workflows.argoproj.io/workflow": run.workflow,
                    "workflows.argoproj.io/completed": "false",
                    "pipeline/runid": run.run_id,
                    "pipelines.kubeflow.org/v2_component": "true",
                },
                "annotations": {
                    "workflows.argoproj.io/node-name": task.node_name,
                    "workflows.argoproj.io/node-id": task.node_id,
                    "pipelines.kubeflow.org/v2_component": "true",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "argoproj.io/v1alpha1",
                        "kind": "Workflow",
                        "name": run.workflow,
                        "uid": await self._workflow_uid(run),
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "serviceAccountName": run.service_account or SERVICE_ACCOUNT,
                "restartPolicy": "Never",
                "initContainers": [
                    {"name": "init", "image": ARGO_EXEC_IMAGE, "command": ["argoexec", "init"]},
                    {
                        "name": "kfp-launcher",
                        "image": LAUNCHER_IMAGE,
                        "command": ["launcher-v2"],
                        "args": ["--copy", "/kfp-launcher/launch"],
                    },
                ],
                "containers": [
                    {"name": "wait", "image": ARGO_EXEC_IMAGE, "command": ["argoexec", "wait"]},
                    {
                        "name": "main",
                        "image": task.spec.image or "python:3.11",
                        "command": ["/kfp-launcher/launch"],
                        "args": ["--pipeline_name", run.display_name, "--run_id", run.run_id],
                    },
                ],
            },
        }
        created = await self._send(
            "POST",
            f"/api/v1/namespaces/{quote(run.namespace)}/pods",
            json.dumps(manifest),
            "application/json",
        )
        if created:
            task.pod_created = True
            await self.set_phase(run, task, "Pending")
        return created

    async def set_phase(self, run: Run, task: Task, phase: str) -> None:
        """Patch the pod's status to ``phase`` with container statuses that fit it (on a real
        plane: end its containers when the task ends, and leave the rest to kwok)."""
        if not task.pod_created:
            return
        if self.plane is not None:
            if phase in ("Succeeded", "Failed"):
                ended = lifecycle(SUCCEED if phase == "Succeeded" else CRASH_LOOP, run_for="0s")
                ended["labels"]["workflows.argoproj.io/completed"] = "true"
                sent = await self._send(
                    "PATCH",
                    self._pod_path(run.namespace, task.pod_name),
                    json.dumps({"metadata": ended}),
                    "application/merge-patch+json",
                )
                if sent:
                    await self._until_ended(run, task)
            return
        status: dict[str, Any] = {"phase": phase}
        image = task.spec.image or "python:3.11"
        if phase == "Pending":
            status["conditions"] = [{"type": "PodScheduled", "status": "True"}]
            status["containerStatuses"] = [
                _waiting("main", image),
                _waiting("wait", ARGO_EXEC_IMAGE),
            ]
        elif phase == "Running":
            started = _iso(task.start_time or now())
            status["startTime"] = started
            status["conditions"] = [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "True"},
            ]
            status["containerStatuses"] = [
                _running("main", image, started),
                _running("wait", ARGO_EXEC_IMAGE, started),
            ]
        else:
            started = _iso(task.start_time or now())
            finished = _iso(task.end_time or now())
            code = 0 if phase == "Succeeded" else 1
            status["conditions"] = [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Ready", "status": "False", "reason": "PodCompleted"},
            ]
            status["containerStatuses"] = [
                _terminated("main", image, code, started, finished),
                _terminated("wait", ARGO_EXEC_IMAGE, 0, started, finished),
            ]
        await self._send(
            "PATCH",
            self._pod_path(run.namespace, task.pod_name) + "/status",
            json.dumps({"status": status}),
            "application/merge-patch+json",
        )
        if phase in ("Succeeded", "Failed"):
            await self._send(
                "PATCH",
                self._pod_path(run.namespace, task.pod_name),
                json.dumps({"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}}}),
                "application/merge-patch+json",
            )

    async def _until_ended(self, run: Run, task: Task) -> None:
        """Wait for kwok to end the pod: Argo fails or completes a node from its pod's ended
        status, so the task's state never runs ahead of what the pod says."""
        path = self._pod_path(run.namespace, task.pod_name)
        deadline = asyncio.get_running_loop().time() + POD_END_WAIT
        while asyncio.get_running_loop().time() < deadline:
            pod = await self._answer("GET", path, "", "application/json")
            if pod is None or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            await asyncio.sleep(0.05)
        self._record(f"pod {task.pod_name} did not end within {POD_END_WAIT:g} s")

    async def append_log(self, run: Run, task: Task, lines: list[str]) -> None:
        """Add lines to the log of the pod's ``main`` container."""
        if not task.pod_created:
            return
        if self.plane is not None:
            # Off the loop: the first write waits until kwok serves the new file.
            await asyncio.to_thread(
                self.plane.append_log, run.namespace, task.pod_name, "main", *lines
            )
            return
        path = f"/_emulator/logs/{quote(run.namespace)}/{quote(task.pod_name)}/main"
        await self._send("POST", path, "".join(f"{line}\n" for line in lines), "text/plain")

    async def delete(self, run: Run, task: Task) -> None:
        """Delete the task's pod (a retried task gets a new one)."""
        if task.pod_created:
            await self._send("DELETE", self._pod_path(run.namespace, task.pod_name), "", "")
            task.pod_created = False


def _image_id(image: str) -> str:
    # A pulled image is reported by digest; any stable digest looks the same to a reader.
    digest = hashlib.sha256(image.encode()).hexdigest()
    return f"{image.split(':')[0]}@sha256:{digest}"


def _container_id(name: str, started: str) -> str:
    return "containerd://" + hashlib.sha256(f"{name}{started}".encode()).hexdigest()


def _waiting(name: str, image: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": {"reason": "PodInitializing"}},
    }


def _running(name: str, image: str, started: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imageID": _image_id(image),
        "containerID": _container_id(name, started),
        "ready": True,
        "restartCount": 0,
        "started": True,
        "state": {"running": {"startedAt": started}},
    }


def _terminated(name: str, image: str, code: int, started: str, finished: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imageID": _image_id(image),
        "containerID": _container_id(name, started),
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {
            "terminated": {
                "exitCode": code,
                "reason": "Completed" if code == 0 else "Error",
                "startedAt": started,
                "finishedAt": finished,
            }
        },
    }


@dataclass
class Schedule:
    """How long things take, which tasks fail and what they output; read as a run goes on."""

    step_seconds: float = 1.0
    task_seconds: float | None = None
    task_durations: dict[str, float] = field(default_factory=dict)
    failing_task_names: set[str] = field(default_factory=set)
    failing_tasks: set[tuple[str, str]] = field(default_factory=set)
    task_outputs: dict[tuple[str, str], Any] = field(default_factory=dict)

    def duration(self, task: Task) -> float:
        """How long ``task`` stays RUNNING."""
        if task.name in self.task_durations:
            return self.task_durations[task.name]
        return self.step_seconds if self.task_seconds is None else self.task_seconds

    def fails(self, run: Run, task: Task) -> bool:
        """Whether ``task`` ends FAILED; a failure asked for one run is used up by it."""
        key = (run.run_id, task.name)
        if key in self.failing_tasks:
            self.failing_tasks.discard(key)
            return True
        return task.name in self.failing_task_names

    def output(self, task_name: str, key: str) -> Any:
        """The value a task outputs as ``key`` (None unless a test set one)."""
        return self.task_outputs.get((task_name, key))


class TaskRunner:
    """Drives runs on the emulator's event loop through their workflow's nodes.

    The run goes PENDING, RUNNING, then a final state; its nodes unfold as on Argo (see
    ``argo.Drive``). Tasks start in dependency order once their upstream tasks succeeded;
    independent tasks run side by side. After a failure a DAG starts no new task and the
    tasks that depend on the failed one are Omitted. ``changed`` is called after every
    state change.
    """

    def __init__(
        self, schedule: Schedule, pods: KubePods | None, changed: Callable[[], None]
    ) -> None:
        self.schedule = schedule
        self.pods = pods
        self.changed = changed
        self._drivers: dict[str, asyncio.Task[None]] = {}

    def start(self, run: Run) -> None:
        """Start (or resume, after a restart) driving ``run``."""
        if run.run_id in self._drivers and not self._drivers[run.run_id].done():
            return
        coroutine = self._cancel(run) if run.terminating else self._drive(run)
        driver = asyncio.get_running_loop().create_task(coroutine)
        self._drivers[run.run_id] = driver
        driver.add_done_callback(lambda _: self._finished(run.run_id, driver))

    def _finished(self, run_id: str, driver: asyncio.Task[None]) -> None:
        if self._drivers.get(run_id) is driver:
            del self._drivers[run_id]
        if not driver.cancelled() and driver.exception() is not None:
            log.error("A run's driver failed", exc_info=driver.exception())

    def terminate(self, run: Run) -> None:
        """Stop ``run``: CANCELING now, CANCELED (its running nodes Failed) one step later."""
        driver = self._drivers.pop(run.run_id, None)
        if driver is not None:
            driver.cancel()
        run.terminating = True
        run.move_to("CANCELING", now())
        self.changed()
        self.start(run)

    def forget(self, run_id: str) -> None:
        """Stop driving a deleted run."""
        driver = self._drivers.pop(run_id, None)
        if driver is not None:
            driver.cancel()

    async def shutdown(self) -> None:
        """Cancel every driver (the server is stopping; runs resume on restart)."""
        drivers = list(self._drivers.values())
        self._drivers.clear()
        for driver in drivers:
            driver.cancel()
        await asyncio.gather(*drivers, return_exceptions=True)

    def _drive_of(self, run: Run, timing: Timing, pods: KubePods | None) -> Drive:
        return Drive(run, timing, pods, self.changed, self.schedule.output, _task_lines)

    async def _drive(self, run: Run) -> None:
        if run.state == "PENDING":
            await asyncio.sleep(self.schedule.step_seconds)
            run.move_to("RUNNING", now())
            self.changed()
        timing = Timing(
            step_seconds=self.schedule.step_seconds,
            duration=self.schedule.duration,
            fails=lambda task: self.schedule.fails(run, task),
        )
        phase = await self._drive_of(run, timing, self.pods).workflow()
        self._end(run, phase, now())

    def _end(self, run: Run, phase: str, at: int) -> None:
        failed = [t for t in run.tasks if t.state == "FAILED"]
        run.finished_at = at
        if phase != "Succeeded":
            run.error = f"task {failed[0].name} failed" if failed else "the workflow failed"
            run.move_to("FAILED", at)
        else:
            run.move_to("SUCCEEDED", at)
        self.changed()

    async def finish_at_once(
        self, run: Run, at: int, failing: Callable[[Task], bool], state: str
    ) -> None:
        """Unfold ``run`` to its end at time ``at``, without pods or waiting (seeded runs)."""
        timing = Timing(step_seconds=0, duration=lambda _: 0, fails=failing, frozen_at=at)
        run.move_to("RUNNING", at)
        phase = await self._drive_of(run, timing, None).workflow()
        if state == "CANCELED":
            run.finished_at = at
            run.move_to("CANCELED", at)
        else:
            self._end(run, phase, at)

    async def _cancel(self, run: Run) -> None:
        # Argo fails what still runs (the server set activeDeadlineSeconds to 0): pods first.
        await asyncio.sleep(self.schedule.step_seconds)
        at = now()
        for task in run.tasks:
            if task.state in ("PENDING", "RUNNING"):
                task.end_time = at
                if self.pods is not None:
                    await self.pods.append_log(run, task, [_glog("the task was terminated")])
                    await self.pods.set_phase(run, task, "Failed")
                task.move_to("FAILED", at)
        for node in run.nodes.values():
            if node.phase in ("Pending", "Running"):
                node.move_to("Failed", at)
        run.terminating = False
        run.finished_at = at
        run.move_to("CANCELED", at)
        self.changed()

    async def retry(self, run: Run) -> None:
        """Run the failed and omitted nodes of ``run`` again (the rest is kept), as Argo does."""
        for task in run.tasks:
            if task.state == "FAILED":
                if self.pods is not None:
                    await self.pods.delete(run, task)
                task.state = ""
                task.create_time = task.start_time = task.end_time = 0
        for node in run.nodes.values():
            if node.phase in RESET:
                node.phase = ""
        run.error = ""
        run.finished_at = 0
        run.move_to("PENDING", now())
        self.changed()
        self.start(run)


def _task_lines(run: Run, task: Task, failed: bool | None) -> list[str]:
    return _start_lines(run, task) if failed is None else _end_lines(task, failed)


def _glog(text: str, line: int = 158) -> str:
    # The launcher logs in glog's format: level, date, time, thread id, file:line.
    moment = dt.datetime.now(tz=dt.timezone.utc)
    return f"I{moment:%m%d %H:%M:%S.%f}       1 launcher_v2.go:{line}] {text}"


def _start_lines(run: Run, task: Task) -> list[str]:
    return [
        _glog(f"input ComponentSpec: component {task.spec.component} of run {run.run_id}", 90),
        _glog(f"executing task {task.name} in image {task.spec.image or 'unknown'}", 120),
    ]


def _end_lines(task: Task, failed: bool) -> list[str]:
    if failed:
        return [
            "Traceback (most recent call last):",
            '  File "/tmp/tmp.kfp/ephemeral_component.py", line 3, in <module>',
            f"RuntimeError: task {task.name} failed",
            _glog(f"failed to execute component: exit status 1 (task {task.name})", 158),
        ]
    return [_glog(f"task {task.name} completed successfully", 203)]
