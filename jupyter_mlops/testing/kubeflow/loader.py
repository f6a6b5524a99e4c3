"""Seeds any Kubernetes API server with Kubeflow objects shaped as real controllers write them."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from jupyter_mlops.testing.kube.controllers import template_hash
from jupyter_mlops.testing.kubeflow_roles import aggregated_cluster_roles

if TYPE_CHECKING:
    from jupyter_mlops.testing.kube import KubeEmulator

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_USER",
    "KINDS",
    "SCENARIOS",
    "Kind",
    "KubeflowFixtureError",
    "LoadedObject",
    "LoadedObjects",
    "load_kubeflow",
    "render_manifests",
    "seed_emulator",
]

DEFAULT_NAMESPACE = "kubeflow-user-example-com"
DEFAULT_USER = "user@example.com"

#: Every scenario the fixtures hold, in the order they load by default.
SCENARIOS: tuple[str, ...] = (
    "notebook",
    "pipeline_run",
    "serving",
    "katib",
    "spark",
    "storage",
    "scheduling",
    "crashloop",
    "training",
)

_SCENARIO_FILES: dict[str, tuple[str, ...]] = {
    "notebook": ("notebook.yaml",),
    "pipeline_run": ("pipeline_run.yaml",),
    "serving": ("serving.yaml",),
    "katib": ("katib.yaml",),
    "spark": ("spark.yaml",),
    "storage": ("storage.yaml", "storage-{storage}.yaml"),
    "scheduling": ("scheduling.yaml",),
    "crashloop": ("crashloop.yaml",),
    "training": ("training.yaml",),
}
_CLUSTER_FILES = ("cluster.yaml", "storageclasses-{storage}.yaml")

# How long a new CRD may take before the server serves its resources (a real server
# establishes one in well under a second).
_CRD_ESTABLISH_TIMEOUT = 30.0


class KubeflowFixtureError(RuntimeError):
    """The fixtures could not be rendered or the server refused an object."""


@dataclass(frozen=True)
class Kind:
    """Where the API serves one kind, and whether its status is written through ``/status``."""

    api_version: str
    plural: str
    namespaced: bool
    status_subresource: bool

    def collection_path(self, namespace: str | None) -> str:
        """The URL path of the kind's collection, in ``namespace`` when it is namespaced."""
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced:
            if not namespace:
                raise KubeflowFixtureError(f"{self.plural} need a namespace")
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"


#: Every kind the fixtures hold.
KINDS: dict[str, Kind] = {
    "CustomResourceDefinition": Kind(
        "apiextensions.k8s.io/v1", "customresourcedefinitions", False, False
    ),
    "Namespace": Kind("v1", "namespaces", False, False),
    "Node": Kind("v1", "nodes", False, True),
    "PersistentVolume": Kind("v1", "persistentvolumes", False, True),
    "PersistentVolumeClaim": Kind("v1", "persistentvolumeclaims", True, True),
    "Pod": Kind("v1", "pods", True, True),
    "Service": Kind("v1", "services", True, False),
    "ServiceAccount": Kind("v1", "serviceaccounts", True, False),
    "Event": Kind("v1", "events", True, False),
    "StorageClass": Kind("storage.k8s.io/v1", "storageclasses", False, False),
    "ClusterRole": Kind("rbac.authorization.k8s.io/v1", "clusterroles", False, False),
    "RoleBinding": Kind("rbac.authorization.k8s.io/v1", "rolebindings", True, False),
    "Deployment": Kind("apps/v1", "deployments", True, True),
    "ReplicaSet": Kind("apps/v1", "replicasets", True, True),
    "StatefulSet": Kind("apps/v1", "statefulsets", True, True),
    "Job": Kind("batch/v1", "jobs", True, True),
    "Profile": Kind("kubeflow.org/v1", "profiles", False, True),
    "Notebook": Kind("kubeflow.org/v1", "notebooks", True, True),
    "PodDefault": Kind("kubeflow.org/v1alpha1", "poddefaults", True, False),
    "InferenceService": Kind("serving.kserve.io/v1beta1", "inferenceservices", True, True),
    "Experiment": Kind("kubeflow.org/v1beta1", "experiments", True, True),
    "Trial": Kind("kubeflow.org/v1beta1", "trials", True, True),
    "Suggestion": Kind("kubeflow.org/v1beta1", "suggestions", True, True),
    "SparkApplication": Kind("sparkoperator.k8s.io/v1beta2", "sparkapplications", True, True),
    # Argo keeps a Workflow's status in the object itself: no status subresource.
    "Workflow": Kind("argoproj.io/v1alpha1", "workflows", True, False),
}


