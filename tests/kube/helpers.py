"""What the cluster tests set up on the real control plane: manifests, identities with their
own real tokens, requests counted by the real API server, and an address nobody answers on."""

from __future__ import annotations

import json
import re
import secrets
import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyter_mlops.testing.control_plane import ControlPlane, free_port
from tests.plane import Namespace, wait_for

Obj = dict[str, Any]
IMAGE = "busybox:1.36"


def pod(name: str, labels: dict[str, str] | None = None, containers: int = 1, **spec: Any) -> Obj:
    """A pod for the test's namespace; kwok runs it on a node the scheduler picks."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "containers": [
                {"name": f"c{i}" if containers > 1 else "main", "image": IMAGE}
                for i in range(containers)
            ],
            **spec,
        },
    }


def deployment(name: str, replicas: int) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": IMAGE}]},
            },
        },
    }


def phases(ns: Namespace) -> dict[str, str]:
    """{pod name: phase} of the namespace's pods."""
    return {
        p["metadata"]["name"]: (p.get("status") or {}).get("phase", "")
        for p in ns.get("pods")["items"]
    }


def running(ns: Namespace, *names: str, timeout: float = 60.0) -> None:
    """Wait until kwok reports each named pod Running."""
    wait_for(
        f"pods {', '.join(names)} to be Running",
        lambda: all(phases(ns).get(n) == "Running" for n in names),
        timeout,
    )


def gone(ns: Namespace, kind: str, name: str, timeout: float = 60.0) -> None:
    """Wait until the object no longer exists (a pod's kubelet, here kwok, has removed it)."""
    wait_for(f"{kind} {name} to be gone", lambda: not exists(ns, kind, name), timeout)


def exists(ns: Namespace, kind: str, name: str) -> bool:
    found = ns.kubectl("get", kind, name, "--ignore-not-found", "-o", "name")
    return found.stdout.strip() != ""


def identity(
    ns: Namespace, name: str, cluster_role: str | None = None, *, cluster_wide: bool = False
) -> Path:
    """A kubeconfig acting as a new ServiceAccount of the namespace, with its real token
    (TokenRequest), bound to `cluster_role` in the namespace (everywhere if `cluster_wide`:
    then `forget(ns, name)` afterwards, as the binding outlives the namespace)."""
    objects: list[Obj] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    ]
    if cluster_role:
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding" if cluster_wide else "RoleBinding",
                "metadata": {"name": f"{ns.name}-{name}"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": cluster_role,
                },
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns.name}],
            }
        )
    ns.apply(*objects)
    token = ns.kubectl("create", "token", name, "--duration=1h").stdout.strip()
    return ns.plane.write_kubeconfig(
        ns.tmp_path / f"{name}.kubeconfig", namespace=ns.name, token=token
    )


def forget(ns: Namespace, name: str) -> None:
    """Delete the ClusterRoleBinding `identity(..., cluster_wide=True)` made."""
    ns.plane.kubectl("delete", "clusterrolebinding", f"{ns.name}-{name}", "--wait=false")


def unreachable_kubeconfig(ns: Namespace) -> Path:
    """The namespace's kubeconfig, but for a loopback port nothing listens on: what a client
    meets when the API server is down (the shared plane itself must stay up)."""
    config = json.loads(ns.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    path = ns.tmp_path / "unreachable.kubeconfig"
    path.write_text(json.dumps(config))
    return path


# -- requests counted by the API server -------------------------------------------------------

_DISPATCHED = re.compile(
    r'^apiserver_flowcontrol_dispatched_requests_total\{flow_schema="([^"]+)",[^}]*\} (\S+)$',
    re.M,
)


def metrics(plane: ControlPlane) -> str:
    """The API server's /metrics, read as the admin."""
    request = urllib.request.Request(
        plane.url + "/metrics", headers={"Authorization": f"Bearer {plane.token}"}
    )
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:
        text: str = answer.read().decode()
        return text


def rule(verbs: tuple[str, ...] = ("*",), resources: tuple[str, ...] = ("*",), **kw: Any) -> Obj:
    """A FlowSchema resource rule: these verbs on these resources, in any group and namespace
    (or only in `namespaces`)."""
    namespaces = list(kw.get("namespaces", ("*",)))
    return {
        "verbs": list(verbs),
        "apiGroups": ["*"],
        "resources": list(resources),
        "clusterScope": namespaces == ["*"],
        "namespaces": namespaces,
    }


class Requests:
    """The requests one ServiceAccount sends, sorted and counted by the real API server.

    API Priority and Fairness classifies every request by the first FlowSchema that matches
    it, and /metrics counts what each FlowSchema dispatched. One FlowSchema per sort, in the
    order given, matches only this ServiceAccount; a last one takes the rest of its requests
    (`other`), so `total()` is everything it asked.
    """

    def __init__(self, ns: Namespace, account: str, sorts: dict[str, Obj]) -> None:
        self.ns = ns
        tag = secrets.token_hex(3)
        subject = {
            "kind": "ServiceAccount",
            "serviceAccount": {"name": account, "namespace": ns.name},
        }
        everything = {
            "resourceRules": [rule()],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        }
        self.schemas = {sort: f"{ns.name}-{tag}-{sort}" for sort in [*sorts, "other"]}
        objects = []
        for n, (sort, name) in enumerate(self.schemas.items()):
            rules = {"resourceRules": [sorts[sort]]} if sort in sorts else everything
            objects.append(
                {
                    "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
                    "kind": "FlowSchema",
                    "metadata": {"name": name},
                    "spec": {
                        # Before `service-accounts` (9000), after every system FlowSchema.
                        "matchingPrecedence": 1000 + n,
                        "priorityLevelConfiguration": {"name": "workload-low"},
                        "distinguisherMethod": {"type": "ByUser"},
                        "rules": [{"subjects": [subject], **rules}],
                    },
                }
            )
        ns.apply(*objects)
        self._baseline: dict[str, float] = {}

    def counts(self) -> dict[str, float]:
        found = dict(_DISPATCHED.findall(metrics(self.ns.plane)))
        return {sort: float(found.get(name, 0)) for sort, name in self.schemas.items()}

    def active(self, probe: Any) -> None:
        """Wait until the API server sorts this identity's requests by the new FlowSchemas
        (it reads them from a watch): `probe()` makes a request that `other` counts."""

        def counted() -> bool:
            before = self.counts()["other"]
            probe()
            return self.counts()["other"] > before

        wait_for("the API server to use the new FlowSchemas", counted, 30)
        self.reset()

    def reset(self) -> None:
        self._baseline = self.counts()

    def since(self) -> dict[str, int]:
        """Requests of each sort since the last `reset()` (or `active()`)."""
        now = self.counts()
        return {sort: int(now[sort] - self._baseline.get(sort, 0)) for sort in now}

    def total(self) -> int:
        return sum(self.since().values())

    def close(self) -> None:
        for name in self.schemas.values():
            self.ns.plane.kubectl("delete", "flowschema", name, "--wait=false", check=False)


@contextmanager
def counted(ns: Namespace, account: str, probe: Any, **sorts: Obj) -> Iterator[Requests]:
    """`Requests` of `account`, active and reset; its FlowSchemas are deleted afterwards."""
    requests = Requests(ns, account, sorts)
    try:
        requests.active(probe)
        yield requests
    finally:
        requests.close()
