"""The emulator as a process: start, serve, stop on SIGTERM, restart with state kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kubernetes import client, config

from jupyter_mlops.testing.kube import KubeEmulator

SEED = """\
apiVersion: v1
kind: Namespace
metadata:
  name: seeded
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: seeded}
  data: {mode: demo}
"""


class Process:
    """One `python -m jupyter_mlops.testing.kube` process."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "jupyter_mlops.testing.kube", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.popen.stdout is not None
        line = self.popen.stdout.readline()
        assert line.startswith("Kubernetes API emulator listening on "), (
            line + self.popen.stderr.read()
        )  # type: ignore[union-attr]
        self.url = line.rsplit(" ", 1)[1].strip()

    def stop(self) -> str:
        self.popen.send_signal(signal.SIGTERM)
        out, err = self.popen.communicate(timeout=30)
        assert self.popen.returncode == 0, err
        return out


@pytest.fixture
def free_port() -> Iterator[int]:
    """A port nobody listens on (the process binds it right after)."""
    with KubeEmulator() as probe:
        port = probe.port
    yield port


def test_process_serves_seeds_and_keeps_state_across_a_restart(
    tmp_path: Path, free_port: int
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED, encoding="utf-8")
    state = tmp_path / "state.json"
    kubeconfig = tmp_path / "config"
    first = Process(
        "--port",
        str(free_port),
        "--seed",
        str(seed),
        "--state",
        str(state),
        "--kubeconfig",
        str(kubeconfig),
        "--profile",
        "team-a:editor",
    )
    try:
        assert first.url == f"http://127.0.0.1:{free_port}"
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        assert core.read_namespaced_config_map("settings", "seeded").data == {"mode": "demo"}
        created = core.create_namespaced_config_map("team-a", {"metadata": {"name": "made-live"}})
        appended = requests.post(
            f"{first.url}/_emulator/logs/team-a/p/main", data="kept line\n", timeout=10
        )
        assert appended.json() == {"appended": 1}
        editor = requests.get(
            f"{first.url}/api/v1/namespaces/team-a/configmaps",
            headers={"Authorization": "Bearer editor"},
            timeout=10,
        )
        assert [c["metadata"]["name"] for c in editor.json()["items"]] == ["made-live"]
    finally:
        assert "stopped" in first.stop()
    assert state.exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{first.url}/version", timeout=2)
    second = Process("--port", str(free_port), "--state", str(state))
    try:
        core = client.CoreV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        kept = core.read_namespaced_config_map("made-live", "team-a")
        assert kept.metadata.uid == created.metadata.uid
        assert kept.metadata.resource_version == created.metadata.resource_version
        assert core.read_namespaced_config_map("settings", "seeded").data == {"mode": "demo"}
        later = core.create_namespaced_config_map("team-a", {"metadata": {"name": "after-restart"}})
        assert int(later.metadata.resource_version) > int(created.metadata.resource_version)
        editor = requests.get(
            f"{second.url}/api/v1/namespaces/team-a/configmaps",
            headers={"Authorization": "Bearer editor"},
            timeout=10,
        )
        assert editor.status_code == 200
    finally:
        second.stop()


def test_in_process_restart_keeps_state_and_port(tmp_path: Path) -> None:
    with KubeEmulator(controllers=False) as emu:
        port = emu.port
        core = client.CoreV1Api(
            config.new_client_from_config(config_file=str(emu.write_kubeconfig(tmp_path / "c")))
        )
        created = core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
        emu.append_log("default", "p", "main", ["kept"])
        emu.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{emu.url}/version", timeout=2)
        emu.start()
        assert emu.port == port
        assert core.read_namespaced_config_map("c", "default").metadata.uid == created.metadata.uid
        emu.restart()
        assert (
            core.read_namespaced_config_map("c", "default").metadata.resource_version
            == created.metadata.resource_version
        )


def test_state_file_in_process(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with KubeEmulator(controllers=False, state_file=state) as emu:
        emu.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "default"},
            }
        )
        emu.add_token("t", "someone")
    with KubeEmulator(controllers=False, state_file=state) as again:
        assert again.get("v1", "ConfigMap", "c", "default") is not None
        assert again.identity_for("t") is not None