@dataclass(frozen=True)
class LoadedObject:
    """One object the loader put on (or found already on) the server."""

    kind: str
    name: str
    namespace: str | None
    uid: str
    created: bool


@dataclass
class LoadedObjects:
    """What one :func:`load_kubeflow` call loaded, in load order."""

    namespace: str
    objects: list[LoadedObject] = field(default_factory=list)

    def __iter__(self) -> Iterator[LoadedObject]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def of_kind(self, kind: str) -> list[LoadedObject]:
        """The loaded objects of one kind."""
        return [obj for obj in self.objects if obj.kind == kind]

    def names(self, kind: str) -> list[str]:
        """The names of the loaded objects of one kind."""
        return [obj.name for obj in self.of_kind(kind)]

    def uid(self, kind: str, name: str) -> str:
        """The server's uid of a loaded object; KeyError if it was not loaded."""
        for obj in self.objects:
            if obj.kind == kind and obj.name == name:
                return obj.uid
        raise KeyError(f"{kind}/{name}")

    @property
    def created(self) -> list[LoadedObject]:
        """The objects this call created (the others already existed)."""
        return [obj for obj in self.objects if obj.created]


# Placeholders the manifests use. Anything else in ${...} (Katib's own trial templates) is
# left as written.
_SIMPLE = re.compile(r"\$\{(namespace|user)\}")
_CALL = re.compile(r"\$\{(ago|uid|uuid|hex|sha|podhash):([^{}]+)\}")
_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _parse_duration(text: str) -> timedelta:
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise KubeflowFixtureError(f"bad duration in a manifest: {text!r}")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))


@dataclass
class _Renderer:
    namespace: str
    user: str
    now: datetime
    uid_of: Callable[[str, str], str]
    # The pod template of an already loaded Deployment or StatefulSet, as the server stored it.
    template_of: Callable[[str, str], Any] = field(default=lambda kind, name: {})

    def _seed(self, key: str) -> bytes:
        # Stable per profile, so reloading is idempotent and two profiles never collide.
        return hashlib.sha256(f"jupyter-mlops/{self.namespace}/{key}".encode()).digest()

    def _call(self, match: re.Match[str]) -> str:
        func, arg = match.group(1), match.group(2)
        if func == "ago":
            moment = self.now - _parse_duration(arg)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        if func == "uid":
            kind, _, name = arg.partition("/")
            return self.uid_of(kind, name)
        if func == "uuid":
            return str(uuid.UUID(bytes=self._seed(arg)[:16], version=4))
        if func == "hex":
            return self._seed(arg).hex()[:16]
        if func == "podhash":
            # The emulated Deployment and StatefulSet controllers name ReplicaSets and revisions
            # by this hash of the stored template: with the same name they adopt what was
            # loaded instead of replacing it (a real cluster's controllers make their own).
            kind, _, name = arg.partition("/")
            return template_hash(self.template_of(kind, name))
        return self._seed(arg).hex()

    def text(self, value: str) -> str:
        names = {"namespace": self.namespace, "user": self.user}
        value = _SIMPLE.sub(lambda m: names[m.group(1)], value)
        # Innermost first: a name may hold a placeholder (a ReplicaSet's name holds its hash).
        for _ in range(3):
            value, count = _CALL.subn(self._call, value)
            if not count:
                break
        return value

    def tree(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.tree(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.tree(v) for k, v in value.items()}
        return value


def _manifest_files(
    scenarios: Sequence[str], *, default_storage_class: bool, cluster_objects: bool
) -> list[str]:
    unknown = [s for s in scenarios if s not in _SCENARIO_FILES]
    if unknown:
        raise KubeflowFixtureError(
            f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}"
        )
    storage = "with-default" if default_storage_class else "without-default"
    files = ["crds.yaml"]
    if cluster_objects:
        files += [name.format(storage=storage) for name in _CLUSTER_FILES]
    files.append("profile.yaml")
    # Claims before the pods that mount them, whatever order the caller named: a server
    # with a running scheduler reports a pod whose claim is missing as unschedulable.
    for scenario in sorted(dict.fromkeys(scenarios), key=lambda s: s != "storage"):
        files += [name.format(storage=storage) for name in _SCENARIO_FILES[scenario]]
    return files


