"""P2: the list route and the live table against a raw-JSON LIST, on the real control plane.

A real kube-apiserver (`ControlPlane`, issue 7) holds `P2_PODS` (20,000) pods in one namespace,
created with `schedulerName: none` so that no scheduler, kubelet or controller touches them
while the figures are taken. A real `jupyter server` with the extension points at it through
`KUBECONFIG`. Measured side by side in one run, alternating which goes first each round:

- route: `GET /mlops/api/kube/pods?limit=1000&offset=…`: the first page, and all pages (every
  row), on a warm server (its watch cache synced by one earlier request);
- raw: `CoreV1Api.list_namespaced_pod(_preload_content=False)`, the bytes decoded with
  `json.loads` (a raw-JSON LIST of all pods, what a client needs at the least);
- kubectl: `kubectl get pods -o json` with the kubectl built with the control plane (wall time,
  its start-up included).

Cold: a fresh server's first page (it starts the watch, so it includes the LIST). Subscribers:
on a fresh server each time, 1 and then `CLIENTS` (50) WebSocket clients subscribe to pods at
once; seconds until every client has its snapshot. The clients share one subscription id, so
their frames are byte-identical and this script parses each distinct frame once: the figure is
the server's work, not this process decoding 50 copies. The apiserver's own request counters
(`apiserver_request_total`) say how many LIST and WATCH requests the 50 caused.

Goals (issue 17): first page <= 0.3x raw; all rows <= 1.0x raw; 50 subscribers <= 2x one.
`P2_PROFILE=1` runs the warm server under py-spy and writes /tmp/p2-route.speedscope.json.
Writes entry P2.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _results import record

from jupyter_mlops.testing.control_plane import ControlPlane

ROOT = Path(__file__).resolve().parents[1]
PODS = int(os.environ.get("P2_PODS", "20000"))
ROUNDS = int(os.environ.get("P2_ROUNDS", "5"))
CLIENTS = 50
PAGE = 1000
NAMESPACE = "team"
GOAL_FIRST_PAGE = 0.3
GOAL_ALL_ROWS = 1.0
GOAL_SUBSCRIBERS = 2.0
PROFILE = os.environ.get("P2_PROFILE") == "1"


def pod(i: int) -> dict[str, Any]:
    name = f"trainer-{i:05d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"app": "trainer", "run": f"run-{i % 50}"},
        },
        "spec": {
            # No scheduler serves this name: the pods stay Pending, untouched, during the run.
            "schedulerName": "none",
            "automountServiceAccountToken": False,
            "containers": [
                {
                    "name": "main",
                    "image": "python:3.11",
                    "command": ["python", "train.py", f"--shard={i}"],
                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                }
            ],
        },
    }


def seed(plane: ControlPlane, count: int) -> None:
    """Create the namespace and `count` pods over a few kept-alive connections."""
    plane.api(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    )
    deadline = time.monotonic() + 60
    while True:  # the ServiceAccount admission refuses pods until `default` exists
        try:
            plane.api("GET", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/default")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    host, port = "127.0.0.1", plane.port
    headers = {"Authorization": f"Bearer {plane.token}", "Content-Type": "application/json"}

    def create(part: range) -> None:
        conn = http.client.HTTPSConnection(host, port, context=context, timeout=60)
        for i in part:
            conn.request(
                "POST", f"/api/v1/namespaces/{NAMESPACE}/pods", json.dumps(pod(i)), headers
            )
            answer = conn.getresponse()
            body = answer.read()
            if answer.status != 201:
                raise RuntimeError(f"creating pod {i}: {answer.status} {body[:200]!r}")
        conn.close()

    workers = 8
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(create, [range(w, count, workers) for w in range(workers)]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


class Server:
    """`jupyter server` with the extension, pointed at the control plane."""

    def __init__(self, kubeconfig: Path, root: Path, profile: Path | None = None) -> None:
        self.port, self.token = free_port(), secrets.token_hex(8)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("KUBE", "KF_", "MLFLOW_", "NB_PREFIX"))
        }
        env["KUBECONFIG"] = str(kubeconfig)
        env["PYTHONPATH"] = str(ROOT)
        command = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        if profile is not None:
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            command = [
                spy,
                "record",
                "--threads",
                "--format",
                "speedscope",
                "-o",
                str(profile),
                "--",
                *command,
            ]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"token {self.token}"}
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(f"{self.base}/mlops/api/status", self.headers)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("jupyter server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT if PROFILE else signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def route_pages(server: Server, session: Any, all_pages: bool = True) -> tuple[float, float, int]:
    """Seconds for all pages, seconds for the first page, rows received."""
    started = time.perf_counter()
    rows = 0
    first = 0.0
    offset = 0
    while True:
        answer = session.get(
            f"{server.base}/mlops/api/kube/pods",
            params={"limit": PAGE, "offset": offset},
            headers=server.headers,
            timeout=120,
        )
        answer.raise_for_status()
        page = answer.json()
        if page.get("error"):
            raise RuntimeError(page["error"])
        if not first:
            first = time.perf_counter() - started
        rows += len(page["rows"])
        offset += PAGE
        if offset >= page["total"] or not all_pages:
            break
    return time.perf_counter() - started, first, rows


def raw_list(api: Any) -> tuple[float, int]:
    from kubernetes import client

    started = time.perf_counter()
    answer = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE, _preload_content=False)
    items = json.loads(answer.data)["items"]
    return time.perf_counter() - started, len(items)


def kubectl_list(plane: ControlPlane, kubeconfig: Path) -> tuple[float, int]:
    started = time.perf_counter()
    out = subprocess.run(
        [
            str(plane.bin_dir / "kubectl"),
            f"--kubeconfig={kubeconfig}",
            "get",
            "pods",
            "-n",
            NAMESPACE,
            "-o",
            "json",
        ],
        capture_output=True,
        check=True,
    ).stdout
    items = json.loads(out)["items"]
    return time.perf_counter() - started, len(items)


async def subscribe_many(server: Server, clients: int) -> float:
    """Open `clients` sockets at once, each subscribing to pods; seconds until all have rows."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    parsed: dict[str, list[Any]] = {}

    async def one() -> int:
        request = HTTPRequest(f"ws://127.0.0.1:{server.port}/mlops/api/ws", headers=server.headers)
        socket_ = await websocket_connect(request, max_message_size=1 << 30)
        try:
            socket_.write_message(json.dumps({"op": "subscribe", "id": "pods", "kind": "pods"}))
            while True:
                message = await asyncio.wait_for(socket_.read_message(), timeout=300)
                if message is None:
                    raise RuntimeError("the socket closed before the snapshot")
                assert isinstance(message, str)
                items = parsed.get(message)
                if items is None:
                    items = parsed[message] = json.loads(message)
                for item in items:
                    if item.get("type") == "error":
                        raise RuntimeError(item.get("message"))
                    if item.get("type") == "snapshot":
                        return len(item["rows"])
        finally:
            socket_.close()

    started = time.perf_counter()
    counts = await asyncio.gather(*(one() for _ in range(clients)))
    seconds = time.perf_counter() - started
    assert counts == [PODS] * clients, counts[:3]
    return seconds


