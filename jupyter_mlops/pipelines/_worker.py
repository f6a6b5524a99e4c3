"""The process that executes one local run through kfp.local and records it as it goes."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_mlops.pipelines.models import Run, RunStatus, Task
from jupyter_mlops.pipelines.record import (
    TASK_LOGS,
    jsonable,
    read_run,
    task_log_path,
    write_run,
)

# kfp.local colours task and pipeline names for terminals; logs are kept as plain text.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The last line of a Python traceback: `ValueError: ...`, `pkg.CustomError: ...`.
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)?(Error|Exception|Exit|Interrupt)\b(:|$)")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class RunRecorder:
    """Keeps the run's record current on disk while kfp.local executes its tasks."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.run: Run = read_run(run_dir)
        self.lock = threading.RLock()
        self.current = threading.local()
        self.upstream: dict[str, list[str]] = {}
        (run_dir / TASK_LOGS).mkdir(exist_ok=True)

    def save(self) -> None:
        with self.lock:
            self.run.tasks_done = sum(1 for t in self.run.tasks if t.state.finished)
            self.run.tasks_total = len(self.run.tasks)
            write_run(self.run_dir, self.run)

    def started(self, planned: list[str], upstream: dict[str, list[str]]) -> None:
        with self.lock:
            self.upstream = upstream
            self.run.status = RunStatus.RUNNING
            self.run.started_at = _now()
            self.run.pid = os.getpid()
            self.run.tasks = [
                Task(id=name, name=name, depends_on=upstream.get(name, [])) for name in planned
            ]
            self.save()

    def task_started(self, name: str) -> Task:
        with self.lock:
            task = next(
                (t for t in self.run.tasks if t.name == name and t.state == RunStatus.PENDING),
                None,
            )
            if task is None:
                # A task inside a loop or a nested pipeline runs more than once: number it.
                count = sum(1 for t in self.run.tasks if t.name == name)
                task = Task(
                    id=f"{name}#{count + 1}" if count else name,
                    name=name,
                    depends_on=self.upstream.get(name, []),
                )
                self.run.tasks.append(task)
            task.state = RunStatus.RUNNING
            task.started_at = _now()
            self.current.task = task
            self.save()
            return task

    def task_inputs(self, arguments: dict[str, Any]) -> None:
        task: Task | None = getattr(self.current, "task", None)
        if task is not None:
            with self.lock:
                task.inputs = jsonable(arguments)
                self.save()

    def task_finished(self, task: Task, ok: bool, outputs: dict[str, Any]) -> None:
        with self.lock:
            task.state = RunStatus.SUCCEEDED if ok else RunStatus.FAILED
            task.finished_at = _now()
            task.outputs = jsonable(outputs)
            self.current.task = None
            self.save()

    def task_error(self, task: Task) -> str | None:
        """The exception line a failed task's log ends with, if any."""
        path = task_log_path(self.run_dir, task.id)
        if not path.is_file():
            return None
        for line in reversed(path.read_text(encoding="utf-8", errors="replace").splitlines()):
            if _EXCEPTION_LINE.match(line.strip()):
                return line.strip()
        return None

    def finished(self, ok: bool, outputs: dict[str, Any], error: str | None) -> None:
        with self.lock:
            if not ok:
                causes = [
                    f"{task.id}: {cause}"
                    for task in self.run.tasks
                    if task.state == RunStatus.FAILED and (cause := self.task_error(task))
                ]
                if causes:
                    error = f"{error} {'; '.join(causes)}"
            self.run.status = RunStatus.SUCCEEDED if ok else RunStatus.FAILED
            self.run.finished_at = _now()
            self.run.outputs = jsonable(outputs)
            self.run.error = error
            for task in self.run.tasks:
                if not task.state.finished:
                    # Tasks after a failed one, or on a branch not taken, never start.
                    task.state = RunStatus.CANCELED
            self.save()

    def log_file(self, task: Task) -> io.TextIOWrapper:
        return open(task_log_path(self.run_dir, task.id), "a", encoding="utf-8")


