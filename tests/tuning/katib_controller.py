"""The Katib controller's part, played by the tests on the real control plane.

What Katib's experiment and trial controllers write, shaped as their v1beta1 types
(pkg/apis/controller/{experiments,trials}/v1beta1): a Trial per suggestion (labelled with
its Experiment, owned by it, the trial template with `${trialParameters.NAME}` replaced by
the assignment), the trial's batch Job (named as the trial, owned by it), the Trial's
conditions (Created, Running, then Succeeded with its observation, min/max/latest per
metric), and the Experiment's status (trial counts and lists, currentOptimalTrial).

The metrics are read as Katib's StdOut collector reads the trial pod's output: its default
filter over every line that names a wanted metric. The real job controller makes the pod,
kwok runs it; the pod's output is what the Job's command printed when run on this machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.testing.control_plane import ControlPlane

Obj = dict[str, Any]
API = "/apis/kubeflow.org/v1beta1"
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
# Katib's DefaultFilter (pkg/metricscollector/v1beta1/common/const.go).
KATIB_FILTER = re.compile(r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, status: str, reason: str, message: str) -> Obj:
    stamp = now()
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
    }


def owner(obj: Obj) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def collect(printed: str, names: list[str]) -> dict[str, list[float]]:
    """Each wanted metric's values in the order printed, as the StdOut collector finds them."""
    found: dict[str, list[float]] = {}
    for line in printed.splitlines():
        if not any(name in line for name in names):
            continue
        for match in KATIB_FILTER.finditer(line):
            name = match.group(1).strip()
            if name in names:
                found.setdefault(name, []).append(float(match.group(2)))
    return found


class KatibController:
    """Acts on one Experiment of `namespace` as Katib's controllers would."""

    def __init__(self, plane: ControlPlane, namespace: str, name: str) -> None:
        self.plane, self.namespace, self.name = plane, namespace, name

    def experiment(self) -> Obj:
        return self.plane.api("GET", f"{API}/namespaces/{self.namespace}/experiments/{self.name}")

    def create_trial(self, assignments: dict[str, str]) -> Obj:
        """A Trial for one suggestion, and its Job, as the controllers create them."""
        exp = self.experiment()
        spec = exp["spec"]
        trial_name = f"{self.name}-{secrets.token_hex(4)}"
        template = json.dumps(spec["trialTemplate"]["trialSpec"])
        for param in spec["trialTemplate"]["trialParameters"]:
            template = template.replace(
                "${trialParameters." + param["name"] + "}", assignments[param["reference"]]
            )
        run_spec = json.loads(template)
        run_spec["metadata"] = {"name": trial_name, "namespace": self.namespace}
        trial = {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Trial",
            "metadata": {
                "name": trial_name,
                "labels": {EXPERIMENT_LABEL: self.name},
                "ownerReferences": [owner(exp)],
            },
            "spec": {
                "objective": spec["objective"],
                "parameterAssignments": [{"name": k, "value": v} for k, v in assignments.items()],
                "runSpec": run_spec,
                "metricsCollector": spec["metricsCollectorSpec"],
                "primaryContainerName": spec["trialTemplate"]["primaryContainerName"],
                "successCondition": spec["trialTemplate"]["successCondition"],
                "failureCondition": spec["trialTemplate"]["failureCondition"],
            },
        }
        created = self.plane.api("POST", f"{API}/namespaces/{self.namespace}/trials", trial)
        self.status(
            trial_name,
            {
                "startTime": now(),
                "conditions": [
                    condition("Created", "True", "TrialCreated", "Trial is created"),
                ],
            },
        )
        job = {
            **run_spec,
            "metadata": {**run_spec["metadata"], "ownerReferences": [owner(created)]},
        }
        self.plane.api("POST", f"/apis/batch/v1/namespaces/{self.namespace}/jobs", job)
        return created

    def trial(self, name: str) -> Obj:
        return self.plane.api("GET", f"{API}/namespaces/{self.namespace}/trials/{name}")

    def status(self, trial: str, status: Obj) -> None:
        self.plane.api(
            "PATCH",
            f"{API}/namespaces/{self.namespace}/trials/{trial}/status",
            {"status": status},
            content_type="application/merge-patch+json",
        )

    def running(self, trial: str) -> None:
        self.status(
            trial,
            {
                "conditions": [
                    condition("Created", "True", "TrialCreated", "Trial is created"),
                    condition("Running", "True", "TrialRunning", "Trial is running"),
                ]
            },
        )

    def succeeded(self, trial: str, printed: str) -> dict[str, list[float]]:
        """The trial's metrics from its pod's output, and its conditions as Katib ends it."""
        spec = self.trial(trial)["spec"]["objective"]
        names = [spec["objectiveMetricName"], *spec.get("additionalMetricNames", [])]
        values = collect(printed, names)
        metrics = [
            {"name": n, "min": repr(min(v)), "max": repr(max(v)), "latest": repr(v[-1])}
            for n, v in values.items()
        ]
        self.status(
            trial,
            {
                "completionTime": now(),
                "observation": {"metrics": metrics},
                "conditions": [
                    condition("Created", "True", "TrialCreated", "Trial is created"),
                    condition("Running", "False", "TrialRunning", "Trial is running"),
                    condition("Succeeded", "True", "TrialSucceeded", "Trial has succeeded"),
                ],
            },
        )
        return values

    def summarise(self) -> None:
        """The Experiment's status from its Trials, as updateTrialsSummary computes it."""
        exp = self.experiment()
        objective = exp["spec"]["objective"]
        metric, maximize = objective["objectiveMetricName"], objective["type"] == "maximize"
        trials = self.plane.api(
            "GET",
            f"{API}/namespaces/{self.namespace}/trials?labelSelector={EXPERIMENT_LABEL}={self.name}",
        )["items"]
        lists: dict[str, list[str]] = {"succeeded": [], "running": [], "pending": []}
        best: tuple[float, Obj] | None = None
        for trial in trials:
            true = {
                c["type"]
                for c in trial.get("status", {}).get("conditions", [])
                if c["status"] == "True"
            }
            key = (
                "succeeded"
                if "Succeeded" in true
                else "running"
                if "Running" in true
                else ("pending")
            )
            lists[key].append(trial["metadata"]["name"])
            for m in trial.get("status", {}).get("observation", {}).get("metrics", []):
                if m["name"] == metric:
                    value = float(m["max"] if maximize else m["min"])
                    if best is None or (value > best[0] if maximize else value < best[0]):
                        best = (value, trial)
        status: Obj = {
            "startTime": exp["metadata"]["creationTimestamp"],
            "conditions": [
                condition("Created", "True", "ExperimentCreated", "Experiment is created"),
                condition("Running", "True", "ExperimentRunning", "Experiment is running"),
            ],
            "trials": len(trials),
            "trialsSucceeded": len(lists["succeeded"]),
            "trialsRunning": len(lists["running"]),
            "trialsPending": len(lists["pending"]),
            "succeededTrialList": lists["succeeded"] or None,
            "runningTrialList": lists["running"] or None,
            "pendingTrialList": lists["pending"] or None,
        }
        if best is not None:
            trial = best[1]
            status["currentOptimalTrial"] = {
                "bestTrialName": trial["metadata"]["name"],
                "parameterAssignments": trial["spec"]["parameterAssignments"],
                "observation": trial["status"]["observation"],
            }
        self.plane.api(
            "PATCH",
            f"{API}/namespaces/{self.namespace}/experiments/{self.name}/status",
            {"status": {k: v for k, v in status.items() if v is not None}},
            content_type="application/merge-patch+json",
        )


