"""A wire-level Kubeflow Pipelines API server (v2beta1 REST) for tests, the demo and benchmarks.

``KfpEmulator`` speaks the API ``kfp.Client`` uses, on loopback, over plain HTTP, checked
against the ``kfp_server_api`` models; runs advance through real states, as the nodes of an
Argo Workflow whose task details are shaped as a KFP 2.x server's, and, given a Kubernetes
API URL, each task runs as a pod there. Recurring runs are served; periodic ones fire.
Run it as a process with
``python -m jupyter_mlops.testing.kfp --port N [--kube URL] [--kube-token TOKEN]``.
"""

from .server import DEFAULT_EXPERIMENT, DEFAULT_NAMESPACE, DEFAULT_USER, KfpEmulator
from .wire import ApiError, GrpcCode

__all__ = [
    "DEFAULT_EXPERIMENT",
    "DEFAULT_NAMESPACE",
    "DEFAULT_USER",
    "ApiError",
    "GrpcCode",
    "KfpEmulator",
]
