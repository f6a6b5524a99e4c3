"""`jupyter_mlops.connect()`: one object that makes each backend once, holds the policy
between them (which backend holds a run, read-only), and is shared by every magic."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.config import NO_CLUSTER, configure, resolve
from jupyter_mlops.connection import Connection
from jupyter_mlops.errors import BadInput, ReadOnly, Unavailable
from jupyter_mlops.magics.connected import connection
from tests.plane import Namespace


def settings_for(tmp_path: Path, **config: object) -> object:
    return resolve(configure(**config), env={}, root=tmp_path)


def test_nothing_configured_is_local_only_and_says_how_to_set_up_the_rest(
    tmp_path: Path,
) -> None:
    made = Connection(settings_for(tmp_path, workspace=str(tmp_path)))  # type: ignore[arg-type]
    assert made.local_pipelines() is made.local_pipelines()
    assert list(made.pipeline_backends()) == ["local"]
    with pytest.raises(Unavailable, match=NO_CLUSTER[:30]):
        made.cluster()
    with pytest.raises(Unavailable, match="KF_PIPELINES_ENDPOINT"):
        made.pipelines_of("6b1f0d2e-1c3a-4b7e-9f00-0123456789ab")
    assert made.pipelines_of("0123abcd") is made.local_pipelines()
    with pytest.raises(BadInput, match="not a run id"):
        made.pipelines_of("../etc")


def test_one_cluster_one_watch_cache_and_read_only_in_the_api(
    namespace: Namespace, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, kubeconfig=str(namespace.kubeconfig), read_only=True)
    made = Connection(settings)  # type: ignore[arg-type]
    try:
        cluster = made.cluster()
        assert made.cluster() is cluster and made.watch_cache().cluster is cluster
        assert made.serving().cluster() is cluster and made.tuner().cluster() is cluster
        namespace.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web"},
                "spec": {"containers": [{"name": "main", "image": "python:3.11"}]},
            }
        )
        with pytest.raises(ReadOnly):
            cluster.delete("pods", "web", namespace.name)
        assert namespace.get("pod", "web")["metadata"]["name"] == "web"
    finally:
        made.close()
    assert made.cluster() is not cluster  # closed: made again when next asked


def test_every_magic_of_a_kernel_shares_one_connection_until_config_changes(
    tmp_path: Path,
) -> None:
    shell = InteractiveShell.instance()
    try:
        shell.config.MLOpsConfig.workspace = str(tmp_path)
        shell.run_line_magic("load_ext", "jupyter_mlops")
        first = connection(shell)
        registry = shell.magics_manager.registry
        assert registry["MlflowMagics"].tracking() is first.tracking()
        assert registry["KfpMagics"]._tracking() is first.tracking()
        assert registry["KServeMagics"].serving() is first.serving()
        assert registry["KatibMagics"].tuner() is first.tuner()
        shell.run_line_magic("config", f"MLOpsConfig.workspace = {str(tmp_path / 'other')!r}")
        second = connection(shell)
        assert second is not first and registry["MlflowMagics"].tracking() is second.tracking()
    finally:
        InteractiveShell.clear_instance()
