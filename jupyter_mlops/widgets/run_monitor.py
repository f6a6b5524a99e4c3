"""A live view of one pipeline run: task states, progress, elapsed time, log tail, outputs,
and, for a failed task of a cluster run, what the doctor says of it."""

from __future__ import annotations

import datetime as dt
import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Dict, Float, Int, List, Unicode, observe

from jupyter_mlops.errors import MLOpsError
from jupyter_mlops.pipelines.backend import PipelineBackend
from jupyter_mlops.pipelines.models import Run, RunStatus, Task
from jupyter_mlops.widgets.summary import html_value, text

if TYPE_CHECKING:
    from jupyter_mlops.kube.doctor import DoctorReport

#: Why a failed task of a run failed, as the doctor says it (blocking: it reads the cluster).
TaskDoctor = Callable[[Run, Task], "DoctorReport"]

# How many log lines of the running task the monitor shows.
TAIL_LINES = 15
# Looks at a failed task while the run goes on, at most: a crash loop's restart count changes
# its finding at every look.
MAX_LOOKS = 5
_COLOURS = {
    "PENDING": "var(--jp-ui-font-color2)",
    "RUNNING": "var(--jp-brand-color1)",
    "SUCCEEDED": "var(--jp-success-color1)",
    "FAILED": "var(--jp-error-color1)",
    "CANCELED": "var(--jp-warn-color1)",
}


def _elapsed(run: Run) -> float:
    duration = run.duration
    return duration.total_seconds() if duration is not None else 0.0


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"


def _badge(state: str) -> str:
    colour = _COLOURS.get(state, "inherit")
    return f'<b style="color:{colour}">{html.escape(state)}</b>'


def running_task(run: Run) -> str | None:
    """The id of the task whose log is worth watching: the running one, else the last started."""
    started = [t for t in run.tasks if t.started_at is not None]
    for task in reversed(started):
        if task.state == RunStatus.RUNNING:
            return task.id
    return started[-1].id if started else None


def failed_tasks(run: Run) -> list[Task]:
    """The tasks of a run that failed, in the run's order."""
    return [t for t in run.tasks if t.state == RunStatus.FAILED]


def examine_failed(doctor: TaskDoctor, run: Run, task: Task) -> DoctorReport | str:
    """The doctor's report on a failed task, or, when it cannot ask the cluster, why not."""
    try:
        return doctor(run, task)
    except MLOpsError as exc:
        return f"Cannot ask the cluster why task {task.id} failed: {exc.message}"


