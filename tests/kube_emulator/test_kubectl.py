"""kubectl, unmodified, against the emulator: get, watch, logs -f, scale, delete, errors."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlops.testing.kube import KubeEmulator, kubeflow_edit_rules

from .conftest import PROFILE, deployment, pod

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class Kubectl:
    """Runs kubectl with a kubeconfig written by the emulator and a private cache."""

    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.base = [
            KUBECTL,
            f"--kubeconfig={kubeconfig}",
            f"--cache-dir={cache}",
            "--request-timeout=20s",
        ]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=60, check=False
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        base = [a for a in self.base if not a.startswith("--request-timeout")]
        return subprocess.Popen(
            [*base, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[KubeEmulator]:
    """An emulator whose credential-less requests act as admin: kubectl sends no token over HTTP."""
    with KubeEmulator(anonymous="admin", pod_start_delay=0.02) as emu:
        emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROFILE}})
        yield emu


@pytest.fixture
def kubectl(cluster: KubeEmulator, tmp_path: Path) -> Kubectl:
    """kubectl pointed at the emulator, in the profile namespace."""
    return Kubectl(
        cluster.write_kubeconfig(tmp_path / "config", namespace=PROFILE), tmp_path / "cache"
    )


def test_get_pods_prints_a_table(kubectl: Kubectl, cluster: KubeEmulator) -> None:
    cluster.controllers = False
    cluster.create(
        {
            **pod("trainer"),
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "main",
                        "ready": True,
                        "restartCount": 2,
                        "image": "python:3.11",
                        "imageID": "",
                        "state": {"running": {}},
                    }
                ],
            },
        }
    )
    out = kubectl.run("get", "pods").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert out[1].split()[:4] == ["trainer", "1/1", "Running", "2"]
    wide = kubectl.run("get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:7] == ["IP", "NODE"]
    as_json = kubectl.run("get", "pod", "trainer", "-o", "jsonpath={.metadata.namespace}").stdout
    assert as_json == PROFILE


def test_get_with_label_selector_and_all_namespaces(
    kubectl: Kubectl, cluster: KubeEmulator
) -> None:
    cluster.controllers = False
    cluster.create(pod("a", labels={"app": "web"}))
    cluster.create(pod("b", labels={"app": "db"}))
    names = kubectl.run("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert names == ["pod/a"]
    everywhere = kubectl.run("get", "pods", "-A", "--no-headers").stdout.splitlines()
    assert [line.split()[:2] for line in everywhere] == [[PROFILE, "a"], [PROFILE, "b"]]
    missing = kubectl.run("get", "pod", "ghost", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): pods "ghost" not found' in missing.stderr


def test_get_pods_watch_streams_changes(kubectl: Kubectl, cluster: KubeEmulator) -> None:
    cluster.controllers = False
    cluster.create(pod("first"))
    process = kubectl.start("get", "pods", "-w")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().split()[:1] == ["NAME"]
        assert process.stdout.readline().split()[:3] == ["first", "0/1", "Pending"]
        cluster.create(pod("second"))
        assert process.stdout.readline().split()[:1] == ["second"]
        cluster.apply({**pod("first"), "status": {"phase": "Running"}})
        assert process.stdout.readline().split()[:3] == ["first", "0/1", "Running"]
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_logs_follow_streams_until_the_pod_ends(kubectl: Kubectl, cluster: KubeEmulator) -> None:
    cluster.controllers = False
    cluster.create({**pod("job"), "status": {"phase": "Running"}})
    cluster.append_log(PROFILE, "job", "main", ["epoch 1", "epoch 2"])
    process = kubectl.start("logs", "-f", "job")
    assert process.stdout is not None
    assert process.stdout.readline() == "epoch 1\n"
    assert process.stdout.readline() == "epoch 2\n"
    cluster.append_log(PROFILE, "job", "main", ["epoch 3"])
    assert process.stdout.readline() == "epoch 3\n"
    cluster.apply({**pod("job"), "status": {"phase": "Succeeded"}})
    rest, _errors = process.communicate(timeout=20)
    assert rest == ""
    assert process.returncode == 0
    tail = kubectl.run("logs", "job", "--tail=1").stdout
    assert tail == "epoch 3\n"


def test_logs_need_a_container_on_multi_container_pods(
    kubectl: Kubectl, cluster: KubeEmulator
) -> None:
    cluster.controllers = False
    two = pod(
        "two", containers=[{"name": "app", "image": "a:1"}, {"name": "proxy", "image": "b:1"}]
    )
    cluster.create({**two, "status": {"phase": "Running"}})
    cluster.append_log(PROFILE, "two", "proxy", ["proxy ready"])
    result = kubectl.run("logs", "two", "-c", "proxy")
    assert result.stdout == "proxy ready\n"


def test_scale_and_delete(kubectl: Kubectl, cluster: KubeEmulator, tmp_path: Path) -> None:
    cluster.create(deployment("web", replicas=1))
    assert (
        kubectl.run("scale", "deploy/web", "--replicas=3").stdout.strip()
        == "deployment.apps/web scaled"
    )
    assert cluster.get("apps/v1", "Deployment", "web", PROFILE)["spec"]["replicas"] == 3  # type: ignore[index]
    wait = kubectl.run(
        "wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=20s"
    )
    assert "condition met" in wait.stdout
    pods = kubectl.run("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert len(pods) == 3
    deleted = kubectl.run("delete", pods[0])
    assert deleted.stdout.strip() == f'pod "{pods[0].split("/")[1]}" deleted'
    kubectl.run("wait", "--for=jsonpath={.status.readyReplicas}=3", "deploy/web", "--timeout=20s")
    after = kubectl.run("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert pods[0] not in after
    assert len(after) == 3
    kubectl.run("delete", "deploy", "web")
    assert kubectl.run("get", "pods", "-o", "name").stdout == ""


def test_apply_create_and_describe(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n",
        encoding="utf-8",
    )
    assert "configmap/settings created" in kubectl.run("create", "-f", str(manifest)).stdout
    assert kubectl.run("get", "cm", "settings", "-o", "jsonpath={.data.a}").stdout == "1"
    assert "configmap/settings labeled" in kubectl.run("label", "cm", "settings", "team=a").stdout
    described = kubectl.run("describe", "cm", "settings").stdout
    assert "team=a" in described


def test_forbidden_is_reported_as_real(cluster: KubeEmulator, tmp_path: Path) -> None:
    cluster.add_token(
        "editor", f"system:serviceaccount:{PROFILE}:default-editor", kubeflow_edit_rules(PROFILE)
    )
    cluster.anonymous = "editor"
    kubectl = Kubectl(
        cluster.write_kubeconfig(tmp_path / "config", namespace=PROFILE), tmp_path / "cache"
    )
    assert (
        kubectl.run("get", "pods").stderr.strip() == f"No resources found in {PROFILE} namespace."
    )
    denied = kubectl.run("get", "pods", "-n", "kube-system", check=False)
    assert denied.returncode == 1
    assert (
        "Error from server (Forbidden): pods is forbidden: "
        f'User "system:serviceaccount:{PROFILE}:default-editor" '
        'cannot list resource "pods" in API group "" in the namespace "kube-system"'
    ) in denied.stderr
    answer = kubectl.run("auth", "can-i", "create", "deployments", check=False)
    assert answer.stdout.strip() == "yes"
    answer = kubectl.run("auth", "can-i", "list", "nodes", check=False)
    assert answer.stdout.strip() == "no"
