"""`jupyter_mlops.kube.Cluster` on the real control plane, through the official client."""

from __future__ import annotations

import secrets
import threading

import pytest

from jupyter_mlops.errors import BadInput, Forbidden, NotFound, Unavailable
from jupyter_mlops.kube.cluster import FOLLOW_ANSWER_WAIT, Cluster, LogLines, parse_duration
from jupyter_mlops.kube.rows import row
from tests.plane import Namespace, ProfileNamespace, wait_for

from .helpers import deployment, pod, running, unreachable_kubeconfig


def test_list_filters_by_label_selector(namespace: Namespace, cluster: Cluster) -> None:
    namespace.apply(pod("train-1", {"app": "train"}), pod("serve-1", {"app": "serve"}))
    names = [p["metadata"]["name"] for p in cluster.list("po", selector="app=train").items]
    assert names == ["train-1"]
    everything = cluster.list("pods").items
    assert {p["kind"] for p in everything} == {"Pod"}
    assert len(everything) == 2


def test_lists_are_paged(namespace: Namespace, cluster: Cluster) -> None:
    namespace.apply(*(pod(f"p{i}") for i in range(7)))
    first = cluster.list("pods", limit=3)
    assert len(first.items) == 3 and first.continue_token
    assert len(cluster.list_all("pods").items) == 7


def test_get_names_the_missing_object(cluster: Cluster) -> None:
    with pytest.raises(NotFound, match='pods "ghost" not found'):
        cluster.get("pod", "ghost")


def test_unknown_kinds_are_refused_with_the_known_ones(cluster: Cluster) -> None:
    with pytest.raises(BadInput, match=r"unknown kind 'podz'.*pods, deployments"):
        cluster.kind("podz")


