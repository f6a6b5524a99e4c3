"""Believable container logs for the fixtures' pods, timed by each container's own start."""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_mlops.testing.kube import KubeEmulator

__all__ = ["ContainerLog", "epoch_line", "pod_logs", "write_logs", "write_pod_logs"]

Obj = dict[str, Any]

# How long a crash-looping container waits between its last two runs (the kubelet's cap).
_BACK_OFF = timedelta(minutes=5)
_EPOCH = timedelta(seconds=15)


@dataclass(frozen=True)
class ContainerLog:
    """What one run of a container printed: `previous` is the run before the current one."""

    container: str
    previous: bool
    lines: tuple[tuple[datetime, str], ...]


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def _spread(start: datetime, end: datetime, texts: list[str]) -> list[tuple[datetime, str]]:
    """Lines evenly between start and end (all at start when the run took no time)."""
    if len(texts) < 2 or end <= start:
        return [(start, text) for text in texts]
    step = (end - start) / (len(texts) - 1)
    return [(start + step * i, text) for i, text in enumerate(texts)]


def _noise(key: str, i: int) -> float:
    digest = hashlib.sha256(f"{key}/{i}".encode()).digest()
    return (digest[0] / 255.0) - 0.5


def epoch_line(key: str, epoch: int) -> str:
    """A training worker's metrics after `epoch`, as `name=value` for Katib's StdOut collector."""
    loss = 1.05 * math.exp(-epoch / 40) + 0.06 + 0.02 * _noise(key, epoch)
    accuracy = min(0.99, 0.97 - 0.62 * math.exp(-epoch / 30) + 0.01 * _noise(key, -epoch))
    return f"epoch={epoch} loss={loss:.4f} accuracy={accuracy:.4f}"


def _training(key: str, start: datetime, now: datetime) -> list[tuple[datetime, str]]:
    lines = [
        (start, "Loading iris dataset: 150 rows, 4 features, 3 classes"),
        (start, "Training MLP(4-16-3) with lr=0.01 for 200 epochs on cpu"),
    ]
    epoch = 1
    while start + _EPOCH * epoch <= now and epoch <= 200:
        lines.append((start + _EPOCH * epoch, epoch_line(key, epoch)))
        epoch += 1
    if epoch == 1:
        lines.append((start, epoch_line(key, 1)))
    return lines


