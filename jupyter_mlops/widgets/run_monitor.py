"""A live view of one pipeline run: task states, progress, elapsed time, log tail, outputs."""

from __future__ import annotations

import datetime as dt
import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from traitlets import Dict, Float, Int, List, Unicode, observe

from jupyter_mlops.pipelines.backend import PipelineBackend
from jupyter_mlops.pipelines.models import Run, RunStatus
from jupyter_mlops.widgets.summary import html_value, text

# How many log lines of the running task the monitor shows.
TAIL_LINES = 15
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

    def __init__(self, backend: PipelineBackend, run: Run, **kwargs: Any) -> None:
        self._header = widgets.HTML()
        self._progress = widgets.IntProgress(min=0, max=1, value=0, description="Tasks")
        self._tasks = widgets.HTML()
        self._log = widgets.HTML()
        self._outputs = widgets.HTML()
        super().__init__(
            children=[self._header, self._progress, self._tasks, self._log, self._outputs],
            **kwargs,
        )
        self.backend = backend
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
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

    def follow(self, interval: float = 0.5, on_end: Callable[[Run], None] | None = None) -> None:
        """Keep the view current from a background thread until the run ends."""
        if self._thread is not None and self._thread.is_alive():
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    run = self.refresh()
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


def text_progress(backend: PipelineBackend, run: Run, write: Callable[[str], None]) -> Run:
    """Follow a run in a terminal: one line per task change, and a last line with outputs."""
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
    write(summary_line(final))
    return final


def summary_line(run: Run) -> str:
    """One line saying how a run ended."""
    line = f"Run {run.id} {run.status.value} in {_elapsed(run):.1f} s"
    if run.error:
        line += f": {run.error}"
    if run.outputs:
        shown = ", ".join(f"{name}={text(value)}" for name, value in run.outputs.items())
        line += f"; outputs: {shown}"
    return line


__all__ = ["RunMonitor", "running_task", "summary_line", "text_progress"]
