"""`%k8s describe` (the diagnosis first) and `%k8s events`, on what the real components say."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.widgets.table import Description, Table
from tests.kube.helpers import deployment, pod
from tests.plane import Namespace, wait_for

from .conftest import Notebook, running_pod


def events(ns: Namespace, reason: str, name: str) -> list[dict[str, Any]]:
    """The namespace's events of this reason about the object `name`."""
    return [
        e
        for e in ns.get("events")["items"]
        if e["reason"] == reason and e["involvedObject"]["name"] == name
    ]


def greedy(name: str, cpu: str) -> dict[str, Any]:
    manifest = pod(name)
    manifest["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu}}
    return manifest


def test_describe_of_a_pod_that_cannot_be_scheduled_says_why_first(notebook: Notebook) -> None:
    notebook.ns.apply(greedy("big-trainer", cpu="64"))
    # The real scheduler's verdict, as its event.
    wait_for(
        "the scheduler's verdict", lambda: events(notebook.ns, "FailedScheduling", "big-trainer")
    )

    described = notebook.k8s("describe pod big-trainer")

    assert isinstance(described, Description)
    text = repr(described).splitlines()
    assert text[0] == f"Pod {notebook.ns.name}/big-trainer: Pending"
    assert text[1] == "Diagnosis:"
    assert "No node has enough cpu free for this pod (it requests cpu 64)" in text[2]
    assert text.index("Events:") > 2
    assert "FailedScheduling" in "\n".join(text[text.index("Events:") :])
    shown = described._repr_html_()
    assert shown.index("Diagnosis") < shown.index("Labels") < shown.index("Events")
    assert "it requests cpu 64" in shown


def test_describe_of_a_healthy_pod_has_no_diagnosis_but_its_details(notebook: Notebook) -> None:
    running_pod(notebook.ns, "web-1", containers=("main", "proxy"), labels={"app": "web"})

    described = notebook.k8s("describe po web-1")

    text = repr(described)
    assert described.diagnosis == []
    assert "Diagnosis" not in text
    assert "Labels:        app=web" in text
    assert [line.split()[0] for line in text.split("Containers:\n")[1].splitlines()[1:3]] == [
        "main",
        "proxy",
    ]


def test_describe_escapes_hostile_annotations_in_html(notebook: Notebook) -> None:
    running_pod(notebook.ns, "web-1", annotations={"note": "<script>alert('owned')</script>"})

    shown = notebook.k8s("describe pod web-1")._repr_html_()

    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in shown
    assert "<script>" not in shown


def test_events_lists_the_namespace_events_oldest_first(notebook: Notebook) -> None:
    # The deployment controller and the ReplicaSet controller write core/v1 Events (times in
    # seconds), the scheduler events.k8s.io/v1 ones (microseconds): the pod's Scheduled comes
    # after the ReplicaSet made the pod, in the same second.
    ns = notebook.ns
    ns.apply(deployment("web", 1))
    scheduled = wait_for(
        "the pod to be scheduled",
        lambda: [e for e in ns.get("events")["items"] if e["reason"] == "Scheduled"],
    )

    table = notebook.k8s("events")

    assert isinstance(table, Table)
    reasons = [r["reason"] for r in table.rows]
    assert reasons.index("ScalingReplicaSet") < reasons.index("Scheduled")
    assert reasons.index("SuccessfulCreate") < reasons.index("Scheduled")
    pod_name = scheduled[0]["involvedObject"]["name"]
    assert ("Scheduled", f"pod/{pod_name}") in [(r["reason"], r["object"]) for r in table.rows]
    header = repr(table).splitlines()[0].split()
    assert header == ["LAST-SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]


def test_events_of_one_component_come_in_the_order_they_happened(notebook: Notebook) -> None:
    # Stored by name ("a-..." before "b-..."), which is the reverse of when they happened.
    ns = notebook.ns
    ns.apply(pod("b-first"))
    wait_for("b-first to be scheduled", lambda: events(ns, "Scheduled", "b-first"))
    ns.apply(pod("a-second"))
    wait_for("a-second to be scheduled", lambda: events(ns, "Scheduled", "a-second"))

    table = notebook.k8s("events")

    assert [r["object"] for r in table.rows if r["reason"] == "Scheduled"] == [
        "pod/b-first",
        "pod/a-second",
    ]


def test_events_warnings_leaves_out_normal_events(notebook: Notebook) -> None:
    ns = notebook.ns
    ns.apply(pod("fits"), greedy("too-big", cpu="64"))
    wait_for(
        "both verdicts",
        lambda: events(ns, "Scheduled", "fits") and events(ns, "FailedScheduling", "too-big"),
    )

    table = notebook.k8s("events --warnings")

    assert {r["reason"] for r in table.rows} == {"FailedScheduling"}
    assert {r["object"] for r in table.rows} == {"pod/too-big"}


def test_an_event_message_is_escaped_in_html(notebook: Notebook) -> None:
    # Any app may record events; this one puts markup in its message.
    ns = notebook.ns
    ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "trainer-0.note"},
            "involvedObject": {"kind": "Pod", "name": "trainer-0", "namespace": ns.name},
            "reason": "Failed",
            "message": '<a href="javascript:alert(1)">click</a>',
            "type": "Warning",
            "source": {"component": "example.com/trainer"},
            "firstTimestamp": "2026-01-01T00:00:00Z",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        }
    )

    shown = notebook.k8s("events")._repr_html_()

    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt;" in shown
    assert "<a href" not in shown


def test_no_events_says_so(notebook: Notebook) -> None:
    assert (
        repr(notebook.k8s("events --warnings")) == f"No warnings in namespace {notebook.ns.name}."
    )
