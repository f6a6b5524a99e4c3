"""`%k8s get`: kubectl-like tables in a terminal, escaped HTML tables in a notebook."""

from __future__ import annotations

import json

import yaml

from jupyter_mlops.testing.control_plane import FAIL_LABEL
from jupyter_mlops.widgets.table import Document, Table
from tests.plane import Namespace, wait_for

from .conftest import Notebook, running_pod


def test_get_pods_lists_the_namespace_as_an_aligned_table(
    notebook: Notebook, other: Namespace
) -> None:
    running_pod(notebook.ns, "trainer-0", labels={"app": "train"})
    running_pod(notebook.ns, "web-1", labels={"app": "web"})
    running_pod(other, "elsewhere")

    table = notebook.k8s("get pods")

    assert isinstance(table, Table)
    lines = repr(table).splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["trainer-0", "1/1", "Running"],
        ["web-1", "1/1", "Running"],
    ]
    # Columns line up: every row's READY starts where the header's does.
    assert {line.index("1/1") for line in lines[1:]} == {lines[0].index("READY")}
    # The node the real scheduler chose, as kubectl shows it.
    assert [line.split()[-1] for line in lines[1:]] == [
        notebook.ns.columns("pod", name, "-o", "wide")["NODE"] for name in ("trainer-0", "web-1")
    ]


def test_a_label_selector_and_a_name_narrow_the_table(notebook: Notebook) -> None:
    running_pod(notebook.ns, "trainer-0", labels={"app": "train"})
    running_pod(notebook.ns, "web-1", labels={"app": "web"})

    assert [r["name"] for r in notebook.k8s("get po -l app=web").rows] == ["web-1"]
    assert [r["name"] for r in notebook.k8s("get pod trainer-0").rows] == ["trainer-0"]


def test_all_namespaces_adds_a_namespace_column(notebook: Notebook, other: Namespace) -> None:
    # Other namespaces of the cluster hold pods too: a label of this test's picks its own.
    mine = {"test": notebook.ns.name}
    running_pod(notebook.ns, "trainer-0", labels=mine)
    running_pod(other, "elsewhere", labels=mine)

    table = notebook.k8s(f"get pods -A -l test={notebook.ns.name}")

    assert table.columns[0] == "namespace"
    assert {(r["namespace"], r["name"]) for r in table.rows} == {
        (notebook.ns.name, "trainer-0"),
        (other.name, "elsewhere"),
    }


def test_options_may_come_before_the_kind_as_with_kubectl(
    notebook: Notebook, other: Namespace
) -> None:
    running_pod(other, "elsewhere")

    table = notebook.k8s(f"get -n {other.name} pods")

    assert [r["name"] for r in table.rows] == ["elsewhere"]


def test_wide_output_adds_containers_and_labels(notebook: Notebook) -> None:
    running_pod(notebook.ns, "trainer-0", containers=("main", "sidecar"), labels={"app": "train"})

    table = notebook.k8s("get pods -o wide")

    text = repr(table)
    assert "CONTAINERS" in text and "LABELS" in text
    assert "main,sidecar" in text and "app=train" in text


def test_yaml_and_json_show_the_whole_object(notebook: Notebook) -> None:
    running_pod(notebook.ns, "trainer-0", labels={"app": "train"})

    as_yaml = notebook.k8s("get pod trainer-0 -o yaml")
    as_json = notebook.k8s("get pods -o json")

    assert isinstance(as_yaml, Document)
    pod = yaml.safe_load(repr(as_yaml))
    assert pod["metadata"]["labels"] == {"app": "train"}
    assert pod["status"]["phase"] == "Running"
    assert pod == notebook.ns.get("pod", "trainer-0")
    listing = json.loads(repr(as_json))
    assert listing["kind"] == "List"
    assert [p["metadata"]["name"] for p in listing["items"]] == ["trainer-0"]


def test_secret_values_never_reach_the_output(notebook: Notebook) -> None:
    notebook.ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db"},
            "stringData": {"password": "hunter2"},
        }
    )

    shown = repr(notebook.k8s("get secret db -o yaml")) + repr(notebook.k8s("get secrets"))

    assert "password" in shown
    assert "hunter2" not in shown and "aHVudGVyMg" not in shown


def test_the_html_table_escapes_what_the_cluster_sends(notebook: Notebook) -> None:
    # The API server refuses markup in names, keys and labels; an event's message is free text,
    # and any app may record events (here one that echoes its input).
    notebook.ns.apply(app_event(notebook.ns.name, "<img src=x onerror=alert(1)>"))

    shown = notebook.k8s("get events")._repr_html_()

    assert "<table>" in shown and "<th>MESSAGE</th>" in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "<img" not in shown


def app_event(namespace: str, message: str) -> dict[str, object]:
    """An Event as an app records one about itself (events.k8s.io/v1)."""
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "trainer.note"},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/trainer",
        "reportingInstance": "trainer-0",
        "action": "Train",
        "reason": "Note",
        "note": message,
        "type": "Normal",
        "regarding": {
            "kind": "Pod",
            "name": "trainer-0",
            "namespace": namespace,
            "apiVersion": "v1",
        },
    }


def test_the_html_status_cell_is_coloured_by_health(notebook: Notebook) -> None:
    # kwok's chaos Stage fails the pod's container (exit code 1), as its kubelet would.
    notebook.ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "broken", "labels": {FAIL_LABEL: "true"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "x"}]},
        }
    )
    wait_for(
        "the pod to fail",
        lambda: notebook.ns.get("pod", "broken")["status"].get("phase") == "Failed",
    )
    status = notebook.ns.columns("pod", "broken")["STATUS"]  # kubectl's word: Error

    shown = notebook.k8s("get pods")._repr_html_()

    assert f'<td style="color:var(--jp-error-color1)">{status}</td>' in shown


def test_an_empty_namespace_says_so(notebook: Notebook) -> None:
    table = notebook.k8s("get deployments")

    assert repr(table) == f"No deployments found in namespace {notebook.ns.name}."
    assert table._repr_html_() == f"<p>No deployments found in namespace {notebook.ns.name}.</p>"
