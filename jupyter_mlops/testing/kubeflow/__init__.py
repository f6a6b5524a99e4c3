"""Realistic Kubeflow objects (profile, notebook, pipeline run, serving, Katib, Spark, failures)
and the logs of their pods."""

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
    seed_emulator,
)
from jupyter_mlops.testing.kubeflow.logs import ContainerLog, pod_logs, write_logs, write_pod_logs

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_USER",
    "KINDS",
    "SCENARIOS",
    "ContainerLog",
    "Kind",
    "KubeflowFixtureError",
    "LoadedObject",
    "LoadedObjects",
    "load_kubeflow",
    "pod_logs",
    "render_manifests",
    "seed_emulator",
    "write_logs",
    "write_pod_logs",
]
