"""The same finding on every surface: the REST route, `describe` and `%k8s doctor`."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from tornado.httpclient import HTTPClientError

from jupyter_mlops.kube.describe import describe
from jupyter_mlops.testing.kube import KubeEmulator
from jupyter_mlops.widgets.doctor import DoctorView

from .conftest import NAMESPACE, cluster_for, pod


@pytest.fixture
def mlops_config(kube: KubeEmulator, tmp_path: Path) -> dict[str, Any]:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    return {"kubeconfig": str(kubeconfig)}


async def _doctor(jp_fetch: Any, *parts: str) -> Any:
    response = await jp_fetch("mlops", "api", "kube", "doctor", *parts)
    return json.loads(response.body)


async def test_the_route_answers_findings_of_the_namespace_and_of_one_object(
    jp_fetch: Any, kube: KubeEmulator
) -> None:
    kube.create(pod("greedy", resources={"requests": {"cpu": "64"}}))
    deadline = time.monotonic() + 10
    answer: Any = {}
    while time.monotonic() < deadline and not answer.get("findings"):
        answer = await _doctor(jp_fetch)
        await asyncio.sleep(0.05)

    assert answer["namespace"] == NAMESPACE and answer["unreadable"] == []
    [finding] = answer["findings"]
    assert finding["cause"] == "insufficient-cpu"
    assert finding["object"] == {"kind": "Pod", "name": "greedy"}
    assert set(finding) == {
        "severity",
        "object",
        "owners",
        "cause",
        "summary",
        "evidence",
        "fix",
        "certainty",
    }
    one = await _doctor(jp_fetch, "pods", "greedy")
    assert [f["cause"] for f in one["findings"]] == ["insufficient-cpu"]
    # describe shows the same finding: its summary is the diagnosis.
    described = json.loads(
        (await jp_fetch("mlops", "api", "kube", "pods", "greedy", "describe")).body
    )
    assert described["diagnosis"] == [finding["summary"]]
    assert described["findings"][0]["cause"] == "insufficient-cpu"


async def test_the_route_refuses_a_missing_object_and_a_bad_name(jp_fetch: Any) -> None:
    for parts, code in ((("pods", "ghost"), 404), (("pods", "Bad_Name"), 400)):
        with pytest.raises(HTTPClientError) as error:
            await _doctor(jp_fetch, *parts)
        assert error.value.code == code
        assert error.value.response is not None
        assert set(json.loads(error.value.response.body)) == {"reason", "message"}


def test_describe_of_a_pending_claim_keeps_its_words(kube: KubeEmulator, tmp_path: Path) -> None:
    kube.apply(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
            },
            "provisioner": "rancher.io/local-path",
        }
    )
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "ws", "namespace": NAMESPACE},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        }
    )
    cluster = cluster_for(kube, tmp_path)
    try:
        answer = describe(cluster, "pvc", "ws")
    finally:
        cluster.close()
    assert any("no default StorageClass" in line for line in answer["diagnosis"])
    assert answer["findings"][0]["cause"] == "unbound-claim-no-default-class"


@pytest.fixture
def shell(kube: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A terminal IPython with the extension loaded, pointed at the emulator."""
    monkeypatch.chdir(tmp_path)
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "NB_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    path = kube.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    shell.run_line_magic("config", f"MLOpsConfig.kubeconfig = {str(path)!r}")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()


def test_the_magic_shows_findings_as_text_and_escaped_html(kube: KubeEmulator, shell: Any) -> None:
    kube.controllers = False
    made = pod("web")
    made["spec"]["nodeName"] = "emulated-node"
    made["status"] = {
        "phase": "Pending",
        "containerStatuses": [
            {
                "name": "main",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "waiting": {
                        "reason": "CreateContainerConfigError",
                        "message": 'configmap "<script>cfg</script>" not found',
                    }
                },
            }
        ],
    }
    kube.create(made)
    deadline = time.monotonic() + 10
    view: DoctorView = shell.run_line_magic("k8s", "doctor")
    while time.monotonic() < deadline and not view.findings:
        time.sleep(0.05)
        view = shell.run_line_magic("k8s", "doctor")

    text = repr(view)
    assert text.splitlines()[0] == "1 finding in namespace team:"
    assert "ERROR Pod web: missing-configmap" in text
    assert "Fix: kubectl -n team create configmap <script>cfg</script>" in text
    shown = view._repr_html_()
    assert "<script>" not in shown and "&lt;script&gt;cfg&lt;/script&gt;" in shown
    one = shell.run_line_magic("k8s", "doctor pod/web")
    assert [f.cause for f in one.findings] == ["missing-configmap"]
    assert repr(shell.run_line_magic("k8s", "doctor pod web")).startswith("1 finding in pod/web")
    with pytest.raises(UsageError, match="usage: %k8s doctor"):
        shell.run_line_magic("k8s", "doctor pods")
