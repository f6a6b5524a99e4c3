"""`%kserve`: serve MLflow model versions, call them, check their inputs for drift, as thin
adapters over `jupyter_mlops.serving`."""

from __future__ import annotations

import argparse
import html
import re
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Float

from .commands import dispatch, flags, parse, split
from .connected import ConnectedMagics

if TYPE_CHECKING:
    from ..serving import DriftReport, Plan, Prediction, Progress, Service, Serving
    from ..widgets.table import Table

# Options each command accepts, by their argparse destination.
OPTIONS: dict[str, set[str]] = {
    "serve": {
        "name",
        "local",
        "yes",
        "dry_run",
        "runtime",
        "cpu",
        "memory",
        "gpu",
        "deployment_mode",
        "service_account",
        "force",
        "no_wait",
    },
    "list": set(),
    "predict": {"data", "local", "cluster", "url"},
    "drift": {"data", "local", "cluster", "no_record"},
    "delete": {"local", "cluster"},
}
# serve's options that only an InferenceService has.
CLUSTER_ONLY = OPTIONS["serve"] - {"name", "local"}
USAGE = {
    "serve": "MODEL@ALIAS | MODEL/VERSION",
    "list": "",
    "predict": "NAME --data VAR",
    "drift": "NAME [--data VAR]",
    "delete": "NAME",
}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@magics_class
class KServeMagics(ConnectedMagics):
    """`%kserve`: serve, list, predict, drift and delete models from the MLflow registry."""

    timeout = Float(
        300.0, help="Seconds %kserve serve waits for an InferenceService to be Ready."
    ).tag(config=True)

    def serving(self) -> Serving:
        """The kernel's one `Serving`, made again only when `%config MLOpsConfig` changes it
        (so `predict`'s inputs stay for `drift`)."""
        return self.connection.serving()

    @magic_arguments()
    @argument(
        "command",
        choices=sorted(OPTIONS),
        help="serve MODEL@ALIAS (or MODEL/VERSION): shows the InferenceService and what the "
        "checks found, asks, applies it and waits for Ready (--local: on this machine). "
        "list: every served model. predict NAME --data VAR: the model's answer and latency. "
        "drift NAME [--data VAR]: PSI and KS per feature against the training data, recorded "
        "as an MLflow run. delete NAME.",
    )
    @argument("words", nargs="*", metavar="NAME", help="The model (serve) or the service.")
    @argument("--name", help="serve: the service's name (default: from the model's name).")
    @argument("--local", action="store_true", help="On this machine, over the same protocol.")
    @argument("--cluster", action="store_true", help="The InferenceService, not a local one.")
    @argument("--data", metavar="VAR", help="A DataFrame, array or dict in the notebook.")
    @argument("-y", "--yes", action="store_true", help="serve: apply without asking.")
    @argument("--dry-run", action="store_true", help="serve: only show the manifest and checks.")
    @argument("--runtime", default="auto", help="serve: the ServingRuntime (default: auto).")
    @argument("--cpu", help="serve: CPU for the predictor, e.g. 500m.")
    @argument("--memory", help="serve: memory for the predictor, e.g. 2Gi.")
    @argument("--gpu", help="serve: NVIDIA GPUs for the predictor, e.g. 1.")
    @argument(
        "--deployment-mode",
        default="Standard",
        choices=["Standard", "Knative", "RawDeployment", "Serverless"],
        help="serve: KServe's deployment mode (Standard needs no Knative).",
    )
    @argument("--service-account", help="serve: the account with the storage credentials.")
    @argument("--force", action="store_true", help="serve: take over fields others set.")
    @argument("--no-wait", action="store_true", help="serve: do not wait for Ready.")
    @argument("--url", help="predict: call this address instead (e.g. a port-forward).")
    @argument("--no-record", action="store_true", help="drift: do not record an MLflow run.")
    @line_magic
    def kserve(self, line: str) -> Any:
        """Serve models from the MLflow registry and call them, locally or on KServe.

        %kserve serve churn@champion --local     %kserve serve churn/3 --name churn-v3
        %kserve predict churn --data frame       %kserve drift churn --data last_week
        %kserve list                             %kserve delete churn

        Settings come from `%config MLOpsConfig` (namespace, read_only,
        mlflow_artifacts_destination, serving_service_account).
        """
        return dispatch(self, self._parse(line))

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self, line: str) -> argparse.Namespace:
        parser = self.kserve.parser
        if not line.strip():
            raise UsageError(
                "usage: %kserve {serve,list,predict,drift,delete} ...; see %kserve? for each one"
            )
        args, given = parse(parser, split(line), "kserve", OPTIONS)
        wanted = 0 if args.command == "list" else 1
        if len(args.words) != wanted:
            raise UsageError(f"usage: %kserve {args.command} {USAGE[args.command]}".rstrip())
        if args.local and args.cluster:
            raise UsageError("--local and --cluster exclude each other")
        on_cluster = sorted(given & CLUSTER_ONLY) if args.local else []
        if on_cluster:
            raise UsageError(f"{flags(on_cluster)}: for the cluster only, not with --local")
        return args

    def _mode(self, args: argparse.Namespace) -> str | None:
        return "local" if args.local else "cluster" if args.cluster else None

    def _variable(self, name: str | None, command: str) -> Any:
        if name is None:
            raise UsageError(f"say which inputs: %kserve {command} NAME --data VAR")
        if not _VARIABLE.fullmatch(name):
            raise UsageError(f"--data takes a variable's name, not {name!r}")
        namespace = self.shell.user_ns if self.shell is not None else {}
        if name not in namespace:
            raise UsageError(f"no variable {name!r} in this notebook")
        return namespace[name]

    # -- commands --------------------------------------------------------------------------

    def _serve(self, args: argparse.Namespace, reference: str) -> Any:
        from ..serving.registry import parse_reference

        model, which = parse_reference(reference)
        serving = self.serving()
        if args.local:
            return ServiceView(serving.serve_local(model, which, name=args.name))
        resources = {
            key: value
            for key, value in (
                ("cpu", args.cpu),
                ("memory", args.memory),
                ("nvidia.com/gpu", args.gpu),
            )
            if value
        }
        plan = serving.plan(
            model,
            which,
            name=args.name,
            runtime=args.runtime,
            resources=resources or None,
            deployment_mode=args.deployment_mode,
            service_account=args.service_account,
        )
        print(plan_text(plan))
        if args.dry_run:
            return None
        if plan.blocked:
            raise UsageError("Not applied: fix the errors above first.")
        if not args.yes and not _ask(f"Apply InferenceService {plan.name} in {plan.namespace}?"):
            print("Not applied.")
            return None
        service = serving.apply(
            plan,
            force=args.force,
            wait=not args.no_wait,
            timeout=self.timeout,
            progress=_print_progress,
        )
        return ServiceView(service)

    def _list(self, args: argparse.Namespace) -> Table:
        from ..widgets.table import Table

        found = self.serving().list()
        rows = [
            {
                "name": s.name,
                "mode": s.mode,
                "ready": s.ready,
                "model": f"{s.model} v{s.version}" if s.model else "",
                "alias": s.alias or "",
                "url": s.url or "",
                "reason": s.reason,
            }
            for s in found.services
        ]
        for source, message in sorted(found.errors.items()):
            print(f"{source}: {message}")
        columns = ("name", "mode", "ready", "model", "alias", "url", "reason")
        return Table(columns, rows, empty="No models are served.")

    def _predict(self, args: argparse.Namespace, name: str) -> PredictionView:
        data = self._variable(args.data, "predict")
        prediction = self.serving().predict(name, data, mode=self._mode(args), url=args.url)
        return PredictionView(prediction)

    def _drift(self, args: argparse.Namespace, name: str) -> DriftView:
        data = self._variable(args.data, "drift") if args.data is not None else None
        serving = self.serving()
        report = serving.drift(name, data, mode=self._mode(args), record=not args.no_record)
        return DriftView(report, serving.settings.tracking_ui_url)

    def _delete(self, args: argparse.Namespace, name: str) -> None:
        gone = self.serving().delete(name, mode=self._mode(args))
        where = "local model server" if gone.mode == "local" else "InferenceService"
        print(
            f'{where} "{name}" {gone.reason}'
            + (f" in namespace {gone.namespace}" if gone.namespace else "")
        )


