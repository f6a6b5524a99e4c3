"""P4: `%k8s logs -f` of a pod writing 1,000,000 lines vs the raw stream and `kubectl logs -f`.

The emulator runs in its own process, so neither reader shares a CPU with it beyond what the
two cores give. Each run gets a fresh pod: its 1,000,000 lines are appended while it runs,
the reader starts, and the pod is finished at once; the emulator sends every line written
before the end, then ends the follow. Readers:

- raw (the baseline): the same kernel iterates `Cluster.logs(pod, follow=True)` alone and
  counts the lines, nothing else: what the stream delivers, so the notebook's share of it is
  what the widget costs;
- kubectl: `kubectl logs -f` (the kubectl built with the control plane), its stdout drained
  by this script; lines/s from the first byte to the end of the output (kubectl's own
  start-up is left out, in its favour).
- notebook: a real kernel runs `%k8s logs -f` (the LogView widget, its messages drained by
  this script as a frontend would); lines/s from calling the magic to the view's end.
- terminal: a terminal IPython runs `%k8s logs -f` printing into a pipe; same timing.

Memory is the reader's peak RSS during the follow (sampled every 10 ms) minus its RSS just
before, after a small warm-up follow so imports are not counted; once more for the notebook at
`P4_BIG_LINES` (10,000,000) lines, which must grow no more than at 1,000,000 (a bounded buffer).
The emulator stays (the control plane's kwok serves no logs yet, issue 9). `P4_PROFILE=1`
records the kernel with py-spy during one notebook follow (/tmp/p4-kernel.speedscope.json).
Writes entry P4.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _results import record

ROOT = Path(__file__).resolve().parents[1]
LINES = int(os.environ.get("P4_LINES", "1000000"))
BIG_LINES = int(os.environ.get("P4_BIG_LINES", "10000000"))
PROFILE = os.environ.get("P4_PROFILE") == "1"
ROUNDS = int(os.environ.get("P4_ROUNDS", "5"))
CHUNK_LINES = 50_000
NAMESPACE = "team"
GOAL_RATIO = 0.5
GOAL_MB = 100.0
#: "Flat": the 10,000,000-line follow may grow at most this much more than the 1,000,000 one.
FLAT_MB = 20.0


def kubectl_path() -> str:
    try:
        from jupyter_mlops.testing.control_plane import find_binaries

        return str(find_binaries() / "kubectl")
    except RuntimeError:
        return shutil.which("kubectl") or "/usr/bin/kubectl"


KUBECTL = kubectl_path()


class Emulator:
    """The Kubernetes API emulator as a separate process, driven through its control routes."""

    def __init__(self, workdir: Path) -> None:
        self.kubeconfig = workdir / "kubeconfig"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_mlops.testing.kube",
                "--no-controllers",
                # kubectl sends no token over plain HTTP: unauthenticated requests act as admin.
                "--anonymous",
                "admin",
                "--kubeconfig",
                str(self.kubeconfig),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.url = first.rsplit(" ", 1)[-1].strip()
        assert self.url.startswith("http://"), first
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        # The kubeconfig's namespace is "default"; every reader names the namespace instead.
        self.chunks = [
            "".join(
                f"step {start + i} loss=0.{(start + i) % 99991:05d} lr=0.001 batch=128\n"
                for i in range(min(CHUNK_LINES, LINES - start))
            ).encode()
            for start in range(0, LINES, CHUNK_LINES)
        ]

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> None:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()

    def apply(self, obj: dict[str, Any]) -> None:
        self.post("/_emulator/objects", json.dumps(obj).encode())

    def running_pod(self, name: str, lines: list[bytes]) -> None:
        self.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {
                    "nodeName": "emulated-node",
                    "containers": [{"name": "main", "image": "x"}],
                },
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "name": "main",
                            "ready": True,
                            "restartCount": 0,
                            "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                        }
                    ],
                },
            }
        )
        for chunk in lines:
            self.post(f"/_emulator/logs/{NAMESPACE}/{name}/main", chunk, "text/plain")

    def finish(self, name: str) -> None:
        self.post(f"/_emulator/pods/{NAMESPACE}/{name}/finish?exitCode=0", b"")

    def delete(self, name: str) -> None:
        request = urllib.request.Request(
            f"{self.url}/api/v1/namespaces/{NAMESPACE}/pods/{name}", method="DELETE"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def drain(stream: Any, into: dict[str, Any]) -> threading.Thread:
    """Count the lines of a pipe, noting when the first byte and the end arrived."""

    def run() -> None:
        lines = 0
        while True:
            data = stream.read1(1 << 20)
            if not data:
                break
            if "first" not in into:
                into["first"] = time.perf_counter()
            lines += data.count(b"\n")
        into["end"] = time.perf_counter()
        into["lines"] = lines

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def kubectl_run(emulator: Emulator, pod: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    started = time.perf_counter()
    process = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(emulator.kubeconfig), "-n", NAMESPACE, "logs", "-f", pod],
        stdout=subprocess.PIPE,
    )
    reader = drain(process.stdout, seen)
    emulator.finish(pod)
    reader.join()
    process.wait()
    seconds = seen["end"] - seen["first"]
    return {
        "lines": seen["lines"],
        "seconds": seconds,
        "wall_seconds": seen["end"] - started,
        "rate": seen["lines"] / seconds,
    }


RSS_PROBE = """
import os, threading
class RssPeak:
    "Growth of resident memory while it runs: sampled every 10 ms, in KiB."
    def __init__(self):
        self.page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self.before = self.peak = self.now()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
    def now(self):
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page_kb
    def sample(self):
        while not self.done.wait(0.01):
            self.peak = max(self.peak, self.now())
    def stop(self):
        self.done.set()
        self.thread.join()
        return max(self.peak, self.now()) - self.before
