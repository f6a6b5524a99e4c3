"""A real Kubernetes control plane on loopback, started as child processes, for the tests.

The binaries are built from the Go module proxy by `make control-plane` (`testbed/build.sh`)
into a per-version cache outside the checkout. `ControlPlane` runs, in a temporary directory:

- etcd;
- kube-apiserver on 127.0.0.1 with its own CA and serving certificate, ServiceAccount token
  signing (TokenRequest), the Node and RBAC authorizers, the standard admission plugins, a
  static admin token (group `system:masters`), and a client certificate for the kubelets;
- kube-controller-manager (all default controllers, per-controller ServiceAccount credentials);
- kube-scheduler;
- kwok playing the kubelets of three fake nodes: two CPU nodes and one GPU node tainted
  `nvidia.com/gpu=present:NoSchedule` with `nvidia.com/gpu: 2` allocatable. Its pod Stages
  are kwok's defaults, its chaos Stage that fails a pod labelled `FAIL_LABEL`, and the
  lifecycles users meet (`LIFECYCLE_LABEL`: crash loops, OOMKilled, image pulls, init
  containers, CreateContainerConfigError, failing probes). It serves the kubelet API over TLS
  at the nodes' address (`NODE_IP`), so `kubectl logs [-f] [--previous]` reach it through the
  apiserver; the logs are files a test writes (`log_file`, `append_log`), named for kwok by a
  Logs object per pod (kwok's Logs kind is served for that).

>>> with ControlPlane() as plane:
...     plane.write_kubeconfig(tmp / "kubeconfig", namespace="default")
...     plane.append_log("default", "trainer", "main", "epoch 1")
...     plane.kubectl("logs", "trainer")

`stop_apiserver()` / `start_apiserver()` take kube-apiserver down and up again (same port,
same etcd) as an outage would, and `another_apiserver()` runs a second one on the same etcd,
through which the cluster can change while the first is down.

Every child runs in its own process group and dies with its parent (PR_SET_PDEATHSIG on
Linux: strictly, with the thread that started it, so start planes from a thread that lives as
long as they should); `stop()` kills the groups, and runs at interpreter exit and on SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

K8S_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.6"
KWOK_VERSION = "v0.7.0"
VERSIONS = f"kubernetes={K8S_VERSION} etcd={ETCD_VERSION} kwok={KWOK_VERSION}"
BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
)

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
SERVICE_CIDR = "10.96.0.0/16"
ISSUER = "https://kubernetes.default.svc.cluster.local"


#: Where kwok serves the kubelet API (logs) of every node: each node's InternalIP. One address
#: for all, because kwok has one listener, and on loopback, so nothing outside can read it.
NODE_IP = "127.0.0.1"

KWOK_DIR = Path(__file__).with_name("kwok")
#: kwok's own pod Stages (given to kwok as --config), verbatim from kwok v0.7.0: its default
#: ones (kustomize/stage/pod/fast: pod-ready, pod-complete, pod-delete), plus its chaos Stage
#: pod-container-running-failed (kustomize/stage/pod/chaos), which fails the containers of a pod
#: labelled `FAIL_LABEL: "true"` (exit code 1, phase Failed; the pod's annotations
#: `FAIL_LABEL/exit-code`, `/reason`, `/message`, `/delay` set them). A pod without a label
#: of this module goes through kwok's defaults exactly as without these files.
KWOK_POD_STAGES = KWOK_DIR / "kwok-pod-stages.yaml"
FAIL_LABEL = "pod-container-running-failed.stage.kwok.x-k8s.io"

#: The lifecycles users meet, as the kubelet reports them (status, and the kubelet's events
#: where their wording is fixed), in LIFECYCLE_STAGES. A pod labelled `LIFECYCLE_LABEL: NAME`
#: goes through lifecycle NAME (`lifecycle(NAME, ...)` makes the metadata); the annotations
#: `LIFECYCLE_LABEL/KNOB` tune it (`ANNOTATIONS`). They outweigh kwok's defaults.
LIFECYCLE_STAGES = KWOK_DIR / "lifecycle-stages.yaml"
LIFECYCLE_LABEL = "lifecycle.stage.jupyter-mlops.io"
#: Runs for `run-for`, exits 0: Completed, phase Succeeded (restartPolicy Never or OnFailure).
SUCCEED = "succeed"
#: Runs for `run-for`, exits `exit-code` (1): Error; restarted after `back-off`, in between
#: CrashLoopBackOff with lastState.terminated and a growing restartCount (phase Failed under
#: restartPolicy Never).
CRASH_LOOP = "crash-loop"
#: As CRASH_LOOP, killed for memory: OOMKilled, exit code 137.
OOM_KILLED = "oom-killed"
#: ErrImagePull (message: `pull-error`, or the registry's "not found" for the spec's image),
#: then ImagePullBackOff, in turn; the kubelet's Failed events "Error: ErrImagePull" and
#: "Error: ImagePullBackOff".
IMAGE_PULL_ERROR = "image-pull-error"
#: CreateContainerConfigError, its message the kubelet's for the container's first ConfigMap or
#: Secret reference (`couldn't find key K in ConfigMap NS/NAME`), or `message`.
CONFIG_ERROR = "create-container-config-error"
#: Running, the container never ready (Ready False, restartCount 0); the kubelet's Unhealthy
#: event "Readiness probe failed: HTTP probe failed with statuscode: 503".
READINESS_FAILING = "readiness-failing"
#: Runs for `run-for`, then fails its liveness probe (the kubelet's Unhealthy event "Liveness
#: probe failed: HTTP probe failed with statuscode: 500") and is killed (exit code 137) and
#: restarted as in CRASH_LOOP.
LIVENESS_FAILING = "liveness-failing"
#: The init containers run for `run-for` each, one after the other (Init:0/N, Init:1/N, ...),
#: then the app containers run.
INIT_RUNS = "init"
#: The init container `container` (the first) exits `exit-code` (1): Init:Error, phase Failed
#: under restartPolicy Never; otherwise restarted after `back-off`: Init:CrashLoopBackOff.
INIT_FAILS = "init-error"
LIFECYCLES = (
    SUCCEED,
    CRASH_LOOP,
    OOM_KILLED,
    IMAGE_PULL_ERROR,
    CONFIG_ERROR,
    READINESS_FAILING,
    LIVENESS_FAILING,
    INIT_RUNS,
    INIT_FAILS,
)
#: The knobs (annotation `LIFECYCLE_LABEL/KNOB`) and their defaults.
ANNOTATIONS = {
    "run-for": "1s",  # how long a container runs before it exits (or an init container ends)
    "back-off": "2s",  # how long CrashLoopBackOff / ImagePullBackOff lasts (the kubelet: 10s+)
    "exit-code": "1",  # the exit code of a crash (137 for OOM_KILLED and LIVENESS_FAILING)
    # The one container the lifecycle applies to (default: every app container; for
    # INIT_FAILS, the first init container).
    "container": "",
    "pull-error": "",  # the image pull's error, as the container runtime words it
    "message": "",  # CONFIG_ERROR's message instead of the one made from the spec
}


def lifecycle(name: str, **knobs: str | int) -> Obj:
    """The metadata (labels, annotations) that put a pod through lifecycle `name`, e.g.
    `lifecycle(CRASH_LOOP, exit_code=2, back_off="1s")`."""
    if name not in LIFECYCLES:
        raise ValueError(f"unknown lifecycle {name!r}: one of {', '.join(LIFECYCLES)}")
    annotations = {}
    for knob, value in knobs.items():
        key = knob.replace("_", "-")
        if key not in ANNOTATIONS:
            raise ValueError(f"unknown knob {knob!r}: one of {', '.join(ANNOTATIONS)}")
        annotations[f"{LIFECYCLE_LABEL}/{key}"] = str(value)
    return {"labels": {LIFECYCLE_LABEL: name}, "annotations": annotations}


Obj = dict[str, Any]


def cri_line(text: str, stream: str = "stdout", when: dt.datetime | None = None) -> str:
    """Lines of a container's log file as the container runtime writes them (CRI format:
    `TIME STREAM F TEXT`), which kwok reads back as the kubelet does; one per line of `text`."""
    stamp = (when or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "".join(f"{stamp} {stream} F {line}\n" for line in text.split("\n"))


def _logs_crd() -> Obj:
    """kwok's Logs kind (kwok.x-k8s.io/v1alpha1, as kwok's own CRD serves it)."""
    text = {"type": "string"}
    log = {
        "type": "object",
        "properties": {
            "containers": {"type": "array", "items": text},
            "logsFile": text,
            "previousLogsFile": text,
            "follow": {"type": "boolean"},
        },
    }
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": text,
            "kind": text,
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["logs"],
                "properties": {"logs": {"type": "array", "items": log}},
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "logs.kwok.x-k8s.io"},
        "spec": {
            "group": "kwok.x-k8s.io",
            "scope": "Namespaced",
            "names": {"kind": "Logs", "listKind": "LogsList", "plural": "logs", "singular": "logs"},
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


LOGS_CRD = _logs_crd()


def _every_pods_logs(logs: Path) -> Obj:
    """kwok's ClusterLogs for every pod without a Logs object: an empty log, and no previous
    one (a file that does not exist, named so that kwok's error says so)."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterLogs",
        "metadata": {"name": "every-pod"},
        "spec": {
            "logs": [
                {
                    "logsFile": str(logs / "empty.log"),
                    "previousLogsFile": str(logs / "no-previous-terminated-container"),
                }
            ]
        },
    }