def _ask(question: str) -> bool:
    """The user's yes (y or yes), asked through the notebook's input box."""
    try:
        answer = input(f"{question} [y/N] ")
    except (EOFError, OSError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _print_progress(step: Progress) -> None:
    print(step.message)


def plan_text(plan: Plan) -> str:
    """The manifest, then what each check found, as `serve` shows them before asking."""
    lines = [
        f"InferenceService {plan.name} in namespace {plan.namespace}, serving {plan.model.label}:",
        "",
    ]
    lines.append(plan.yaml().rstrip())
    lines.append("")
    if not plan.findings:
        lines.append("Checks: nothing found in the way.")
    for finding in plan.findings:
        lines.append(f"{finding.severity.upper()} [{finding.check}] {finding.message}")
        if finding.fix:
            lines.append(f"    fix: {finding.fix}")
    return "\n".join(lines)


class ServiceView:
    """A served model: name, where, Ready, address."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def _lines(self) -> list[str]:
        s = self.service
        where = "on this machine" if s.mode == "local" else f"in namespace {s.namespace}"
        state = "Ready" if s.ready else f"not Ready: {s.reason}"
        lines = [f"{s.name} {where}: {s.model} v{s.version}, {state}"]
        if s.url:
            lines.append(f"address: {s.url}/v2/models/{s.name}/infer")
        if s.mode == "cluster" and not s.ready:
            lines.append(f"%k8s doctor inferenceservice/{s.name} says what is wrong")
        return lines

    def _repr_html_(self) -> str:
        return "<p>" + "<br>".join(html.escape(line) for line in self._lines()) + "</p>"

    def __repr__(self) -> str:
        return "\n".join(self._lines())


class PredictionView:
    """A prediction: the answer (a DataFrame or an array) and how long it took."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.data = prediction.data

    def _head(self) -> str:
        p = self.prediction
        return f"{p.name} ({p.mode}) answered in {p.latency_ms:.1f} ms"

    def _repr_html_(self) -> str:
        data = self.data
        body = (
            data._repr_html_()
            if hasattr(data, "_repr_html_")
            else f"<pre>{html.escape(repr(data))}</pre>"
        )
        return f"<p>{html.escape(self._head())}</p>{body}"

    def __repr__(self) -> str:
        return f"{self._head()}\n{self.data!r}"


class DriftView:
    """Drift per feature: a table, bars of each feature's distribution, the recorded run."""

    def __init__(self, report: DriftReport, ui_url: str | None = None) -> None:
        self.report = report
        self.ui_url = ui_url

    def _summary(self) -> str:
        r = self.report
        drifted = ", ".join(r.drifted) or "none"
        recorded = f"; recorded as MLflow run {r.run_id}" if r.run_id else ""
        return (
            f"{r.name} ({r.model} v{r.version}): {r.current_rows} rows against {r.reference_rows} "
            f"of {r.dataset}; drifted: {drifted}{recorded}"
        )

    def _rows(self) -> list[tuple[str, ...]]:
        return [
            (
                f.feature,
                f.kind,
                f"{f.psi:.3f}",
                "" if f.ks is None else f"{f.ks:.3f}",
                "" if f.ks_pvalue is None else f"{f.ks_pvalue:.3g}",
                "DRIFT" if f.drifted else "",
            )
            for f in self.report.features
        ]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in ("feature", "kind", "PSI", "KS", "KS p", ""))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in self._rows()
        )
        link = ""
        r = self.report
        if r.run_id and self.ui_url and r.experiment_id:
            href = f"{self.ui_url.rstrip('/')}/#/experiments/{r.experiment_id}/runs/{r.run_id}"
            link = f' <a href="{html.escape(href)}" target="_blank">open the run</a>'
        charts = "".join(drift_svg(h) for h in self.report.plot)
        return (
            f"<p>{html.escape(self._summary())}{link}</p>"
            f"<table><tr>{head}</tr>{body}</table><div>{charts}</div>"
        )

    def __repr__(self) -> str:
        rows = [("FEATURE", "KIND", "PSI", "KS", "KS-P", ""), *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(6)]
        table = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        return "\n".join([self._summary(), *table])


def drift_svg(plot: Any, width: int = 260, height: int = 90) -> str:
    """One feature's shares per bin, training data beside the compared inputs, as bars."""
    shares = list(zip(plot.reference, plot.current, strict=True))
    if not shares:
        return ""
    top = max(max(pair) for pair in shares) or 1.0
    slot = width / len(shares)
    bars = []
    for n, (ref, cur) in enumerate(shares):
        for k, (value, colour) in enumerate(
            ((ref, "var(--jp-ui-font-color2)"), (cur, "var(--jp-brand-color1)"))
        ):
            h = (height - 16) * value / top
            x = n * slot + k * slot / 2
            bars.append(
                f'<rect x="{x:.1f}" y="{height - 14 - h:.1f}" width="{slot / 2 - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
    title = html.escape(f"{plot.feature}: training (grey) and inputs (blue)")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{title}"><title>{title}</title>{"".join(bars)}'
        f'<text x="0" y="{height - 2}" font-size="10" fill="var(--jp-ui-font-color1)">'
        f"{html.escape(plot.feature)}</text></svg>"
    )


__all__ = ["KServeMagics"]
