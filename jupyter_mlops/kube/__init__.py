"""The Kubernetes API as a data scientist uses it: namespaced objects, logs, events, doctor.

`from jupyter_mlops import kube` then `kube.Cluster(settings)`, `kube.WatchCache(cluster)`,
`kube.diagnose(cache)`: each is imported when first named, so importing the package is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cluster import Cluster
    from .doctor import DoctorReport, Finding, diagnose, diagnose_object, examine, examine_object
    from .watch import WatchCache

#: Each public name and the module that defines it.
_WHERE = {
    "Cluster": "cluster",
    "WatchCache": "watch",
    "DoctorReport": "doctor",
    "Finding": "doctor",
    "diagnose": "doctor",
    "diagnose_object": "doctor",
    "examine": "doctor",
    "examine_object": "doctor",
}

__all__ = [
    "Cluster",
    "DoctorReport",
    "Finding",
    "WatchCache",
    "diagnose",
    "diagnose_object",
    "examine",
    "examine_object",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
