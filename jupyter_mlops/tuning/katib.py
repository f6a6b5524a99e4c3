"""Katib on the cluster: the checks before an Experiment is applied, server-side apply, and
searches read back from the Experiment's and its Trials' status."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import BadInput, Conflict, Forbidden, NotFound
from ..kube.kinds import Kind
from ..policy import refuse_writes
from ..serving.manifest import FIELD_MANAGER
from ..serving.models import Finding
from .component import ComponentInfo, check_fit
from .experiment import COMPONENT_ANNOTATION, EXPERIMENT_LABEL, SPACE_ANNOTATION
from .models import Trial, TrialState, Tuning, TuningState
from .space import Param, Value, parse_param

if TYPE_CHECKING:
    from ..kube.cluster import Cluster, Obj

GROUP = "kubeflow.org"
VERSION = "v1beta1"
EXPERIMENTS = Kind("experiments", "Experiment", GROUP, VERSION, custom=True)
TRIALS = Kind("trials", "Trial", GROUP, VERSION, custom=True)
NAMESPACES = Kind("namespaces", "Namespace", namespaced=False)
INJECTION_LABEL = "katib.kubeflow.org/metrics-collector-injection"
ISTIO_LABEL = "istio-injection"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"
UNAVAILABLE = "unavailable"
_PYTHON_IMAGE = re.compile(r"(?:^|/)python:(\d+)\.(\d+)")
# A trial's conditions, most telling first: the first one True is its state.
_TRIAL_STATES = (
    ("Killed", TrialState.KILLED),
    ("Failed", TrialState.FAILED),
    ("Succeeded", TrialState.SUCCEEDED),
    ("EarlyStopped", TrialState.SUCCEEDED),
    ("MetricsUnavailable", TrialState.METRICS_UNAVAILABLE),
    ("Running", TrialState.RUNNING),
)
_SEARCH_STATES = (
    ("Failed", TuningState.FAILED),
    ("Succeeded", TuningState.SUCCEEDED),
    ("Running", TuningState.RUNNING),
    ("Restarting", TuningState.RUNNING),
    ("Created", TuningState.CREATED),
)


# -- checks before applying --------------------------------------------------------------------


def katib_installed(cluster: Cluster) -> bool:
    """Whether the cluster serves Katib's Experiments and Trials (kubeflow.org/v1beta1)."""
    try:
        listing = cluster.request("GET", f"/apis/{GROUP}/{VERSION}")
    except NotFound:
        return False
    served = {r.get("name") for r in listing.get("resources") or []}
    return {"experiments", "trials"} <= served


NOT_INSTALLED = (
    f"Katib is not installed: the cluster serves no Experiments and Trials ({GROUP}/{VERSION})"
)
NO_KATIB = Finding(
    "katib",
    "error",
    f"the cluster serves no Katib Experiments ({GROUP}/{VERSION} experiments and trials): "
    "Katib is not installed",
    "ask the cluster's admin to install Katib, or tune on this machine with --local",
)


def namespace_labels(cluster: Cluster, namespace: str) -> list[Finding]:
    """The metrics collector's injection label, and what Istio would do to trial pods."""
    try:
        labels = (cluster.get(NAMESPACES, namespace).get("metadata") or {}).get("labels") or {}
    except (Forbidden, NotFound):
        return [
            Finding(
                "metrics-collector",
                "warning",
                f"cannot read namespace {namespace} to check its label {INJECTION_LABEL}: "
                "without it no trial reports metrics",
                f"ask an admin: kubectl get namespace {namespace} --show-labels",
            )
        ]
    found = []
    if labels.get(INJECTION_LABEL) != "enabled":
        found.append(
            Finding(
                "metrics-collector",
                "error",
                f"namespace {namespace} lacks the label {INJECTION_LABEL}=enabled: Katib would "
                "inject no metrics collector, and every trial would end MetricsUnavailable",
                f"kubectl label namespace {namespace} {INJECTION_LABEL}=enabled "
                "(a Kubeflow profile's namespace has it)",
            )
        )
    if labels.get(ISTIO_LABEL) == "enabled":
        found.append(
            Finding(
                "istio",
                "info",
                f"namespace {namespace} injects Istio sidecars; trial pods opt out "
                '(sidecar.istio.io/inject: "false") so that they end when the trial does',
            )
        )
    return found