METRIC = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)


def pod_requests(plane: ControlPlane) -> dict[str, int]:
    """Namespaced LIST requests of pods the apiserver answered, and WATCHes of pods open now
    (a watch is counted in `apiserver_request_total` only when it ends)."""
    request = urllib.request.Request(
        plane.url + "/metrics", headers={"Authorization": f"Bearer {plane.token}"}
    )
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    with urllib.request.urlopen(request, timeout=30, context=context) as answer:
        text = answer.read().decode()
    counts = {"LIST": 0, "WATCH": 0}
    for match in METRIC.finditer(text):
        wanted = {"LIST": "apiserver_request_total", "WATCH": "apiserver_longrunning_requests"}
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if match["name"] != wanted.get(labels.get("verb", "")):
            continue
        if (
            labels.get("resource") == "pods"
            and labels.get("scope") == "namespace"
            and labels.get("subresource") == ""
            and labels.get("verb") in counts
        ):
            counts[labels["verb"]] += int(float(match["value"]))
    return counts


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    import requests
    from kubernetes import config

    workdir = Path(tempfile.mkdtemp(prefix="p2-"))
    servers: list[Server] = []
    with ControlPlane() as plane:
        kubeconfig = plane.write_kubeconfig(workdir / "kubeconfig", namespace=NAMESPACE)
        seeding = time.perf_counter()
        seed(plane, PODS)
        print(
            f"{PODS} pods on the control plane in {time.perf_counter() - seeding:.1f} s", flush=True
        )
        api = config.new_client_from_config(config_file=str(kubeconfig))
        try:
            profile = Path("/tmp/p2-route.speedscope.json") if PROFILE else None
            server = Server(kubeconfig, workdir, profile)
            servers.append(server)
            session = requests.Session()
            # Cold: this first request starts the namespace's watch (its LIST included).
            _, cold_first, _ = route_pages(server, session, all_pages=False)
            cold_all, _, count = route_pages(server, session)
            assert count == PODS, count
            raw_list(api)
            kubectl_list(plane, kubeconfig)
            route_s: list[float] = []
            first_s: list[float] = []
            raw_s: list[float] = []
            kubectl_s: list[float] = []
            for round_ in range(ROUNDS):
                sides = ["route", "raw", "kubectl"]
                for side in sides[round_ % 3 :] + sides[: round_ % 3]:
                    if side == "route":
                        total, first, count = route_pages(server, session)
                        route_s.append(total)
                        first_s.append(first)
                    elif side == "raw":
                        total, count = raw_list(api)
                        raw_s.append(total)
                    else:
                        total, count = kubectl_list(plane, kubeconfig)
                        kubectl_s.append(total)
                    assert count == PODS, (side, count)
                print(
                    f"round {round_}: route first page {first_s[-1]:.3f} s, all rows "
                    f"{route_s[-1]:.3f} s; raw LIST {raw_s[-1]:.3f} s; kubectl "
                    f"{kubectl_s[-1]:.3f} s",
                    flush=True,
                )
            server.stop()

            # Fresh servers: the first subscribers start the namespace's one watch.
            subscribers: dict[int, float] = {}
            requests_by_50: dict[str, int] = {}
            for clients in (1, CLIENTS):
                server = Server(kubeconfig, workdir)
                servers.append(server)
                before = pod_requests(plane)
                subscribers[clients] = asyncio.run(subscribe_many(server, clients))
                if clients == CLIENTS:
                    # Warm: the same 50 again on the server whose watch is synced.
                    warm_50 = asyncio.run(subscribe_many(server, clients))
                    after = pod_requests(plane)
                    requests_by_50 = {verb: after[verb] - before[verb] for verb in after}
                else:
                    warm_1 = asyncio.run(subscribe_many(server, clients))
                server.stop()
                print(f"{clients} subscribers: fresh {subscribers[clients]:.3f} s", flush=True)
        finally:
            for each in servers:
                if each.process.poll() is None:
                    each.stop()

    raw = median(raw_s)
    ratio_first = median(first_s) / raw
    ratio_all = median(route_s) / raw
    ratio_subscribers = subscribers[CLIENTS] / subscribers[1]
    pages_per_list = -(-PODS // 500)  # the watch cache lists in pages of 500
    list_operations = requests_by_50.get("LIST", 0) / pages_per_list
    met = (
        ratio_first <= GOAL_FIRST_PAGE
        and ratio_all <= GOAL_ALL_ROWS
        and ratio_subscribers <= GOAL_SUBSCRIBERS
        and list_operations == 1
        and requests_by_50.get("WATCH") == 1
    )
    entry = record(
        "P2",
        value=round(ratio_first, 3),
        unit=f"ratio of seconds (median of {ROUNDS}): first page of {PAGE} rows / a raw-JSON LIST "
        f"of all {PODS} pods",
        goal=f"first page <= {GOAL_FIRST_PAGE}; all rows <= {GOAL_ALL_ROWS} (warm); "
        f"{CLIENTS} subscribers <= {GOAL_SUBSCRIBERS}x one, with 1 LIST and 1 WATCH",
        baseline=f"CoreV1Api.list_namespaced_pod(_preload_content=False) + json.loads of the "
        f"same {PODS} pods on the real kube-apiserver; kubectl get -o json beside it",
        met=met,
        backend="real control plane (kube-apiserver v1.35.4, etcd)",
        pods=PODS,
        rounds=ROUNDS,
        ratio_first_page=round(ratio_first, 3),
        ratio_all_rows=round(ratio_all, 3),
        ratio_first_page_vs_kubectl=round(median(first_s) / median(kubectl_s), 3),
        ratio_all_rows_vs_kubectl=round(median(route_s) / median(kubectl_s), 3),
        ratio_subscribers=round(ratio_subscribers, 3),
        seconds_median={
            "route_first_page": round(median(first_s), 4),
            "route_all_rows": round(median(route_s), 4),
            "raw_json_list": round(raw, 4),
            "kubectl_get_json": round(median(kubectl_s), 4),
        },
        seconds_range={
            "route_first_page": [round(min(first_s), 4), round(max(first_s), 4)],
            "route_all_rows": [round(min(route_s), 4), round(max(route_s), 4)],
            "raw_json_list": [round(min(raw_s), 4), round(max(raw_s), 4)],
            "kubectl_get_json": [round(min(kubectl_s), 4), round(max(kubectl_s), 4)],
        },
        cold_seconds={"first_page": round(cold_first, 4), "all_rows": round(cold_all, 4)},
        websocket_seconds={
            "one_fresh": round(subscribers[1], 3),
            f"{CLIENTS}_fresh": round(subscribers[CLIENTS], 3),
            "one_warm": round(warm_1, 3),
            f"{CLIENTS}_warm": round(warm_50, 3),
        },
        apiserver_requests_by_subscribers=requests_by_50,
        list_operations=list_operations,
        list_note=f"the watch cache lists in pages of 500: one LIST of {PODS} pods is "
        f"{pages_per_list} LIST requests",
        route_pages=f"limit={PAGE}, all {-(-PODS // PAGE)} pages for all rows",
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
