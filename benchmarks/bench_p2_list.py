"""P2: listing 5,000 pods through our cached route vs a direct LIST by the official client.

An emulator with 5,000 pods in one namespace runs in its own process (seeded with
`KubeEmulator.create` in a loop, controllers off). A real `jupyter server` with the extension
points at it through `KUBECONFIG`. After one warm-up request (which starts the namespace's
watch cache), each round, alternating which goes first:

- route: `GET /mlops/api/kube/pods?limit=1000&offset=…`, all five pages, so both sides deliver
  all 5,000 rows (the first page alone is reported too);
- baseline: `CoreV1Api.list_namespaced_pod` of the same namespace (the official client, with
  its usual model objects; a raw JSON LIST is reported too).

Then 50 WebSocket clients subscribe to pods at once on a fresh server: the emulator counts the
LIST and WATCH requests they cause. Writes entry P2.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _results import record

ROOT = Path(__file__).resolve().parents[1]
PODS = int(os.environ.get("P2_PODS", "5000"))
ROUNDS = int(os.environ.get("P2_ROUNDS", "7"))
CLIENTS = 50
PAGE = 1000
INFORMER_PAGE = 500  # the watch cache lists in pages of this size (Cluster.list_all)
NAMESPACE = "team"
GOAL = 0.2


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
            "nodeName": "emulated-node",
            "containers": [
                {
                    "name": "main",
                    "image": "python:3.11",
                    "command": ["python", "train.py", f"--shard={i}"],
                    "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}},
                }
            ],
        },
        "status": {
            "phase": "Running",
            "podIP": f"10.244.{i // 250}.{i % 250}",
            "startTime": "2024-05-01T10:00:00Z",
            "containerStatuses": [
                {
                    "name": "main",
                    "image": "python:3.11",
                    "imageID": "docker.io/library/python@sha256:0123456789abcdef",
                    "containerID": f"containerd://{i:064x}",
                    "ready": True,
                    "restartCount": i % 3,
                    "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                }
            ],
        },
    }


def serve_emulator(kubeconfig: str) -> None:
    """`--emulator KUBECONFIG`: serve an emulator with the pods until stdin closes."""
    from jupyter_mlops.testing.kube import KubeEmulator

    with KubeEmulator(controllers=False) as kube:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for i in range(PODS):
            kube.create(pod(i))
        kube.write_kubeconfig(kubeconfig, namespace=NAMESPACE)
        print(kube.url, flush=True)
        sys.stdin.read()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


class Server:
    """`jupyter server` with the extension, pointed at the emulator."""

    def __init__(self, kubeconfig: Path, root: Path) -> None:
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
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def route_all_pages(server: Server, session: Any) -> tuple[float, float, int]:
    """Seconds for all pages, seconds for the first page, rows received."""
    started = time.perf_counter()
    rows: list[Any] = []
    first = 0.0
    offset = 0
    while True:
        answer = session.get(
            f"{server.base}/mlops/api/kube/pods",
            params={"limit": PAGE, "offset": offset},
            headers=server.headers,
            timeout=60,
        )
        answer.raise_for_status()
        page = answer.json()
        if page.get("error"):
            raise RuntimeError(page["error"])
        if not first:
            first = time.perf_counter() - started
        rows.extend(page["rows"])
        offset += PAGE
        if offset >= page["total"]:
            break
    return time.perf_counter() - started, first, len(rows)


def client_list(api: Any) -> tuple[float, int]:
    from kubernetes import client

    started = time.perf_counter()
    pods = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE)
    return time.perf_counter() - started, len(pods.items)


def raw_list(api: Any) -> tuple[float, int]:
    from kubernetes import client

    started = time.perf_counter()
    answer = client.CoreV1Api(api).list_namespaced_pod(NAMESPACE, _preload_content=False)
    items = json.loads(answer.data)["items"]
    return time.perf_counter() - started, len(items)


async def subscribe_many(server: Server) -> tuple[float, list[int]]:
    """Open CLIENTS sockets at once, each subscribing to pods; seconds until all have rows."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async def one(n: int) -> int:
        request = HTTPRequest(f"ws://127.0.0.1:{server.port}/mlops/api/ws", headers=server.headers)
        socket_ = await websocket_connect(request)
        try:
            socket_.write_message(
                json.dumps({"op": "subscribe", "id": f"pods-{n}", "kind": "pods"})
            )
            while True:
                message = await asyncio.wait_for(socket_.read_message(), timeout=120)
                if message is None:
                    raise RuntimeError("the socket closed before the snapshot")
                for item in json.loads(message):
                    if item.get("type") == "error":
                        raise RuntimeError(item.get("message"))
                    if item.get("type") == "snapshot":
                        return len(item["rows"])
        finally:
            socket_.close()

    started = time.perf_counter()
    counts = await asyncio.gather(*(one(n) for n in range(CLIENTS)))
    return time.perf_counter() - started, list(counts)


