"""A namespace of the real control plane holding Secrets with the planted values, made as users
make them (`kubectl apply`, which keeps the values once more in its last-applied annotation),
and a way to look for them."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from jupyter_mlops.testing.secrets import DB_PASSWORD, SECRET_DATA, SECRET_VALUES
from tests.plane import Namespace
from tests.traffic_scan import Scanner

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def secret(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> Any:
    """A Secret manifest as users write it; `kubectl apply` keeps it whole in the annotation."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "labels": labels or {"app": "db"}},
        "stringData": data,
    }


# `kubectl create secret generic --from-file=password.txt` keeps the file's last newline.
FROM_FILE = {"password.txt": DB_PASSWORD + "\n"}


def leaks(text: str | bytes) -> list[str]:
    """Which planted secret `text` shows, and how (plain, base64, urlsafe base64)."""
    scanner = Scanner()
    for label, value in SECRET_VALUES.items():
        scanner.register(value, label)
    data = text.encode() if isinstance(text, str) else text
    return [f"{f.secret} ({f.form})" for f in scanner.scan(data, "output")]


@pytest.fixture
def team(namespace: Namespace) -> Namespace:
    """A namespace with the Secret `db` and its `--from-file` twin, both `kubectl apply`-ed."""
    namespace.apply(secret("db", SECRET_DATA), secret("db-file", FROM_FILE))
    return namespace


@pytest.fixture
def kubeconfig(team: Namespace) -> Path:
    return team.kubeconfig


@dataclass
class Notebook:
    """A real IPython shell with the extension loaded, as the user types into it."""

    shell: InteractiveShell

    def shown(self, line: str) -> str:
        """Everything `%k8s LINE` shows: what it prints, its value's text and HTML."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            value = self.shell.run_line_magic("k8s", line)
        html = getattr(value, "_repr_html_", lambda: "")()
        return "\n".join([out.getvalue(), repr(value), str(value), html or ""])


@pytest.fixture
def notebook(
    kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Notebook]:
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    shell.run_line_magic("config", f"MLOpsConfig.kubeconfig = {str(kubeconfig)!r}")
    yield Notebook(shell)
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    shell.magics_manager.registry["K8sMagics"].close()
    InteractiveShell.clear_instance()
