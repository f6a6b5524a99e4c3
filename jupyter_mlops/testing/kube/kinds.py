"""What the real server does per kind on write: defaults, validation, derived fields."""

from __future__ import annotations

import base64
import itertools
import random
import re
from typing import Any

from .resources import ResourceType
from .status import ApiError, bad_request, invalid

Obj = dict[str, Any]

_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789"

# Kinds whose names must be DNS-1123 labels rather than subdomains.
_LABEL_NAMED = {("", "namespaces"), ("", "services")}
# Kinds whose names only need to be valid path segments.
_PATH_NAMED = {
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("", "events"),
}


POD_UPDATE_FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def random_suffix(length: int = 5) -> str:
    """The random tail of generated names."""
    return "".join(random.choice(_SUFFIX_CHARS) for _ in range(length))


def name_problem(rt: ResourceType, name: str) -> str | None:
    """Why a name is not acceptable for the kind, worded as the real validation."""
    if rt.key in _PATH_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            return f"Invalid value: \"{name}\": may not contain '/' or '%'"
        return None
    if rt.key in _LABEL_NAMED:
        if len(name) > 63:
            return f'Invalid value: "{name}": must be no more than 63 characters'
        if not _LABEL_RE.match(name):
            return (
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                "alphanumeric characters or '-', and must start and end with an alphanumeric "
                "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        return None
    if len(name) > 253:
        return f'Invalid value: "{name}": must be no more than 253 characters'
    if not _SUBDOMAIN_RE.match(name):
        return (
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return None


def _image_pull_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    if ":" not in tail or tail.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_container(container: Obj) -> None:
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def default_pod_spec(spec: Obj) -> None:
    """Pod spec defaults the real server fills in."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    if "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec.get("serviceAccount", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    for group in ("containers", "initContainers"):
        for container in spec.get(group) or []:
            if isinstance(container, dict):
                _default_container(container)
    spec.setdefault(
        "tolerations",
        [
            {
                "key": f"node.kubernetes.io/{taint}",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
            for taint in ("not-ready", "unreachable")
        ],
    )


def qos_class(spec: Obj) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name, limits.get(name)) != limits.get(name):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _validate_pod_spec(kind: str, group: str, name: str, spec: Obj, prefix: str) -> None:
    containers = spec.get("containers")
    if not containers:
        raise invalid(
            kind, group, name, [(f"{prefix}containers", "FieldValueRequired", "Required value")]
        )
    causes: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        field = f"{prefix}containers[{index}]"
        if not isinstance(container, dict) or not container.get("name"):
            causes.append((f"{field}.name", "FieldValueRequired", "Required value"))
            continue
        if container["name"] in seen:
            causes.append(
                (f"{field}.name", "FieldValueDuplicate", f'Duplicate value: "{container["name"]}"')
            )
        seen.add(container["name"])
        if not container.get("image"):
            causes.append((f"{field}.image", "FieldValueRequired", "Required value"))
    if causes:
        raise invalid(kind, group, name, causes)


def _check_replicas(rt: ResourceType, name: str, obj: Obj) -> None:
    replicas = (obj.get("spec") or {}).get("replicas")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
        raise invalid(
            rt.kind,
            rt.group,
            name,
            [
                (
                    "spec.replicas",
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                )
            ],
        )


def _validate_workload(rt: ResourceType, name: str, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _check_replicas(rt, name, obj)
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if rt.key != ("batch", "jobs"):
        if not selector:
            raise invalid(
                rt.kind, rt.group, name, [("spec.selector", "FieldValueRequired", "Required value")]
            )
        wanted = selector.get("matchLabels") or {}
        if any(labels.get(k) != v for k, v in wanted.items()):
            shown = (
                "map[string]string{"
                + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items()))
                + "}"
            )
            raise invalid(
                rt.kind,
                rt.group,
                name,
                [
                    (
                        "spec.template.metadata.labels",
                        "FieldValueInvalid",
                        f"Invalid value: {shown}: `selector` does not match template `labels`",
                    )
                ],
            )
    _validate_pod_spec(rt.kind, rt.group, name, template.get("spec") or {}, "spec.template.spec.")


def _default_workload(rt: ResourceType, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if rt.key in {("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets")}:
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
    if rt.key == ("apps", "deployments"):
        spec.setdefault(
            "strategy",
            {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
        )
        spec.setdefault("progressDeadlineSeconds", 600)
    if rt.key == ("apps", "statefulsets"):
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault(
            "updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
        )
    if rt.key == ("batch", "jobs"):
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        pod_spec = template.setdefault("spec", {})
        if rt.key == ("batch", "jobs"):
            pod_spec.setdefault("restartPolicy", "Never")
        default_pod_spec(pod_spec)


# Addresses only need to look real and differ; .1 is the API's own Service, .10 is DNS.
_CLUSTER_IP = itertools.count()


def _next_cluster_ip() -> str:
    n = 11 + next(_CLUSTER_IP) % 65000
    return f"10.96.{(n >> 8) & 255}.{n & 255}"


def apply_defaults(rt: ResourceType, obj: Obj) -> None:
    """Defaults the real server fills on every decoded write (create and update alike)."""
    key = rt.key
    if key == ("", "pods"):
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            default_pod_spec(spec)
    elif key in _WORKLOADS:
        _default_workload(rt, obj)
    elif key == ("", "namespaces"):
        # The server labels every namespace with its name, on every write.
        meta = obj.setdefault("metadata", {})
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


_WORKLOADS = {
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
}


def prepare_create(rt: ResourceType, obj: Obj, keep_status: bool) -> None:
    """Validate a new object and fill what the real server fills; raises ApiError."""
    meta = obj["metadata"]
    name = str(meta.get("name", ""))
    key = rt.key
    if not keep_status and rt.has_status:
        obj.pop("status", None)
    if key == ("", "pods"):
        spec = obj.setdefault("spec", {})
        _validate_pod_spec("Pod", "", name, spec, "spec.")
        apply_defaults(rt, obj)
        if not keep_status or "status" not in obj:
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
    elif key in _WORKLOADS:
        apply_defaults(rt, obj)
        _validate_workload(rt, name, obj)
        # Required (non-omitempty) status fields serialize as zeros from the start.
        initial: Obj = {
            ("apps", "replicasets"): {"replicas": 0},
            ("apps", "statefulsets"): {"replicas": 0, "availableReplicas": 0},
            ("apps", "daemonsets"): {
                "currentNumberScheduled": 0,
                "numberMisscheduled": 0,
                "desiredNumberScheduled": 0,
                "numberReady": 0,
            },
        }.get(key, {})
        obj.setdefault("status", initial)
    elif key == ("", "namespaces"):
        apply_defaults(rt, obj)
        obj["status"] = {"phase": "Active"}
    elif key == ("", "services"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec.get("clusterIP") != "None":
            spec.setdefault("clusterIP", _next_cluster_ip())
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
        obj.setdefault("status", {"loadBalancer": {}})
    elif key == ("", "persistentvolumeclaims"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
        if not keep_status or "status" not in obj:
            obj["status"] = {"phase": "Pending"}
    elif key == ("", "secrets"):
        apply_defaults(rt, obj)
    elif key == ("", "events"):
        obj.setdefault("count", 1)
        obj.setdefault("type", "Normal")
    elif key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        _validate_crd(name, obj)


def _validate_crd(name: str, obj: Obj) -> None:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    causes: list[tuple[str, str, str]] = []
    if not names.get("plural"):
        causes.append(("spec.names.plural", "FieldValueRequired", "Required value"))
    if not names.get("kind"):
        causes.append(("spec.names.kind", "FieldValueRequired", "Required value"))
    if not group:
        causes.append(("spec.group", "FieldValueRequired", "Required value"))
    if not spec.get("versions"):
        causes.append(("spec.versions", "FieldValueRequired", "Required value"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            (
                "spec.scope",
                "FieldValueNotSupported",
                f'Unsupported value: "{spec.get("scope", "")}": '
                'supported values: "Cluster", "Namespaced"',
            )
        )
    if not causes and name != f"{names['plural']}.{group}":
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            )
        )
    if causes:
        raise invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)


def crd_status(obj: Obj, now: str) -> Obj:
    """The status the CRD controller writes once the names are accepted."""
    names = dict((obj.get("spec") or {}).get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    versions = [
        v.get("name") for v in (obj.get("spec") or {}).get("versions") or [] if v.get("storage")
    ]
    return {
        "acceptedNames": names,
        "storedVersions": versions,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": now,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": now,
            },
        ],
    }


def prepare_update(rt: ResourceType, new: Obj, old: Obj) -> None:
    """Validate a replacement of `old` by `new`; raises ApiError."""
    name = str(new["metadata"].get("name", ""))
    key = rt.key
    apply_defaults(rt, new)
    if key == ("", "services"):
        # The allocated cluster IP stays when a replacement omits it.
        old_spec = old.get("spec") or {}
        new_spec = new.setdefault("spec", {})
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if field in old_spec:
                new_spec.setdefault(field, old_spec[field])
    if key == ("", "pods"):
        _validate_pod_spec("Pod", "", name, new.get("spec") or {}, "spec.")
        old_spec = old.get("spec") or {}
        new_spec = new.get("spec") or {}
        # Only images, deadlines and tolerations may change; the scheduler sets nodeName.
        mutable = {
            "containers",
            "initContainers",
            "activeDeadlineSeconds",
            "tolerations",
            "nodeName",
        }
        changed = {k for k in set(old_spec) | set(new_spec) if old_spec.get(k) != new_spec.get(k)}
        if changed - mutable or _containers_changed_beyond_image(old_spec, new_spec):
            raise invalid(
                "Pod",
                "",
                name,
                [
                    (
                        "spec",
                        "FieldValueForbidden",
                        POD_UPDATE_FORBIDDEN,
                    )
                ],
            )
    elif key in _WORKLOADS - {("batch", "jobs")}:
        _validate_workload(rt, name, new)
        if (old.get("spec") or {}).get("selector") != (new.get("spec") or {}).get("selector"):
            raise invalid(
                rt.kind,
                rt.group,
                name,
                [("spec.selector", "FieldValueInvalid", "Invalid value: field is immutable")],
            )
    elif key == ("apiextensions.k8s.io", "customresourcedefinitions"):
        _validate_crd(name, new)


def _containers_changed_beyond_image(old_spec: Obj, new_spec: Obj) -> bool:
    for group in ("containers", "initContainers"):
        old_list = old_spec.get(group) or []
        new_list = new_spec.get(group) or []
        if len(old_list) != len(new_list):
            return True
        for before, after in zip(old_list, new_list, strict=True):
            if not isinstance(before, dict) or not isinstance(after, dict):
                return True
            if {k: v for k, v in before.items() if k != "image"} != {
                k: v for k, v in after.items() if k != "image"
            }:
                return True
    return False


def check_body_identity(rt: ResourceType, obj: Any, version: str) -> Obj:
    """400 unless the body is an object of the kind and apiVersion the URL serves."""
    if not isinstance(obj, dict):
        raise bad_request(
            "the object provided is unrecognized (must be of type "
            f"{rt.kind}): couldn't get version/kind; json parse error: expected an object"
        )
    api_version = obj.get("apiVersion")
    expected = rt.api_version(version)
    if api_version and api_version != expected:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match "
            f"the expected API version ({expected})"
        )
    kind = obj.get("kind")
    if kind and kind != rt.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    metadata = obj.get("metadata")
    if metadata is None:
        obj["metadata"] = {}
    elif not isinstance(metadata, dict):
        raise bad_request("metadata must be an object")
    return obj


__all__ = ["ApiError", "check_body_identity", "name_problem", "prepare_create", "prepare_update"]
