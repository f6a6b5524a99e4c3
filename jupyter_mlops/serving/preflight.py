"""Checks before an InferenceService is applied: what would make it fail, said before it does.

Each check reads what this identity may read and says so when it could not check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..errors import Forbidden, NotFound
from ..kube.kinds import Kind
from .manifest import DEFAULT_RUNTIME, MODEL_ANNOTATIONS
from .models import Finding, ModelRef

if TYPE_CHECKING:
    from ..kube.cluster import Cluster, Obj

GROUP = "serving.kserve.io"
INFERENCE_SERVICES = Kind("inferenceservices", "InferenceService", GROUP, "v1beta1", custom=True)
SERVING_RUNTIMES = Kind("servingruntimes", "ServingRuntime", GROUP, "v1alpha1", custom=True)
CLUSTER_RUNTIMES = Kind(
    "clusterservingruntimes", "ClusterServingRuntime", GROUP, "v1alpha1", False, custom=True
)
SERVICE_ACCOUNTS = Kind("serviceaccounts", "ServiceAccount")
SECRETS = Kind("secrets", "Secret")
QUOTAS = Kind("resourcequotas", "ResourceQuota")
#: What KServe gives a predictor container when neither the spec nor the runtime says.
KSERVE_DEFAULT = {
    "requests": {"cpu": "1", "memory": "2Gi"},
    "limits": {"cpu": "1", "memory": "2Gi"},
}
#: Schemes KServe's storage initializer reads.
STORAGE_SCHEMES = {"s3", "gs", "pvc", "http", "https", "hdfs", "webhdfs", "oci", "hf", "abfs"}
S3_ENDPOINT = "serving.kserve.io/s3-endpoint"
S3_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
#: Python packages whose major version a runtime declares as a model format's version.
PACKAGE_FORMATS = {
    "mlflow": "mlflow",
    "scikit-learn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
}
_PIN = re.compile(r"([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*==\s*([0-9][^\s;,]*)")


def kserve_installed(cluster: Cluster) -> bool:
    """Whether the cluster serves KServe's InferenceService API."""
    try:
        cluster.request("GET", f"/apis/{GROUP}/v1beta1")
    except NotFound:
        return False
    return True


