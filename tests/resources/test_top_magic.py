"""`%k8s top` in a real IPython shell against the real plane: kubectl top's columns with
requests and limits, `top me` with no cluster at all, and user mistakes as clear messages."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.control_plane import ControlPlane
from jupyter_mlops.testing.metrics_api import write_pod_metrics
from tests.plane import Namespace, wait_for

from .conftest import pod, sized


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A terminal IPython with the extension loaded and nothing configured."""
    monkeypatch.chdir(tmp_path)
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "jupyter_mlops")
    yield ipython
    ipython.run_line_magic("unload_ext", "jupyter_mlops")
    ipython.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()


def k8s(shell: InteractiveShell, line: str) -> tuple[Any, str]:
    """`%k8s LINE`: its value and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        value = shell.run_line_magic("k8s", line)
    return value, out.getvalue()


def use(shell: InteractiveShell, ns: Namespace) -> None:
    shell.run_line_magic("config", f"MLOpsConfig.kubeconfig = {str(ns.kubeconfig)!r}")


def test_top_pods_has_kubectl_tops_columns_then_requests_and_limits(
    shell: InteractiveShell, namespace: Namespace, metrics_served: ControlPlane
) -> None:
    use(shell, namespace)
    namespace.apply(pod("web", sized("250m", "128Mi", limit_cpu="500m", limit_memory="256Mi")))
    write_pod_metrics(
        metrics_served, namespace.name, "web", {"c0": {"cpu": "37m", "memory": "61Mi"}}
    )
    wanted = wait_for(
        "kubectl top", lambda: namespace.kubectl("top", "pod", "web").stdout.splitlines()
    )
    table, printed = wait_for("the pod", lambda: (r := k8s(shell, "top"))[0].rows and r)
    assert printed == ""
    lines = repr(table).splitlines()
    assert lines[0].split()[:3] == wanted[0].split()  # NAME CPU(cores) MEMORY(bytes)
    assert lines[1].split()[:3] == wanted[1].split()
    assert lines[0].split()[3:] == [
        "CPU-REQUESTS",
        "CPU-LIMITS",
        "MEMORY-REQUESTS",
        "MEMORY-LIMITS",
    ]
    assert lines[1].split()[3:] == ["250m", "500m", "128Mi", "256Mi"]
    html = table._repr_html_()
    assert "<th>CPU(cores)</th>" in html and "<th>MEMORY(bytes)</th>" in html


def test_top_me_works_with_no_cluster_at_all(shell: InteractiveShell) -> None:
    table, printed = k8s(shell, "top me")
    row = table.rows[0]
    assert row["name"] == "(this kernel)" and row["memory(bytes)"].endswith("Mi")
    assert row["cpu_requests"] == "-" and "no cluster" in printed


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("top everything", "%k8s top shows pods, me, quota, gpus, volumes, not 'everything'"),
        ("top pods --size cpu=1", "--size goes with %k8s top quota"),
        ("top -o wide", "--output cannot be used with %k8s top"),
        ("top pods gpus", "usage: %k8s top [pods|me|quota|gpus|volumes]"),
        ("top -n Not_A_Namespace", "'Not_A_Namespace' is not a namespace name"),
    ],
)
def test_mistakes_are_told_plainly(shell: InteractiveShell, line: str, said: str) -> None:
    with pytest.raises(UsageError) as error:
        k8s(shell, line)
    assert str(error.value) == said


def test_a_size_that_is_no_quantity_is_told_plainly(
    shell: InteractiveShell, namespace: Namespace
) -> None:
    use(shell, namespace)
    with pytest.raises(UsageError, match="'lots' is not a Kubernetes quantity"):
        k8s(shell, "top quota --size cpu=lots")
    with pytest.raises(UsageError, match="is not RESOURCE=QUANTITY"):
        k8s(shell, "top quota --size cpu")


def test_views_other_than_me_need_a_cluster(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match="No cluster is configured"):
        k8s(shell, "top quota")


def test_top_quota_says_whether_a_pod_of_a_size_fits(
    shell: InteractiveShell, namespace: Namespace
) -> None:
    use(shell, namespace)
    namespace.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "small"},
            "spec": {"hard": {"requests.cpu": "1", "pods": "2"}},
        }
    )
    wait_for("the quota's status", lambda: namespace.get("quota", "small").get("status"))
    table, printed = k8s(shell, "top quota --size cpu=2")
    assert [r["resource"] for r in table.rows] == ["pods", "requests.cpu"]
    assert "a pod of cpu=2 would be refused: small: exceeded quota requests.cpu" in printed
    _, fits = k8s(shell, "top quota --size cpu=500m")
    assert fits.strip() == "a pod of cpu=500m fits the quota"


def test_an_empty_line_names_top_beside_the_other_commands(shell: InteractiveShell) -> None:
    with pytest.raises(UsageError, match=r"%k8s top \[pods\|me\|quota\|gpus\|volumes\] shows"):
        k8s(shell, "")