def component_runs(
    info: ComponentInfo, space: Mapping[str, Param], fixed: Mapping[str, Any]
) -> list[Finding]:
    """Whether the trial Job can run the component as KFP would, with each trial's values."""
    found = [
        Finding("component", "error", problem, "search the component's own parameter inputs")
        for problem in check_fit(info, space, fixed)
    ]
    for name, param in space.items():
        unsafe = [v for v in param.values if isinstance(v, str) and set(v) & set("'\"\\")]
        if unsafe:
            found.append(
                Finding(
                    "component",
                    "error",
                    f"{name}: choice value {unsafe[0]!r} has a quote or a backslash, which the "
                    "trial's command line cannot carry",
                    "choose values without quotes or backslashes",
                )
            )
    if not info.image:
        found.append(Finding("image", "error", f"{info.name} names no image", "set base_image"))
    found += python_version(info.image)
    if not info.command or "kfp.dsl.executor_main" not in " ".join(info.command + info.args):
        found.append(
            Finding(
                "image",
                "error",
                f"{info.name} is not a Python function component: its container is not KFP's "
                "executor, which the trial Job runs",
                "define it with %%kfp_component or @dsl.component",
            )
        )
    artifacts = [
        n for n, t in info.outputs.items() if t not in ("Float", "Integer", "Boolean", "String")
    ]
    if artifacts:
        found.append(
            Finding(
                "component",
                "warning",
                f"output artifact(s) {', '.join(artifacts)} stay in the trial pod: a trial "
                "keeps only its metrics",
            )
        )
    setup = " ".join(info.command)
    if "pip install" in setup:
        found.append(
            Finding(
                "image",
                "info",
                f"each trial pod installs the component's packages (and kfp) into {info.image} "
                "as it starts: the cluster must reach the package index",
                "bake them into the image (--base-image) to start trials faster",
            )
        )
    return found


def kfp_python() -> tuple[int, int] | None:
    """The oldest Python the installed kfp runs on (its `Requires-Python`), which each trial
    pod installs into the image."""
    from importlib import metadata

    try:
        needs = metadata.metadata("kfp")["Requires-Python"] or ""
    except metadata.PackageNotFoundError:
        return None
    found = re.search(r">=\s*(\d+)\.(\d+)", needs)
    return (int(found.group(1)), int(found.group(2))) if found else None


def python_version(image: str) -> list[Finding]:
    """An official `python:X.Y…` image older than kfp allows cannot run the component."""
    tag = _PYTHON_IMAGE.search(image)
    least = kfp_python()
    if tag is None or least is None:
        return []
    version = (int(tag.group(1)), int(tag.group(2)))
    if version >= least:
        return []
    return [
        Finding(
            "image",
            "error",
            f"{image} has Python {version[0]}.{version[1]}; the kfp that runs the component "
            f"in each trial needs Python {least[0]}.{least[1]} or newer",
            f"use --base-image python:{least[0]}.{max(least[1], 11)} or newer",
        )
    ]


def existing(cluster: Cluster, name: str, namespace: str) -> list[Finding]:
    try:
        cluster.get(EXPERIMENTS, name, namespace)
    except (NotFound, Forbidden):
        return []
    return [
        Finding(
            "exists",
            "error",
            f"Experiment {name} exists in {namespace}",
            "choose another name=…, or delete it first",
        )
    ]


def check(
    cluster: Cluster,
    namespace: str,
    name: str,
    info: ComponentInfo,
    space: Mapping[str, Param],
    fixed: Mapping[str, Any],
) -> list[Finding]:
    """Every check before an Experiment is applied."""
    if not katib_installed(cluster):
        return [NO_KATIB, *component_runs(info, space, fixed)]
    return [
        *existing(cluster, name, namespace),
        *namespace_labels(cluster, namespace),
        *component_runs(info, space, fixed),
    ]


# -- writing ---------------------------------------------------------------------------------


def apply(cluster: Cluster, manifest: Obj) -> Obj:
    """Server-side apply under the product's field manager; the Experiment as stored."""
    refuse_writes(cluster.settings, "tuning on the cluster (Katib Experiments)")
    meta = manifest["metadata"]
    query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
    path = EXPERIMENTS.path(meta["namespace"], meta["name"])
    try:
        answer: Obj = cluster.request("PATCH", path, query=query, body=manifest, content_type=APPLY)
    except Conflict as exc:
        raise Conflict(
            f"{exc.message}. Another manager set these fields of Experiment {meta['name']}"
        ) from None
    return answer


