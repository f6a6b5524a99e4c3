"""Answers and request bodies of the `mlops/api/kube` routes.

The table page and the rows are hot paths: the handlers join rows encoded once per informer
generation and never build these models per row; the models document the bytes, and the
tests validate them. The object route answers what the Kubernetes API stores, so its models
type the parts the browser reads and allow the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...kube.doctor import Finding


class KubeKind(BaseModel):
    """One resource type the cluster serves."""

    plural: str = Field(description="The plural the routes take, e.g. 'pods'.")
    kind: str = Field(description="The kind, e.g. 'Pod'.")
    group: str = Field(description="The API group; empty for the core group.")
    version: str = Field(description="The served version, e.g. 'v1'.")
    namespaced: bool
    custom: bool = Field(description="Served by a CustomResourceDefinition.")


class KubeKinds(BaseModel):
    """`GET kube`: the namespace the server acts in and every kind it can show."""

    namespace: str | None = Field(description="The namespace in use.")
    kinds: list[KubeKind]


class KubeRow(BaseModel):
    """One table row. Every kind has the fields named here; the other columns depend on the
    kind (the page's `columns` names them), e.g. `ready`, `restarts`, `node` for pods."""

    model_config = ConfigDict(extra="allow")

    uid: str = Field(description="The object's uid, or namespace/name when it has none.")
    name: str
    namespace: str | None
    age: str = Field(description="Since creation, as kubectl prints it: 5s, 3m, 2h, 4d.")
    created: str | None = Field(default=None, description="creationTimestamp (RFC 3339).")
    resource_version: str | None = None
    deleting: bool = Field(default=False, description="It has a deletionTimestamp.")
    status: str = Field(description="The word a user scans for, e.g. Running, Bound.")
    health: Literal["ok", "progress", "warning", "error", "done"] = Field(
        description="How the status reads at a glance; the table colours it."
    )


class KubeTablePage(BaseModel):
    """`GET kube/KIND`: one page of rows from the shared watch cache."""

    kind: str = Field(description="The kind's plural.")
    namespace: str | None
    columns: list[str] = Field(description="The row fields the table shows, in order.")
    total: int = Field(ge=0, description="Rows that match the filter, on every page.")
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    resource_version: str | None = Field(description="The watch's resourceVersion.")
    error: str | None = Field(description="Why the watch is not current, if it is not.")
    rows: list[KubeRow]


class KubeOwnerReference(BaseModel):
    """Who owns an object, as its `metadata.ownerReferences` say."""

    model_config = ConfigDict(extra="allow")

    apiVersion: str
    kind: str
    name: str
    uid: str
    controller: bool | None = None
    blockOwnerDeletion: bool | None = None


class KubeObjectMeta(BaseModel):
    """An object's metadata; fields not named here are allowed as the API sends them."""

    model_config = ConfigDict(extra="allow")

    name: str
    namespace: str | None = Field(default=None, description="None for cluster-wide kinds.")
    uid: str
    resourceVersion: str | None = None
    creationTimestamp: str | None = None
    deletionTimestamp: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    ownerReferences: list[KubeOwnerReference] | None = None


class KubeObject(BaseModel):
    """`GET kube/KIND/NAME`: the object as the cluster stores it, without `managedFields` and
    without a Secret's values. Only the parts the browser reads are typed."""

    model_config = ConfigDict(extra="allow")

    apiVersion: str
    kind: str
    metadata: KubeObjectMeta
    spec: dict[str, Any] | None = None
    status: dict[str, Any] | None = None


class KubeDeleted(BaseModel):
    """`DELETE kube/pods/NAME`: the pod is being deleted."""

    deleted: str = Field(description="The pod's name.")


class KubeCondition(BaseModel):
    """A condition of an object, as `describe` answers it."""

    type: str | None
    status: str | None
    reason: str | None
    message: str | None
    last_transition: str | None = Field(description="lastTransitionTime (RFC 3339).")


class KubeTermination(BaseModel):
    """How a container last ended."""

    reason: str | None
    exit_code: int | None
    finished: str | None
    message: str | None


class KubeContainer(BaseModel):
    """One container of a pod, with its state and resources."""

    name: str
    init: bool = Field(description="An init container.")
    image: str | None
    image_id: str | None
    state: str = Field(description="waiting, running or terminated.")
    reason: str | None
    message: str | None
    started: str | None
    ready: bool
    restarts: int
    last_termination: KubeTermination | None
    requests: dict[str, str] = Field(description="Quantities as the pod spec writes them.")
    limits: dict[str, str]


class KubeDescription(BaseModel):
    """`GET kube/KIND/NAME/describe`: the object's state and, first of all, what is wrong."""

    kind: str
    name: str
    namespace: str | None
    row: KubeRow
    labels: dict[str, str]
    annotations: dict[str, str] = Field(description="Without kubectl's last-applied copy.")
    created: str | None
    owners: list[str] = Field(description="Kind/name of each owner reference.")
    conditions: list[KubeCondition]
    containers: list[KubeContainer] = Field(description="A pod's; empty for other kinds.")
    events: list[KubeRow] = Field(description="Rows of the events about the object.")
    diagnosis: list[str] = Field(description="The summaries of `findings`.")
    findings: list[Finding] = Field(description="The doctor's findings about the object.")


class KubeYaml(BaseModel):
    """`GET kube/KIND/NAME/yaml`: the object as YAML, managed fields left out."""

    yaml: str


class KubeLog(BaseModel):
    """`GET kube/pods/NAME/log`: the last lines of a container's log, now."""

    pod: str
    container: str | None = Field(description="As asked; null for the pod's only one.")
    lines: list[str]


class KubeScaleRequest(BaseModel):
    """The body of `PATCH kube/deployments/NAME/scale`."""

    replicas: int = Field(
        ge=0,
        description="At most c.MLOpsConfig.max_replicas (1000 unless configured); "
        "more answers 400.",
    )


class KubeScaled(BaseModel):
    """`PATCH kube/deployments/NAME/scale`: the replicas the Deployment now asks for."""

    name: str
    replicas: int | None


#: Every model of this family, in the order `api/schemas.json` lists them.
MODELS: list[type[BaseModel]] = [
    KubeKinds,
    KubeRow,
    KubeTablePage,
    KubeObject,
    KubeDeleted,
    KubeDescription,
    KubeYaml,
    KubeLog,
    KubeScaleRequest,
    KubeScaled,
]