"""

TERMINAL = (
    RSS_PROBE.replace("{", "{{").replace("}", "}}")
    + """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "jupyter_mlops")
shell.run_line_magic("config", "MLOpsConfig.kubeconfig = {kubeconfig!r}")
shell.run_line_magic("config", "MLOpsConfig.namespace = {namespace!r}")
shell.run_line_magic("k8s", "logs warm-up -f")
probe = RssPeak()
started = time.perf_counter()
shell.run_line_magic("k8s", "logs {pod} -f")
sys.stdout.flush()
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rss_growth_kb": probe.stop()}}), file=sys.stderr)
"""
)


def terminal_run(emulator: Emulator, pod: str) -> dict[str, Any]:
    code = TERMINAL.format(kubeconfig=str(emulator.kubeconfig), namespace=NAMESPACE, pod=pod)
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    seen: dict[str, Any] = {}
    reader = drain(process.stdout, seen)
    assert process.stderr is not None
    emulator.finish(pod)
    reader.join()
    errors = process.stderr.read().decode()
    process.wait()
    if process.returncode != 0:
        raise RuntimeError(errors)
    stats = json.loads(errors.strip().splitlines()[-1])
    return {
        "lines": seen["lines"] - WARM_UP_LINES,
        "seconds": stats["seconds"],
        "rate": (seen["lines"] - WARM_UP_LINES) / stats["seconds"],
        "rss_growth_mb": stats["rss_growth_kb"] / 1024,
    }


class Kernel:
    """A notebook kernel, and this script as its frontend draining what it publishes."""

    def __init__(self, emulator: Emulator, workdir: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.widget_messages = 0
        self.manager, self.client = start_new_kernel(
            kernel_name="python3", cwd=str(workdir), env=env
        )
        self.run(RSS_PROBE)
        self.run(
            "%load_ext jupyter_mlops\n"
            f"%config MLOpsConfig.kubeconfig = {str(emulator.kubeconfig)!r}\n"
            f"%config MLOpsConfig.namespace = {NAMESPACE!r}\n"
            "import json, time\n"
            "from IPython.display import display\n"
            "from jupyter_mlops.config import configure, resolve\n"
            "from jupyter_mlops.kube.cluster import Cluster\n"
            f"cluster = Cluster(resolve(configure(kubeconfig={str(emulator.kubeconfig)!r},"
            f" namespace={NAMESPACE!r}), env={{}}, root={str(workdir)!r}))\n"
            "view = get_ipython().run_line_magic('k8s', 'logs warm-up -f')\n"
            "view.wait()\n"
        )

    def start(self, code: str) -> str:
        msg_id: str = self.client.execute(code)
        return msg_id

    def wait(self, msg_id: str) -> str:
        """Drain the kernel's messages until the cell is done; returns what it printed."""
        printed = []
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=600)
            except queue.Empty:
                raise RuntimeError("the kernel went quiet") from None
            if message["msg_type"] in ("comm_msg", "comm_open"):
                self.widget_messages += 1
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "error":
                raise RuntimeError("\n".join(message["content"]["traceback"]))
            if message["msg_type"] == "stream":
                printed.append(message["content"]["text"])
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return "".join(printed)

    def run(self, code: str) -> str:
        return self.wait(self.start(code))

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def notebook_run(emulator: Emulator, kernel: Kernel, pod: str) -> dict[str, Any]:
    msg_id = kernel.start(
        "probe = RssPeak()\n"
        "started = time.perf_counter()\n"
        f"view = get_ipython().run_line_magic('k8s', 'logs {pod} -f')\n"
        "display(view)\n"
        "view.wait()\n"
        "seconds = time.perf_counter() - started\n"
        "growth = probe.stop()\n"
        "print(json.dumps({'seconds': seconds, 'received': view.received,\n"
        "                  'shown': len(view.lines), 'rss_growth_kb': growth}))\n"
    )
    emulator.finish(pod)
    stats = json.loads(kernel.wait(msg_id).strip().splitlines()[-1])
    return {
        "lines": stats["received"],
        "shown": stats["shown"],
        "seconds": stats["seconds"],
        "rate": stats["received"] / stats["seconds"],
        "rss_growth_mb": stats["rss_growth_kb"] / 1024,
    }


