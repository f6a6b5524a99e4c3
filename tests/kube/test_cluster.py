"""`jupyter_mlops.kube.Cluster` against the emulator, through the official client over HTTP."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jupyter_mlops.errors import BadInput, Forbidden, NotFound, Unavailable
from jupyter_mlops.kube.cluster import Cluster, parse_duration
from jupyter_mlops.kube.rows import row
from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules

from .conftest import NAMESPACE, cluster_for, pod


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_list_filters_by_label_selector(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(pod("train-1", {"app": "train"}))
    kube.create(pod("serve-1", {"app": "serve"}))
    names = [p["metadata"]["name"] for p in cluster.list("po", selector="app=train").items]
    assert names == ["train-1"]
    everything = cluster.list("pods").items
    assert {p["kind"] for p in everything} == {"Pod"}
    assert len(everything) == 2


def test_lists_are_paged(kube: KubeEmulator, cluster: Cluster) -> None:
    for i in range(7):
        kube.create(pod(f"p{i}"))
    first = cluster.list("pods", limit=3)
    assert len(first.items) == 3 and first.continue_token
    assert len(cluster.list_all("pods").items) == 7


def test_get_names_the_missing_object(cluster: Cluster) -> None:
    with pytest.raises(NotFound, match='pods "ghost" not found'):
        cluster.get("pod", "ghost")


def test_unknown_kinds_are_refused_with_the_known_ones(cluster: Cluster) -> None:
    with pytest.raises(BadInput, match=r"unknown kind 'podz'.*pods, deployments"):
        cluster.kind("podz")


def test_custom_resources_are_found_by_discovery(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "notebooks.kubeflow.org"},
            "spec": {
                "group": "kubeflow.org",
                "scope": "Namespaced",
                "names": {"plural": "notebooks", "singular": "notebook", "kind": "Notebook"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            }
                        },
                    }
                ],
            },
        }
    )
    kube.create(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": {"name": "my-notebook", "namespace": NAMESPACE},
            "spec": {},
        }
    )
    notebook = cluster.kind("notebooks")
    assert (notebook.group, notebook.custom) == ("kubeflow.org", True)
    assert [n["metadata"]["name"] for n in cluster.list(notebook).items] == ["my-notebook"]


def test_logs_tail_and_container_choice(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(pod("two", containers=2))
    kube.append_log(NAMESPACE, "two", "c1", [f"line {i}" for i in range(10)])
    assert list(cluster.logs("two", "c1", tail=3)) == ["line 7", "line 8", "line 9"]
    with pytest.raises(BadInput, match="container"):
        list(cluster.logs("two"))


def test_follow_streams_lines_as_they_are_written(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(pod("talker"))
    wait_for(lambda: cluster.get("pod", "talker")["status"].get("phase") == "Running")
    kube.append_log(NAMESPACE, "talker", "main", ["first"])
    lines = cluster.logs("talker", follow=True)
    assert next(lines) == "first"
    kube.append_log(NAMESPACE, "talker", "main", ["second"])
    assert next(lines) == "second"
    lines.close()


def test_following_a_silent_pod_answers_at_once(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(pod("quiet"))
    wait_for(lambda: cluster.get("pod", "quiet")["status"].get("phase") == "Running")
    opened: list[object] = []
    opener = threading.Thread(target=lambda: opened.append(cluster.logs("quiet", follow=True)))
    opener.start()
    opener.join(timeout=5)
    assert opened, "following a pod that has written nothing yet must not block"
    kube.append_log(NAMESPACE, "quiet", "main", ["hello"])
    lines = opened[0]
    assert next(lines) == "hello"  # type: ignore[call-overload]
    lines.close()  # type: ignore[attr-defined]


def test_durations_read_like_kubectl() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    for bad in ("", "5 minutes", "0s", "-3"):
        with pytest.raises(BadInput):
            parse_duration(bad)


def test_a_deleted_pod_of_a_deployment_is_replaced_and_scale_works(
    kube: KubeEmulator, cluster: Cluster
) -> None:
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NAMESPACE},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]},
                },
            },
        }
    )
    wait_for(lambda: len(cluster.list("pods", selector="app=web").items) == 2)
    victim = cluster.list("pods", selector="app=web").items[0]["metadata"]["name"]
    cluster.delete_pod(victim)

    def healed() -> bool:
        names = {p["metadata"]["name"] for p in cluster.list("pods", selector="app=web").items}
        return len(names) == 2 and victim not in names

    wait_for(healed)
    cluster.scale("web", 3)
    wait_for(lambda: len(cluster.list("pods", selector="app=web").items) == 3)
    assert row("deployments", cluster.get("deploy", "web"))["replicas"] == 3
    with pytest.raises(BadInput):
        cluster.scale("web", -1)


def test_a_namespace_editor_is_told_which_rule_is_missing(
    kube: KubeEmulator, tmp_path: Path
) -> None:
    kube.add_token(
        "editor",
        f"system:serviceaccount:{NAMESPACE}:default-editor",
        kubeflow_edit_rules(NAMESPACE),
    )
    editor = cluster_for(kube, tmp_path, token="editor")
    assert editor.can_i("list", "pods")
    assert editor.can_i("get", "pods/log")
    assert not editor.can_i("list", "nodes")
    with pytest.raises(Forbidden) as refused:
        editor.list("nodes")
    assert (refused.value.verb, refused.value.resource) == ("list", "nodes")
    assert "ClusterRole" in refused.value.message and "verbs: ['list']" in refused.value.message
    with pytest.raises(Forbidden, match="in namespace 'kube-system'"):
        editor.list("pods", "kube-system")


def test_secret_values_never_leave_the_api(kube: KubeEmulator, cluster: Cluster) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": NAMESPACE},
            "data": {"password": "aHVudGVyMg=="},
        }
    )
    assert cluster.get("secret", "creds")["data"] == {"password": "7 bytes"}
    assert cluster.list("secrets").items[0]["data"] == {"password": "7 bytes"}
    assert row("secrets", cluster.get("secret", "creds"))["keys"] == ["password"]


def test_an_unreachable_api_server_is_unavailable_in_words(
    kube: KubeEmulator, cluster: Cluster
) -> None:
    kube.stop()
    with pytest.raises(Unavailable) as down:
        cluster.list("pods")
    assert "cannot reach the Kubernetes API" in down.value.message
    assert "Connection refused" in down.value.message