def main() -> None:
    import requests
    from kubernetes import config

    workdir = Path(tempfile.mkdtemp(prefix="p2-"))
    kubeconfig = workdir / "kubeconfig"
    emulator = subprocess.Popen(
        [sys.executable, __file__, "--emulator", str(kubeconfig)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert emulator.stdout is not None and emulator.stdin is not None
    seeding = time.perf_counter()
    url = emulator.stdout.readline().strip()
    print(f"emulator with {PODS} pods at {url} in {time.perf_counter() - seeding:.1f} s")
    servers: list[Server] = []
    try:
        api = config.new_client_from_config(config_file=str(kubeconfig))
        server = Server(kubeconfig, workdir)
        servers.append(server)
        session = requests.Session()
        # Warm-up: starts the namespace's watch cache (retried while its first list is slow).
        for _ in range(10):
            answer = session.get(
                f"{server.base}/mlops/api/kube/pods",
                params={"limit": 1},
                headers=server.headers,
                timeout=60,
            )
            if answer.status_code == 200 and answer.json()["total"] == PODS:
                break
        else:
            raise RuntimeError(f"the route never listed {PODS} pods: {answer.text[:300]}")
        client_list(api)
        raw_list(api)

        route_s: list[float] = []
        first_page_s: list[float] = []
        client_s: list[float] = []
        raw_s: list[float] = []
        for round_ in range(ROUNDS):
            sides = ["route", "client", "raw"]
            order = sides[round_ % 3 :] + sides[: round_ % 3]
            for side in order:
                if side == "route":
                    total, first, count = route_all_pages(server, session)
                    route_s.append(total)
                    first_page_s.append(first)
                elif side == "client":
                    total, count = client_list(api)
                    client_s.append(total)
                else:
                    total, count = raw_list(api)
                    raw_s.append(total)
                assert count == PODS, (side, count)
            print(
                f"round {round_}: route {route_s[-1]:.3f} s, client {client_s[-1]:.3f} s, "
                f"raw {raw_s[-1]:.3f} s",
                flush=True,
            )
        server.stop()

        # A fresh server: its first subscribers start the namespace's one watch.
        server = Server(kubeconfig, workdir)
        servers.append(server)
        requests.post(f"{url}/_emulator/requests/reset", timeout=10).raise_for_status()
        subscribe_seconds, counts = asyncio.run(subscribe_many(server))
        assert counts == [PODS] * CLIENTS, counts

        def count(verb: str) -> int:
            prefix = f"/api/v1/namespaces/{NAMESPACE}/pods"
            answer = get_json(f"{url}/_emulator/requests?verb={verb}&path_prefix={prefix}")
            return int(answer["count"])

        list_requests, watch_requests = count("list"), count("watch")
    finally:
        for each in servers:
            if each.process.poll() is None:
                each.stop()
        emulator.stdin.close()
        emulator.wait(timeout=60)

    route = statistics.median(route_s)
    baseline = statistics.median(client_s)
    ratio = route / baseline
    pages_per_list = math.ceil(PODS / INFORMER_PAGE)
    list_operations = list_requests / pages_per_list
    entry = record(
        "P2",
        value=round(ratio, 3),
        unit="ratio of seconds (median): all 5,000 rows through our route / a direct LIST",
        goal=f"<= {GOAL}; 50 WebSocket subscribers cause 1 LIST and 1 WATCH",
        baseline="CoreV1Api.list_namespaced_pod of the same 5,000 pods (official client)",
        met=ratio <= GOAL and list_operations == 1 and watch_requests == 1,
        pods=PODS,
        rounds=ROUNDS,
        route_pages=f"all {math.ceil(PODS / PAGE)} pages of limit={PAGE}, after one warm-up",
        seconds_median={
            "route_all_pages": round(route, 4),
            "route_first_page": round(statistics.median(first_page_s), 4),
            "client_list_models": round(baseline, 4),
            "client_list_raw_json": round(statistics.median(raw_s), 4),
        },
        ratio_first_page=round(statistics.median(first_page_s) / baseline, 3),
        ratio_vs_raw_json=round(route / statistics.median(raw_s), 3),
        websocket_clients=CLIENTS,
        websocket_all_snapshots_seconds=round(subscribe_seconds, 3),
        emulator_list_requests=list_requests,
        emulator_watch_requests=watch_requests,
        list_operations=list_operations,
        list_note=f"the emulator counts requests, not continue tokens: one LIST of {PODS} pods "
        f"in pages of {INFORMER_PAGE} is {pages_per_list} list requests",
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--emulator":
        serve_emulator(sys.argv[2])
    else:
        main()
