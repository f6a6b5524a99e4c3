"""`%mlflow`: experiments, runs, registered models and metric charts from notebook cells."""

from __future__ import annotations

import argparse
import functools
import html
import math
import shlex
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser
from traitlets import Int

from ..errors import MLOpsError
from ..widgets.summary import html_value, text

if TYPE_CHECKING:
    import datetime as dt

    from ..tracking import MetricHistory, Tracking

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(method: F) -> F:
    """API errors are the user's to fix: show their message, not a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MLOpsError as error:
            raise UsageError(error.message) from None

    return wrapper  # type: ignore[return-value]


class Table:
    """Rows under a header: an HTML table in notebooks, aligned text elsewhere."""

    def __init__(
        self, columns: Sequence[str], rows: Sequence[Sequence[str]], empty: str, note: str = ""
    ) -> None:
        self.columns = tuple(columns)
        self.rows = [tuple(row) for row in rows]
        self.empty = empty
        self.note = note

    def _repr_html_(self) -> str:
        if not self.rows:
            return f"<p>{html.escape(self.empty)}</p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html_value(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows
        )
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return f"<table><tr>{head}</tr>{body}</table>{note}"

    def __repr__(self) -> str:
        if not self.rows:
            return self.empty
        table = [self.columns, *(tuple(text(cell) for cell in row) for row in self.rows)]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.columns))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        return "\n".join([*lines, self.note] if self.note else lines)


class MetricChart:
    """Metric histories of several runs: an SVG chart in notebooks, a summary elsewhere."""

    def __init__(self, histories: Sequence[MetricHistory], labels: Sequence[str]) -> None:
        self.histories = list(histories)
        self.labels = list(labels)

    def svg(self) -> str:
        """The chart as an SVG document."""
        from ..tracking.chart import metric_chart

        return metric_chart(self.histories, self.labels)

    def _repr_html_(self) -> str:
        return f"<div>{self.svg()}</div>"

    def __repr__(self) -> str:
        lines = []
        for label, history in zip(self.labels, self.histories, strict=True):
            values = [
                p.value for p in history.points if p.value is not None and math.isfinite(p.value)
            ]
            if not values:
                lines.append(f"{label}: no values of {history.key}")
                continue
            lines.append(
                f"{label}: {history.key} over {history.total} points, "
                f"min {min(values):.4g}, max {max(values):.4g}, last {values[-1]:.4g}"
            )
        return "\n".join(lines)


def _when(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _value(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def _mlflow_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(
        prog="mlflow", description="Browse MLflow experiments, runs and registered models."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    experiments = commands.add_parser("experiments", help="List experiments by name.")
    experiments.add_argument("name", nargs="?", default="", help="Only names containing this.")
    experiments.add_argument("--max", type=int, default=50, help="How many (at most 1000).")

    runs = commands.add_parser("runs", help="List an experiment's runs, newest first.")
    runs.add_argument(
        "experiment",
        nargs="?",
        default=None,
        help="Experiment name or id (default: $MLFLOW_EXPERIMENT_NAME, else Default).",
    )
    runs.add_argument(
        "--filter", default="", help='MLflow search filter, e.g. "metrics.loss < 0.2".'
    )
    runs.add_argument(
        "--order-by", action="append", default=[], help='e.g. "metrics.loss ASC"; repeatable.'
    )
    runs.add_argument("--max", type=int, default=20, help="How many runs (at most 1000).")

    models = commands.add_parser("models", help="List registered models with their aliases.")
    models.add_argument("name", nargs="?", default="", help="Only names containing this.")
    models.add_argument("--max", type=int, default=50, help="How many (at most 1000).")

    plot = commands.add_parser("plot", help="Chart a metric of one or more runs.")
    plot.add_argument("runs", nargs="+", metavar="RUN", help="Run ids.")
    plot.add_argument("--metric", required=True, help="The metric's name, e.g. loss.")
    return parser


_MLFLOW_PARSER = _mlflow_parser()


@magics_class
class MlflowMagics(Magics):
    """MLflow tracking and registry from notebook cells, over `jupyter_mlops.tracking`."""

    plot_points = Int(
        500, help="Points per run drawn by %mlflow plot (histories are downsampled to this)."
    ).tag(config=True)

    def tracking(self) -> Tracking:
        """Tracking as this kernel is configured (`%config MLOpsConfig…` or the environment),
        made once per configuration."""
        from .connected import connection

        return connection(self.shell).tracking()

    @line_magic
    @_user_errors
    def mlflow(self, line: str) -> Any:
        """Browse MLflow: `%mlflow experiments [NAME]`, `%mlflow runs [EXPERIMENT] [--filter EXPR]
        [--order-by KEY] [--max N]`, `%mlflow models [NAME]`, `%mlflow plot RUN [RUN ...]
        --metric NAME`. The store is $MLFLOW_TRACKING_URI, else the workspace's local store."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"Cannot read the arguments: {error}.") from None
        args = _MLFLOW_PARSER.parse_args(words)
        if getattr(args, "max", 1) < 1:
            raise UsageError("--max must be 1 or more.")
        command: Callable[[argparse.Namespace], Any] = getattr(self, f"_mlflow_{args.command}")
        return command(args)

    def _mlflow_experiments(self, args: argparse.Namespace) -> Table:
        page = self.tracking().experiments(args.name, max_results=args.max)
        rows = [(e.id, e.name, _when(e.created_at)) for e in page.experiments]
        more = (
            "More experiments exist: narrow the name or raise --max."
            if page.next_page_token
            else ""
        )
        return Table(("id", "name", "created"), rows, "No experiments.", more)

    def _mlflow_runs(self, args: argparse.Namespace) -> Table:
        tracking = self.tracking()
        env = tracking.settings.env
        reference = (
            args.experiment
            or env.get("MLFLOW_EXPERIMENT_NAME")
            or env.get("MLFLOW_EXPERIMENT_ID")
            or "Default"
        )
        experiment = tracking.experiment(reference)
        page = tracking.runs(
            experiment.id, filter=args.filter, order_by=args.order_by, max_results=args.max
        )
        params = sorted({k for r in page.runs for k in r.params})
        metrics = sorted({k for r in page.runs for k in r.metrics})
        rows = [
            (
                r.id,
                r.name,
                r.status,
                _when(r.started_at),
                *(r.params.get(k, "") for k in params),
                *(_value(r.metrics.get(k)) for k in metrics),
            )
            for r in page.runs
        ]
        columns = ("id", "name", "status", "started", *params, *metrics)
        more = "More runs exist: narrow --filter or raise --max." if page.next_page_token else ""
        return Table(columns, rows, f"No runs in {experiment.name}.", more)

    def _mlflow_models(self, args: argparse.Namespace) -> Table:
        page = self.tracking().models(args.name, max_results=args.max)
        rows = [
            (
                m.name,
                ", ".join(f"{alias}→v{version}" for alias, version in sorted(m.aliases.items())),
                _when(m.updated_at),
                m.description,
            )
            for m in page.models
        ]
        more = "More models exist: narrow the name or raise --max." if page.next_page_token else ""
        return Table(("name", "aliases", "updated", "description"), rows, "No models.", more)

    def _mlflow_plot(self, args: argparse.Namespace) -> MetricChart:
        tracking = self.tracking()
        histories, labels = [], []
        for given in dict.fromkeys(args.runs):
            run = tracking.run(given)  # the whole id, from the 8 characters the legend shows
            histories.append(tracking.metric_history(run.id, args.metric, points=self.plot_points))
            labels.append(f"{run.name} ({run.id[:8]})" if run.name else run.id)
        return MetricChart(histories, labels)
