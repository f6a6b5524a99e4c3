"""Realistic Kubeflow objects (profile, notebook, pipeline run, serving, Katib, Spark, failures)."""

from jupyter_mlops.testing.kubeflow.loader import (
    DEFAULT_NAMESPACE,
    DEFAULT_USER,
    KINDS,
    SCENARIOS,
    Kind,
    KubeflowFixtureError,
    LoadedObject,
    LoadedObjects,
    load_kubeflow,
    render_manifests,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_USER",
    "KINDS",
    "SCENARIOS",
    "Kind",
    "KubeflowFixtureError",
    "LoadedObject",
    "LoadedObjects",
    "load_kubeflow",
    "render_manifests",
]