def stop(cluster: Cluster, name: str, namespace: str) -> Tuning:
    """End the Experiment now: no new trials, unfinished ones deleted (their Jobs and pods go
    with them), the finished ones kept for `best`.

    Katib has no stop: lowering `maxTrialCount` to the trials that have ended makes its
    controller mark the Experiment Succeeded (max trial count reached) and create no more.
    With no trial ended yet, nothing is worth keeping: the Experiment is deleted.
    """
    refuse_writes(cluster.settings, "stopping Katib Experiments")
    obj = get(cluster, name, namespace)
    trials = list_trials(cluster, name, namespace)
    tuning = to_tuning(obj, trials)
    if tuning.state.finished:
        raise Conflict(f"Experiment {name} has already ended ({tuning.state.value})")
    ended = [t for t in tuning.trials if t.state.finished]
    if not ended:
        cluster.request("DELETE", EXPERIMENTS.path(namespace, name))
        tuning.stopped = True
        tuning.message = "Stopped before any trial ended: the Experiment was deleted"
        return tuning
    keep = len(ended)
    spec = obj.get("spec") or {}
    patch = {
        "spec": {
            "maxTrialCount": keep,
            "parallelTrialCount": min(int(spec.get("parallelTrialCount") or 1), keep),
            "maxFailedTrialCount": min(int(spec.get("maxFailedTrialCount") or 0), keep),
        }
    }
    # A merge patch: an apply would have to send the whole spec again.
    cluster.request(
        "PATCH",
        EXPERIMENTS.path(namespace, name),
        query={"fieldManager": FIELD_MANAGER},
        body=patch,
        content_type=MERGE,
    )
    for trial in tuning.trials:
        if not trial.state.finished:
            with contextlib.suppress(NotFound):  # ended and gone meanwhile
                cluster.request(
                    "DELETE",
                    TRIALS.path(namespace, trial.name),
                    body={"propagationPolicy": "Background"},
                )
            trial.state = TrialState.KILLED
            trial.message = "Trial was deleted by the stop"
    tuning.stopped = True
    tuning.message = f"Stopped by request: {keep} ended trial(s) kept, no more will start"
    return tuning


# -- reading ---------------------------------------------------------------------------------


def get(cluster: Cluster, name: str, namespace: str) -> Obj:
    try:
        return cluster.get(EXPERIMENTS, name, namespace)
    except NotFound:
        raise NotFound(f"no Katib Experiment named {name!r} in namespace {namespace}") from None


def list_trials(cluster: Cluster, name: str, namespace: str) -> list[Obj]:
    """The Experiment's Trials (by Katib's label), oldest first."""
    if namespace == cluster.namespace:
        return _trials_by_experiment(_watched(cluster, TRIALS)).get(name, [])
    selector = f"{EXPERIMENT_LABEL}={name}"
    items = cluster.list_all(TRIALS, namespace, selector=selector).items
    return _oldest_first(items)


def list_experiments(cluster: Cluster, namespace: str) -> list[Tuning]:
    """Every Experiment of the namespace with its trials: from the informers in the
    connection's own namespace (reading again asks the API server nothing), else in two
    list calls."""
    if namespace == cluster.namespace:
        items, trials = _watched(cluster, EXPERIMENTS), _watched(cluster, TRIALS)
    else:
        items = cluster.list_all(EXPERIMENTS, namespace).items
        trials = cluster.list_all(TRIALS, namespace, selector=EXPERIMENT_LABEL).items
    by_experiment = _trials_by_experiment(trials)
    return [to_tuning(obj, by_experiment.get(obj["metadata"]["name"], [])) for obj in items]


def _watched(cluster: Cluster, kind: Kind) -> list[Obj]:
    from ..kube.connect import watched_objects

    return watched_objects(cluster, kind, NOT_INSTALLED)


def _trials_by_experiment(trials: list[Obj]) -> dict[str, list[Obj]]:
    """Labelled Trials by their Experiment's name, each list oldest first."""
    grouped: dict[str, list[Obj]] = {}
    for trial in trials:
        owner = (trial["metadata"].get("labels") or {}).get(EXPERIMENT_LABEL)
        if owner:
            grouped.setdefault(owner, []).append(trial)
    return {owner: _oldest_first(group) for owner, group in grouped.items()}


def _oldest_first(trials: list[Obj]) -> list[Obj]:
    return sorted(
        trials, key=lambda t: (t["metadata"].get("creationTimestamp") or "", t["metadata"]["name"])
    )


def _time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _true(obj: Obj, types: tuple[tuple[str, Any], ...]) -> tuple[Any, str] | None:
    conditions = {c.get("type"): c for c in (obj.get("status") or {}).get("conditions") or []}
    for type_, state in types:
        c = conditions.get(type_)
        if c is not None and c.get("status") == "True":
            return state, str(c.get("message") or "")
    return None


