"""P12: one notebook's load on the real kube-apiserver, with the sidebar closed, open, closed.

A real kube-apiserver (`ControlPlane`, issue 7) serves a namespace of `P12_PODS` (20) running
pods. A real JupyterLab server with the extension acts as the namespace's ServiceAccount
`notebook` (ClusterRole `edit` there), as a notebook server in a Kubeflow profile does. The
sidebar is a real JupyterLab page in headless Chromium with the sidebar's tab clicked (the
Cluster section shows the pods table, and the page polls the status as a user's does).

Attribution: the apiserver's /metrics carry no user, so this script adds a FlowSchema per
verb matching only that ServiceAccount: `apiserver_flowcontrol_dispatched_requests_total` of
those flows is this notebook's requests by verb, whatever the controllers and kwok do. Open
watches are `apiserver_longrunning_requests{verb="WATCH", scope="namespace"}` by resource (the
controllers and kwok watch cluster-wide; leases are left out), and bytes are
`apiserver_response_sizes_sum` of namespaced LIST and GET answers, leases left out (watches
apart, in `watch_bytes_per_hour`: their size is recorded when they end, the plane's own watch
of configmaps among them; `apiserver_watch_events_sizes_sum` counts every watcher's events).

Phases, each read before and after from /metrics:
- (a) `idle`: the server up, no page open, `P12_PHASE_SECONDS` (60);
- (b) `open`: the page loaded and the pods table live (`opening`: what opening cost), then
  `P12_PHASE_SECONDS` with it open (`open`);
- (c) `closed`: the page closed; `closing` waits `P12_IDLE_WAIT` (40) seconds, as the
  server's watch cache stops an informer nobody listens to after `P12_WATCH_IDLE` (30) s
  (`MLOpsConfig.watch_idle_seconds`, set in the server's config), then `closed` measures
  `P12_PHASE_SECONDS`.

metrics.k8s.io (PodMetrics, read by the Resources section while it is open) cannot be
watched: its reads have a flow of their own (`p12-metrics`) and are counted apart, as
"metrics.k8s.io reads (not watchable)".

Goal (issue 12): nothing at all while no view is open (idle and closed: no request, no watch);
one watch per kind in view while open and no polling of the API server (no LIST once open,
metrics.k8s.io apart). Writes entry P12.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _results import record
from bench_p3_dom_latency import CHROMIUM, SIDEBAR_TAB, start_lab
from playwright.sync_api import sync_playwright

from jupyter_mlops.testing.control_plane import ControlPlane

PODS = int(os.environ.get("P12_PODS", "20"))
PHASE = float(os.environ.get("P12_PHASE_SECONDS", "60"))
WATCH_IDLE = float(os.environ.get("P12_WATCH_IDLE", "30"))
IDLE_WAIT = float(os.environ.get("P12_IDLE_WAIT", str(WATCH_IDLE + 10)))
NAMESPACE = "team"
ACCOUNT = "notebook"
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
SAMPLE = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)
TABLE = '[data-testid="mlops-table"]'

Sample = dict[str, float]


def pod(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"trainer-{i:02d}", "namespace": NAMESPACE},
        "spec": {
            "automountServiceAccountToken": False,
            "containers": [{"name": "main", "image": "trainer:1"}],
        },
    }


def flow_schemas() -> list[dict[str, Any]]:
    """One flow per verb (and one for non-resource URLs) for the notebook's ServiceAccount."""
    subject = [
        {"kind": "ServiceAccount", "serviceAccount": {"name": ACCOUNT, "namespace": NAMESPACE}}
    ]

    def schema(name: str, precedence: int, rule: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": {"name": name},
            "spec": {
                "matchingPrecedence": precedence,
                "priorityLevelConfiguration": {"name": "workload-low"},
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [{"subjects": subject, **rule}],
            },
        }

    def resources(verbs: list[str]) -> dict[str, Any]:
        rule = {
            "verbs": verbs,
            "apiGroups": ["*"],
            "resources": ["*"],
            "clusterScope": True,
            "namespaces": ["*"],
        }
        return {"resourceRules": [rule]}

    # Matched first: PodMetrics cannot be watched, so their reads are counted apart.
    metrics_rule = {
        "verbs": ["*"],
        "apiGroups": ["metrics.k8s.io"],
        "resources": ["*"],
        "clusterScope": True,
        "namespaces": ["*"],
    }
    schemas = [schema("p12-metrics", 290, {"resourceRules": [metrics_rule]})]
    schemas += [schema(f"p12-{verb}", 300, resources([verb])) for verb in VERBS]
    schemas.append(
        schema(
            "p12-nonresource",
            301,
            {"nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]},
        )
    )
    schemas.append(schema("p12-other", 302, resources(["*"])))
    return schemas


def prepare(plane: ControlPlane, workdir: Path) -> Path:
    """The namespace, its pods running, the notebook's identity and flows; its kubeconfig."""
    plane.kubectl("create", "namespace", NAMESPACE)
    manifest = workdir / "objects.json"
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": ACCOUNT}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{ACCOUNT}-edit"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT}],
        },
        *flow_schemas(),
    ]
    deadline = time.monotonic() + 60
    while plane.kubectl(
        "get", "serviceaccount", "default", "-n", NAMESPACE, check=False
    ).returncode:
        if time.monotonic() > deadline:
            raise SystemExit("the namespace's default ServiceAccount never came")
        time.sleep(0.2)
    objects += [pod(i) for i in range(PODS)]
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    plane.kubectl("apply", "-n", NAMESPACE, "-f", str(manifest))
    plane.kubectl(
        "wait",
        "-n",
        NAMESPACE,
        "--for=jsonpath={.status.phase}=Running",
        "pods",
        "--all",
        "--timeout=120s",
        timeout=150,
    )
    token = plane.kubectl(
        "create", "token", ACCOUNT, "-n", NAMESPACE, "--duration=2h"
    ).stdout.strip()
    return plane.write_kubeconfig(workdir / "kubeconfig", namespace=NAMESPACE, token=token)


