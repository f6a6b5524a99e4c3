"""A search on this machine: each trial a local pipeline run of the component, in its own
worker process, `parallel` at a time, followed by a background thread so the kernel is free.

Trials end as Katib's do: Succeeded with the objective's value, MetricsUnavailable when the
component reported no value for it, Failed, or Killed by a stop. The search ends Succeeded
once `max_trials` trials have ended (or a grid is done), Failed once `max_failed` trials have
failed, as Katib's Experiment controller decides.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, MLOpsError
from ..pipelines.models import Run, RunStatus
from .component import ComponentInfo, typed
from .models import Trial, TrialState, Tuning, TuningState
from .objective import Objective
from .space import Value
from .store import TuningStore

if TYPE_CHECKING:
    from ..pipelines.local import LocalPipelines
    from ..tracking import Tracking

#: How often the running trials' records are read; a trial's end is seen this soon.
POLL = 0.05
FAILED_LIMIT = "Experiment has failed because max failed count has reached"
MAX_TRIALS = "Experiment has succeeded because max trial count has reached"
GRID_DONE = "Experiment has succeeded because suggestion service has reached the end"
STOPPED = "Stopped by request: unfinished trials were killed"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class LocalSearch:
    """A search running here; `wait`, `stop`, `best`, and `tuning` for its state so far."""

    def __init__(
        self,
        tuning: Tuning,
        component: Any,
        info: ComponentInfo,
        objective: Objective,
        suggestions: Iterator[dict[str, Value]],
        *,
        fixed: Mapping[str, Any],
        backend: LocalPipelines,
        store: TuningStore,
        tracking: Tracking | None,
    ) -> None:
        self.tuning = tuning
        self.component = component
        self.info = info
        self.objective = objective
        self.fixed = dict(fixed)
        self.backend = backend
        self.store = store
        self.tracking = tracking
        self._suggestions = suggestions
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._listeners: list[Callable[[Tuning], None]] = []
        self._thread: threading.Thread | None = None
        self.error: str = ""

    @property
    def name(self) -> str:
        return self.tuning.name

    @property
    def mode(self) -> str:
        return "local"

    # -- the user's side ------------------------------------------------------------------

    def start(self) -> LocalSearch:
        """Begin the search in a background thread and return at once."""
        with self._lock:
            self.tuning.state = TuningState.RUNNING
            self.tuning.message = "Experiment is running"
            self._save()
        self._thread = threading.Thread(target=self._loop, name=f"tune-{self.name}", daemon=True)
        self._thread.start()
        return self

    def on_change(self, listener: Callable[[Tuning], None]) -> None:
        """Call `listener` with the search's state after each change (from the search thread)."""
        self._listeners.append(listener)

    def snapshot(self) -> Tuning:
        with self._lock:
            return self.tuning.model_copy(deep=True)

    def refresh(self) -> Tuning:
        return self.snapshot()

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Tuning:
        """Block until the search ends (Ctrl-C stops it cleanly); its final state."""
        try:
            self._done.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise
        return self.snapshot()

    def stop(self) -> Tuning:
        """End the search now: no new trials; running ones are terminated (Killed)."""
        if self._done.is_set():
            raise Conflict(f"search {self.name} has already ended ({self.tuning.state.value})")
        self._stop.set()
        self._done.wait()
        return self.snapshot()

    def best(self) -> dict[str, Any]:
        """The best trial's parameters so far, ready to pass to the component."""
        from .api import best_parameters

        return best_parameters(self.snapshot())

    # -- the search thread ----------------------------------------------------------------

    def _loop(self) -> None:
        running: dict[str, Trial] = {}
        exhausted = False
        try:
            self._start_tracking()
            while not self._stop.is_set():
                if not self._ended(exhausted):
                    exhausted = self._fill(running, exhausted)
                if not running:
                    break
                for run_id in self._finished_runs(running):
                    self._finish(running.pop(run_id))
                if self._failed_out():
                    break
            self._kill(running)
        except MLOpsError as error:
            self.error = error.message
            self._kill(running)
        except Exception as error:  # the thread must record why it ended
            self.error = f"{type(error).__name__}: {error}"
            self._kill(running)
        finally:
            self._close(exhausted)

    def _start_tracking(self) -> None:
        """The search's MLflow run, made here rather than in `tune` so the kernel never waits
        for MLflow; without it the trials still run, unrecorded."""
        if self.tracking is None or self.tuning.mlflow_run_id is not None:
            return
        from .mlflow_runs import start_search

        try:
            experiment_id, run_id = start_search(self.tracking, self.tuning)
        except MLOpsError as error:
            self.tuning.message = f"Experiment is running (not recorded in MLflow: {error.message})"
            self.tracking = None
            return
        with self._lock:
            self.tuning.mlflow_experiment_id, self.tuning.mlflow_run_id = experiment_id, run_id
            self._save()

    def _started(self) -> int:
        return len(self.tuning.trials)

    def _ended(self, exhausted: bool) -> bool:
        """Whether no more trials are to start."""
        return exhausted or self._started() >= self.tuning.max_trials or self._failed_out()

    def _failed_out(self) -> bool:
        failed = self.tuning.count(TrialState.FAILED, TrialState.METRICS_UNAVAILABLE)
        return failed > 0 and failed >= self.tuning.max_failed

    def _fill(self, running: dict[str, Trial], exhausted: bool) -> bool:
        """Start trials until `parallel` run; whether the suggestions have run out."""
        while len(running) < self.tuning.parallel and self._started() < self.tuning.max_trials:
            try:
                parameters = next(self._suggestions)
            except StopIteration:
                return True
            trial = Trial(
                name=f"{self.name}-{self._started() + 1:03d}",
                parameters=dict(parameters),
                state=TrialState.RUNNING,
                started_at=_now(),
            )
            arguments = {**self.fixed, **typed(self.info, parameters)}
            run = self.backend.submit(
                self.component, arguments, experiment=f"tuning-{self.name}", run_name=trial.name
            )
            trial.run_id = run.id
            running[run.id] = trial
            with self._lock:
                self.tuning.trials.append(trial)
                self._save()
        return exhausted

    def _finished_runs(self, running: dict[str, Trial]) -> list[str]:
        """The running trials whose runs have ended, waiting a moment for one if none has."""
        while not self._stop.is_set():
            ended = [rid for rid in running if self.backend.get_run(rid).status.finished]
            if ended:
                return ended
            self._stop.wait(POLL)
        return []

    def _finish(self, trial: Trial) -> None:
        assert trial.run_id is not None
        run = self.backend.get_run(trial.run_id)
        self._settle(trial, run)
        if self.tracking is not None and self.tuning.mlflow_run_id is not None:
            trial.mlflow_run_id = _recorded(self.tracking, self.tuning, trial)
        with self._lock:
            best = self.tuning.best()
            if trial.objective is not None and self.objective.better(
                trial.objective, best.objective if best is not None and best is not trial else None
            ):
                self.tuning.best_trial = trial.name
            self._save()

    def _settle(self, trial: Trial, run: Run) -> None:
        """A trial's state and metrics from its ended run, as Katib's trial controller judges."""
        outputs = dict(run.outputs or {})
        for task in run.tasks:
            outputs = outputs or dict(task.outputs or {})
        printed = self.backend.task_logs(run.id) if run.tasks else ""
        trial.finished_at = run.finished_at or _now()
        if run.status == RunStatus.SUCCEEDED:
            trial.metrics = self.objective.read(outputs, printed)
            trial.objective = trial.metrics.get(self.objective.metric)
            if trial.objective is None:
                trial.state = TrialState.METRICS_UNAVAILABLE
                trial.message = (
                    f"Metrics are not available: {self.objective.metric} was neither an output "
                    f"nor printed as {self.objective.metric}=VALUE"
                )
            else:
                trial.state = TrialState.SUCCEEDED
                trial.message = "Trial has succeeded"
        elif run.status == RunStatus.CANCELED:
            trial.state = TrialState.KILLED
            trial.message = "Trial was killed by the stop"
        else:
            trial.state = TrialState.FAILED
            trial.message = f"Trial has failed: {run.error or run.status.value}"

    def _kill(self, running: dict[str, Trial]) -> None:
        """Terminate the runs still going, and record their trials as they end."""
        for run_id, trial in list(running.items()):
            try:
                run = self.backend.terminate(run_id)
            except Conflict:
                run = self.backend.get_run(run_id)
            self._settle(trial, run)
            if run.status == RunStatus.CANCELED:
                trial.state = TrialState.KILLED
            if self.tracking is not None and self.tuning.mlflow_run_id is not None:
                trial.mlflow_run_id = _recorded(self.tracking, self.tuning, trial)
            del running[run_id]
        with self._lock:
            self._save()

    def _close(self, exhausted: bool) -> None:
        with self._lock:
            t = self.tuning
            t.finished_at = _now()
            if self._stop.is_set():
                t.state, t.message, t.stopped = TuningState.SUCCEEDED, STOPPED, True
            elif self.error:
                t.state, t.message = TuningState.FAILED, f"Experiment has failed: {self.error}"
            elif self._failed_out():
                t.state, t.message = TuningState.FAILED, FAILED_LIMIT
            else:
                t.state = TuningState.SUCCEEDED
                t.message = GRID_DONE if exhausted else MAX_TRIALS
            if self.tracking is not None and t.mlflow_run_id is not None:
                try:
                    from .mlflow_runs import finish_search

                    finish_search(self.tracking, t)
                except MLOpsError as error:
                    t.message += f" (MLflow: {error.message})"
            self._save()
        self._done.set()

    def _save(self) -> None:
        self.store.save(self.tuning)
        shown = self.tuning.model_copy(deep=True)
        for listener in self._listeners:
            listener(shown)


def _recorded(tracking: Tracking, tuning: Tuning, trial: Trial) -> str | None:
    from .mlflow_runs import record_trial

    try:
        return record_trial(tracking, tuning, trial)
    except MLOpsError as error:
        trial.message += f" (not recorded in MLflow: {error.message})"
        return None


__all__ = ["LocalSearch"]
