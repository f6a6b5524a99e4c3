"""The Serving view in a real JupyterLab, on the real control plane with KServe's CRDs and a
real MLflow 3 server: "Serve" in the MLflow registry applies the InferenceService, the doctor
explains it while it starts, the test plays the KServe controller (status through the status
subresource, the predictor's pod, and as the predictor's address a real local v2 server of the
same model version), and "Try it" shows the model's answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from jupyter_mlops.serving import Serving
from jupyter_mlops.testing.control_plane import ControlPlane
from tests import traffic_scan
from tests.plane import Namespace
from tests.serving.conftest import (
    DESTINATION,
    FEATURES,
    Registered,
    mlserver_runtime,
    ready_status,
    register,
    serving_for,
    settings_for,
    write_status,
)

from .conftest import (
    SIDEBAR_TAB,
    Lab,
    OpenPage,
    _check_built,
    by_test_id,
    named_namespace,
    running_lab,
)

pytestmark = pytest.mark.browser

NAMESPACE = "serving-team"
#: What KServe writes while the predictor's Deployment has no available pod.
STARTING = [
    {
        "type": "PredictorReady",
        "status": "False",
        "reason": "MinimumReplicasUnavailable",
        "message": "Deployment does not have minimum availability.",
    },
    {"type": "Ready", "status": "False", "reason": "MinimumReplicasUnavailable"},
]


@pytest.fixture(scope="module")
def churn(mlflow_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Registered:
    """A registered churn model (alias champion) with its training dataset."""
    return register(mlflow_server, tmp_path_factory.mktemp("dataset"))


@pytest.fixture(scope="module")
def team(
    kubeflow_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Namespace]:
    """A namespace of its own on a plane serving KServe's kinds and its MLflow runtime."""
    runtime = tmp_path_factory.mktemp("runtime") / "runtime.json"
    runtime.write_text(json.dumps(mlserver_runtime()))
    kubeflow_plane.kubectl("apply", "--server-side", "-f", str(runtime))
    with named_namespace(kubeflow_plane, NAMESPACE, tmp_path_factory.mktemp("team")) as ns:
        yield ns


@pytest.fixture(scope="module")
def serving_lab(
    tmp_path_factory: pytest.TempPathFactory, team: Namespace, mlflow_server: Any
) -> Iterator[Lab]:
    """JupyterLab on the plane (as the admin, in `serving-team`) and the MLflow server."""
    _check_built()
    base = tmp_path_factory.mktemp("lab-serving")
    kubeconfig = team.plane.write_kubeconfig(base / "kubeconfig", namespace=NAMESPACE)
    traffic_scan.register_secret(team.plane.token, "Kubernetes token")
    env = {"KUBECONFIG": str(kubeconfig), "MLFLOW_TRACKING_URI": mlflow_server.url}
    config = {"MLOpsConfig": {"mlflow_artifacts_destination": DESTINATION}}
    with running_lab(base, server_config=config, env=env) as lab:
        lab.put_settings("jupyter-mlops:plugin", {"refreshInterval": 2})
        yield lab


@pytest.fixture
def predictor(churn: Registered, tmp_path: Any) -> Iterator[Serving]:
    """The test's own `Serving`, for the local v2 server that answers as the predictor."""
    with serving_for(settings_for(churn, tmp_path)) as made:
        yield made


def serve_from_the_registry(page: Page, model: str) -> str:
    """Unfold the model in the MLflow section, press Serve on v1; the service's name."""
    models = by_test_id(page, "mlops-mlflow-models")
    by_test_id(models, "mlops-mlflow-model-search").fill(model)
    entry = models.locator(f'[data-testid="mlops-mlflow-model"][data-name="{model}"]')
    entry.locator("button.jp-mlops-model").click()
    entry.locator('[data-testid="mlops-mlflow-serve"][data-version="1"]').click()
    form = by_test_id(entry, "mlops-serve-form")
    name = by_test_id(form, "mlops-serve-name").input_value()
    by_test_id(form, "mlops-serve-submit").click()
    expect(by_test_id(form, "mlops-serve-done")).to_contain_text(f"Applied InferenceService {name}")
    return name


