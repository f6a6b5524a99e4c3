"""P3: from a pod's phase change written at the API server to the changed row in Chromium's DOM.

An in-process Kubernetes emulator (controllers off, so only this script changes phases) serves
a namespace of pods to a real JupyterLab; headless Chromium shows the Cluster section. A
MutationObserver in the page stamps each change of the probe pod's status cell with
`performance.timeOrigin + performance.now()`, on the same clock as `time.time()` here, at which
the script writes each phase. Writes entry P3 of benchmarks/results.json.
"""

from __future__ import annotations

import os
import secrets
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
from playwright.sync_api import sync_playwright

from jupyter_mlops.testing.kube import KubeEmulator

CHANGES = int(os.environ.get("P3_CHANGES", "50"))
OTHER_PODS = int(os.environ.get("P3_OTHER_PODS", "200"))
GOAL_SECONDS = 1.0
NAMESPACE = "bench"
PROBE = "phase-probe"
# Each phase shows as a different word in the status column.
PHASES = ["Running", "Succeeded", "Failed", "Pending"]
CHROMIUM = "/usr/bin/chromium"
SIDEBAR_TAB = '.jp-SideBar li[data-id="jupyter-mlops-sidebar"]'
PROBE_STATUS = f'[data-testid="mlops-row"][data-name="{PROBE}"] [data-testid="mlops-status"]'

OBSERVER = """probe => {
    window.__p3 = [];
    let last = document.querySelector(probe)?.textContent ?? null;
    new MutationObserver(() => {
        const now = performance.timeOrigin + performance.now();
        const text = document.querySelector(probe)?.textContent ?? null;
        if (text !== last) {
            last = text;
            window.__p3.push({ text, at: now });
        }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def pod(name: str, phase: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}], "nodeName": "n1"},
        "status": {"phase": phase},
    }


def start_lab(kubeconfig: Path, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """JupyterLab with the extension, pointed at the emulator; returns it and its URL."""
    port, token = free_port(), secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KF_", "MLFLOW_"))}
    env.update(KUBECONFIG=str(kubeconfig), HOME=str(root), JUPYTER_CONFIG_DIR=str(root / "cfg"))
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (root / "lab.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            return process, f"{base}/lab/workspaces/p3?token={token}"
        except OSError:
            # Nothing signals readiness but the port answering.
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"jupyter lab did not start; see {root / 'lab.log'}")


def measure(kube: KubeEmulator, url: str) -> list[float]:
    """Seconds from each write to the row's change in the DOM."""
    latencies: list[float] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.click(SIDEBAR_TAB, timeout=60_000)
        page.wait_for_selector(PROBE_STATUS, timeout=30_000)
        page.evaluate(OBSERVER, PROBE_STATUS)
        current = page.text_content(PROBE_STATUS)
        for index in range(CHANGES):
            phase = PHASES[(PHASES.index(current) + 1) % len(PHASES)] if current else PHASES[0]
            written = time.time()
            kube.apply(pod(PROBE, phase))
            page.wait_for_function(
                "word => window.__p3.some(change => change.text === word)", arg=phase
            )
            shown = page.evaluate(
                "word => { const c = window.__p3.find(x => x.text === word); window.__p3 = [];"
                " return c.at; }",
                phase,
            )
            latencies.append(shown / 1000 - written)
            current = phase
            if index == 0:
                print(f"first change: {latencies[0] * 1000:.0f} ms", flush=True)
        browser.close()
    return latencies


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="p3-"))
    with KubeEmulator(port=0, controllers=False) as kube:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        for index in range(OTHER_PODS):
            kube.create(pod(f"worker-{index:04d}", "Running"))
        kube.create(pod(PROBE, PHASES[0]))
        kubeconfig = kube.write_kubeconfig(root / "kubeconfig", namespace=NAMESPACE)
        process, url = start_lab(kubeconfig, root)
        try:
            latencies = measure(kube, url)
        finally:
            process.terminate()
            process.wait(timeout=30)
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    p50 = statistics.median(ordered)
    entry = record(
        "P3",
        value=round(p95, 3),
        unit=f"s (p95 of {len(latencies)} changes)",
        goal="<= 1 s",
        baseline="the sidebar's 10 s status poll: 5 s on average, 10 s at worst",
        met=p95 <= GOAL_SECONDS,
        p50=round(p50, 3),
        max=round(ordered[-1], 3),
        changes=len(latencies),
        other_pods=OTHER_PODS,
    )
    print(entry)


if __name__ == "__main__":
    main()