def metrics(plane: ControlPlane) -> Sample:
    """What this script reads of /metrics, as flat keys (see `read`)."""
    request = urllib.request.Request(
        plane.url + "/metrics", headers={"Authorization": f"Bearer {plane.token}"}
    )
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:
        text = answer.read().decode()
    sample: Sample = {}
    for match in SAMPLE.finditer(text):
        key = read(match["name"], dict(re.findall(r'(\w+)="([^"]*)"', match["labels"])))
        if key is not None:
            sample[key] = sample.get(key, 0.0) + float(match["value"])
    return sample


def read(name: str, labels: dict[str, str]) -> str | None:
    """The key a sample adds to, or None: `requests/VERB` (the notebook's flows),
    `watching/RESOURCE` (open namespaced watches), `bytes/VERB RESOURCE` (namespaced answers),
    `watch_event_bytes/KIND` (every watcher's)."""
    resource = labels.get("resource", "")
    namespaced = labels.get("scope") == "namespace" and resource != "leases"
    if name == "apiserver_flowcontrol_dispatched_requests_total":
        flow = labels.get("flow_schema", "")
        return f"requests/{flow[4:]}" if flow.startswith("p12-") else None
    if name == "apiserver_longrunning_requests" and labels.get("verb") == "WATCH" and namespaced:
        return f"watching/{resource}"
    if name == "apiserver_response_sizes_sum" and namespaced:
        return f"bytes/{labels.get('verb')} {resource}"
    if name == "apiserver_watch_events_sizes_sum":
        return f"watch_event_bytes/{labels.get('kind')}"
    if name == "apiserver_request_total" and resource != "leases":
        # Every client's, to name the resources of the notebook's requests (the controllers
        # ask little while nothing changes; a watch is counted here only when it ends).
        what = resource or labels.get("subresource") or "-"
        return f"all_clients/{labels.get('verb')} {what} {labels.get('scope') or '-'}"
    return None


def phase(before: Sample, after: Sample, seconds: float, alone: Sample) -> dict[str, Any]:
    """Requests per minute by verb, watches open at its end (less those `alone`, the plane's
    own before the server started), bytes per hour, over one phase."""

    def delta(prefix: str) -> dict[str, float]:
        keys = {k for k in (*before, *after) if k.startswith(prefix)}
        moved = {k[len(prefix) :]: after.get(k, 0.0) - before.get(k, 0.0) for k in keys}
        return {k: v for k, v in sorted(moved.items()) if v}

    requests = delta("requests/")
    sizes = delta("bytes/")
    # A watch's size is recorded when it ends; the plane's own configmaps watch is among them.
    answers = {k: v for k, v in sizes.items() if not k.startswith("WATCH ")}
    streams = {k: v for k, v in sizes.items() if k.startswith("WATCH ")}
    per_minute = 60.0 / seconds
    return {
        "seconds": round(seconds, 1),
        "requests": {verb: int(n) for verb, n in requests.items()},
        "requests_per_minute": {verb: round(n * per_minute, 2) for verb, n in requests.items()},
        "requests_per_minute_total": round(sum(requests.values()) * per_minute, 2),
        "open_watches": {
            k[len("watching/") :]: int(v - alone.get(k, 0.0))
            for k, v in sorted(after.items())
            if k.startswith("watching/") and v - alone.get(k, 0.0)
        },
        "bytes_per_hour": round(sum(answers.values()) * 3600.0 / seconds),
        "bytes_by_request": {k: int(v) for k, v in answers.items()},
        "watch_bytes_per_hour": round(sum(streams.values()) * 3600.0 / seconds),
        "watch_event_bytes_every_watcher": {
            k: int(v) for k, v in delta("watch_event_bytes/").items()
        },
        "requests_all_clients": {k: int(v) for k, v in delta("all_clients/").items()},
    }


