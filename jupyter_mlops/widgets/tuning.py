"""A live view of a search: its trials (parameters, metric, state, duration), the best so far,
the objective by trial and parallel coordinates as SVG, and a Stop button.

An ipywidgets composite filled from the search's state, which a background thread follows:
the kernel stays free while trials run.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
from traitlets import Unicode

from ..errors import MLOpsError
from ..tuning.api import Search, follow
from ..tuning.charts import metric_by_trial, parallel_coordinates
from ..tuning.models import Trial, TrialState, Tuning

_COLOURS = {
    TrialState.PENDING: "var(--jp-ui-font-color2)",
    TrialState.RUNNING: "var(--jp-brand-color1)",
    TrialState.SUCCEEDED: "var(--jp-success-color1)",
    TrialState.FAILED: "var(--jp-error-color1)",
    TrialState.METRICS_UNAVAILABLE: "var(--jp-error-color1)",
    TrialState.KILLED: "var(--jp-warn-color1)",
}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _duration(trial: Trial) -> str:
    seconds = trial.seconds
    return "" if seconds is None else f"{seconds:.1f} s"


def trials_table(tuning: Tuning) -> str:
    """The trials as an HTML table, the best one's row bold."""
    names = list(tuning.space)
    best = tuning.best()
    head = "".join(
        f"<th>{html.escape(h)}</th>" for h in ("trial", *names, tuning.metric, "state", "time")
    )
    rows = []
    for trial in tuning.trials:
        colour = _COLOURS.get(trial.state, "inherit")
        style = ' style="font-weight:bold"' if best is not None and best.name == trial.name else ""
        metric = "" if trial.objective is None else _cell(trial.objective)
        cells = [html.escape(trial.name), *(_cell(trial.parameters.get(n, "")) for n in names)]
        cells += [
            metric,
            f'<span style="color:{colour}" title="{html.escape(trial.message)}">'
            f"{html.escape(trial.state.value)}</span>",
            _duration(trial),
        ]
        rows.append(f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def summary(tuning: Tuning) -> str:
    """The search in a line: state, trial counts, the best so far."""
    done = sum(1 for t in tuning.trials if t.state.finished)
    where = f" in {tuning.namespace}" if tuning.namespace else ""
    line = (
        f"{tuning.name} ({tuning.mode}{where}, {tuning.algorithm}): {tuning.state.value}, "
        f"{done}/{tuning.max_trials} trials ended"
    )
    best = tuning.best()
    if best is not None and best.objective is not None:
        shown = ", ".join(f"{k}={_text(v)}" for k, v in best.parameters.items())
        line += f"; best {tuning.metric}={best.objective:.4g} ({best.name}: {shown})"
    return line


def _text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class TuningView(widgets.VBox):  # type: ignore[misc]
    """Follows one search until it ends; Stop ends it."""

    state = Unicode("", help="The search's state, in Katib's words.")
    best_text = Unicode("", help="The best trial so far, in a line.")

    def __init__(self, search: Search, **kwargs: Any) -> None:
        self.search = search
        self._header = widgets.HTML()
        self._table = widgets.HTML()
        self._charts = widgets.HTML()
        self._message = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop")
        self.stop_button.on_click(lambda _: self.stop())
        super().__init__(
            children=[self._header, self.stop_button, self._table, self._charts, self._message],
            **kwargs,
        )
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self.show(search.snapshot())
        follow(search, self.show, self._ended)

    def show(self, tuning: Tuning) -> None:
        """Draw this state of the search."""
        with self._lock:
            self.tuning = tuning
            self._header.value = f"<div>{html.escape(summary(tuning))}</div>"
            self._table.value = trials_table(tuning)
            self._charts.value = (
                f"<div style='display:flex;flex-wrap:wrap;gap:8px'>{metric_by_trial(tuning)}"
                f"{parallel_coordinates(tuning)}</div>"
            )
            message = tuning.message
            self._message.value = f"<div>{html.escape(message)}</div>" if message else ""
            self.stop_button.disabled = tuning.state.finished
            best = tuning.best()
            self.best_text = "" if best is None else summary(tuning).split("; best ", 1)[-1]
            self.state = tuning.state.value

    def stop(self) -> None:
        """Stop the search (the button does this); a refusal is shown, not raised."""
        self.stop_button.disabled = True
        try:
            self.show(self.search.stop())
        except MLOpsError as error:
            self._message.value = (
                f'<div style="color:var(--jp-error-color1)">{html.escape(error.message)}</div>'
            )
        finally:
            self._ended.set()

    def close(self) -> None:
        self._ended.set()
        super().close()


__all__ = ["TuningView", "summary", "trials_table"]