def raw_run(emulator: Emulator, kernel: Kernel, pod: str) -> dict[str, Any]:
    """The stream alone, in the same kernel: `Cluster.logs(follow=True)` counted line by line."""
    msg_id = kernel.start(
        "probe = RssPeak()\n"
        "started = time.perf_counter()\n"
        "count = 0\n"
        f"for _line in cluster.logs({pod!r}, follow=True):\n"
        "    count += 1\n"
        "seconds = time.perf_counter() - started\n"
        "growth = probe.stop()\n"
        "print(json.dumps({'seconds': seconds, 'received': count, 'rss_growth_kb': growth}))\n"
    )
    emulator.finish(pod)
    stats = json.loads(kernel.wait(msg_id).strip().splitlines()[-1])
    return {
        "lines": stats["received"],
        "seconds": stats["seconds"],
        "rate": stats["received"] / stats["seconds"],
        "rss_growth_mb": stats["rss_growth_kb"] / 1024,
    }


def profile_kernel(kernel: Kernel) -> subprocess.Popen[bytes]:
    """py-spy recording the kernel (until stopped), for the profile summary of issue 17."""
    pid = kernel.run("import os; print(os.getpid())").strip()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            pid,
            "--threads",
            "--format",
            "speedscope",
            "-o",
            "/tmp/p4-kernel.speedscope.json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