class TaskLogRouter(io.TextIOBase):
    """Stands in for stdout: every line goes to the run's log and to its task's log."""

    def __init__(self, recorder: RunRecorder, run_log: io.TextIOWrapper) -> None:
        self.recorder = recorder
        self.run_log = run_log
        self.files: dict[str, io.TextIOWrapper] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        clean = _ANSI.sub("", text)
        with self.recorder.lock:
            self.run_log.write(clean)
            self.run_log.flush()
            task: Task | None = getattr(self.recorder.current, "task", None)
            if task is not None:
                out = self.files.get(task.id)
                if out is None:
                    out = self.files[task.id] = self.recorder.log_file(task)
                out.write(clean)
                out.flush()
        return len(text)

    def flush(self) -> None:
        self.run_log.flush()


def _planned_tasks(spec: Any) -> list[str]:
    """The root DAG's task names in the order kfp.local will execute them."""
    from kfp.local import graph_utils

    tasks = spec.root.dag.tasks
    order = graph_utils.topological_sort_tasks(tasks)
    # kfp.local pops from the end of this list.
    return list(reversed(order))


def _upstream_tasks(spec: Any) -> dict[str, list[str]]:
    """Each root DAG task's upstream task names, as the compiled pipeline declares them."""
    return {name: list(task.dependent_tasks) for name, task in spec.root.dag.tasks.items()}


def _typed_numbers(component_spec: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """Integer inputs as ints: defaults travel as protobuf numbers, which are floats."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    integer = pipeline_spec_pb2.ParameterType.NUMBER_INTEGER
    params = component_spec.input_definitions.parameters
    return {
        name: int(value)
        if isinstance(value, float) and name in params and params[name].parameter_type == integer
        else value
        for name, value in arguments.items()
    }


def _hook(module: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    setattr(module, name, wrap(getattr(module, name)))


def _install_hooks(recorder: RunRecorder) -> None:
    """Follow each task's start, inputs and end, which kfp.local only prints."""
    from kfp.local import status, task_dispatcher
    from kfp.local.orchestrator import task_executor

    def around_task(original: Callable[..., Any]) -> Callable[..., Any]:
        def run_task(*args: Any, **kwargs: Any) -> Any:
            name = str(kwargs.get("task_name", args[0] if args else "task"))
            task = recorder.task_started(name)
            try:
                outputs, task_status = original(*args, **kwargs)
            except BaseException:
                recorder.task_finished(task, False, {})
                raise
            recorder.task_finished(task, task_status == status.Status.SUCCESS, outputs)
            return outputs, task_status

        return run_task

    def around_dispatch(original: Callable[..., Any]) -> Callable[..., Any]:
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            arguments = dict(kwargs.get("arguments") or {})
            spec = kwargs.get("component_spec")
            if spec is not None:
                arguments = _typed_numbers(spec, arguments)
            recorder.task_inputs(arguments)
            return original(*args, **kwargs)

        return dispatch

    _hook(task_executor, "execute_single_task", around_task)
    _hook(task_dispatcher, "run_single_task_implementation", around_dispatch)


def execute(run_dir: str, spec_bytes: bytes, arguments: dict[str, Any]) -> None:
    """Entry point of the worker process: run the pipeline, keep the record, never raise."""
    if hasattr(os, "setsid"):
        # Its own process group, so that terminating the run also stops the task processes.
        os.setsid()
    folder = Path(run_dir)
    run_log = open(folder / "run.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    os.dup2(run_log.fileno(), 1)
    os.dup2(run_log.fileno(), 2)
    recorder = RunRecorder(folder)
    try:
        from kfp import local
        from kfp.local import pipeline_orchestrator
        from kfp.pipeline_spec import pipeline_spec_pb2

        spec = pipeline_spec_pb2.PipelineSpec()
        spec.ParseFromString(spec_bytes)
        recorder.started(_planned_tasks(spec), _upstream_tasks(spec))
        sys.stdout = sys.stderr = TaskLogRouter(recorder, run_log)
        _install_hooks(recorder)
        local.init(
            runner=local.SubprocessRunner(use_venv=False),
            pipeline_root=str(folder / "outputs"),
            workspace_root=str(folder / "workspace"),
            raise_on_error=True,
        )
        outputs = pipeline_orchestrator.run_local_pipeline(pipeline_spec=spec, arguments=arguments)
    except BaseException as exc:
        message = _ANSI.sub("", str(exc)) or type(exc).__name__
        recorder.finished(False, {}, message)
        print(f"Run failed: {message}", file=run_log)
    else:
        recorder.finished(True, dict(outputs or {}), None)
    finally:
        sys.stdout.flush()
        run_log.flush()
