"""`%k8s describe` (the diagnosis first) and `%k8s events`."""

from __future__ import annotations

from typing import Any

from jupyter_mlops.widgets.table import Description, Table

from .conftest import NAMESPACE, Notebook, running_pod

SCHEDULER_SAYS = "0/1 nodes are available: 1 Insufficient cpu."


def pending_pod(name: str, cpu: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "containers": [
                {"name": "main", "image": "python:3.11", "resources": {"requests": {"cpu": cpu}}}
            ]
        },
        "status": {"phase": "Pending"},
    }


def test_describe_of_a_pod_that_cannot_be_scheduled_says_why_first(notebook: Notebook) -> None:
    notebook.kube.controllers = False  # the scheduler's verdict is set by hand, below
    pod = notebook.kube.create(pending_pod("big-trainer", cpu="64"))
    notebook.kube.record_event(pod, "FailedScheduling", SCHEDULER_SAYS, "Warning")

    described = notebook.k8s("describe pod big-trainer")

    assert isinstance(described, Description)
    text = repr(described).splitlines()
    assert text[0] == f"Pod {NAMESPACE}/big-trainer: Pending"
    assert text[1] == "Diagnosis:"
    assert "No node has enough cpu free for this pod (it requests cpu 64)" in text[2]
    assert text.index("Events:") > 2
    shown = described._repr_html_()
    assert shown.index("Diagnosis") < shown.index("Labels") < shown.index("Events")
    assert "it requests cpu 64" in shown


def test_describe_of_a_healthy_pod_has_no_diagnosis_but_its_details(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("web-1", containers=("main", "proxy"), labels={"app": "web"}))

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
    notebook.kube.create(
        running_pod("web-1", annotations={"note": "<script>alert('owned')</script>"})
    )

    shown = notebook.k8s("describe pod web-1")._repr_html_()

    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in shown
    assert "<script>" not in shown


def event(name: str, reason: str, at: str, type_: str = "Normal") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "involvedObject": {"kind": "Pod", "name": "trainer-0", "namespace": NAMESPACE},
        "reason": reason,
        "message": f"{reason} happened",
        "type": type_,
        "firstTimestamp": at,
        "lastTimestamp": at,
    }


def test_events_lists_the_namespace_events_oldest_first(notebook: Notebook) -> None:
    notebook.kube.controllers = False
    # Stored in name order (a, b), which is the reverse of when they happened.
    notebook.kube.create(event("a", "BackOff", "2024-05-01T10:05:00Z", "Warning"))
    notebook.kube.create(event("b", "Pulled", "2024-05-01T10:00:00Z"))

    table = notebook.k8s("events")

    assert isinstance(table, Table)
    assert [(r["reason"], r["object"]) for r in table.rows] == [
        ("Pulled", "pod/trainer-0"),
        ("BackOff", "pod/trainer-0"),
    ]
    header = repr(table).splitlines()[0].split()
    assert header == ["LAST-SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]


def test_events_warnings_leaves_out_normal_events(notebook: Notebook) -> None:
    notebook.kube.controllers = False
    pod = notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.record_event(pod, "Pulled", "Image pulled")
    notebook.kube.record_event(pod, "BackOff", "Back-off restarting failed container", "Warning")

    table = notebook.k8s("events --warnings")

    assert [r["reason"] for r in table.rows] == ["BackOff"]


def test_an_event_message_is_escaped_in_html(notebook: Notebook) -> None:
    notebook.kube.controllers = False
    pod = notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.record_event(pod, "Failed", '<a href="javascript:alert(1)">click</a>', "Warning")

    shown = notebook.k8s("events")._repr_html_()

    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click&lt;/a&gt;" in shown
    assert "<a href" not in shown


def test_no_events_says_so(notebook: Notebook) -> None:
    notebook.kube.controllers = False

    assert repr(notebook.k8s("events --warnings")) == f"No warnings in namespace {NAMESPACE}."