class NotBuilt(RuntimeError):
    """The control-plane binaries of this version are not in the cache."""


class StartFailed(RuntimeError):
    """A component did not come up; the message carries the tail of its log."""


def cache_dir() -> Path:
    """Where `testbed/build.sh` puts the binaries of this version (same rule as the script)."""
    base = os.environ.get("JUPYTER_MLOPS_CONTROL_PLANE_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "jupyter-mlops" / "control-plane")
    return Path(base) / K8S_VERSION / "bin"


def find_binaries(bin_dir: Path | None = None) -> Path:
    """The directory holding every binary; `NotBuilt` saying what to run when it does not."""
    where = bin_dir or cache_dir()
    stamp = where / ".versions"
    missing = [b for b in BINARIES if not os.access(where / b, os.X_OK)]
    if missing or not stamp.is_file() or stamp.read_text().strip() != VERSIONS:
        what = ", ".join(missing) if missing else f"a build of {VERSIONS}"
        raise NotBuilt(
            f"the real Kubernetes control plane is not built ({what} missing in {where}): "
            "run `make control-plane` (testbed/build.sh) first"
        )
    return where


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- certificates ----------------------------------------------------------------------------


def _write_pki(d: Path) -> None:
    """A CA; the serving certificates of the apiserver and of kwok's kubelet endpoint; the
    apiserver's client certificate for the kubelets; the ServiceAccount signing key pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(hours=1), now + dt.timedelta(days=7)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jupyter-mlops test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def issue(stem: str, subject: list[Any], usage: Any, names: Any = ()) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(subject))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        (d / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (d / f"{stem}.key").write_bytes(_pem_key(key))

    cn = NameOID.COMMON_NAME
    apiserver_names = (
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    )
    issue(
        "apiserver",
        [x509.NameAttribute(cn, "kube-apiserver")],
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName(n) for n in apiserver_names] + _ip_names("127.0.0.1", "10.96.0.1"),
    )
    # The kubelet endpoint kwok serves for every node, at the nodes' address.
    issue(
        "kubelet",
        [x509.NameAttribute(cn, "kwok-kubelet")],
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), *_ip_names(NODE_IP)],
    )
    issue(
        "apiserver-kubelet-client",
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            x509.NameAttribute(cn, "kube-apiserver-kubelet-client"),
        ],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (d / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "ca.key").write_bytes(_pem_key(ca_key))
    (d / "sa.key").write_bytes(_pem_key(sa_key))
    (d / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _pem_key(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return data


def _ip_names(*ips: str) -> list[Any]:
    import ipaddress

    from cryptography import x509

    return [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]


# -- process handling ------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_LIVE: set[ControlPlane] = set()
_LIVE_LOCK = threading.Lock()
_HOOKED = False


def _load_prctl() -> Any:
    """libc's prctl, looked up in the parent: the child after fork must not dlopen."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _child_setup() -> None:
    """In the child before exec: own process group, and SIGKILL when the parent dies.

    Only two system calls, nothing that takes a lock (it runs between fork and exec).
    """
    os.setsid()
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


_PREFIX = "jupyter-mlops-plane-"


def remove_orphans() -> None:
    """Remove the directories of planes whose process was killed outright (SIGKILL)."""
    for d in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        try:
            owner = int((d / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass  # someone else's live process


def _stop_all() -> None:
    with _LIVE_LOCK:
        planes = list(_LIVE)
    for plane in planes:
        plane.stop()


def _install_hooks() -> None:
    """Stop every plane at interpreter exit and on SIGTERM (then let SIGTERM do its job)."""
    global _HOOKED
    if _HOOKED:
        return
    _HOOKED = True
    atexit.register(_stop_all)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: FrameType | None) -> None:
        _stop_all()
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)


class _Process:
    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_child_setup,
                close_fds=True,
            )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def kill(self, grace: float) -> None:
        pgid = self.popen.pid  # setsid: the group id is the child's pid
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)  # whatever is left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


