"""The Katib Experiment (`kubeflow.org/v1beta1`) this product writes for a search.

Its trial template is a batch Job running the component as KFP runs it (the component's image,
its packages installed by KFP's own command) with the trial's parameters put in by Katib
(`${trialParameters.NAME}`, in the executor's JSON input); after the component, the Job prints
the outputs named as metrics as `name=value` lines, so Katib's StdOut collector reads them
with whatever the component printed. Trial pods opt out of the Istio sidecar, which would
keep them running forever.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from ..serving.manifest import FIELD_MANAGER
from .component import ComponentInfo
from .limits import Limits
from .objective import Objective
from .space import Param

API_VERSION = "kubeflow.org/v1beta1"
CONTAINER = "training"
#: Where the component's executor writes its outputs inside the trial pod.
OUTPUTS = "/tmp/outputs"
SIDECAR = "sidecar.istio.io/inject"
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
TRIAL_LABEL = "katib.kubeflow.org/trial"
MANAGED_BY = {"app.kubernetes.io/managed-by": FIELD_MANAGER}
COMPONENT_ANNOTATION = f"{FIELD_MANAGER}/component"
SPACE_ANNOTATION = f"{FIELD_MANAGER}/space"
# Katib reads a batch Job's end from its conditions (its default for Jobs, written out).
SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
#: Run after the component: its outputs named as metrics (or its single `Output`, as the
#: objective) printed as `name=value`, the StdOut collector's format.
PRINT_METRICS = """\
import json, os
try:
    with open(os.path.join(os.environ["MLOPS_OUTPUTS"], "executor_output.json")) as f:
        out = json.load(f).get("parameterValues") or {}
except (OSError, ValueError):
    out = {}
names = [n for n in os.environ["MLOPS_METRICS"].split(",") if n in out]
if not names and list(out) == ["Output"]:
    print(os.environ["MLOPS_METRICS"].split(",")[0] + "=" + repr(out["Output"]), flush=True)
for name in names:
    print(name + "=" + repr(out[name]), flush=True)
"""


def katib_parameter(name: str, param: Param) -> dict[str, Any]:
    """One `spec.parameters` item: its type and feasible space."""
    space: dict[str, Any]
    if param.kind == "choice":
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in param.values)
        kind = "discrete" if numbers else "categorical"
        space = {"list": [_text(v) for v in param.values]}
    else:
        assert param.low is not None and param.high is not None
        integer = param.kind == "int"
        kind = "int" if integer else "double"
        space = {
            "min": str(int(param.low)) if integer else repr(param.low),
            "max": str(int(param.high)) if integer else repr(param.high),
            "distribution": "logUniform" if param.kind == "loguniform" else "uniform",
        }
        if param.step is not None:
            space["step"] = str(int(param.step)) if integer else repr(param.step)
    return {"name": name, "parameterType": kind, "feasibleSpace": space}


def _text(value: Any) -> str:
    """A value as Katib lists it and as JSON reads it once put in the executor's input."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quoted(param: Param) -> bool:
    """Whether the parameter's value goes into the executor's JSON input as a string."""
    return param.kind == "choice" and any(isinstance(v, str) for v in param.values)


def executor_input(
    info: ComponentInfo, space: Mapping[str, Param], fixed: Mapping[str, Any]
) -> str:
    """KFP's executor input for one trial, with Katib's placeholders where values go."""
    marks = {name: f"@@{name}@@" for name in space}
    values = {**fixed, **marks}
    document = {
        "inputs": {"parameterValues": values},
        "outputs": {
            "parameters": {name: {"outputFile": f"{OUTPUTS}/{name}"} for name in info.outputs},
            "outputFile": f"{OUTPUTS}/executor_output.json",
        },
    }
    text = json.dumps(document, sort_keys=True)
    for name, param in space.items():
        placeholder = "${trialParameters." + name + "}"
        mark = f'"{marks[name]}"'
        text = text.replace(mark, f'"{placeholder}"' if _quoted(param) else placeholder)
    return text


def trial_script(info: ComponentInfo, args: list[str]) -> str:
    """The trial container's one shell program: KFP's command for the component, then the
    outputs printed as metrics.

    One `sh -c` program in parentheses, every word quoted, because Katib's pod webhook joins
    the container's command and args with spaces (unquoted) and appends its redirect of the
    output to the collector's file and `&& echo completed ...`: the redirect must apply to all
    of the program and no word may fall apart. The steps are chained with `&&`, not `set -e`,
    which the shell ignores on the left of the webhook's `&&`.
    """
    words = " ".join(shlex.quote(word) for word in (*info.command, *args))
    return f'(\n{words} &&\npython3 -c "$MLOPS_PRINT_METRICS"\n)'


def trial_job(
    info: ComponentInfo,
    space: Mapping[str, Param],
    objective: Objective,
    fixed: Mapping[str, Any],
    env: Mapping[str, str],
) -> dict[str, Any]:
    """The batch Job one trial runs (Katib names it after the trial)."""
    args = [executor_input(info, space, fixed) if a == "{{$}}" else a for a in info.args]
    variables = {
        "MLOPS_OUTPUTS": OUTPUTS,
        "MLOPS_METRICS": ",".join(objective.names),
        "MLOPS_PRINT_METRICS": PRINT_METRICS,
        **env,
    }
    opt_out = {SIDECAR: "false"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": dict(opt_out), "annotations": dict(opt_out)},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": CONTAINER,
                            "image": info.image,
                            "command": ["sh", "-c", trial_script(info, args)],
                            "env": [{"name": k, "value": v} for k, v in variables.items()],
                        }
                    ],
                },
            },
        },
    }


def experiment(
    name: str,
    namespace: str,
    info: ComponentInfo,
    space: Mapping[str, Param],
    objective: Objective,
    limits: Limits,
    algorithm: str,
    *,
    fixed: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Experiment searching `space` for the component's best `objective`."""
    strategy = "max" if objective.direction == "maximize" else "min"
    return {
        "apiVersion": API_VERSION,
        "kind": "Experiment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(MANAGED_BY),
            "annotations": {
                COMPONENT_ANNOTATION: info.name,
                SPACE_ANNOTATION: json.dumps({n: p.describe() for n, p in space.items()}),
            },
        },
        "spec": {
            "objective": {
                "type": objective.direction,
                "objectiveMetricName": objective.metric,
                "additionalMetricNames": [n for n in objective.names if n != objective.metric],
                "metricStrategies": [
                    {"name": n, "value": strategy if n == objective.metric else "latest"}
                    for n in objective.names
                ],
            },
            "algorithm": {"algorithmName": algorithm},
            "parallelTrialCount": limits.parallel,
            "maxTrialCount": limits.max_trials,
            "maxFailedTrialCount": limits.max_failed,
            "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
            "parameters": [katib_parameter(n, p) for n, p in space.items()],
            "trialTemplate": {
                "primaryContainerName": CONTAINER,
                "successCondition": SUCCESS,
                "failureCondition": FAILURE,
                "trialParameters": [
                    {"name": n, "description": f"{n} of {info.name}", "reference": n} for n in space
                ],
                "trialSpec": trial_job(info, space, objective, fixed or {}, env or {}),
            },
        },
    }


__all__ = [
    "API_VERSION",
    "CONTAINER",
    "EXPERIMENT_LABEL",
    "SIDECAR",
    "TRIAL_LABEL",
    "experiment",
    "katib_parameter",
    "trial_job",
]