def _raw_documents(files: Iterable[str]) -> list[dict[str, Any]]:
    folder = resources.files(__package__) / "manifests"
    documents: list[dict[str, Any]] = []
    for name in files:
        if name == "cluster.yaml":
            # Kubeflow's ClusterRoles, as the real plane's aggregation controller fills them.
            documents += aggregated_cluster_roles()
        text = (folder / name).read_text(encoding="utf-8")
        for document in yaml.safe_load_all(text):
            if document:
                if not isinstance(document, dict) or document.get("kind") not in KINDS:
                    raise KubeflowFixtureError(f"{name}: unexpected document {document!r:.80}")
                documents.append(document)
    return documents


def _placeholder_uid(namespace: str) -> Callable[[str, str], str]:
    def uid_of(kind: str, name: str) -> str:
        digest = hashlib.sha256(f"uid/{namespace}/{kind}/{name}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    return uid_of


def render_manifests(
    *,
    namespace: str = DEFAULT_NAMESPACE,
    user: str = DEFAULT_USER,
    scenarios: Sequence[str] = SCENARIOS,
    default_storage_class: bool = False,
    cluster_objects: bool = True,
    now: datetime | None = None,
    uid_of: Callable[[str, str], str] | None = None,
) -> list[dict[str, Any]]:
    """The fixture objects as plain dicts, in load order, without touching a server.

    Owner and event uids come from ``uid_of(kind, name)``; by default a stable stand-in,
    since only a server can assign the real ones.
    """
    templates: dict[tuple[str, str], Any] = {}
    renderer = _Renderer(
        namespace,
        user,
        now or datetime.now(timezone.utc),
        uid_of or _placeholder_uid(namespace),
        lambda kind, name: templates.get((kind, name), {}),
    )
    files = _manifest_files(
        scenarios, default_storage_class=default_storage_class, cluster_objects=cluster_objects
    )
    docs = []
    for raw in _raw_documents(files):
        body = dict(raw)
        raw_status = body.pop("status", None)
        doc = renderer.tree(body)
        # Before the status, which may name the object's own template hash.
        _remember_template(templates, raw["kind"], doc)
        if raw_status is not None:
            doc["status"] = renderer.tree(raw_status)
        docs.append(doc)
    return docs


def _remember_template(templates: dict[tuple[str, str], Any], kind: str, obj: Any) -> None:
    if kind in ("Deployment", "StatefulSet"):
        templates[(kind, obj["metadata"]["name"])] = obj["spec"]["template"]


def _template_lookup(templates: dict[tuple[str, str], Any]) -> Callable[[str, str], Any]:
    def template_of(kind: str, name: str) -> Any:
        try:
            return templates[(kind, name)]
        except KeyError:
            raise KubeflowFixtureError(
                f"a manifest refers to the template of {kind}/{name}, which was not loaded "
                "before it"
            ) from None

    return template_of


class _Server:
    """Plain REST on the official client's ApiClient: paths are fixed, so no discovery."""

    def __init__(self, api_client: ApiClient) -> None:
        self.api_client = api_client

    def call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        query: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        result = self.api_client.call_api(
            path,
            method,
            query_params=list(query),
            header_params={"Accept": "application/json", "Content-Type": content_type},
            body=body,
            response_type="object",
            auth_settings=["BearerToken"],
            _return_http_data_only=True,
            _preload_content=True,
        )
        return result if isinstance(result, dict) else {}


def _describe(error: ApiException) -> str:
    return f"{error.status} {error.reason}: {(error.body or '')[:500]!s}"


def load_kubeflow(
    api_client: ApiClient,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    user: str = DEFAULT_USER,
    default_storage_class: bool = False,
    scenarios: Sequence[str] = SCENARIOS,
    cluster_objects: bool = True,
    now: datetime | None = None,
) -> LoadedObjects:
    """Create the Kubeflow profile ``namespace`` and the chosen scenarios on the server.

    Idempotent: an object that already exists (409) is kept as it is and only its status is
    written again. ``cluster_objects=False`` leaves out the Node, StorageClasses and
    ClusterRoles (for a real cluster that has its own). Raises KubeflowFixtureError when the
    server refuses an object.
    """
    server = _Server(api_client)
    loaded = LoadedObjects(namespace=namespace)
    uids: dict[tuple[str, str], str] = {}

    def uid_of(kind: str, name: str) -> str:
        try:
            return uids[(kind, name)]
        except KeyError:
            raise KubeflowFixtureError(
                f"a manifest refers to {kind}/{name}, which was not loaded before it"
            ) from None

    templates: dict[tuple[str, str], Any] = {}
    renderer = _Renderer(
        namespace, user, now or datetime.now(timezone.utc), uid_of, _template_lookup(templates)
    )
    files = _manifest_files(
        scenarios, default_storage_class=default_storage_class, cluster_objects=cluster_objects
    )
    crds: list[dict[str, Any]] = []
    for raw in _raw_documents(files):
        if raw["kind"] != "CustomResourceDefinition" and crds:
            _wait_established(server, crds)
            crds = []
        obj = _apply(
            server,
            renderer,
            raw,
            namespace,
            lambda kind, stored: _remember_template(templates, kind, stored),
        )
        uids[(obj.kind, obj.name)] = obj.uid
        loaded.objects.append(obj)
        if obj.kind == "StorageClass":
            _settle_default_class(server, obj.name if default_storage_class else None)
        if obj.kind == "CustomResourceDefinition":
            crds.append(renderer.tree(raw))
    if crds:
        _wait_established(server, crds)
    return loaded


def _apply(
    server: _Server,
    renderer: _Renderer,
    raw: dict[str, Any],
    namespace: str,
    remember: Callable[[str, dict[str, Any]], None],
) -> LoadedObject:
    kind_name = raw["kind"]
    kind = KINDS[kind_name]
    body = dict(raw)
    # Status goes through /status after the create, so it may name the object's own uid
    # (a kubelet's back-off message does).
    raw_status = body.pop("status", None) if kind.status_subresource else None
    document = renderer.tree(body)
    name = document["metadata"]["name"]
    obj_namespace = namespace if kind.namespaced else None
    if kind.namespaced:
        document["metadata"]["namespace"] = namespace
    collection = kind.collection_path(obj_namespace)
    created = True
    try:
        stored = server.call("POST", collection, document)
    except ApiException as error:
        if error.status != 409:
            raise KubeflowFixtureError(
                f"creating {kind_name}/{name} failed: {_describe(error)}"
            ) from None
        # Already there: keep it (specs of pods and claims are immutable on a real server).
        created = False
        stored = server.call("GET", f"{collection}/{name}")
    uid = str(stored.get("metadata", {}).get("uid", ""))
    remember(kind_name, stored)
    if raw_status is not None:
        own_uid = renderer.uid_of
        renderer.uid_of = lambda k, n: uid if (k, n) == (kind_name, name) else own_uid(k, n)
        try:
            status = renderer.tree(raw_status)
        finally:
            renderer.uid_of = own_uid
        try:
            server.call(
                "PATCH",
                f"{collection}/{name}/status",
                {"status": status},
                content_type="application/merge-patch+json",
            )
        except ApiException as error:
            # On a server with running controllers (a real cluster, or the emulator with
            # controllers on) a ReplicaSet may already have replaced the pod it did not make.
            if error.status != 404:
                raise KubeflowFixtureError(
                    f"writing the status of {kind_name}/{name} failed: {_describe(error)}"
                ) from None
    return LoadedObject(kind_name, name, obj_namespace, uid, created)


def seed_emulator(
    emulator: KubeEmulator,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    user: str = DEFAULT_USER,
    default_storage_class: bool = False,
    scenarios: Sequence[str] = SCENARIOS,
    cluster_objects: bool = True,
    now: datetime | None = None,
) -> LoadedObjects:
    """Create the same objects as :func:`load_kubeflow` inside an emulator, as if made earlier.

    A real server stamps every new object with the time of its creation, so a loaded claim
    reads "created 0s ago" beside conditions an hour old. The emulator's own write path keeps
    what the manifests say: creation times, statuses and the uids of the objects themselves,
    so every time in the namespace tells the same story relative to ``now``. Objects already
    there are kept, except the StorageClasses, which take the chosen variant's shape.
    """
    loaded = LoadedObjects(namespace=namespace)
    uids: dict[tuple[str, str], str] = {}
    stable_uid = _placeholder_uid(namespace)
    templates: dict[tuple[str, str], Any] = {}
    renderer = _Renderer(
        namespace,
        user,
        now or datetime.now(timezone.utc),
        # An object's status may name its own uid, known here before it is created.
        lambda kind, name: uids.get((kind, name)) or stable_uid(kind, name),
        _template_lookup(templates),
    )
    files = _manifest_files(
        scenarios, default_storage_class=default_storage_class, cluster_objects=cluster_objects
    )
    for raw in _raw_documents(files):
        kind_name = raw["kind"]
        kind = KINDS[kind_name]
        body = dict(raw)
        raw_status = body.pop("status", None)
        document = renderer.tree(body)
        meta = document["metadata"]
        name = meta["name"]
        obj_namespace = namespace if kind.namespaced else None
        if kind.namespaced:
            meta["namespace"] = namespace
        meta["uid"] = stable_uid(kind_name, name)
        api_version = document["apiVersion"]
        existing = emulator.get(api_version, kind_name, name, obj_namespace or "")
        if existing is not None and kind_name == "StorageClass":
            # A class's binding mode and default mark are immutable in effect: replace it.
            emulator.delete(api_version, kind_name, name)
            existing = None
        if existing is None:
            stored = emulator.create(document)
            # The status may name the stored template's hash: it goes in second.
            _remember_template(templates, kind_name, stored)
            if raw_status is not None:
                emulator.apply(
                    {
                        "apiVersion": api_version,
                        "kind": kind_name,
                        "metadata": {"name": name, "namespace": obj_namespace},
                        "status": renderer.tree(raw_status),
                    }
                )
        else:
            stored = existing
            _remember_template(templates, kind_name, stored)
        uid = str(stored["metadata"]["uid"])
        uids[(kind_name, name)] = uid
        loaded.objects.append(LoadedObject(kind_name, name, obj_namespace, uid, existing is None))
    return loaded


_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _settle_default_class(server: _Server, default: str | None) -> None:
    """Make ``default`` the cluster's only default StorageClass, or leave none at all.

    A server may already have classes (a cluster's own, or one an emulator starts with); the
    chosen storage variant only holds if their default marks agree with it.
    """
    path = KINDS["StorageClass"].collection_path(None)
    for storage_class in server.call("GET", path).get("items", []):
        name = storage_class["metadata"]["name"]
        annotations = storage_class["metadata"].get("annotations") or {}
        want = "true" if name == default else None
        if tuple(annotations.get(key) for key in _DEFAULT_CLASS_ANNOTATIONS) == (want, None):
            continue
        patch: dict[str, str | None] = dict.fromkeys(_DEFAULT_CLASS_ANNOTATIONS)
        patch[_DEFAULT_CLASS_ANNOTATIONS[0]] = want
        try:
            server.call(
                "PATCH",
                f"{path}/{name}",
                {"metadata": {"annotations": patch}},
                content_type="application/merge-patch+json",
            )
        except ApiException as error:
            raise KubeflowFixtureError(
                f"marking StorageClass/{name} failed: {_describe(error)}"
            ) from None


def _wait_established(server: _Server, crds: list[dict[str, Any]]) -> None:
    """Wait until the server serves every new CRD's resources; bounded."""
    deadline = time.monotonic() + _CRD_ESTABLISH_TIMEOUT
    for crd in crds:
        spec = crd["spec"]
        version = next(v["name"] for v in spec["versions"] if v.get("storage"))
        path = f"/apis/{spec['group']}/{version}/{spec['names']['plural']}"
        while True:
            try:
                server.call("GET", path, query=[("limit", "1")])
                break
            except ApiException as error:
                if error.status != 404 or time.monotonic() > deadline:
                    raise KubeflowFixtureError(
                        f"the server does not serve {path} after creating its CRD: "
                        f"{_describe(error)}"
                    ) from None
            # A CRD has no event a plain client can await here; poll its collection.
            time.sleep(0.05)
