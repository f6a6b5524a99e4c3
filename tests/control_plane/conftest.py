"""The real control plane's fixtures live in tests/plane.py (a plugin shared by the suite)."""

from tests.plane import Namespace, fresh_namespace, wait_for

__all__ = ["Namespace", "fresh_namespace", "wait_for"]