def predictor_pod(team: Namespace, name: str) -> None:
    """The pod KServe's predictor Deployment would run; kwok runs it on a node."""
    team.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{name}-predictor-0",
                "labels": {"serving.kserve.io/inferenceservice": name, "component": "predictor"},
            },
            "spec": {
                "containers": [
                    {"name": "kserve-container", "image": "docker.io/seldonio/mlserver:1.5.0"}
                ]
            },
        }
    )


def test_serve_from_the_registry_then_ready_then_try_it(
    open_page: OpenPage,
    serving_lab: Lab,
    team: Namespace,
    churn: Registered,
    predictor: Serving,
) -> None:
    with open_page(serving_lab, "serving-story") as page:
        page.click(SIDEBAR_TAB)
        name = serve_from_the_registry(page, churn.name)

        stored = team.get("inferenceservice", name)
        assert stored["metadata"]["annotations"]["jupyter-mlops/model-version"] == "1"
        section = by_test_id(page, "mlops-section-serving")
        card = section.locator(f'[data-testid="mlops-service"][data-name="{name}"]')
        expect(card).to_have_attribute("data-ready", "false")
        expect(by_test_id(card, "mlops-service-model")).to_have_text(f"{churn.name} v1")
        expect(by_test_id(card, "mlops-service-format")).to_contain_text("mlflow")
        storage = stored["spec"]["predictor"]["model"]["storageUri"]
        expect(by_test_id(card, "mlops-service-storage")).to_have_text(storage)

        # KServe: the predictor is starting. The doctor's finding says so in the card.
        generation = stored["metadata"]["generation"]
        write_status(team, name, {"observedGeneration": generation, "conditions": STARTING})
        finding = card.locator('[data-testid="mlops-finding"]')
        expect(finding).to_have_attribute("data-object", f"InferenceService/{name}")
        said = serving_lab.get_json(
            f"mlops/api/kube/doctor/inferenceservices/{name}?namespace={NAMESPACE}"
        )["findings"][0]
        expect(by_test_id(finding, "mlops-finding-summary")).to_have_text(said["summary"])

        # KServe: the predictor answers. Its address is the same version on a real v2 server.
        local = predictor.serve(churn.name, "1", mode="local", name=name)
        assert local is not None and local.url is not None
        predictor_pod(team, name)
        write_status(
            team,
            name,
            ready_status(name, NAMESPACE, address=local.url, url=local.url, generation=generation),
        )
        expect(card).to_have_attribute("data-ready", "true", timeout=30_000)
        expect(by_test_id(card, "mlops-service-ready")).to_have_text("Ready")
        expect(by_test_id(card, "mlops-service-url")).to_have_text(local.url)
        expect(finding).to_have_count(0)
        pod = by_test_id(card, "mlops-service-pod")
        expect(pod).to_have_attribute("data-ready", "true", timeout=60_000)
        expect(pod).to_contain_text(f"{name}-predictor-0")

        # Try it: a form from the signature, one row sent, the model's answer in a table.
        by_test_id(card, "mlops-service-try").click()
        panel = by_test_id(card, "mlops-try-it")
        fields = by_test_id(panel, "mlops-try-input")
        expect(fields).to_have_count(len(FEATURES))
        # A customer the model says stays (0): with many more calls it says they leave.
        predicted = churn.model.predict(churn.test)
        row = churn.test[predicted == 0].iloc[[0]]
        for feature in FEATURES:
            panel.locator(f'[data-testid="mlops-try-input"][data-name="{feature}"]').fill(
                str(row[feature].iloc[0])
            )
        by_test_id(panel, "mlops-try-send").click()
        expected = churn.model.predict(row).tolist()
        answer = by_test_id(panel, "mlops-try-answer")
        expect(by_test_id(answer, "mlops-try-row")).to_have_text([str(v) for v in expected])
        expect(by_test_id(answer, "mlops-try-latency")).to_contain_text(" ms")
        # At the sidebar's default width the card and its panel need no sideways scrolling.
        # At the sidebar's default width the card and its panel need no sideways scrolling.
        assert card.evaluate("card => card.scrollWidth <= card.clientWidth")

        # The same row as v2 JSON, edited in the JSON tab: a changed input, a new answer.
        by_test_id(panel, "mlops-try-tab-json").click()
        request = json.loads(by_test_id(panel, "mlops-try-json").input_value())
        assert [t["name"] for t in request["inputs"]] == list(FEATURES)
        changed = row.assign(calls=row["calls"] + 20)
        for tensor in request["inputs"]:
            value = changed[tensor["name"]].iloc[0]
            tensor["data"] = [value.item() if hasattr(value, "item") else value]
        by_test_id(panel, "mlops-try-json").fill(json.dumps(request))
        by_test_id(panel, "mlops-try-send").click()
        again = churn.model.predict(changed).tolist()
        assert again != expected
        expect(by_test_id(answer, "mlops-try-row")).to_have_text([str(v) for v in again])


