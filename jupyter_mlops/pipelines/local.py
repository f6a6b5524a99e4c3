"""The local backend: runs pipelines through kfp.local in a worker process, history on disk."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.machinery
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import wait as wait_for
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import BadInput, Conflict, Invalid, NotFound
from jupyter_mlops.pipelines.backend import (
    DEFAULT_EXPERIMENT,
    PipelineBackend,
    coerce_arguments,
    compile_pipeline,
    page_runs,
)
from jupyter_mlops.pipelines.models import (
    Experiment,
    ListRunsQuery,
    Run,
    RunPage,
    RunStatus,
)
from jupyter_mlops.pipelines.record import (
    RECORD,
    RUN_LOG,
    SPEC,
    read_run,
    task_log_path,
    write_run,
)
from jupyter_mlops.policy import refuse_writes

EXPERIMENTS = "experiments.json"
CANCEL_MARK = "cancel-requested"
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_RUN_PREFIX = re.compile(r"^[0-9a-f]{4,32}$")
# How long a terminated run may take to stop before it is killed outright.
_STOP_GRACE = 5.0
# Imported once by the fork server, so that no run pays for importing kfp.
_PRELOAD = [
    "kfp.local",
    "kfp.local.pipeline_orchestrator",
    "kfp.local.orchestrator.dag_orchestrator",
    "kfp.local.orchestrator.task_executor",
    "kfp.dsl.executor",
    "jupyter_mlops.pipelines._worker",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_context() -> Any:
    """A process context whose children start in milliseconds with kfp already imported."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


@contextlib.contextmanager
def _main_left_alone() -> Iterator[None]:
    """Start workers without running the caller's `__main__` again in them.

    multiprocessing runs the parent's main script anew in each child, so a script without a
    main guard would start its run again there, and one read from stdin cannot be run at all.
    It leaves alone a `__main__` whose spec is named `__main__`, as for `python -m package`.
    """
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        yield  # a kernel, or `python -m`: nothing is run again
        return
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
    try:
        yield
    finally:
        main.__spec__ = None


def load_spec(source: Any) -> Any:
    """The PipelineSpec of a pipeline object, a component, or a compiled YAML file."""
    if isinstance(source, (str, Path)):
        import yaml
        from google.protobuf import json_format  # type: ignore[import-untyped]
        from kfp.pipeline_spec import pipeline_spec_pb2

        path = Path(source)
        if not path.is_file():
            raise NotFound(f"No compiled pipeline at {path}.")
        documents = list(yaml.safe_load_all(path.read_text()))
        spec = pipeline_spec_pb2.PipelineSpec()
        json_format.ParseDict(documents[0], spec, ignore_unknown_fields=True)
        return spec
    spec = getattr(source, "pipeline_spec", None)
    if spec is None:
        raise BadInput(
            f"{source!r} is not a pipeline: define it with %%kfp_pipeline or @dsl.pipeline."
        )
    return spec


