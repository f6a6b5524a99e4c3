"""The seed tutorial flows on the real control plane, through the product's `Cluster`.

Deployment and its pods, self-heal, scale, Service, PVC with and without a default
StorageClass, and the events the real controllers write about them.
"""

from __future__ import annotations

import secrets
from typing import Any

from jupyter_mlops.kube.cluster import Cluster
from jupyter_mlops.kube.rows import row

from .conftest import Namespace, wait_for
from .manifests import deployment, persistent_volume, pvc, service, storage_class

Obj = dict[str, Any]


def running(cluster: Cluster, selector: str) -> list[Obj]:
    pods = cluster.list("pods", selector=selector).items
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") == "Running"
        and not p["metadata"].get("deletionTimestamp")
    ]


def test_deployment_runs_heals_and_scales(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    namespace.apply(deployment("web", 2))

    pods = wait_for(
        "2 running pods",
        lambda: len(running(cluster, "app=web")) == 2 and running(cluster, "app=web"),
    )
    assert {p["spec"]["nodeName"] for p in pods} <= {"cpu-1", "cpu-2"}  # not the tainted GPU node
    for p in pods:
        assert row("pods", p)["status"] == "Running"
        assert row("pods", p)["ready"] == "1/1"
        assert p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"

    # Self-heal: the ReplicaSet controller replaces a deleted pod.
    victim = pods[0]["metadata"]["name"]
    cluster.delete_pod(victim)
    healed = wait_for(
        "a replacement pod",
        lambda: (
            len(r := running(cluster, "app=web")) == 2
            and victim not in {p["metadata"]["name"] for p in r}
            and r
        ),
    )
    assert victim not in {p["metadata"]["name"] for p in healed}

    # Scale through the scale subresource.
    answer = cluster.scale("web", 3)
    assert answer["spec"]["replicas"] == 3
    wait_for("3 running pods", lambda: len(running(cluster, "app=web")) == 3)
    deploy = wait_for(
        "the Deployment to report 3 available",
        lambda: (
            (d := cluster.get("deployments", "web"))["status"].get("availableReplicas") == 3 and d
        ),
    )
    mine = row("deployments", deploy)
    theirs = namespace.columns("deployment", "web")
    assert (mine["ready"], str(mine["up_to_date"]), str(mine["available"])) == (
        theirs["READY"],
        theirs["UP-TO-DATE"],
        theirs["AVAILABLE"],
    )

    # Events written by the real controllers and scheduler, oldest first.
    events = cluster.events()
    reasons = {(e["involvedObject"]["kind"], e["reason"]) for e in events}
    assert ("Deployment", "ScalingReplicaSet") in reasons
    assert ("ReplicaSet", "SuccessfulCreate") in reasons
    assert ("Pod", "Scheduled") in reasons
    about_deploy = cluster.events(involving=deploy)
    assert about_deploy and all(e["involvedObject"]["name"] == "web" for e in about_deploy)
    assert any("to 3" in e["message"] for e in about_deploy)


def test_service_gets_cluster_ip_node_port_and_endpoints(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    namespace.apply(
        deployment("api", 2),
        service("api", {"app": "api"}),
        service("api-np", {"app": "api"}, "NodePort"),
    )
    wait_for("2 running pods", lambda: len(running(cluster, "app=api")) == 2)

    svc = cluster.get("services", "api")
    assert svc["spec"]["clusterIP"].startswith("10.96.")
    nodeport = cluster.get("services", "api-np")
    assert 30000 <= nodeport["spec"]["ports"][0]["nodePort"] <= 32767
    for name, obj in (("api", svc), ("api-np", nodeport)):
        mine, theirs = row("services", obj), namespace.columns("service", name)
        assert (mine["type"], mine["cluster_ip"], mine["external_ip"], mine["ports"]) == (
            theirs["TYPE"],
            theirs["CLUSTER-IP"],
            theirs["EXTERNAL-IP"],
            theirs["PORT(S)"],
        )

    # The EndpointSlice controller lists the ready pods' IPs (kwok gives them IPs).
    pod_ips = {p["status"]["podIP"] for p in running(cluster, "app=api")}

    def slice_ips() -> set[str] | None:
        slices = cluster.request(
            "GET",
            f"/apis/discovery.k8s.io/v1/namespaces/{namespace.name}/endpointslices",
            query={"labelSelector": "kubernetes.io/service-name=api"},
        )["items"]
        ips = {a for s in slices for e in s.get("endpoints") or [] for a in e["addresses"]}
        return ips if ips == pod_ips else None

    wait_for("the EndpointSlice to hold the pod IPs", slice_ips)


def test_pvc_pending_without_default_class_then_bound(namespace: Namespace) -> None:
    cluster = namespace.cluster()
    suffix = secrets.token_hex(3)
    sc_name, pv_name = f"standard-{suffix}", f"pv-{suffix}"
    namespace.apply(pvc("data"))
    try:
        # No default StorageClass: the claim has no class and no PV to bind.
        claim = cluster.get("persistentvolumeclaims", "data")
        assert claim["spec"].get("storageClassName") is None
        event = wait_for(
            "the binder's event about the claim",
            lambda: [e for e in cluster.events(involving=claim) if e["reason"] == "FailedBinding"],
        )[0]
        assert event["message"] == (
            "no persistent volumes available for this claim and no storage class is set"
        )
        claim = cluster.get("persistentvolumeclaims", "data")
        assert row("persistentvolumeclaims", claim)["status"] == "Pending"
        assert namespace.columns("pvc", "data")["STATUS"] == "Pending"

        # A PV of a class without a provisioner, then that class made the default: the PV
        # controller gives the claim the default class (retroactively) and binds the PV.
        namespace.apply(persistent_volume(pv_name, sc_name), storage_class(sc_name, default=True))
        sc = cluster.get("storageclasses", sc_name)
        assert row("storageclasses", sc)["default"] is True
        bound = wait_for(
            "the claim to be Bound",
            lambda: (
                (c := cluster.get("persistentvolumeclaims", "data"))["status"].get("phase")
                == "Bound"
                and c
            ),
        )
        assert bound["spec"]["storageClassName"] == sc_name
        assert bound["spec"]["volumeName"] == pv_name
        mine, theirs = row("persistentvolumeclaims", bound), namespace.columns("pvc", "data")
        assert (mine["status"], mine["volume"], mine["capacity"], mine["storage_class"]) == (
            theirs["STATUS"],
            theirs["VOLUME"],
            theirs["CAPACITY"],
            theirs["STORAGECLASS"],
        )
        pv = cluster.get("persistentvolumes", pv_name)
        assert (
            row("persistentvolumes", pv)["status"]
            == namespace.columns("pv", pv_name)["STATUS"]
            == "Bound"
        )
    finally:
        namespace.kubectl("delete", "pvc", "data", "--wait=false", check=False)
        namespace.kubectl("delete", "storageclass", sc_name, "--wait=false", check=False)
        namespace.kubectl("delete", "pv", pv_name, "--wait=false", check=False)
