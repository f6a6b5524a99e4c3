"""A wire-level Kubernetes API emulator for tests, benchmarks and the demo."""

from .emulator import KubeEmulator
from .rbac import Attributes, Identity, Rule, admin_rules, kubeflow_edit_rules
from .status import ApiError

__all__ = [
    "ApiError",
    "Attributes",
    "Identity",
    "KubeEmulator",
    "Rule",
    "admin_rules",
    "kubeflow_edit_rules",
]