class LocalPipelines(PipelineBackend):
    """Pipelines run on this machine by kfp.local; each run is a folder under `root`."""

    kind = "local"

    def __init__(self, root: str | Path | None = None, *, read_only: bool = False) -> None:
        self.root = Path(root) if root is not None else Path.cwd() / ".mlops" / "pipelines"
        self.read_only = read_only
        self._workers: dict[str, BaseProcess] = {}
        self._lock = threading.RLock()
        self._context: Any = None

    # -- runs -----------------------------------------------------------------------------

    def submit(
        self,
        pipeline: Any,
        arguments: dict[str, Any] | None = None,
        *,
        experiment: str = DEFAULT_EXPERIMENT,
        run_name: str | None = None,
    ) -> Run:
        """Start the pipeline in a worker process and return its PENDING run at once."""
        refuse_writes(self.read_only, "running pipelines")
        return self._start(load_spec(pipeline), arguments or {}, experiment, run_name, None)

    def _start(
        self,
        spec: Any,
        arguments: dict[str, Any],
        experiment: str,
        run_name: str | None,
        retry_of: str | None,
    ) -> Run:
        experiment = experiment.strip()
        if not experiment:
            raise BadInput("The experiment name is empty.")
        arguments = coerce_arguments(spec, arguments)
        self._ensure_experiment(experiment)
        created = _now()
        pipeline_name = spec.pipeline_info.name
        run = Run(
            id=uuid.uuid4().hex,
            name=run_name or f"{pipeline_name} {created:%Y-%m-%d %H:%M:%S}",
            pipeline_name=pipeline_name,
            experiment=experiment,
            status=RunStatus.PENDING,
            backend=self.kind,
            created_at=created,
            parameters=arguments,
            retry_of=retry_of,
        )
        run_dir = self.root / run.id
        run_dir.mkdir(parents=True)
        # The binary spec costs microseconds to write; YAML is made when someone asks for it.
        spec_bytes = spec.SerializeToString()
        (run_dir / SPEC).write_bytes(spec_bytes)
        write_run(run_dir, run)
        if self._context is None:
            self._context = _worker_context()
        from jupyter_mlops.pipelines._worker import execute

        process = self._context.Process(
            target=execute,
            args=(str(run_dir), spec_bytes, arguments),
            name=f"kfp-local-{run.id}",
            daemon=True,
        )
        with self._lock, _main_left_alone():
            process.start()
            self._workers[run.id] = process
        return run

    def get_run(self, run_id: str) -> Run:
        """The run's record, brought up to date if its worker has ended without saying so."""
        run = read_run(self._run_dir(run_id))
        if not run.status.finished:
            run = self._settle(run.id, run)
        return run

    def list_runs(self, query: ListRunsQuery | None = None) -> RunPage:
        """A page of the runs recorded under `root`, newest first unless sorted otherwise."""
        query = query or ListRunsQuery()
        runs = []
        if self.root.is_dir():
            for entry in self.root.iterdir():
                if (entry / RECORD).is_file():
                    runs.append(self.get_run(entry.name).summary())
        return page_runs(runs, query)

    def task_logs(self, run_id: str, task: str | None = None, tail_lines: int | None = None) -> str:
        """What a task printed (by id or name), or the whole run's log when task is None."""
        run_dir = self._run_dir(run_id)
        if task is None:
            path = run_dir / RUN_LOG
        else:
            run = self.get_run(run_id)
            try:
                found = run.task(task)
            except KeyError:
                names = ", ".join(t.id for t in run.tasks) or "none yet"
                raise NotFound(f"Run {run_id} has no task {task!r}; its tasks: {names}.") from None
            path = task_log_path(run_dir, found.id)
        if not path.is_file():
            return ""
        with path.open(encoding="utf-8", errors="replace") as lines:
            if tail_lines is None:
                return lines.read()
            return "".join(deque(lines, maxlen=max(tail_lines, 0)))

    def terminate(self, run_id: str) -> Run:
        """Stop the worker and its task processes; the run ends CANCELED."""
        refuse_writes(self.read_only, "terminating runs")
        run = self.get_run(run_id)
        if run.status.finished:
            raise Conflict(f"Run {run_id} has already ended ({run.status.value}).")
        with self._lock:
            process = self._workers.get(run.id)
        pid = run.pid or (process.pid if process is not None else None)
        # Said before the kill, so whoever notices the dead process first records CANCELED.
        (self._run_dir(run.id) / CANCEL_MARK).touch()
        if pid is not None:
            self._stop(pid, process)
        return self._settle(run.id, read_run(self._run_dir(run.id)), canceled=True)

    def retry(self, run_id: str) -> Run:
        """A new run of the same compiled pipeline, arguments and experiment."""
        refuse_writes(self.read_only, "retrying runs")
        run = self.get_run(run_id)
        if not run.status.finished:
            raise Conflict(f"Run {run_id} is still {run.status.value}; terminate it first.")
        spec = _read_spec(self._run_dir(run.id) / SPEC)
        return self._start(spec, dict(run.parameters), run.experiment, run.name, run.id)

    def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """Block until the run ends; its own worker is joined, other runs are watched."""
        run_id = self._run_dir(run_id).name
        with self._lock:
            process = self._workers.get(run_id)
        if process is not None:
            process.join(timeout)
        return super().wait(run_id, timeout)

    def compiled(self, run_id: str) -> str:
        """The compiled pipeline a run executed, as KFP v2 YAML."""
        return _spec_yaml(_read_spec(self._run_dir(run_id) / SPEC))

    # -- experiments ----------------------------------------------------------------------

    def create_experiment(self, name: str, description: str = "") -> Experiment:
        """A new experiment; Conflict if one has this name."""
        refuse_writes(self.read_only, "creating experiments")
        name = name.strip()
        if not name:
            raise BadInput("The experiment name is empty.")
        with self._lock:
            known = self._read_experiments()
            if name in known:
                raise Conflict(f"Experiment {name!r} exists already.")
            experiment = Experiment(id=name, name=name, description=description, created_at=_now())
            known[name] = experiment
            self._write_experiments(known)
        return experiment

    def list_experiments(self) -> list[Experiment]:
        """Experiments created here, and any named by a recorded run."""
        known = self._read_experiments()
        if self.root.is_dir():
            for entry in self.root.iterdir():
                if (entry / RECORD).is_file():
                    run = read_run(entry)
                    if run.experiment not in known:
                        known[run.experiment] = Experiment(
                            id=run.experiment, name=run.experiment, created_at=run.created_at
                        )
        return sorted(known.values(), key=lambda e: e.name)

    # -- internals ------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        """The folder of a run, found by its id or a unique start of it (4 characters or more)."""
        if _RUN_ID.match(run_id) and (self.root / run_id / RECORD).is_file():
            return self.root / run_id
        if _RUN_PREFIX.match(run_id) and self.root.is_dir():
            found = [
                entry
                for entry in self.root.iterdir()
                if entry.name.startswith(run_id) and (entry / RECORD).is_file()
            ]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise BadInput(f"{run_id!r} starts {len(found)} run ids; give more of it.")
        raise NotFound(f"No local run {run_id!r} in {self.root}.")

    def _pause(self, run_id: str, seconds: float) -> None:
        with self._lock:
            process = self._workers.get(run_id)
        if process is None:
            time.sleep(seconds)
        else:
            # The worker's end wakes the watcher at once.
            wait_for([process.sentinel], timeout=seconds)

    def _settle(self, run_id: str, run: Run, canceled: bool = False) -> Run:
        """Close the record of a run whose worker has ended without finishing it."""
        with self._lock:
            process = self._workers.get(run_id)
            if process is not None:
                if process.is_alive():
                    return run
                process.join()
                del self._workers[run_id]
                reason = f"The run's process ended with exit code {process.exitcode}."
            elif run.pid is not None and not _alive(run.pid):
                reason = "The run's process ended without finishing it."
            elif run.pid is None and canceled:
                reason = ""
            else:
                return run
            run = read_run(self._run_dir(run_id))
            if run.status.finished:
                return run
            canceled = canceled or (self._run_dir(run_id) / CANCEL_MARK).exists()
            run.status = RunStatus.CANCELED if canceled else RunStatus.FAILED
            run.error = "Terminated by request." if canceled else reason
            run.finished_at = _now()
            for task in run.tasks:
                if not task.state.finished:
                    task.state = (
                        run.status if task.state == RunStatus.RUNNING else RunStatus.CANCELED
                    )
                    if task.started_at is not None:
                        task.finished_at = run.finished_at
            run.tasks_done = sum(1 for t in run.tasks if t.state.finished)
            write_run(self._run_dir(run_id), run)
            return run

    def _stop(self, pid: int, process: BaseProcess | None) -> None:
        kill = getattr(os, "killpg", None)
        for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
            try:
                if kill is not None:
                    kill(pid, sig)
                else:
                    os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            if process is not None:
                process.join(_STOP_GRACE)
                if not process.is_alive():
                    return
            else:
                deadline = time.monotonic() + _STOP_GRACE
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if not _alive(pid):
                    return

    def _ensure_experiment(self, name: str) -> None:
        with self._lock:
            known = self._read_experiments()
            if name not in known:
                known[name] = Experiment(id=name, name=name, created_at=_now())
                self._write_experiments(known)

    def _read_experiments(self) -> dict[str, Experiment]:
        path = self.root / EXPERIMENTS
        if not path.is_file():
            return {}
        items = json.loads(path.read_text())
        return {item["name"]: Experiment.model_validate(item) for item in items}

    def _write_experiments(self, known: dict[str, Experiment]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / EXPERIMENTS
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([e.model_dump(mode="json") for e in known.values()], indent=2))
        os.replace(tmp, path)


def _read_spec(path: Path) -> Any:
    """The pipeline spec a run executed, kept beside it so it can be retried after a restart."""
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineSpec()
    try:
        spec.ParseFromString(path.read_bytes())
    except FileNotFoundError:
        raise NotFound(
            f"Run {path.parent.name} keeps no compiled pipeline ({path.name} is missing in "
            f"{path.parent}), so it cannot be run again; run the pipeline anew with %kfp run."
        ) from None
    except (OSError, DecodeError) as exc:
        raise Invalid(f"Cannot read the compiled pipeline {path}: {exc}") from None
    return spec


def _spec_yaml(spec: Any) -> str:
    import yaml
    from google.protobuf import json_format

    return str(yaml.safe_dump(json_format.MessageToDict(spec), sort_keys=True))


__all__ = ["LocalPipelines", "compile_pipeline", "load_spec"]