def _readable(read: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """What `read(*args)` returns, or None and why it could not (forbidden or missing)."""
    try:
        return read(*args), None
    except Forbidden as exc:
        return None, f"forbidden: {exc.message}"
    except NotFound:
        return None, "missing"


# -- runtime -------------------------------------------------------------------------------


def _serves_mlflow(runtime: Obj) -> int | None:
    """The priority with which a runtime serves MLflow models over v2, or None if it does not."""
    spec = runtime.get("spec") or {}
    if spec.get("disabled") or "v2" not in (spec.get("protocolVersions") or ["v1"]):
        return None
    for fmt in spec.get("supportedModelFormats") or []:
        if fmt.get("name") == "mlflow":
            return int(fmt.get("priority") or 0)
    return None


def choose_runtime(cluster: Cluster, namespace: str) -> str:
    """The runtime KServe would pick for an MLflow model: a namespace's own first, then by
    priority; `kserve-mlserver` when none can be read."""
    ranked: list[tuple[int, int, str]] = []
    for own, kind in ((1, SERVING_RUNTIMES), (0, CLUSTER_RUNTIMES)):
        listed, _ = _readable(cluster.list_all, kind, namespace)
        for runtime in listed.items if listed is not None else []:
            priority = _serves_mlflow(runtime)
            if priority is not None:
                ranked.append((own, priority, runtime["metadata"]["name"]))
    if not ranked:
        return DEFAULT_RUNTIME
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return ranked[0][2]


def find_runtime(cluster: Cluster, namespace: str, name: str) -> tuple[Obj | None, list[Finding]]:
    """The ServingRuntime (which wins, as in KServe) or ClusterServingRuntime named `name`."""
    why: list[str] = []
    for kind, where in ((SERVING_RUNTIMES, f"namespace {namespace}"), (CLUSTER_RUNTIMES, "")):
        found, reason = _readable(cluster.get, kind, name, namespace)
        if found is not None:
            return found, []
        if reason != "missing":
            why.append(f"{kind.plural}{' in ' + where if where else ''} ({reason})")
    if why:
        return None, [
            Finding(
                "runtime",
                "info",
                f"could not check that the runtime {name!r} exists: not allowed to read "
                + "; ".join(why),
                "ask a cluster admin which ClusterServingRuntimes serve mlflow; "
                "kubectl get clusterservingruntimes",
            )
        ]
    return None, [
        Finding(
            "runtime",
            "error",
            f"no ServingRuntime in namespace {namespace} and no ClusterServingRuntime is named "
            f"{name!r}: KServe would leave the InferenceService unready",
            f"name another runtime (runtime='…'), or install KServe's {DEFAULT_RUNTIME} "
            "ClusterServingRuntime (config/runtimes in KServe's release)",
        )
    ]


def flavor(ref: ModelRef, runtime: Obj | None, name: str) -> list[Finding]:
    """The model can be loaded by MLServer's MLflow runtime, and the runtime serves it."""
    found: list[Finding] = []
    if "python_function" not in ref.flavors:
        found.append(
            Finding(
                "flavor",
                "error",
                f"{ref.label} has no python_function flavor (only "
                f"{', '.join(ref.flavors) or 'none'}): MLServer's MLflow runtime loads models "
                "through mlflow.pyfunc",
                "log the model with a flavor that writes python_function (mlflow.sklearn, "
                "mlflow.pyfunc, …)",
            )
        )
    if runtime is None:
        return found
    spec = runtime.get("spec") or {}
    formats = sorted({str(f.get("name")) for f in spec.get("supportedModelFormats") or []})
    protocols = spec.get("protocolVersions") or ["v1"]
    if spec.get("disabled"):
        found.append(
            Finding("runtime", "error", f"the runtime {name!r} is disabled", "name another one")
        )
    if "mlflow" not in formats:
        found.append(
            Finding(
                "flavor",
                "error",
                f"the runtime {name!r} serves {', '.join(formats) or 'no formats'}, not mlflow",
                f"name a runtime that serves mlflow ({DEFAULT_RUNTIME})",
            )
        )
    if "v2" not in protocols:
        found.append(
            Finding(
                "runtime",
                "error",
                f"the runtime {name!r} speaks {', '.join(protocols)}, not the v2 protocol",
                f"name a runtime that speaks v2 ({DEFAULT_RUNTIME})",
            )
        )
    return found


def _pins(ref: ModelRef) -> dict[str, str]:
    pins = {}
    for line in ref.requirements:
        match = _PIN.match(line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    if ref.mlflow_version:
        pins["mlflow"] = ref.mlflow_version
    return pins


def requirements(ref: ModelRef, runtime: Obj | None, name: str) -> list[Finding]:
    """A warning for each library the model pinned at a major version the runtime does not
    list for that model format (its image carries other versions)."""
    if runtime is None:
        return []
    spec = runtime.get("spec") or {}
    listed: dict[str, list[str]] = {}
    for fmt in spec.get("supportedModelFormats") or []:
        if fmt.get("version"):
            listed.setdefault(str(fmt.get("name")), []).append(str(fmt["version"]))
    images = ", ".join(str(c.get("image")) for c in spec.get("containers") or [] if c.get("image"))
    found = []
    for package, version in sorted(_pins(ref).items()):
        fmt = PACKAGE_FORMATS.get(package)
        versions = listed.get(fmt or "", [])
        major = version.split(".")[0]
        if not versions or major in versions:
            continue
        found.append(
            Finding(
                "requirements",
                "warning",
                f"{ref.label} was logged with {package} {version}; the runtime {name!r} "
                f"({images or 'no image named'}) lists {fmt} versions {', '.join(versions)} "
                "only, so its libraries may fail to load the model or predict differently",
                f"serve with a runtime whose image carries {package} {major}.x (a ServingRuntime "
                f"listing {fmt} version {major!r}), or log the model with the runtime's "
                f"{package}",
            )
        )
    return found


# -- storage and its credentials -----------------------------------------------------------


def storage(ref: ModelRef) -> list[Finding]:
    """The storage URI is one KServe's storage initializer can read."""
    if ref.storage_uri is None:
        return [
            Finding(
                "storage",
                "error",
                f"{ref.label} is at {ref.download_uri}, which KServe's storage initializer "
                "cannot read, and the tracking server's artifact store is not known",
                "set c.MLOpsConfig.mlflow_artifacts_destination (or "
                "$MLFLOW_ARTIFACTS_DESTINATION) to the server's --artifacts-destination, "
                "e.g. 's3://mlflow/artifacts'",
            )
        ]
    scheme = urlparse(ref.storage_uri).scheme
    if scheme in ("", "file"):
        return [
            Finding(
                "storage",
                "error",
                f"{ref.label} is on this machine's disk ({ref.storage_uri}): the cluster "
                "cannot read it",
                "log models to a tracking server whose artifacts are in s3:// or gs:// storage",
            )
        ]
    if scheme not in STORAGE_SCHEMES:
        return [
            Finding(
                "storage",
                "warning",
                f"KServe's storage initializer may not read {scheme}:// ({ref.storage_uri})",
            )
        ]
    return []


def service_account(
    cluster: Cluster, namespace: str, name: str | None, storage_uri: str | None
) -> list[Finding]:
    """For s3:// storage: the ServiceAccount exists and lists a Secret with S3 credentials."""
    if not (storage_uri or "").startswith("s3://"):
        return []
    fix = (
        "create a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, annotated "
        f"{S3_ENDPOINT} (and serving.kserve.io/s3-usehttps), a ServiceAccount listing it under "
        "secrets, and pass service_account='…' (or set c.MLOpsConfig.serving_service_account)"
    )
    if not name:
        return [
            Finding(
                "service-account",
                "warning",
                "the model is in s3:// storage but no ServiceAccount is named: the storage "
                "initializer gets no credentials unless the namespace's default account has them",
                fix,
            )
        ]
    account, why = _readable(cluster.get, SERVICE_ACCOUNTS, name, namespace)
    if why == "missing":
        message = f"the ServiceAccount {name!r} does not exist in namespace {namespace}"
        return [Finding("service-account", "error", message, fix)]
    if account is None:
        return [Finding("service-account", "info", f"could not read ServiceAccount {name!r}")]
    secrets = [str(s.get("name")) for s in account.get("secrets") or [] if s.get("name")]
    if not secrets:
        message = f"the ServiceAccount {name!r} lists no secrets, where KServe finds credentials"
        return [Finding("service-account", "error", message, fix)]
    return _secrets(cluster, namespace, name, secrets, fix)


def _secrets(
    cluster: Cluster, namespace: str, account: str, names: list[str], fix: str
) -> list[Finding]:
    found: list[Finding] = []
    readable: list[Obj] = []
    for secret_name in names:
        secret, why = _readable(cluster.get, SECRETS, secret_name, namespace)
        if why == "missing":
            message = f"the Secret {secret_name!r} that ServiceAccount {account!r} lists is missing"
            found.append(Finding("service-account", "error", message, fix))
        elif secret is None:
            found.append(Finding("service-account", "info", f"could not read {secret_name!r}"))
        else:
            readable.append(secret)
    if not readable or found:
        return found
    # Values never leave the server (Cluster redacts them); key names are enough here.
    if not any(
        set(S3_KEYS) <= set((s.get("data") or {}) | (s.get("stringData") or {})) for s in readable
    ):
        message = f"no Secret of ServiceAccount {account!r} holds {' and '.join(S3_KEYS)}"
        return [Finding("service-account", "error", message, fix)]
    annotated = [
        s for s in readable if S3_ENDPOINT in ((s.get("metadata") or {}).get("annotations") or {})
    ]
    if not annotated:
        return [
            Finding(
                "service-account",
                "warning",
                f"no Secret of ServiceAccount {account!r} is annotated {S3_ENDPOINT}: the "
                "storage initializer will call AWS's own endpoint",
                f"for MinIO or another S3 store, annotate the Secret with {S3_ENDPOINT}",
            )
        ]
    return []


# -- quota ---------------------------------------------------------------------------------


def quota(
    cluster: Cluster, namespace: str, wanted: dict[str, dict[str, str]], new: bool
) -> list[Finding]:
    """Room in every ResourceQuota of the namespace for one more predictor pod (and service)."""
    from ..kube.doctor_pods import quantity

    quotas, why = _readable(cluster.list_all, QUOTAS, namespace)
    if quotas is None:
        return [Finding("quota", "info", f"could not read the namespace's quotas ({why})")]
    need: dict[str, float] = {"pods": 1.0}
    if new:
        need[f"count/{INFERENCE_SERVICES.plural}.{GROUP}"] = 1.0
    for part in ("requests", "limits"):
        for key, value in (wanted.get(part) or {}).items():
            need[f"{part}.{key}"] = quantity(value)
    for key in ("cpu", "memory"):
        if f"requests.{key}" in need:
            need[key] = need[f"requests.{key}"]
    found = []
    for q in quotas.items:
        hard = (q.get("status") or {}).get("hard") or (q.get("spec") or {}).get("hard") or {}
        used = (q.get("status") or {}).get("used") or {}
        for key, limit in sorted(hard.items()):
            left = quantity(limit) - quantity(used.get(key, "0"))
            if key.startswith("limits.") and key not in need and key[7:] in ("cpu", "memory"):
                found.append(_no_limit(q, key))
            elif key in need and need[key] > left + 1e-9:
                found.append(_no_room(q, key, need[key], limit, used.get(key, "0")))
    return found


def _no_room(q: Obj, key: str, need: float, hard: str, used: str) -> Finding:
    name = q["metadata"]["name"]
    return Finding(
        "quota",
        "error",
        f"ResourceQuota {name} has no room: {key} needs {need:g} more, but {used} of {hard} "
        "is used",
        "ask for less (resources={…}), free some (delete unused services or pods), or ask "
        "the namespace's owner to raise the quota",
    )


def _no_limit(q: Obj, key: str) -> Finding:
    return Finding(
        "quota",
        "warning",
        f"ResourceQuota {q['metadata']['name']} limits {key}, so the predictor pod must set "
        f"{key}; neither the request nor the runtime does, so only a LimitRange's default "
        "can let it start",
        f"pass resources={{'limits': {{'{key[7:]}': '…'}}}}",
    )


def resources_of(
    given: dict[str, dict[str, str]] | None, runtime: Obj | None
) -> dict[str, dict[str, str]]:
    """What the predictor container will ask for: the spec's, else the runtime's, else KServe's
    default."""
    if given:
        requests = dict(given.get("requests") or given.get("limits") or {})
        return {"requests": requests, "limits": dict(given.get("limits") or {})}
    for container in ((runtime or {}).get("spec") or {}).get("containers") or []:
        if container.get("name") == "kserve-container" and container.get("resources"):
            res = container["resources"]
            return {
                "requests": dict(res.get("requests") or {}),
                "limits": dict(res.get("limits") or {}),
            }
    return {k: dict(v) for k, v in KSERVE_DEFAULT.items()}


def existing(
    cluster: Cluster, namespace: str, name: str, ref: ModelRef
) -> tuple[bool, list[Finding]]:
    """Whether an InferenceService of that name exists, and what applying would change."""
    current, why = _readable(cluster.get, INFERENCE_SERVICES, name, namespace)
    if current is None:
        return False, [] if why == "missing" else [
            Finding("exists", "info", f"could not read InferenceService {name!r} ({why})")
        ]
    annotations = (current.get("metadata") or {}).get("annotations") or {}
    model = annotations.get(MODEL_ANNOTATIONS["model"])
    version = annotations.get(MODEL_ANNOTATIONS["version"])
    if model is None:
        return True, [
            Finding(
                "exists",
                "warning",
                f"InferenceService {name!r} exists and was not made from the MLflow registry "
                "here: applying takes over the fields this manifest sets",
                "choose another name=…",
            )
        ]
    if (model, version) != (ref.name, ref.version):
        message = f"updates InferenceService {name!r} from {model} v{version} to {ref.label}"
        return True, [Finding("exists", "info", message)]
    return True, []


def check(
    cluster: Cluster,
    namespace: str,
    name: str,
    ref: ModelRef,
    *,
    runtime: str,
    account: str | None,
    wanted: dict[str, dict[str, str]] | None,
) -> tuple[str, tuple[Finding, ...]]:
    """Every check for serving `ref` as `name`; the runtime chosen (for "auto") and findings."""
    findings: list[Finding] = []
    runtime_obj: Obj | None = None
    new = True
    if not kserve_installed(cluster):
        chosen = DEFAULT_RUNTIME if runtime == "auto" else runtime
        findings.append(NO_KSERVE)
    else:
        chosen = choose_runtime(cluster, namespace) if runtime == "auto" else runtime
        runtime_obj, found = find_runtime(cluster, namespace, chosen)
        findings += found
        new, found = existing(cluster, namespace, name, ref)
        findings += found
    findings += flavor(ref, runtime_obj, chosen)
    findings += storage(ref)
    findings += service_account(cluster, namespace, account, ref.storage_uri)
    findings += requirements(ref, runtime_obj, chosen)
    findings += quota(cluster, namespace, resources_of(wanted, runtime_obj), new)
    return chosen, tuple(findings)


NO_KSERVE = Finding(
    "kserve",
    "error",
    "the cluster serves no InferenceServices (serving.kserve.io/v1beta1): KServe is not installed",
    "ask the cluster's admin to install KServe, or serve on loopback with mode='local'",
)
