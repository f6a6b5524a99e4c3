"""IPython magics: thin adapters over the Python API, registered by `%load_ext jupyter_mlops`."""

from __future__ import annotations

from typing import Any


def register(ipython: Any) -> None:
    """Register every magics class on the shell; no backend library is imported here."""
    from .k8s import K8sMagics
    from .katib import KatibMagics
    from .kfp import KfpMagics
    from .kserve import KServeMagics
    from .mlflow import MlflowMagics
    from .mlops import MLOpsMagics

    ipython.register_magics(MLOpsMagics)
    ipython.register_magics(MlflowMagics)
    ipython.register_magics(KfpMagics)
    ipython.register_magics(K8sMagics)
    ipython.register_magics(KServeMagics)
    ipython.register_magics(KatibMagics)