def _crash(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    site = "/usr/local/lib/python3.11/site-packages"
    texts = [
        "Using torch 2.2.2+cpu with numpy 2.1.3",
        "",
        "A module that was compiled using NumPy 1.x cannot be run in",
        "NumPy 2.1.3 as it may crash. To support both 1.x and 2.x",
        "versions of NumPy, modules must be compiled with NumPy 2.0.",
        "Some module may need to rebuild instead e.g. with 'pybind11>=2.12'.",
        "",
        "If you are a user of the module, the easiest solution will be to",
        "downgrade to 'numpy<2' or try to upgrade the affected module.",
        "We expect that some modules will need time to support NumPy 2.",
        "",
        f"{site}/torch/nn/modules/transformer.py:20: UserWarning: Failed to initialize NumPy: "
        "_ARRAY_API not found (Triggered internally at ../torch/csrc/utils/tensor_numpy.cpp:84.)",
        "  device: torch.device = torch.device(torch._C._get_default_device()),  # "
        "torch.device('cpu'),",
        "Loading MNIST from /workspace/data/mnist.npz",
        "Traceback (most recent call last):",
        '  File "/workspace/train.py", line 41, in <module>',
        "    main()",
        '  File "/workspace/train.py", line 24, in main',
        '    images = torch.from_numpy(data["x_train"]).float() / 255.0',
        "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "RuntimeError: Numpy is not available",
    ]
    return _spread(start, end, texts)


def _jupyter(pod: Obj, start: datetime, now: datetime) -> list[tuple[datetime, str]]:
    meta = pod["metadata"]
    prefix = f"/notebook/{meta.get('namespace')}/{meta['labels'].get('notebook-name')}"

    def at(seconds: float, text: str) -> tuple[datetime, str]:
        moment = start + timedelta(seconds=seconds)
        return moment, f"[I {moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} {text}"

    kernel = uuid.UUID(bytes=hashlib.sha256(meta["name"].encode()).digest()[:16], version=4)
    lines = [
        (start, "[s6-init] making user provided files available at /var/run/s6/etc...exited 0."),
        (start, "[s6-init] ensuring user provided files have correct perms...exited 0."),
        (start, "[cont-init.d] executing container initialization scripts..."),
        (start, "[cont-init.d] done."),
        (start, "[services.d] starting services"),
        (start, "[services.d] done."),
        at(1.2, "ServerApp] jupyter_lsp | extension was successfully linked."),
        at(1.2, "ServerApp] jupyter_server_terminals | extension was successfully linked."),
        at(1.3, "ServerApp] jupyterlab | extension was successfully linked."),
        at(1.9, "ServerApp] jupyterlab | extension was successfully loaded."),
        at(1.9, "ServerApp] Serving notebooks from local directory: /home/jovyan"),
        at(1.9, "ServerApp] Jupyter Server 2.12.5 is running at:"),
        at(1.9, f"ServerApp] http://{meta['name']}:8888{prefix}/lab"),
        at(1.9, "ServerApp] Use Control-C to stop this server and shut down all kernels."),
    ]
    if now - start > timedelta(minutes=5):
        lines += [
            at(240, f"ServerApp] Kernel started: {kernel}"),
            at(300, "ServerApp] Saving file at /mnist.ipynb"),
        ]
    return lines


def _kserve(start: datetime, now: datetime) -> list[tuple[datetime, str]]:
    def at(moment: datetime, text: str) -> tuple[datetime, str]:
        stamp = f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"
        return moment, f"{stamp} 1 {text}"

    lines = [
        at(
            start,
            "kserve INFO [model_server.py:register_model():363] Registering model: sklearn-iris",
        ),
        at(
            start,
            "kserve INFO [model_server.py:start():233] Setting max asyncio worker threads as 6",
        ),
        at(start, "kserve INFO [model_server.py:serve():239] Starting uvicorn with 1 workers"),
        at(start, "uvicorn.error INFO:     Started server process [1]"),
        at(start, "uvicorn.error INFO:     Waiting for application startup."),
        at(start, "kserve INFO [server.py:start():63] Starting gRPC server on [::]:8081"),
        at(start, "uvicorn.error INFO:     Application startup complete."),
        at(
            start,
            "uvicorn.error INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)",
        ),
    ]
    for minutes in (57, 41, 40, 23, 9, 2):
        moment = now - timedelta(minutes=minutes)
        if moment <= start:
            continue
        request = uuid.UUID(bytes=hashlib.sha256(f"{moment}".encode()).digest()[:16], version=4)
        lines += [
            at(
                moment,
                f"kserve.trace requestId: {request}, preprocess_ms: 0.012, explain_ms: 0, "
                "predict_ms: 0.873, postprocess_ms: 0.004",
            ),
            at(
                moment,
                'uvicorn.access INFO:     10.244.0.23:48712 1 - "POST '
                '/v1/models/sklearn-iris%3Apredict HTTP/1.1" 200 OK',
            ),
        ]
    return lines


def _storage_initializer(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    uri = "gs://kfserving-examples/models/sklearn/1.0/model"
    texts = [
        f"kserve INFO [storage-initializer-entrypoint:<module>():16] Initializing, args: "
        f"src_uri [{uri}] dest_path[ [/mnt/models]",
        f"kserve INFO [storage.py:download():66] Copying contents of {uri} to local",
        "kserve INFO [storage.py:_download_gcs():226] Downloading: /mnt/models/model.joblib",
        f"kserve INFO [storage.py:download():111] Successfully copied {uri} to /mnt/models",
        "kserve INFO [storage.py:download():112] Model downloaded in 1.8 seconds.",
    ]
    return [
        (t, f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} 1 {x}")
        for t, x in _spread(start, end, texts)
    ]


def _argo(moment: datetime, message: str) -> str:
    return (
        f'time="{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z" level=info {message}'
    )


def _glog(moment: datetime, source: str, message: str) -> str:
    return f"I{moment:%m%d %H:%M:%S}.{moment.microsecond:06d}      21 {source}] {message}"


def _kfp(
    pod: Obj, container: str, start: datetime, end: datetime | None, now: datetime
) -> list[tuple[datetime, str]]:
    node = (pod["metadata"].get("annotations") or {}).get("workflows.argoproj.io/node-name", "")
    parts = node.split(".")
    task = parts[-2] if node.endswith(".executor") else parts[-1]
    finish = end or now
    if container == "init":
        texts = [
            'msg="Starting Workflow Executor" version=v3.4.17',
            'msg="Using executor retry strategy" Duration=1s Factor=1.6 Jitter=0.5 Steps=5',
            'msg="Start loading input artifacts..."',
            'msg="Alloc=9207 TotalAlloc=15292 Sys=23397 NumGC=4 Goroutines=5"',
        ]
        return [(t, _argo(t, x)) for t, x in _spread(start, finish, texts)]
    if container == "kfp-launcher":
        return [(start, _glog(start, "copy.go:49", "copied launcher to /kfp-launcher/launch"))]
    if container == "wait":
        texts = [
            'msg="Starting Workflow Executor" version=v3.4.17',
            'msg="Starting deadline monitor"',
        ]
        if end is not None:
            texts += [
                'msg="Main container completed" error="<nil>"',
                'msg="No output parameters"',
                'msg="Saving output artifacts"',
                'msg="Deadline monitor stopped"',
                'msg="Alloc=9812 TotalAlloc=18634 Sys=23653 NumGC=5 Goroutines=8"',
            ]
            return [(t, _argo(t, x)) for t, x in _spread(start, end, texts)]
        return [(start, _argo(start, x)) for x in texts]
    if "-driver-" in pod["metadata"]["name"]:
        texts = [
            f'input ComponentSpec:{{"executorLabel":"exec-{task.removesuffix("-driver")}"}}',
            "parent DAG: root",
            "Cannot detect ml-pipeline in the same namespace, default to "
            "ml-pipeline.kubeflow:8887 as KFP endpoint.",
            "output execution.ID=12",
            "publish success.",
        ]
        return [(t, _glog(t, "driver.go:255", x)) for t, x in _spread(start, finish, texts)]
    head = [
        _argo(start, 'msg="capturing logs" argo=true'),
        _glog(start, "launcher_v2.go:90", f'input ComponentSpec:{{"executorLabel":"exec-{task}"}}'),
        _glog(
            start,
            "cache.go:139",
            "Cannot detect ml-pipeline in the same namespace, default "
            "to ml-pipeline.kubeflow:8887 as KFP endpoint.",
        ),
    ]
    body: list[str]
    if task == "load-data":
        body = [
            "Downloaded iris.csv: 150 rows, 5 columns",
            "Split: 120 train, 30 test rows",
            "Wrote dataset to /minio/mlpipeline/v2/artifacts/iris-training-pipeline/dataset",
        ]
    elif task == "train-model":
        body = (
            ["Training RandomForestClassifier(n_estimators=100, max_depth=4)"]
            + [f"fold={i} accuracy={0.93 + 0.01 * i:.4f}" for i in range(1, 6)]
            + [
                "accuracy=0.9583",
                "Wrote model to /minio/mlpipeline/v2/artifacts/iris-training-pipeline/model",
            ]
        )
    else:
        body = ["Evaluating model on 30 test rows", "Computing confusion matrix..."]
    tail = [_glog(finish, "launcher_v2.go:151", "publish success.")] if end is not None else []
    lines = [(start, text) for text in head]
    lines += _spread(start + timedelta(seconds=2), finish, body)
    lines += [(finish, text) for text in tail]
    return lines


def pod_logs(pod: Obj, now: datetime | None = None) -> list[ContainerLog]:
    """The log of every container of the pod that has run, by the pod's role and timing.

    A container still waiting for its first start (an image that does not pull, a pod not
    scheduled) has no log, as on a real node. Roles: a Kubeflow notebook, a KServe predictor,
    a Kubeflow Pipelines task pod, the training Deployment's workers and the crashing Job.
    """
    now = now or datetime.now(timezone.utc)
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    status = pod.get("status") or {}
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    out: list[ContainerLog] = []
    for cs in statuses:
        name = str(cs.get("name"))
        state = cs.get("state") or {}
        running, terminated = state.get("running"), state.get("terminated")
        last = (cs.get("lastState") or {}).get("terminated")
        run = running or terminated or last
        if not run:
            continue
        start = _time(run.get("startedAt")) or now
        end = _time((terminated or ({} if running else last) or {}).get("finishedAt"))
        lines: list[tuple[datetime, str]] = []
        if labels.get("pipelines.kubeflow.org/v2_component") == "true":
            lines = _kfp(pod, name, start, end, now)
        elif labels.get("notebook-name"):
            lines = _jupyter(pod, start, now)
        elif labels.get("serving.kserve.io/inferenceservice"):
            if name == "storage-initializer":
                lines = _storage_initializer(start, end or start)
            else:
                lines = _kserve(start, now)
        elif labels.get("app") == "iris-trainer":
            lines = _training(str(meta.get("name", "")), start, now)
        elif labels.get("job-name") == "mnist-train" and last:
            # Waiting to restart, the container's log is its last run's; the one before
            # crashed the same way one back-off earlier.
            crash_start = _time(last.get("startedAt")) or now
            crash_end = _time(last.get("finishedAt")) or crash_start
            out.append(ContainerLog(name, False, tuple(_crash(crash_start, crash_end))))
            lines = _crash(crash_start - _BACK_OFF, crash_end - _BACK_OFF)
            out.append(ContainerLog(name, True, tuple(lines)))
            continue
        if lines:
            out.append(ContainerLog(name, False, tuple(lines)))
    return out


def write_pod_logs(emulator: KubeEmulator, pod: Obj, now: datetime | None = None) -> int:
    """Write :func:`pod_logs` through the emulator's log store, each line at its own time."""
    meta = pod["metadata"]
    count = 0
    for log in pod_logs(pod, now):
        for moment, text in log.lines:
            count += emulator.logs.append(
                meta["namespace"],
                meta["name"],
                log.container,
                text + "\n",  # one line each, blank ones included
                previous=log.previous,
                at=moment.timestamp(),
            )
    return count


def write_logs(emulator: KubeEmulator, namespace: str, now: datetime | None = None) -> int:
    """Write the logs of every pod in `namespace`; returns the number of lines written."""
    return sum(
        write_pod_logs(emulator, pod, now) for pod in emulator.objects("v1", "Pod", namespace)
    )