def add_version(churn: Registered) -> str:
    """A second version of the model (the same logged model, registered again)."""
    from mlflow import MlflowClient

    client = MlflowClient(churn.url)
    logged = client.get_model_version(churn.name, churn.version)
    source = str(logged.source)
    # MLflow 3 names the logged model in the source: models:/<model id>.
    model_id = logged.model_id or source.removeprefix("models:/")
    made = client.create_model_version(churn.name, source, run_id=logged.run_id, model_id=model_id)
    return str(made.version)


def test_roll_out_an_alias_and_again_with_a_canary_when_it_moves(
    open_page: OpenPage, serving_lab: Lab, team: Namespace, churn: Registered
) -> None:
    from mlflow import MlflowClient

    with open_page(serving_lab, "serving-roll-out") as page:
        page.click(SIDEBAR_TAB)
        models = by_test_id(page, "mlops-mlflow-models")
        by_test_id(models, "mlops-mlflow-model-search").fill(churn.name)
        entry = models.locator(f'[data-testid="mlops-mlflow-model"][data-name="{churn.name}"]')
        entry.locator('[data-testid="mlops-mlflow-roll-out"][data-alias="champion"]').click()
        form = by_test_id(entry, "mlops-serve-form")
        by_test_id(form, "mlops-serve-name").fill("churn-live")
        by_test_id(form, "mlops-serve-submit").click()
        expect(by_test_id(form, "mlops-serve-done")).to_contain_text("churn-live")
        stored = team.get("inferenceservice", "churn-live")["metadata"]["annotations"]
        assert stored["jupyter-mlops/model-alias"] == "champion"
        assert stored["jupyter-mlops/model-version"] == churn.version

        # The alias moves to a new version: the card says so and rolls it out, 25% first.
        newer = add_version(churn)
        MlflowClient(churn.url).set_registered_model_alias(churn.name, "champion", newer)
        card = by_test_id(page, "mlops-section-serving").locator(
            '[data-testid="mlops-service"][data-name="churn-live"]'
        )
        moved = by_test_id(card, "mlops-service-alias-moved")
        expect(moved).to_contain_text(f"@champion now points at v{newer}")
        by_test_id(moved, "mlops-serve-canary").fill("25")
        by_test_id(moved, "mlops-service-roll-out").click()
        # Standard mode: applied, with the warning that a canary splits nothing there.
        expect(by_test_id(card, "mlops-service-roll-out-state")).to_contain_text(
            "splits traffic only in Knative mode"
        )
        spec = team.get("inferenceservice", "churn-live")
        assert spec["metadata"]["annotations"]["jupyter-mlops/model-version"] == newer
        assert spec["spec"]["predictor"]["canaryTrafficPercent"] == 25
        expect(by_test_id(card, "mlops-service-canary")).to_have_text("25% to the new version")
        expect(by_test_id(card, "mlops-service-model")).to_have_text(
            f"{churn.name} v{newer} @champion"
        )
        expect(moved).to_have_count(0)