def space_of(obj: Obj) -> dict[str, Param]:
    """The search space, as this product wrote it (its annotation) or as Katib's spec says."""
    annotation = ((obj.get("metadata") or {}).get("annotations") or {}).get(SPACE_ANNOTATION)
    if annotation:
        try:
            return dict(parse_param(f"{n}={text}") for n, text in json.loads(annotation).items())
        except (ValueError, BadInput):
            pass
    space: dict[str, Param] = {}
    for p in (obj.get("spec") or {}).get("parameters") or []:
        kind, feasible = p.get("parameterType"), p.get("feasibleSpace") or {}
        try:
            if kind in ("discrete", "categorical"):
                space[p["name"]] = Param("choice", values=tuple(feasible.get("list") or ()))
            else:
                low, high = float(feasible["min"]), float(feasible["max"])
                form = (
                    "int"
                    if kind == "int"
                    else (
                        "loguniform" if feasible.get("distribution") == "logUniform" else "uniform"
                    )
                )
                space[p["name"]] = Param(form, low, high)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            continue
    return space


def assigned(value: str, param: Param | None) -> Value:
    """A Trial's parameter assignment (always text) as the value the component takes."""
    if param is None:
        return value
    if param.kind == "int":
        return int(float(value))
    if param.kind in ("uniform", "loguniform"):
        return float(value)
    for option in param.values:
        if value in (str(option), "true" if option is True else "false" if option is False else ""):
            return option
    return value


def _metrics(trial: Obj, metric: str, strategy: str) -> dict[str, float]:
    found = {}
    for m in ((trial.get("status") or {}).get("observation") or {}).get("metrics") or []:
        picked = m.get(strategy if m.get("name") == metric else "latest")
        if picked in (None, "", UNAVAILABLE):
            picked = m.get("latest")
        try:
            found[str(m.get("name"))] = float(picked)
        except (TypeError, ValueError):
            continue  # "unavailable"
    return found


def to_trial(obj: Obj, space: Mapping[str, Param], metric: str, strategy: str) -> Trial:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    state, message = _true(obj, _TRIAL_STATES) or (TrialState.PENDING, "")
    metrics = _metrics(obj, metric, strategy)
    return Trial(
        name=obj["metadata"]["name"],
        parameters={
            a["name"]: assigned(str(a.get("value", "")), space.get(a["name"]))
            for a in spec.get("parameterAssignments") or []
        },
        state=state,
        metrics=metrics,
        objective=metrics.get(metric),
        started_at=_time(status.get("startTime")),
        finished_at=_time(status.get("completionTime")) if state.finished else None,
        message=message,
    )


def to_tuning(obj: Obj, trials: list[Obj]) -> Tuning:
    """A Katib Experiment (and its Trials) as a search."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    objective = spec.get("objective") or {}
    metric = str(objective.get("objectiveMetricName") or "")
    direction = str(objective.get("type") or "maximize")
    strategy = "max" if direction == "maximize" else "min"
    space = space_of(obj)
    state, message = _true(obj, _SEARCH_STATES) or (TuningState.CREATED, "")
    best = (status.get("currentOptimalTrial") or {}).get("bestTrialName") or None
    return Tuning(
        name=meta.get("name", ""),
        mode="cluster",
        namespace=meta.get("namespace"),
        component=(meta.get("annotations") or {}).get(COMPONENT_ANNOTATION, ""),
        metric=metric,
        direction=direction,
        algorithm=str((spec.get("algorithm") or {}).get("algorithmName") or ""),
        space={n: p.describe() for n, p in space.items()},
        max_trials=int(spec.get("maxTrialCount") or 0),
        parallel=int(spec.get("parallelTrialCount") or 0),
        max_failed=int(spec.get("maxFailedTrialCount") or 0),
        state=state,
        message=message,
        created_at=_time(meta.get("creationTimestamp")),
        finished_at=_time(status.get("completionTime")) if state.finished else None,
        trials=[to_trial(t, space, metric, strategy) for t in trials],
        best_trial=best,
    )


def best_assignments(obj: Obj) -> dict[str, Value]:
    """The current optimal trial's parameters, as Katib's Experiment status holds them."""
    optimal = (obj.get("status") or {}).get("currentOptimalTrial") or {}
    assignments = optimal.get("parameterAssignments") or []
    if not optimal.get("bestTrialName") or not assignments:
        name = (obj.get("metadata") or {}).get("name")
        raise NotFound(f"no trial of Experiment {name} has reported its objective yet")
    space = space_of(obj)
    return {a["name"]: assigned(str(a.get("value", "")), space.get(a["name"])) for a in assignments}


__all__ = [
    "EXPERIMENTS",
    "INJECTION_LABEL",
    "NO_KATIB",
    "TRIALS",
    "apply",
    "best_assignments",
    "check",
    "get",
    "katib_installed",
    "list_experiments",
    "list_trials",
    "stop",
    "to_tuning",
]