def test_custom_resources_are_found_by_discovery(namespace: Namespace, cluster: Cluster) -> None:
    # A group of its own: CRDs are cluster-wide, and other tests define Kubeflow's.
    group = f"{namespace.name}.example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gizmos.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
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
    namespace.apply(crd)
    try:
        namespace.kubectl("wait", "--for=condition=Established", f"crd/gizmos.{group}")
        namespace.apply(
            {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": "my-gizmo"}}
        )
        gizmo = wait_for(
            "discovery to serve gizmos",
            lambda: [k for k in cluster.custom_kinds(refresh=True) if k.group == group],
        )[0]
        assert cluster.kind("gizmos") == gizmo
        assert (gizmo.group, gizmo.custom, gizmo.kind) == (group, True, "Gizmo")
        assert [n["metadata"]["name"] for n in cluster.list(gizmo).items] == ["my-gizmo"]
    finally:
        namespace.plane.kubectl("delete", "crd", f"gizmos.{group}", "--wait=false")


def test_logs_tail_and_container_choice(namespace: Namespace, cluster: Cluster) -> None:
    namespace.plane.append_log(namespace.name, "two", "c1", *(f"line {i}" for i in range(10)))
    namespace.apply(pod("two", containers=2))
    running(namespace, "two")
    assert list(cluster.logs("two", "c1", tail=3)) == ["line 7", "line 8", "line 9"]
    # The API server answers this itself, naming the containers, before asking the kubelet.
    with pytest.raises(BadInput, match=r"a container name must be specified.*\[c0 c1\]"):
        list(cluster.logs("two"))


def test_follow_streams_lines_as_they_are_written(namespace: Namespace, cluster: Cluster) -> None:
    plane = namespace.plane
    plane.append_log(namespace.name, "talker", "main", "first")
    namespace.apply(pod("talker"))
    running(namespace, "talker")
    lines = cluster.logs("talker", follow=True)
    assert next(lines) == "first"
    plane.append_log(namespace.name, "talker", "main", "second")
    assert next(lines) == "second"
    lines.close()


def test_following_a_silent_pod_answers_and_can_be_stopped(
    namespace: Namespace, cluster: Cluster
) -> None:
    """A kubelet sends a follow's answer only with the container's first line: the follow
    must neither block its caller until then nor outlive a `close()` (a Stop button)."""
    plane = namespace.plane
    plane.log_file(namespace.name, "quiet", "main")  # an empty log
    namespace.apply(pod("quiet"), pod("silent"))
    running(namespace, "quiet", "silent")

    opened: list[LogLines] = []
    opener = threading.Thread(target=lambda: opened.append(cluster.logs("quiet", follow=True)))
    opener.start()
    opener.join(timeout=FOLLOW_ANSWER_WAIT + 10)
    assert opened, "following a pod that has written nothing yet must not block"
    plane.append_log(namespace.name, "quiet", "main", "hello")
    assert next(opened[0]) == "hello"
    opened[0].close()

    # Stopped before its first line: the reader's loop ends, no line ever comes.
    silent = cluster.logs("silent", follow=True)
    read: list[str] = []
    reader = threading.Thread(target=lambda: read.extend(silent))
    reader.start()
    silent.close()
    reader.join(timeout=FOLLOW_ANSWER_WAIT + 10)
    assert not reader.is_alive() and read == []


def test_durations_read_like_kubectl() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("1h30m") == 5400
    for bad in ("", "5 minutes", "0s", "-3"):
        with pytest.raises(BadInput):
            parse_duration(bad)


def test_a_deleted_pod_of_a_deployment_is_replaced_and_scale_works(
    namespace: Namespace, cluster: Cluster
) -> None:
    namespace.apply(deployment("web", 2))

    def pods() -> set[str]:
        return {p["metadata"]["name"] for p in cluster.list("pods", selector="app=web").items}

    wait_for("two pods of web", lambda: len(pods()) == 2)
    victim = sorted(pods())[0]
    cluster.delete_pod(victim)
    # The ReplicaSet controller makes a new pod; kwok, as the kubelet, removes the old one.
    wait_for(
        "a new pod in place of the deleted one", lambda: len(pods()) == 2 and victim not in pods()
    )
    cluster.scale("web", 3)
    wait_for("three pods of web", lambda: len(pods()) == 3)
    assert row("deployments", cluster.get("deploy", "web"))["replicas"] == 3
    with pytest.raises(BadInput):
        cluster.scale("web", -1)


def test_a_namespace_editor_is_told_which_rule_is_missing(profile: ProfileNamespace) -> None:
    # Kubeflow's default-editor, bound to the aggregated kubeflow-edit, with its real token.
    editor = profile.cluster()
    assert editor.can_i("list", "pods")
    assert editor.can_i("get", "pods/log")
    assert not editor.can_i("list", "nodes")
    with pytest.raises(Forbidden) as refused:
        editor.list("nodes")
    assert (refused.value.verb, refused.value.resource) == ("list", "nodes")
    assert "ClusterRole" in refused.value.message and "verbs: ['list']" in refused.value.message
    assert f"system:serviceaccount:{profile.name}:default-editor" in refused.value.message
    with pytest.raises(Forbidden, match="in namespace 'kube-system'"):
        editor.list("pods", "kube-system")


def test_secret_values_never_leave_the_api(namespace: Namespace, cluster: Cluster) -> None:
    value = secrets.token_hex(8)
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": value},
        }
    )
    assert cluster.get("secret", "creds")["data"] == {"password": "16 bytes"}
    assert cluster.list("secrets").items[0]["data"] == {"password": "16 bytes"}
    assert row("secrets", cluster.get("secret", "creds"))["keys"] == ["password"]
    # kubectl apply keeps the manifest, value and all, in an annotation: it is dropped too.
    assert value not in repr(cluster.get("secret", "creds"))


def test_an_unreachable_api_server_is_unavailable_in_words(namespace: Namespace) -> None:
    from jupyter_mlops.config import configure, resolve

    kubeconfig = unreachable_kubeconfig(namespace)
    settings = resolve(configure(kubeconfig=str(kubeconfig)), env={}, root=namespace.tmp_path)
    cluster = Cluster(settings)
    try:
        with pytest.raises(Unavailable) as down:
            cluster.list("pods")
    finally:
        cluster.close()
    assert "cannot reach the Kubernetes API" in down.value.message
    assert "Connection refused" in down.value.message
