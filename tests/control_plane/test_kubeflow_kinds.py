"""On the real API server: Kubeflow's custom resources are found by the product, in every
version and group kubectl finds them (Katib's Experiments only in `kubeflow.org/v1beta1`
while Notebooks are `v1`; SparkApplications in a group ending in `.k8s.io`)."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import Namespace, wait_for

CRDS = Path(__file__).parents[2] / "jupyter_mlops/testing/kubeflow/manifests/crds.yaml"


def test_katib_experiments_and_spark_applications_are_listed(
    control_plane: ControlPlane, namespace: Namespace
) -> None:
    namespace.kubectl("apply", "--server-side", "-f", str(CRDS))
    namespace.kubectl("wait", "--for=condition=Established", "--timeout=30s", "-f", str(CRDS))
    namespace.apply(
        {
            "apiVersion": "kubeflow.org/v1beta1",
            "kind": "Experiment",
            "metadata": {"name": "random-search", "namespace": namespace.name},
            "spec": {"objective": {"type": "maximize", "objectiveMetricName": "accuracy"}},
        },
        {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "metadata": {"name": "spark-pi", "namespace": namespace.name},
            "spec": {
                "type": "Python",
                "mode": "cluster",
                "sparkVersion": "3.5.3",
                "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
                "driver": {"cores": 1, "memory": "512m", "serviceAccount": "default-editor"},
                "executor": {"instances": 1, "cores": 1, "memory": "512m"},
            },
        },
    )
    cluster = namespace.cluster()
    # kubectl's own answer is the reference for which kinds are served and where.
    served = namespace.kubectl("api-resources", "--api-group=kubeflow.org", "-o", "name").stdout
    assert "experiments.kubeflow.org" in served.split()

    def found() -> set[tuple[str, str, str]]:
        kinds = cluster.custom_kinds(refresh=True)
        return {(k.group, k.version, k.plural) for k in kinds}

    kinds = wait_for(
        "discovery to serve both kinds",
        lambda: found() if ("kubeflow.org", "v1beta1", "experiments") in found() else None,
    )
    assert ("sparkoperator.k8s.io", "v1beta2", "sparkapplications") in kinds
    for word, name in (("experiments", "random-search"), ("sparkapp", "spark-pi")):
        items = cluster.list(word).items
        assert [o["metadata"]["name"] for o in items] == [name], word
