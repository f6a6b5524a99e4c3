"""The emulated cluster moves: deployments heal and scale, pods start, scheduling fails as real."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from jupyter_mlops.testing.kube import KubeEmulator

from .conftest import PROFILE, deployment, pod, wait_for


def _ready_replicas(replicas: int) -> Any:
    def check(event: dict[str, Any]) -> bool:
        status = event["object"].status
        return bool(status and status.ready_replicas == replicas and status.replicas == replicas)

    return check


def _running_pods(core: client.CoreV1Api, selector: str) -> list[client.V1Pod]:
    return [
        p
        for p in core.list_namespaced_pod(PROFILE, label_selector=selector).items
        if p.status.phase == "Running" and not p.metadata.deletion_timestamp
    ]


def test_deployment_makes_a_replica_set_and_running_pods(
    apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=3))
    event = wait_for(
        apps.list_namespaced_deployment,
        PROFILE,
        until=_ready_replicas(3),
        field_selector="metadata.name=web",
    )
    status = event["object"].status
    assert status.available_replicas == 3
    assert status.updated_replicas == 3
    assert status.observed_generation == 1
    assert {c.type: c.status for c in status.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }
    [replica_set] = apps.list_namespaced_replica_set(PROFILE).items
    deploy = apps.read_namespaced_deployment("web", PROFILE)
    assert replica_set.metadata.owner_references[0].uid == deploy.metadata.uid
    pod_hash = replica_set.metadata.labels["pod-template-hash"]
    assert replica_set.metadata.name == f"web-{pod_hash}"
    pods = _running_pods(core, "app=web")
    assert len(pods) == 3
    for item in pods:
        assert item.metadata.labels["pod-template-hash"] == pod_hash
        assert item.metadata.owner_references[0].uid == replica_set.metadata.uid
        assert item.metadata.name.startswith(f"web-{pod_hash}-")
        assert item.spec.node_name == "emulated-node"
        assert item.status.container_statuses[0].ready is True
        assert item.status.pod_ip
        conditions = {c.type: c.status for c in item.status.conditions}
        assert conditions["PodScheduled"] == conditions["Ready"] == "True"


def test_a_deleted_pod_is_replaced(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=2))
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(2))
    victim = _running_pods(core, "app=web")[0].metadata.name
    version = core.list_namespaced_pod(PROFILE).metadata.resource_version
    core.delete_namespaced_pod(victim, PROFILE)
    replacement = wait_for(
        core.list_namespaced_pod,
        PROFILE,
        resource_version=version,
        label_selector="app=web",
        until=lambda e: e["type"] == "MODIFIED" and e["object"].status.phase == "Running",
    )
    assert replacement["object"].metadata.name != victim
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(2))
    names = {p.metadata.name for p in _running_pods(core, "app=web")}
    assert victim not in names
    assert len(names) == 2


def test_scaling_up_and_down(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=1))
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(1))
    apps.patch_namespaced_deployment_scale("web", PROFILE, {"spec": {"replicas": 4}})
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(4))
    assert len(_running_pods(core, "app=web")) == 4
    apps.patch_namespaced_deployment_scale("web", PROFILE, {"spec": {"replicas": 0}})
    wait_for(
        apps.list_namespaced_deployment,
        PROFILE,
        until=lambda e: (
            not e["object"].status.replicas and e["object"].status.observed_generation == 3
        ),
    )
    assert core.list_namespaced_pod(PROFILE, label_selector="app=web").items == []


def test_a_new_template_rolls_to_a_new_replica_set(
    apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=2))
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(2))
    apps.patch_namespaced_deployment(
        "web",
        PROFILE,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}},
    )
    wait_for(
        apps.list_namespaced_deployment,
        PROFILE,
        until=lambda e: (
            e["object"].status.observed_generation == 2
            and e["object"].status.ready_replicas == 2
            and e["object"].status.replicas == 2
        ),
    )
    images = {p.spec.containers[0].image for p in _running_pods(core, "app=web")}
    assert images == {"nginx:1.27"}
    sets = {
        rs.metadata.name: rs.spec.replicas for rs in apps.list_namespaced_replica_set(PROFILE).items
    }
    assert sorted(sets.values()) == [0, 2]


def test_deleting_a_deployment_collects_its_replica_sets_and_pods(
    apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment(PROFILE, deployment("web", replicas=2))
    wait_for(apps.list_namespaced_deployment, PROFILE, until=_ready_replicas(2))
    apps.delete_namespaced_deployment("web", PROFILE)
    assert apps.list_namespaced_replica_set(PROFILE).items == []
    assert core.list_namespaced_pod(PROFILE).items == []


def test_stateful_set_pods_have_ordinal_names(
    apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    manifest = deployment("db", replicas=2)
    manifest["kind"] = "StatefulSet"
    manifest["spec"]["serviceName"] = "db"
    apps.create_namespaced_stateful_set(PROFILE, manifest)
    wait_for(apps.list_namespaced_stateful_set, PROFILE, until=_ready_replicas(2))
    assert sorted(p.metadata.name for p in _running_pods(core, "app=db")) == ["db-0", "db-1"]


def test_a_pod_asking_too_much_cpu_stays_pending_with_an_event(core: client.CoreV1Api) -> None:
    greedy = pod(
        "greedy",
        containers=[
            {"name": "main", "image": "python:3.11", "resources": {"requests": {"cpu": "64"}}}
        ],
    )
    created = core.create_namespaced_pod(PROFILE, greedy)
    event = wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=greedy,reason=FailedScheduling",
        until=lambda e: True,
    )["object"]
    assert event.type == "Warning"
    assert event.message.startswith("0/1 nodes are available: 1 Insufficient cpu.")
    assert event.involved_object.kind == "Pod"
    assert event.involved_object.uid == created.metadata.uid
    assert event.source.component == "default-scheduler"
    assert event.count == 1
    assert event.first_timestamp is not None and event.last_timestamp is not None
    current = core.read_namespaced_pod("greedy", PROFILE)
    assert current.status.phase == "Pending"
    scheduled = next(c for c in current.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert scheduled.message == event.message


def test_capacity_is_shared_between_pods(core: client.CoreV1Api) -> None:
    def hungry(name: str) -> dict[str, Any]:
        return pod(
            name,
            containers=[
                {
                    "name": "main",
                    "image": "python:3.11",
                    "resources": {"requests": {"cpu": "3", "memory": "1Gi"}},
                }
            ],
        )

    core.create_namespaced_pod(PROFILE, hungry("first"))
    wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=first",
        until=lambda e: e["object"].status.phase == "Running",
    )
    core.create_namespaced_pod(PROFILE, hungry("second"))
    wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=second,reason=FailedScheduling",
        until=lambda e: True,
    )
    # Freeing the CPU lets the scheduler place the waiting pod.
    core.delete_namespaced_pod("first", PROFILE)
    started = wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=second",
        until=lambda e: e["object"].status.phase == "Running",
    )
    assert started["object"].spec.node_name == "emulated-node"


def _claim(name: str, storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def _mounting(name: str, claim: str) -> dict[str, Any]:
    return pod(name, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim}}])


def test_a_pod_on_a_pending_claim_stays_pending(core: client.CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim(
        PROFILE, _claim("data", storage_class="missing-class")
    )
    core.create_namespaced_pod(PROFILE, _mounting("trainer", "data"))
    event = wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=trainer,reason=FailedScheduling",
        until=lambda e: True,
    )["object"]
    assert "pod has unbound immediate PersistentVolumeClaims" in event.message
    assert event.message.startswith(
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    )
    claim_event = core.list_namespaced_event(
        PROFILE, field_selector="involvedObject.name=data"
    ).items[0]
    assert claim_event.reason == "ProvisioningFailed"
    assert claim_event.message == 'storageclass.storage.k8s.io "missing-class" not found'
    assert core.read_namespaced_persistent_volume_claim("data", PROFILE).status.phase == "Pending"


def test_a_bound_claim_lets_the_pod_run(core: client.CoreV1Api, api: client.ApiClient) -> None:
    core.create_namespaced_persistent_volume_claim(PROFILE, _claim("data"))
    core.create_namespaced_pod(PROFILE, _mounting("trainer", "data"))
    wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=trainer",
        until=lambda e: e["object"].status.phase == "Running",
    )
    claim = core.read_namespaced_persistent_volume_claim("data", PROFILE)
    assert claim.status.phase == "Bound"
    assert claim.spec.storage_class_name == "standard"
    volume = core.read_persistent_volume(claim.spec.volume_name)
    assert volume.spec.claim_ref.name == "data"


def test_pods_wait_for_a_claim_created_later(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(PROFILE, _mounting("early", "later"))
    event = wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=early",
        until=lambda e: True,
    )
    assert 'persistentvolumeclaim "later" not found' in event["object"].message
    core.create_namespaced_persistent_volume_claim(PROFILE, _claim("later"))
    wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=early",
        until=lambda e: e["object"].status.phase == "Running",
    )


def test_repeated_scheduling_failures_count_up_one_event(
    core: client.CoreV1Api, emulator: KubeEmulator
) -> None:
    greedy = pod(
        "greedy",
        containers=[
            {"name": "main", "image": "python:3.11", "resources": {"requests": {"cpu": "64"}}}
        ],
    )
    core.create_namespaced_pod(PROFILE, greedy)
    wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=greedy",
        until=lambda e: True,
    )
    # A node change makes the scheduler try again; the same failure counts up.
    node = emulator.get("v1", "Node", "emulated-node")
    assert node is not None
    emulator.apply(
        {
            **node,
            "metadata": {
                **node["metadata"],
                "labels": {**node["metadata"]["labels"], "touched": "yes"},
            },
        }
    )
    event = wait_for(
        core.list_namespaced_event,
        PROFILE,
        field_selector="involvedObject.name=greedy",
        until=lambda e: e["object"].count == 2,
    )
    assert event["object"].reason == "FailedScheduling"


def test_new_namespaces_get_a_default_service_account(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "fresh"}})
    event = wait_for(core.list_namespaced_service_account, "fresh", until=lambda e: True)
    assert event["object"].metadata.name == "default"


def test_controllers_can_be_switched_off(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    emulator.controllers = False
    core.create_namespaced_pod(PROFILE, pod("still"))
    emulator.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "marker", "namespace": PROFILE},
        }
    )
    assert core.read_namespaced_pod("still", PROFILE).spec.node_name is None
    emulator.controllers = True
    wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=still",
        until=lambda e: e["object"].status.phase == "Running",
    )


def _job(name: str, **pod_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": PROFILE},
        "spec": {
            "backoffLimit": 1,
            "template": {
                "metadata": {"annotations": pod_spec.pop("annotations", {})},
                "spec": {"containers": [{"name": "main", "image": "python:3.11"}], **pod_spec},
            },
        },
    }


def test_a_job_runs_its_pod_to_completion(api: client.ApiClient, core: client.CoreV1Api) -> None:
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(
        PROFILE, _job("train", annotations={"emulator.jupyter-mlops/run-seconds": "0.05"})
    )
    done = wait_for(
        batch.list_namespaced_job,
        PROFILE,
        until=lambda e: any(c.type == "Complete" for c in e["object"].status.conditions or []),
    )["object"]
    assert done.status.succeeded == 1
    assert done.status.completion_time is not None
    [finished] = core.list_namespaced_pod(PROFILE, label_selector="job-name=train").items
    assert finished.status.phase == "Succeeded"
    assert finished.status.container_statuses[0].state.terminated.reason == "Completed"


def test_a_failing_job_retries_then_gives_up(api: client.ApiClient, core: client.CoreV1Api) -> None:
    batch = client.BatchV1Api(api)
    annotations = {
        "emulator.jupyter-mlops/run-seconds": "0.01",
        "emulator.jupyter-mlops/exit-code": "2",
    }
    batch.create_namespaced_job(PROFILE, _job("flaky", annotations=annotations))
    failed = wait_for(
        batch.list_namespaced_job,
        PROFILE,
        until=lambda e: any(c.type == "Failed" for c in e["object"].status.conditions or []),
    )["object"]
    assert failed.status.failed == 2
    reason = next(c.reason for c in failed.status.conditions if c.type == "Failed")
    assert reason == "BackoffLimitExceeded"
    phases = [
        p.status.phase
        for p in core.list_namespaced_pod(PROFILE, label_selector="job-name=flaky").items
    ]
    assert phases == ["Failed", "Failed"]


def test_finish_and_restart_helpers(core: client.CoreV1Api, emulator: KubeEmulator) -> None:
    core.create_namespaced_pod(PROFILE, pod("worker"))
    wait_for(
        core.list_namespaced_pod,
        PROFILE,
        field_selector="metadata.name=worker",
        until=lambda e: e["object"].status.phase == "Running",
    )
    emulator.append_log(PROFILE, "worker", "main", ["run one"])
    restarted = emulator.restart_container(PROFILE, "worker", "main", exit_code=137)
    assert restarted is not None
    status = core.read_namespaced_pod("worker", PROFILE).status.container_statuses[0]
    assert status.restart_count == 1
    assert status.last_state.terminated.exit_code == 137
    assert core.read_namespaced_pod_log("worker", PROFILE, previous=True) == "run one\n"
    emulator.finish_pod(PROFILE, "worker", exit_code=1)
    finished = core.read_namespaced_pod("worker", PROFILE)
    assert finished.status.phase == "Failed"
    assert finished.status.container_statuses[0].state.terminated.reason == "Error"


def test_deleted_pods_terminate_gracefully_when_asked(tmp_path: Any) -> None:
    from .conftest import client_for

    with KubeEmulator(pod_start_delay=0.01, pod_termination_delay=0.05) as emu:
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROFILE}})
        core = client.CoreV1Api(client_for(emu, tmp_path))
        core.create_namespaced_pod(PROFILE, pod("slow-stop"))
        running = wait_for(
            core.list_namespaced_pod, PROFILE, until=lambda e: e["object"].status.phase == "Running"
        )
        version = running["object"].metadata.resource_version
        answer = core.delete_namespaced_pod("slow-stop", PROFILE)
        assert answer.metadata.deletion_timestamp is not None
        assert answer.metadata.deletion_grace_period_seconds == 30
        seen: list[str] = []
        wait_for(
            core.list_namespaced_pod,
            PROFILE,
            resource_version=version,
            until=lambda e: seen.append(e["type"]) or e["type"] == "DELETED",
        )
        assert seen == ["MODIFIED", "DELETED"]
        core.create_namespaced_pod(PROFILE, pod("quick-stop"))
        core.delete_namespaced_pod("quick-stop", PROFILE, grace_period_seconds=0)
        assert [p.metadata.name for p in core.list_namespaced_pod(PROFILE).items] == []
