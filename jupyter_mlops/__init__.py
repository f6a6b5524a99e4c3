"""jupyter-mlops: Kubernetes, Kubeflow Pipelines and MLflow inside JupyterLab.

Three entry points share one plain Python API: the jupyter_server extension, the prebuilt
labextension, and the IPython extension (`%load_ext jupyter_mlops`). Importing this package is
cheap: kfp, kubernetes and mlflow are imported only when a feature needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    from ._version import __version__
except ImportError:  # a source checkout that was never built
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from .checks import StatusReport
    from .config import MLOpsConfig
    from .connection import Connection

__all__ = ["__version__", "connect", "load_ipython_extension", "status"]


def connect(config: MLOpsConfig | None = None) -> Connection:
    """The backends of this configuration, each made once (see `jupyter_mlops.connection`)."""
    from .connection import connect as _connect

    return _connect(config)


def status(config: MLOpsConfig | None = None) -> StatusReport:
    """What is configured and what answers: cluster, pipelines and tracking."""
    from .checks import status as _status

    return _status(config)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-mlops"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server import MLOpsExtension

    return [{"module": "jupyter_mlops", "app": MLOpsExtension}]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext jupyter_mlops`: register the magics."""
    from .magics import register

    register(ipython)