class RunMonitor(widgets.VBox):  # type: ignore[misc]
    """Watches a run through a pipelines backend and shows it as it goes."""

    run_id = Unicode("", help="The run shown.")
    run_name = Unicode("", help="The run's display name.")
    status = Unicode("PENDING", help="The run's state, in KFP v2 names.")
    tasks = List(Dict(), help="Each task as {'id', 'state', 'seconds'}.")
    tasks_done = Int(0, help="Tasks that have ended.")
    tasks_total = Int(0, help="Tasks the run has.")
    elapsed = Float(0.0, help="Seconds since the run started.")
    log_tail = Unicode("", help="The last lines of the running task's log.")
    log_task = Unicode("", help="The task whose log is shown.")
    outputs = Dict(help="The run's outputs, once it has ended.")
    error = Unicode("", help="Why the run failed, if it did.")
    findings = Dict(
        help="For each failed task (by id) of a cluster run, the doctor's report as JSON, or "
        "the text saying why the cluster could not be asked."
    )

    def __init__(
        self,
        backend: PipelineBackend,
        run: Run,
        doctor: TaskDoctor | None = None,
        **kwargs: Any,
    ) -> None:
        self._header = widgets.HTML()
        self._progress = widgets.IntProgress(min=0, max=1, value=0, description="Tasks")
        self._tasks = widgets.HTML()
        self._findings = widgets.HTML()
        self._log = widgets.HTML()
        self._outputs = widgets.HTML()
        super().__init__(
            children=[
                self._header,
                self._progress,
                self._tasks,
                self._findings,
                self._log,
                self._outputs,
            ],
            **kwargs,
        )
        self.backend = backend
        #: Asked about each failed task; None (a local run, no cluster) asks nobody.
        self.doctor = doctor
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Failed tasks whose findings no longer change while the run goes on, and how many
        # times each was looked at.
        self._settled: set[str] = set()
        self._looks: dict[str, int] = {}
        self.update(run)

    def update(self, run: Run, log_tail: str | None = None) -> None:
        """Show this state of the run (and the log tail, when given)."""
        self.run_id = run.id
        self.run_name = run.name
        self.tasks = [
            {
                "id": t.id,
                "state": t.state.value,
                "seconds": (
                    (
                        (t.finished_at or dt.datetime.now(dt.timezone.utc)) - t.started_at
                    ).total_seconds()
                    if t.started_at is not None
                    else None
                ),
            }
            for t in run.tasks
        ]
        self.tasks_total = max(run.tasks_total, len(run.tasks))
        self.tasks_done = sum(1 for t in run.tasks if t.state.finished)
        self.elapsed = _elapsed(run)
        self.error = run.error or ""
        if log_tail is not None:
            self.log_task = running_task(run) or ""
            self.log_tail = log_tail
        if run.status.finished:
            self.outputs = run.outputs or {t.id: t.outputs for t in run.tasks if t.outputs}
        # Set last: observers of `status` see the rest of this state already.
        self.status = run.status.value

    def refresh(self) -> Run:
        """Read the run and its running task's log from the backend once, and show them."""
        run = self.backend.get_run(self.run_id)
        task = running_task(run)
        tail = self.backend.task_logs(run.id, task, TAIL_LINES) if task else ""
        self.update(run, tail)
        return run

    def examine(self, run: Run, *, again: bool = False) -> None:
        """Ask the doctor about each failed task until two looks in a row agree (a pod that
        has just failed may not show why yet); with `again`, each failed task once more.

        Blocking, as it reads the cluster: the following thread calls it, never the kernel's.
        """
        if self.doctor is None:
            return
        found = dict(self.findings)
        for task in failed_tasks(run):
            if again or task.id not in self._settled:
                answer = examine_failed(self.doctor, run, task)
                shown = answer if isinstance(answer, str) else answer.model_dump(mode="json")
                self._looks[task.id] = self._looks.get(task.id, 0) + 1
                if found.get(task.id) == shown or self._looks[task.id] >= MAX_LOOKS:
                    self._settled.add(task.id)
                found[task.id] = shown
        if found != self.findings:
            self.findings = found

    def follow(self, interval: float = 0.5, on_end: Callable[[Run], None] | None = None) -> None:
        """Keep the view current from a background thread until the run ends; each failed
        task is examined as it fails, and once more when the run has ended."""
        if self._thread is not None and self._thread.is_alive():
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    run = self.refresh()
                    self.examine(run, again=run.status.finished)
                except Exception as exc:
                    self.error = f"Cannot read the run: {exc}"
                    return
                if run.status.finished:
                    if on_end is not None:
                        on_end(run)
                    return
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name=f"run-monitor-{self.run_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following the run."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the following thread has seen the run end and shown its last state."""
        if self._thread is not None:
            self._thread.join(timeout)

    @observe("run_name", "status", "elapsed", "error")
    def _show_header(self, _: Any = None) -> None:
        name = html.escape(self.run_name)
        error = (
            f'<div style="color:var(--jp-error-color1)">{html.escape(self.error)}</div>'
            if self.error
            else ""
        )
        self._header.value = (
            f"<div><b>{name}</b> &middot; {_badge(self.status)} &middot; "
            f"{self.elapsed:.1f} s &middot; <code>{html.escape(self.run_id)}</code></div>{error}"
        )

    @observe("tasks_done", "tasks_total")
    def _show_progress(self, _: Any = None) -> None:
        self._progress.max = max(self.tasks_total, 1)
        self._progress.value = self.tasks_done
        self._progress.description = f"{self.tasks_done}/{self.tasks_total}"

    @observe("tasks")
    def _show_tasks(self, _: Any = None) -> None:
        rows = "".join(
            f"<tr><td>{html.escape(t['id'])}</td><td>{_badge(t['state'])}</td>"
            f"<td>{_seconds(t['seconds'])}</td></tr>"
            for t in self.tasks
        )
        self._tasks.value = (
            f"<table><tr><th>Task</th><th>State</th><th>Time</th></tr>{rows}</table>"
        )

    @observe("findings")
    def _show_findings(self, _: Any = None) -> None:
        from jupyter_mlops.kube.doctor import DoctorReport
        from jupyter_mlops.widgets.doctor import DoctorView

        parts = []
        for task_id, answer in self.findings.items():
            if isinstance(answer, str):
                parts.append(f'<div class="jp-mlops-muted">{html.escape(answer)}</div>')
                continue
            report = DoctorReport.model_validate(answer)
            parts.append(DoctorView(report, about=f"failed task {task_id}")._repr_html_())
        self._findings.value = "".join(parts)

    @observe("log_tail", "log_task")
    def _show_log(self, _: Any = None) -> None:
        if not self.log_task:
            self._log.value = ""
            return
        self._log.value = (
            f"<div>Log of <code>{html.escape(self.log_task)}</code></div>"
            f"<pre style='max-height:16em;overflow:auto'>{html.escape(self.log_tail)}</pre>"
        )

    @observe("outputs")
    def _show_outputs(self, _: Any = None) -> None:
        if not self.outputs:
            self._outputs.value = ""
            return
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td>{html_value(value)}</td></tr>"
            for name, value in self.outputs.items()
        )
        self._outputs.value = f"<div>Outputs</div><table>{rows}</table>"


def text_progress(
    backend: PipelineBackend,
    run: Run,
    write: Callable[[str], None],
    doctor: TaskDoctor | None = None,
) -> Run:
    """Follow a run in a terminal: one line per task change, then, with a `doctor`, why each
    failed task failed and what to do, and a last line with outputs."""
    seen: dict[str, str] = {}
    final = run
    for final in backend.watch(run.id):
        for task in final.tasks:
            if seen.get(task.id) != task.state.value:
                seen[task.id] = task.state.value
                if task.state != RunStatus.PENDING:
                    done = sum(1 for t in final.tasks if t.state.finished)
                    progress = f"({done}/{len(final.tasks)})"
                    write(f"[{_elapsed(final):6.1f}s] {task.id}: {task.state.value} {progress}")
    if doctor is not None:
        for task in failed_tasks(final):
            for line in finding_lines(examine_failed(doctor, final, task), task):
                write(line)
    write(summary_line(final))
    return final


def finding_lines(answer: DoctorReport | str, task: Task) -> list[str]:
    """What a terminal shows of the doctor's answer on a failed task: each finding's cause
    in plain words and its fix."""
    if isinstance(answer, str):
        return [answer]
    if not answer.findings:
        return [f"Task {task.id} failed; the cluster shows nothing wrong with it."]
    lines = []
    for f in answer.findings:
        sure = "" if f.certainty == "certain" else " (likely)"
        lines += [f"Task {task.id}: {f.cause}{sure}: {f.summary}", f"  Fix: {f.fix}"]
    return lines


def summary_line(run: Run) -> str:
    """One line saying how a run ended."""
    line = f"Run {run.id} {run.status.value} in {_elapsed(run):.1f} s"
    if run.error:
        line += f": {run.error}"
    if run.outputs:
        shown = ", ".join(f"{name}={text(value)}" for name, value in run.outputs.items())
        line += f"; outputs: {shown}"
    return line


__all__ = [
    "RunMonitor",
    "TaskDoctor",
    "examine_failed",
    "failed_tasks",
    "finding_lines",
    "running_task",
    "summary_line",
    "text_progress",
]