# -- the plane -------------------------------------------------------------------------------


def node(
    name: str,
    cpu: str,
    memory: str,
    *,
    gpus: int = 0,
    pod_cidr: str = "10.244.0.0/24",
    labels: dict[str, str] | None = None,
    taints: list[Obj] | None = None,
) -> Obj:
    """A fake node for kwok, with realistic capacity and allocatable.

    Its InternalIP is `NODE_IP`, where kwok serves the kubelet API for all nodes (one
    listener: kwok takes a single --server-address), so the apiserver reaches it for logs.
    """
    capacity = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION: "fake"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                **(labels or {}),
            },
        },
        # kwok gives the node's pods addresses from its podCIDR.
        "spec": {"taints": taints or [], "podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "addresses": [
                {"type": "InternalIP", "address": NODE_IP},
                {"type": "Hostname", "address": name},
            ],
        },
    }


DEFAULT_NODES: tuple[Obj, ...] = (
    node("cpu-1", "4", "16Gi", pod_cidr="10.244.1.0/24"),
    node("cpu-2", "4", "16Gi", pod_cidr="10.244.2.0/24"),
    node(
        "gpu-1",
        "8",
        "64Gi",
        gpus=2,
        pod_cidr="10.244.3.0/24",
        labels={"nvidia.com/gpu.present": "true", "accelerator": "nvidia-tesla-t4"},
        taints=[GPU_TAINT],
    ),
)