@dataclass(frozen=True)
class Wrapped:
    """How the trial container ended, as Katib's wrapping sees it."""

    returncode: int
    metrics_file: str
    completed: bool


def run_as_wrapped(pod: Obj, workdir: Path) -> Wrapped:
    """Run the trial pod's container on this machine as Katib's pod webhook rewrites it for
    the StdOut collector: the metrics file the collector reads, and the exit code.

    The webhook (pkg/webhook/v1beta1/pod/utils.go, wrapWorkerContainer) keeps a leading
    `sh -c`, joins the rest of the command and args with spaces, and appends
    `1>METRICS 2>&1 && echo completed > DIR/$$$$.pid`. `python3` is this interpreter, which
    has kfp, as the image's would; the pod's /tmp and Katib's /var/log/katib are in `workdir`.
    """
    container = pod["spec"]["containers"][0]
    words = [*container["command"], *container.get("args", [])]
    shell = words[:2] if words[:2] in (["sh", "-c"], ["bash", "-c"]) else ["sh", "-c"]
    rest = words[2:] if shell == words[:2] else words
    katib = workdir / "katib"
    outputs = workdir / "outputs"
    katib.mkdir(parents=True)
    metrics = katib / "metrics.log"
    joined = " ".join(
        [*rest, f"1>{metrics} 2>&1", "&&", f"echo completed > {katib}/$$$$.pid"]
    ).replace("/tmp/outputs", str(outputs))
    env = {
        e["name"]: e["value"].replace("/tmp/outputs", str(outputs))
        for e in container.get("env", [])
    }
    bin_dir = str(Path(sys.executable).parent)
    env |= {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "HOME": str(workdir)}
    env["TMPDIR"] = str(workdir)
    done = subprocess.run(
        [*shell, joined], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    marks = list(katib.glob("*.pid"))
    return Wrapped(
        returncode=done.returncode,
        metrics_file=metrics.read_text() if metrics.exists() else "",
        completed=bool(marks) and marks[0].read_text().strip() == "completed",
    )