def measure(plane: ControlPlane, kubeconfig: Path, root: Path) -> dict[str, dict[str, Any]]:
    alone = metrics(plane)
    # The server's informers stop WATCH_IDLE s after the last view closed.
    (root / "cfg").mkdir(parents=True, exist_ok=True)
    (root / "cfg" / "jupyter_server_config.json").write_text(
        json.dumps({"MLOpsConfig": {"watch_idle_seconds": WATCH_IDLE}})
    )
    lab, url, _, _ = start_lab(kubeconfig, root)
    phases: dict[str, dict[str, Any]] = {}
    try:
        started = time.monotonic()
        at = metrics(plane)
        time.sleep(PHASE)
        now = metrics(plane)
        phases["idle"] = phase(at, now, time.monotonic() - started, alone)
        print(f"idle: {json.dumps(phases['idle'])}", flush=True)

        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            started, at = time.monotonic(), metrics(plane)
            page.goto(url)
            page.click(SIDEBAR_TAB, timeout=60_000)
            page.wait_for_selector(f'{TABLE}[data-kind="pods"][data-state="live"]', timeout=60_000)
            # The other sections' first reads and the tables' subscriptions settle.
            time.sleep(5)
            now = metrics(plane)
            phases["opening"] = phase(at, now, time.monotonic() - started, alone)
            print(f"opening: {json.dumps(phases['opening'])}", flush=True)
            started, at = time.monotonic(), now
            time.sleep(PHASE)
            rows = page.locator(f'{TABLE} [data-testid="mlops-row"]').count()
            now = metrics(plane)
            phases["open"] = phase(at, now, time.monotonic() - started, alone)
            phases["open"]["rows_shown"] = rows
            print(f"open: {json.dumps(phases['open'])}", flush=True)
            browser.close()

        started, at = time.monotonic(), metrics(plane)
        time.sleep(IDLE_WAIT)
        now = metrics(plane)
        phases["closing"] = phase(at, now, time.monotonic() - started, alone)
        print(f"closing: {json.dumps(phases['closing'])}", flush=True)
        started, at = time.monotonic(), now
        time.sleep(PHASE)
        phases["closed"] = phase(at, metrics(plane), time.monotonic() - started, alone)
        print(f"closed: {json.dumps(phases['closed'])}", flush=True)
    finally:
        lab.terminate()
        lab.wait(timeout=30)
    return phases


def goal(phases: dict[str, dict[str, Any]]) -> dict[str, bool]:
    quiet = {
        name: not phases[name]["requests"] and not phases[name]["open_watches"]
        for name in ("idle", "closed")
    }
    open_ = phases["open"]
    return {
        "nothing_while_idle": quiet["idle"],
        "nothing_once_closed": quiet["closed"],
        "one_watch_per_kind_open": bool(open_["open_watches"])
        and all(n == 1 for n in open_["open_watches"].values()),
        "no_list_while_open": "list" not in open_["requests"],
        # The status check's SelfSubjectAccessReview: once per kept report, not every poll.
        "status_probe_once_a_minute_at_most": open_["requests"].get("create", 0)
        <= open_["seconds"] / 60.0 + 1,
    }


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="p12-"))
    with ControlPlane() as plane:
        kubeconfig = prepare(plane, workdir)
        print(f"{PODS} pods running in {NAMESPACE}", flush=True)
        phases = measure(plane, kubeconfig, workdir)
    checks = goal(phases)
    open_ = phases["open"]
    entry = record(
        "P12",
        value=open_["requests_per_minute_total"],
        unit="requests per minute to the kube-apiserver by one notebook with the sidebar open "
        f"(after it opened), over {PHASE:g} s",
        goal="no request and no watch while no view is open (after the idle timeout); one "
        "watch per kind in view while open; no polling (no LIST once open, metrics.k8s.io "
        "reads apart: they cannot be watched, counted as 'metrics' in requests)",
        baseline="the same notebook's requests with no view open (idle, and after closing)",
        met=all(checks.values()),
        checks=checks,
        backend="real control plane (kube-apiserver v1.35.4, etcd); JupyterLab with the "
        "extension as a namespace ServiceAccount; the sidebar in headless Chromium",
        pods=PODS,
        idle_wait_seconds=IDLE_WAIT,
        watch_idle_seconds=WATCH_IDLE,
        idle_note="the server's watch cache stops an unheard informer watch_idle_seconds "
        "after its last read (MLOpsConfig.watch_idle_seconds in the server's config)",
        metrics_reads_per_minute=open_["requests_per_minute"].get("metrics", 0.0),
        metrics_note="metrics.k8s.io reads (not watchable): PodMetrics, read only while the "
        "Resources section is open and shown, and never where discovery says it is not served",
        attribution="FlowSchemas per verb matching only the notebook's ServiceAccount "
        "(apiserver_flowcontrol_dispatched_requests_total); watches and bytes of namespaced "
        "requests other than leases",
        phases=phases,
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
