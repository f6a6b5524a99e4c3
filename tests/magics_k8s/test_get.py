"""`%k8s get`: kubectl-like tables in a terminal, escaped HTML tables in a notebook."""

from __future__ import annotations

import json

import yaml

from jupyter_mlops.widgets.table import Document, Table

from .conftest import NAMESPACE, Notebook, running_pod


def test_get_pods_lists_the_namespace_as_an_aligned_table(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0", labels={"app": "train"}))
    notebook.kube.create(running_pod("web-1", labels={"app": "web"}))
    notebook.kube.create(running_pod("elsewhere", namespace="other"))

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


def test_a_label_selector_and_a_name_narrow_the_table(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0", labels={"app": "train"}))
    notebook.kube.create(running_pod("web-1", labels={"app": "web"}))

    assert [r["name"] for r in notebook.k8s("get po -l app=web").rows] == ["web-1"]
    assert [r["name"] for r in notebook.k8s("get pod trainer-0").rows] == ["trainer-0"]


def test_all_namespaces_adds_a_namespace_column(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0"))
    notebook.kube.create(running_pod("elsewhere", namespace="other"))

    table = notebook.k8s("get pods -A")

    assert table.columns[0] == "namespace"
    assert {(r["namespace"], r["name"]) for r in table.rows} == {
        (NAMESPACE, "trainer-0"),
        ("other", "elsewhere"),
    }


def test_options_may_come_before_the_kind_as_with_kubectl(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("elsewhere", namespace="other"))

    table = notebook.k8s("get -n other pods")

    assert [r["name"] for r in table.rows] == ["elsewhere"]


def test_wide_output_adds_containers_and_labels(notebook: Notebook) -> None:
    notebook.kube.create(
        running_pod("trainer-0", containers=("main", "sidecar"), labels={"app": "train"})
    )

    table = notebook.k8s("get pods -o wide")

    text = repr(table)
    assert "CONTAINERS" in text and "LABELS" in text
    assert "main,sidecar" in text and "app=train" in text


def test_yaml_and_json_show_the_whole_object(notebook: Notebook) -> None:
    notebook.kube.create(running_pod("trainer-0", labels={"app": "train"}))

    as_yaml = notebook.k8s("get pod trainer-0 -o yaml")
    as_json = notebook.k8s("get pods -o json")

    assert isinstance(as_yaml, Document)
    pod = yaml.safe_load(repr(as_yaml))
    assert pod["metadata"]["labels"] == {"app": "train"}
    assert pod["status"]["phase"] == "Running"
    listing = json.loads(repr(as_json))
    assert listing["kind"] == "List"
    assert [p["metadata"]["name"] for p in listing["items"]] == ["trainer-0"]


def test_secret_values_never_reach_the_output(notebook: Notebook) -> None:
    notebook.kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": NAMESPACE},
            "stringData": {"password": "hunter2"},
        }
    )

    shown = repr(notebook.k8s("get secret db -o yaml")) + repr(notebook.k8s("get secrets"))

    assert "password" in shown
    assert "hunter2" not in shown and "aHVudGVyMg" not in shown


def test_the_html_table_escapes_what_the_cluster_sends(notebook: Notebook) -> None:
    notebook.kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": NAMESPACE},
            "data": {"<img src=x onerror=alert(1)>": "1"},
        }
    )

    table = notebook.k8s("get configmaps")
    shown = table._repr_html_()

    assert "<table>" in shown and "<th>KEYS</th>" in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    assert "<img" not in shown


def test_the_html_status_cell_is_coloured_by_health(notebook: Notebook) -> None:
    failed = running_pod("broken")
    failed["status"]["phase"] = "Failed"
    notebook.kube.create(failed)

    shown = notebook.k8s("get pods")._repr_html_()

    assert '<td style="color:var(--jp-error-color1)">Failed</td>' in shown


def test_an_empty_namespace_says_so(notebook: Notebook) -> None:
    table = notebook.k8s("get deployments")

    assert repr(table) == f"No deployments found in namespace {NAMESPACE}."
    assert table._repr_html_() == f"<p>No deployments found in namespace {NAMESPACE}.</p>"