WARM_UP_LINES = 10


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="p4-"))
    emulator = Emulator(workdir)
    kernel: Kernel | None = None
    runs: dict[str, list[dict[str, Any]]] = {
        "raw": [],
        "kubectl": [],
        "notebook": [],
        "terminal": [],
    }
    big: dict[str, Any] = {}
    try:
        emulator.running_pod("warm-up", [b"warm-up line\n" * WARM_UP_LINES])
        emulator.finish("warm-up")
        kernel = Kernel(emulator, workdir)
        sides = list(runs)
        for round_ in range(ROUNDS):
            # Rotate who goes first, so no side always meets a freshly collected emulator.
            order = sides[round_ % 4 :] + sides[: round_ % 4]
            for side in order:
                pod = f"{side}-{round_}"
                emulator.running_pod(pod, emulator.chunks)
                if side == "kubectl":
                    result = kubectl_run(emulator, pod)
                elif side == "terminal":
                    result = terminal_run(emulator, pod)
                elif side == "raw":
                    result = raw_run(emulator, kernel, pod)
                else:
                    result = notebook_run(emulator, kernel, pod)
                emulator.delete(pod)
                assert result["lines"] == LINES, (side, result)
                runs[side].append(result)
                print(f"round {round_} {side:9} {result['rate']:>12,.0f} lines/s", flush=True)
        # Memory at 10x the lines: the same chunks appended again and again.
        emulator.running_pod("notebook-big", emulator.chunks * max(1, BIG_LINES // LINES))
        spy = profile_kernel(kernel) if PROFILE else None
        big = notebook_run(emulator, kernel, "notebook-big")
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        emulator.delete("notebook-big")
        assert big["lines"] == LINES * max(1, BIG_LINES // LINES), big
        print(
            f"{big['lines']:,} lines: {big['rate']:,.0f} lines/s, "
            f"RSS +{big['rss_growth_mb']:.1f} MB"
        )
    finally:
        if kernel is not None:
            kernel.stop()
        emulator.stop()

    def median(side: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[side]))

    raw_rate = median("raw", "rate")
    kubectl_rate = median("kubectl", "rate")
    notebook_rate = median("notebook", "rate")
    # Each round's notebook run over the same round's raw run: the two ran a few seconds
    # apart, so the load others put on the machine cancels out better than in medians apart.
    paired = [n["rate"] / r["rate"] for n, r in zip(runs["notebook"], runs["raw"], strict=True)]
    ratio = float(statistics.median(paired))
    peak_mb = max(r["rss_growth_mb"] for side in ("notebook", "terminal") for r in runs[side])
    notebook_mb = max(r["rss_growth_mb"] for r in runs["notebook"])
    flat = big["rss_growth_mb"] <= notebook_mb + FLAT_MB
    entry = record(
        "P4",
        value=round(ratio, 3),
        unit="ratio of lines/s (median over rounds of each round's ratio): the notebook follow "
        "(LogView) / the raw stream",
        goal=f">= {GOAL_RATIO} of the raw stream rate; peak RSS growth <= {GOAL_MB:g} MB, and "
        f"at {BIG_LINES:,} lines no more than {FLAT_MB:g} MB above {LINES:,}",
        baseline="Cluster.logs(follow=True) iterated alone in the same kernel (the raw stream "
        "rate); kubectl logs -f beside it",
        met=ratio >= GOAL_RATIO and peak_mb <= GOAL_MB and flat,
        lines=LINES,
        rounds=ROUNDS,
        lines_per_second={
            "raw_stream": round(raw_rate),
            "kubectl": round(kubectl_rate),
            "notebook_widget": round(notebook_rate),
            "terminal": round(median("terminal", "rate")),
        },
        lines_per_second_range={
            side: [
                round(min(r["rate"] for r in runs[side])),
                round(max(r["rate"] for r in runs[side])),
            ]
            for side in runs
        },
        ratio_notebook=round(ratio, 3),
        ratio_notebook_by_round=[round(r, 3) for r in paired],
        ratio_notebook_of_medians=round(notebook_rate / raw_rate, 3),
        ratio_terminal=round(median("terminal", "rate") / raw_rate, 3),
        ratio_notebook_vs_kubectl=round(notebook_rate / kubectl_rate, 3),
        ratio_kubectl_vs_raw=round(kubectl_rate / raw_rate, 3),
        seconds_median={side: round(median(side, "seconds"), 3) for side in runs},
        kubectl_wall_seconds_median=round(median("kubectl", "wall_seconds"), 3),
        peak_rss_growth_mb={
            side: round(max(r["rss_growth_mb"] for r in runs[side]), 1)
            for side in ("notebook", "terminal", "raw")
        },
        big_follow={
            "lines": big["lines"],
            "lines_per_second": round(big["rate"]),
            "rss_growth_mb": round(big["rss_growth_mb"], 1),
            "flat": flat,
        },
        widget_lines_shown=runs["notebook"][-1]["shown"],
        widget_messages=kernel.widget_messages if kernel is not None else 0,
        note="the emulator runs in its own process; each run follows a fresh pod that is "
        "finished as the reader starts, so the follow ends once every line is sent",
    )
    print(json.dumps(entry, indent=2))


if __name__ == "__main__":
    main()