class ControlPlane:
    """etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on loopback."""

    def __init__(
        self,
        bin_dir: Path | None = None,
        *,
        nodes: tuple[Obj, ...] = DEFAULT_NODES,
        keep_dir: bool = False,
    ) -> None:
        self.bin_dir = find_binaries(bin_dir)
        self.nodes = nodes
        self.keep_dir = keep_dir
        self._dir: Path | None = None
        self.token = secrets.token_hex(16)
        self.port = 0
        self.start_seconds: float | None = None
        self._procs: list[_Process] = []
        self._ssl: ssl.SSLContext | None = None
        self.kubelet_port = 0
        # (namespace, pod) -> the containers whose log files kwok's Logs object names.
        self._logs: dict[tuple[str, str], list[str]] = {}
        self._logs_lock = threading.Lock()
        self._etcd_url = ""
        # How many apiservers were started after the first (names their log files).
        self._restarts = 0

    # -- public ----------------------------------------------------------------------------

    @property
    def dir(self) -> Path:
        """The plane's directory: certificates, kubeconfigs, etcd data and one log per process."""
        if self._dir is None:
            remove_orphans()
            self._dir = Path(tempfile.mkdtemp(prefix=_PREFIX))
            (self._dir / "owner.pid").write_text(str(os.getpid()))
        return self._dir

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (namespace `default`)."""
        return self.dir / "admin.kubeconfig"

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> ControlPlane:
        """Start every component and wait until the plane can run pods."""
        _install_hooks()
        with _LIVE_LOCK:
            _LIVE.add(self)
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            self._prepare()
            self._start_etcd_and_apiserver()
            self._wait("kube-apiserver /readyz", deadline, self._ready)
            self.api("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", LOGS_CRD)
            self._start_controllers()
            for obj in self.nodes:
                self.api("POST", "/api/v1/nodes", obj)
            # kwok lists its Logs objects once at start: the kind must be served by then.
            self._wait("kwok's Logs kind to be established", deadline, self._logs_served)
            self._start_kwok()
            self._wait("the nodes to be Ready", deadline, self._nodes_ready)
            self._wait(
                "the ServiceAccount default/default",
                deadline,
                lambda: self.exists("/api/v1/namespaces/default/serviceaccounts/default"),
            )
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Kill every component's process group; remove the directory unless kept."""
        for proc in reversed(self._procs):
            proc.kill(grace=5.0)
        self._procs.clear()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if self._dir is not None and not self.keep_dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver as an outage would; etcd and the other components keep running
        (and keep retrying). `start_apiserver` brings it back."""
        proc = self._apiserver()
        if proc is None:
            raise RuntimeError("kube-apiserver is not running")
        proc.kill(grace=5.0)
        self._procs.remove(proc)

    def start_apiserver(self, timeout: float = 60.0) -> None:
        """Start kube-apiserver again, on the same port and etcd, and wait until it is ready:
        every object is as it was in etcd, and clients reconnect to the same address."""
        if self._apiserver() is not None:
            raise RuntimeError("kube-apiserver is running already")
        self._restarts += 1
        log = self.dir / f"kube-apiserver.{self._restarts}.log"
        proc = _Process(
            "kube-apiserver",
            [str(self.bin_dir / "kube-apiserver"), *self._apiserver_args(self.port)],
            log,
        )
        self._procs.insert(1, proc)  # after etcd, as at start: stop() kills in reverse
        self._wait("kube-apiserver /readyz", time.monotonic() + timeout, self._ready)

    def restart_apiserver(self, timeout: float = 60.0) -> None:
        self.stop_apiserver()
        self.start_apiserver(timeout)

    @contextlib.contextmanager
    def another_apiserver(self, timeout: float = 60.0) -> Iterator[Path]:
        """A second kube-apiserver on the same etcd (as in a cluster with several), on a port
        of its own; yields an admin kubeconfig for it. It serves the same objects, also while
        the first one is stopped, and is stopped on leaving."""
        self._restarts += 1
        port = free_port()
        args = self._apiserver_args(port)
        # Its own directory for the certificates it makes for itself.
        certs = self.dir / f"apiserver-certs.{self._restarts}"
        args = [f"--cert-dir={certs}" if a.startswith("--cert-dir=") else a for a in args]
        log = self.dir / f"kube-apiserver.{self._restarts}.log"
        name = f"kube-apiserver.{self._restarts}"
        proc = _Process(name, [str(self.bin_dir / "kube-apiserver"), *args], log)
        self._procs.append(proc)  # so that stop() kills it too
        url = f"https://127.0.0.1:{port}"
        try:
            self._wait_alone(proc, "the second kube-apiserver /readyz", timeout, url)
            kubeconfig = self.write_kubeconfig(self.dir / f"admin.{port}.kubeconfig")
            config = json.loads(kubeconfig.read_text())
            config["clusters"][0]["cluster"]["server"] = url
            kubeconfig.write_text(json.dumps(config, indent=2))
            yield kubeconfig
        finally:
            proc.kill(grace=5.0)
            with contextlib.suppress(ValueError):
                self._procs.remove(proc)

    def _apiserver(self) -> _Process | None:
        return next((p for p in self._procs if p.name == "kube-apiserver"), None)

    def _wait_alone(self, proc: _Process, what: str, timeout: float, url: str) -> None:
        """Wait until the apiserver `proc` answers ready at `url`, whatever the others do."""
        deadline = time.monotonic() + timeout
        while True:
            if not proc.alive():
                raise StartFailed(f"{what}: it exited; its log ({proc.log}):\n{proc.tail()}")
            with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
                if self._ready(url):
                    return
            if time.monotonic() > deadline:
                raise StartFailed(f"timed out waiting for {what}:\n{proc.tail(10)}")
            time.sleep(0.2)

    def pids(self) -> list[int]:
        return [p.popen.pid for p in self._procs if p.alive()]

    def write_kubeconfig(
        self, path: Path, *, namespace: str = "default", token: str | None = None
    ) -> Path:
        """A kubeconfig for the admin (or for `token`), acting in `namespace`."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "control-plane",
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": "user", "user": {"token": token or self.token}}],
            "contexts": [
                {
                    "name": "control-plane",
                    "context": {"cluster": "control-plane", "user": "user", "namespace": namespace},
                }
            ],
            "current-context": "control-plane",
        }
        path.write_text(json.dumps(config, indent=2))
        return path

    def kubectl(
        self, *args: str, kubeconfig: Path | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run the built kubectl against this plane (admin unless `kubeconfig`)."""
        argv = [str(self.bin_dir / "kubectl"), f"--kubeconfig={kubeconfig or self.kubeconfig}"]
        result = subprocess.run(
            [*argv, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def api(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        *,
        content_type: str = "application/json",
    ) -> Obj:
        """One admin request to the apiserver, the JSON answer decoded."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        with urllib.request.urlopen(request, timeout=10, context=self._context()) as answer:
            decoded: Obj = json.loads(answer.read() or b"{}")
            return decoded

    # -- container logs --------------------------------------------------------------------

    def log_file(self, namespace: str, pod: str, container: str, *, previous: bool = False) -> Path:
        """The file kwok serves as the log of `container` of `pod` (`kubectl logs`; with
        `previous`, `kubectl logs --previous`), made empty if new; `follow` sees lines appended
        to it. Lines are in the container runtime's (CRI) format: `append_log` writes them.

        The pod need not exist yet. Other pods' logs are empty (kwok's ClusterLogs for every
        pod) and they have no previous log.
        """
        with self._logs_lock:
            current, before = self._container_logs(namespace, pod, container)
        return before if previous else current

    def append_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *lines: str,
        previous: bool = False,
        stream: str = "stdout",
    ) -> Path:
        """Append `lines` to the container's log as the container runtime writes them, now."""
        path = self.log_file(namespace, pod, container, previous=previous)
        with open(path, "a", encoding="utf-8") as out:
            out.write("".join(cri_line(line, stream) for line in lines))
        return path

    def _container_logs(self, namespace: str, pod: str, container: str) -> tuple[Path, Path]:
        # By the namespace's uid: a namespace made again under the same name (a later test's)
        # has neither the old Logs object nor the old lines.
        uid = str(self.api("GET", f"/api/v1/namespaces/{namespace}")["metadata"]["uid"])
        where = self._log_dir(uid, pod)
        current, before = where / f"{container}.log", where / f"{container}.previous.log"
        containers = self._logs.setdefault((uid, pod), [])
        if container in containers:
            return current, before
        where.mkdir(parents=True, exist_ok=True)
        current.touch()
        before.touch()
        containers.append(container)
        self._put_logs(namespace, uid, pod, containers)
        self._wait_served(namespace, pod, container)
        return current, before

    def _log_dir(self, namespace_uid: str, pod: str) -> Path:
        return self.dir / "logs" / namespace_uid / pod

    def _put_logs(self, namespace: str, uid: str, pod: str, containers: list[str]) -> None:
        """kwok's Logs object for the pod: one log and one previous log per container."""
        where = self._log_dir(uid, pod)
        spec = {
            "logs": [
                {
                    "containers": [c],
                    "logsFile": str(where / f"{c}.log"),
                    "previousLogsFile": str(where / f"{c}.previous.log"),
                }
                for c in containers
            ]
        }
        path = f"/apis/kwok.x-k8s.io/v1alpha1/namespaces/{namespace}/logs"
        if len(containers) == 1:
            body = {
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "Logs",
                "metadata": {"name": pod, "namespace": namespace},
                "spec": spec,
            }
            try:
                self.api("POST", path, body)
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 409:
                    raise
        self.api(
            "PATCH",
            f"{path}/{pod}",
            {"spec": spec},
            content_type="application/merge-patch+json",
        )

    def _wait_served(self, namespace: str, pod: str, container: str, timeout: float = 20) -> None:
        """Until kwok's informer has the Logs object: its kubelet endpoint answers for it.

        Asked for the previous log, which only the Logs object has (every pod's ClusterLogs
        answers the current log, empty, from the start)."""
        url = (
            f"https://{NODE_IP}:{self.kubelet_port}/containerLogs/{namespace}/{pod}/{container}"
            "?previous=true"
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5, context=self._context()) as answer:
                    answer.read()
                    return
            except urllib.error.HTTPError as exc:
                why = exc.read().decode(errors="replace")
            except urllib.error.URLError as exc:
                why = str(exc.reason)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"kwok does not serve the log of {namespace}/{pod}/{container}: {why}"
                )
            time.sleep(0.05)

    # -- steps -----------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=str(self.ca_file))
        return self._ssl

    def _prepare(self) -> None:
        d = self.dir
        self._logs.clear()
        _write_pki(d)
        self.kcm_token, self.scheduler_token = secrets.token_hex(16), secrets.token_hex(16)
        (d / "tokens.csv").write_text(
            f'{self.token},admin,admin,"system:masters"\n'
            f"{self.kcm_token},system:kube-controller-manager,kcm\n"
            f"{self.scheduler_token},system:kube-scheduler,scheduler\n"
        )
        self.port = free_port()
        self.write_kubeconfig(self.kubeconfig)
        self.write_kubeconfig(d / "kcm.kubeconfig", token=self.kcm_token)
        self.write_kubeconfig(d / "scheduler.kubeconfig", token=self.scheduler_token)

    def _spawn(self, name: str, *args: str) -> _Process:
        proc = _Process(name, [str(self.bin_dir / name), *args], self.dir / f"{name}.log")
        self._procs.append(proc)
        return proc

    def _start_etcd_and_apiserver(self) -> None:
        d = self.dir
        client, peer = free_port(), free_port()
        self._spawn(
            "etcd",
            "--name=default",
            f"--data-dir={d / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        )
        self._etcd_url = f"http://127.0.0.1:{client}"
        self._spawn("kube-apiserver", *self._apiserver_args(self.port))

    def _apiserver_args(self, port: int) -> list[str]:
        """kube-apiserver's flags, serving on `port` from this plane's etcd."""
        d = self.dir
        return [
            f"--etcd-servers={self._etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={d / 'apiserver-certs'}",
            f"--tls-cert-file={d / 'apiserver.crt'}",
            f"--tls-private-key-file={d / 'apiserver.key'}",
            f"--client-ca-file={d / 'ca.crt'}",
            # Published for aggregated API servers (and so the controllers stop asking for it).
            f"--requestheader-client-ca-file={d / 'ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--token-auth-file={d / 'tokens.csv'}",
            f"--service-account-issuer={ISSUER}",
            f"--service-account-key-file={d / 'sa.pub'}",
            f"--service-account-signing-key-file={d / 'sa.key'}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
            "DefaultStorageClass,ResourceQuota",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            # Loopback cannot be an Endpoints address: the "kubernetes" Service gets none.
            "--endpoint-reconciler-type=none",
            # Logs and follow go to kwok's kubelet endpoint, at the node's InternalIP.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-certificate-authority={d / 'ca.crt'}",
            f"--kubelet-client-certificate={d / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={d / 'apiserver-kubelet-client.key'}",
            "--profiling=false",
            "--v=1",
        ]

    def _start_controllers(self) -> None:
        d = self.dir
        kcm = str(d / "kcm.kubeconfig")
        self._spawn(
            "kube-controller-manager",
            f"--kubeconfig={kcm}",
            f"--authentication-kubeconfig={kcm}",
            f"--authorization-kubeconfig={kcm}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            f"--cert-dir={d / 'kcm-certs'}",
            f"--service-account-private-key-file={d / 'sa.key'}",
            f"--root-ca-file={d / 'ca.crt'}",
            f"--cluster-signing-cert-file={d / 'ca.crt'}",
            f"--cluster-signing-key-file={d / 'ca.key'}",
            "--use-service-account-credentials=true",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--leader-elect=false",
            "--controllers=*",
            "--v=1",
        )
        sched = str(d / "scheduler.kubeconfig")
        self._spawn(
            "kube-scheduler",
            f"--kubeconfig={sched}",
            f"--authentication-kubeconfig={sched}",
            f"--authorization-kubeconfig={sched}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            f"--cert-dir={d / 'scheduler-certs'}",
            "--leader-elect=false",
            "--v=1",
        )

    def _start_kwok(self) -> None:
        d = self.dir
        self.kubelet_port = free_port()
        (d / "logs").mkdir(exist_ok=True)
        (d / "logs" / "empty.log").touch()
        config = d / "kwok-logs.yaml"
        config.write_text(json.dumps(_every_pods_logs(d / "logs")))
        self._spawn(
            "kwok",
            f"--kubeconfig={self.kubeconfig}",
            f"--config={KWOK_POD_STAGES}",
            f"--config={LIFECYCLE_STAGES}",
            f"--config={config}",
            # Per-pod Logs objects come and go with the tests; kwok watches them.
            "--enable-crds=Logs",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
            "--cidr=10.244.0.0/16",
            f"--node-ip={NODE_IP}",
            f"--node-port={self.kubelet_port}",
            f"--server-address={NODE_IP}:{self.kubelet_port}",
            f"--tls-cert-file={d / 'kubelet.crt'}",
            f"--tls-private-key-file={d / 'kubelet.key'}",
            "--node-lease-duration-seconds=40",
        )

    def _logs_served(self) -> bool:
        crd = self.api(
            "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/logs.kwok.x-k8s.io"
        )
        conditions = (crd.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    def _wait(self, what: str, deadline: float, check: Callable[[], bool]) -> None:
        delay = 0.05
        while True:
            for proc in self._procs:
                if not proc.alive():
                    raise StartFailed(
                        f"{proc.name} exited ({proc.popen.returncode}) while waiting for "
                        f"{what}; its log ({proc.log}):\n{proc.tail()}"
                    )
            with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
                if check():
                    return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}:\n{p.tail(10)}" for p in self._procs)
                raise StartFailed(f"timed out waiting for {what}\n{logs}")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _ready(self, url: str | None = None) -> bool:
        request = urllib.request.Request(
            (url or self.url) + "/readyz", headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2, context=self._context()) as answer:
                return bool(answer.status == 200)
        except urllib.error.HTTPError:
            return False

    def exists(self, path: str) -> bool:
        """Whether the admin's GET of `path` finds something (404: no)."""
        try:
            self.api("GET", path)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise
        return True

    def _nodes_ready(self) -> bool:
        items = self.api("GET", "/api/v1/nodes").get("items") or []
        wanted = {n["metadata"]["name"] for n in self.nodes}
        ready = set()
        for item in items:
            conditions = (item.get("status") or {}).get("conditions") or []
            taints = (item.get("spec") or {}).get("taints") or []
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions) and not any(
                t["key"].startswith("node.kubernetes.io/") for t in taints
            ):
                ready.add(item["metadata"]["name"])
        return wanted <= ready
