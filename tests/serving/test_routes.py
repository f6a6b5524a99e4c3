"""The serving routes through a real jupyter_server, on the real control plane with KServe's
CRDs and the session's real MLflow server. The test plays the KServe controller: it writes the
status through the status subresource, and the predictor's address is a real local v2 server
of the same model version, started by the product's own `Serving`. Every answer and request
body is checked against its model's schema in api/schemas.json."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
import yaml
from tornado.httpclient import HTTPClientError

from jupyter_mlops.serving import Serving
from jupyter_mlops.testing.control_plane import ControlPlane

from .conftest import (
    DESTINATION,
    FEATURES,
    Namespace,
    Registered,
    cluster_settings,
    ready_status,
    s3_account,
    serving_for,
    write_status,
)

T = TypeVar("T")
API = Path(__file__).parents[2] / "api"
SPEC = yaml.safe_load((API / "openapi.yaml").read_text())
DEFS = json.loads((API / "schemas.json").read_text())["$defs"]
#: What KServe writes while the predictor's Deployment has no available pod.
STARTING = {
    "conditions": [
        {
            "type": "PredictorReady",
            "status": "False",
            "reason": "MinimumReplicasUnavailable",
            "message": "Deployment does not have minimum availability.",
        },
        {"type": "Ready", "status": "False", "reason": "MinimumReplicasUnavailable"},
    ]
}


BAD_PREDICT_BODIES: tuple[Any, ...] = (
    [],
    {"rows": []},
    {"inputs": "x"},
    {"inputs": [{"name": "a", "shape": [1]}]},
    {"inputs": [{"name": "a", "datatype": "FP64", "data": [1.0], "shape": ["?"]}]},
    {"columns": {"a": [1, 2], "b": [1]}},
    {"inputs": [{"name": "a", "datatype": "INT64", "data": [1], "shape": [float("inf")]}]},
)


def conforms(answer: Any, model: str) -> Any:
    """`answer`, after checking it against its model's schema in api/schemas.json."""
    jsonschema.validate(answer, {"$ref": f"#/$defs/{model}", "$defs": DEFS})
    return answer


def operation_schema(path: str, method: str, status: str | None = None) -> str:
    """The model an operation of api/openapi.yaml names for its body (or a status' answer)."""
    operation = SPEC["paths"][f"/mlops/api/serving/{path}"][method]
    part = operation["responses"][status] if status else operation["requestBody"]
    ref: str = part["content"]["application/json"]["schema"]["$ref"]
    assert ref.startswith("schemas.json#/$defs/"), ref
    return ref.rsplit("/", 1)[1]


@pytest.fixture
def mlops_config(
    kserve: ControlPlane, namespace: Namespace, registered: Registered, tmp_path: Path
) -> dict[str, Any]:
    # The server's workspace is its own: the local servers the test starts are not its.
    return {
        "workspace": str(tmp_path / "server"),
        "cluster": "kubeconfig",
        "kubeconfig": str(namespace.kubeconfig),
        "mlflow_tracking_uri": registered.url,
        "mlflow_artifacts_destination": DESTINATION,
    }


@pytest.fixture
def laptop(registered: Registered, namespace: Namespace) -> Iterator[Serving]:
    """The test's own `Serving`, for the local model server that plays the predictor."""
    with serving_for(cluster_settings(registered, namespace)) as made:
        yield made


async def call(jp_fetch: Any, method: str, *path: str, body: Any = None, **params: Any) -> Any:
    data = None if body is None else json.dumps(body)
    response = await jp_fetch(
        "mlops", "api", "serving", *path, method=method, body=data, params=params
    )
    return json.loads(response.body)


async def refused(
    jp_fetch: Any, method: str, *path: str, body: Any = None, **params: Any
) -> tuple[int, dict[str, str]]:
    with pytest.raises(HTTPClientError) as error:
        await call(jp_fetch, method, *path, body=body, **params)
    assert error.value.response is not None
    answer = conforms(json.loads(error.value.response.body), "ErrorBody")
    assert set(answer) == {"reason", "message"}
    return error.value.code, answer


async def until(what: str, check: Callable[[], Any], timeout: float = 90.0) -> Any:
    """Await `check()` (a coroutine's result) until it is truthy, giving the server the loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}")
        await asyncio.sleep(0.2)


async def serve(jp_fetch: Any, registered: Registered, **body: Any) -> dict[str, Any]:
    request = {"model": registered.name, "alias": "champion", "service_account": "models", **body}
    conforms(request, "ServeRequest")
    answer: dict[str, Any] = conforms(
        await call(jp_fetch, "POST", "serve", body=request), "ServeAnswer"
    )
    return answer


def listed(answer: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in answer["services"] if s["name"] == name), None)


async def test_serve_applies_and_a_starting_service_shows_the_doctors_finding(
    jp_fetch: Any, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    answer = await serve(jp_fetch, registered)

    name = answer["service"]["name"]
    assert answer["service"]["ready"] is False
    stored = namespace.get("inferenceservice", name)
    assert stored["metadata"]["annotations"]["jupyter-mlops/model-version"] == registered.version
    assert stored["spec"]["predictor"]["model"] == answer["manifest"]["spec"]["predictor"]["model"]
    assert "canaryTrafficPercent" not in stored["spec"]["predictor"]
    # The plan's checks come back: the runtime lists MLflow 1 and 2, the model was logged by 3.
    assert [f["check"] for f in answer["findings"]] == ["requirements"]

    generation = stored["metadata"]["generation"]
    write_status(namespace, name, {"observedGeneration": generation, **STARTING})

    async def with_finding() -> dict[str, Any] | None:
        found = listed(await call(jp_fetch, "GET", "services"), name)
        return found if found and found["findings"] else None

    shown = await until("the doctor's finding in the list", with_finding)
    conforms({"namespace": namespace.name, "services": [shown], "errors": {}}, "ServingServiceList")
    assert shown["ready"] is False and "MinimumReplicasUnavailable" in shown["reason"]
    assert (shown["model"], shown["version"], shown["alias"]) == (
        registered.name,
        registered.version,
        "champion",
    )
    assert shown["alias_version"] == registered.version
    assert shown["storage_uri"] == stored["spec"]["predictor"]["model"]["storageUri"]
    # The doctor's own route says the same about the object.
    response = await jp_fetch("mlops", "api", "kube", "doctor", "inferenceservices", name)
    assert shown["findings"] == json.loads(response.body)["findings"]
    assert shown["findings"][0]["object"] == {"kind": "InferenceService", "name": name}


async def test_a_ready_service_answers_its_signature_and_predictions(
    jp_fetch: Any, namespace: Namespace, registered: Registered, laptop: Serving
) -> None:
    s3_account(namespace)
    name = (await serve(jp_fetch, registered))["service"]["name"]
    # The predictor: the same version on a real v2 server, under the service's name.
    local = laptop.serve(registered.name, "champion", mode="local", name=name)
    assert local is not None and local.url is not None
    generation = namespace.get("inferenceservice", name)["metadata"]["generation"]
    write_status(
        namespace,
        name,
        ready_status(name, namespace.name, address=local.url, url=local.url, generation=generation),
    )

    async def ready() -> dict[str, Any] | None:
        found = listed(await call(jp_fetch, "GET", "services"), name)
        return found if found and found["ready"] else None

    shown = await until("the service to be Ready", ready)
    assert shown["url"] == local.url and shown["findings"] == []
    one = conforms(await call(jp_fetch, "GET", "services", name), "ServingService")
    assert one["ready"] and one["url"] == local.url

    metadata = conforms(
        await call(jp_fetch, "GET", "services", name, "metadata"), "ServingMetadata"
    )
    assert [i["name"] for i in metadata["inputs"]] == list(FEATURES)

    rows = registered.test.head(5)
    expected = registered.model.predict(rows).tolist()
    columns = {c: rows[c].tolist() for c in rows.columns}
    answer = conforms(
        await call(
            jp_fetch,
            "POST",
            "services",
            name,
            "predict",
            body=conforms({"columns": columns}, "PredictBody"),
        ),
        "ServingPrediction",
    )
    assert answer["url"] == local.url and answer["latency_ms"] > 0
    assert answer["table"]["columns"] == ["prediction"]
    assert [r[0] for r in answer["table"]["rows"]] == expected
    assert answer["response"]["model_name"] == name

    # The same rows as v2 tensors, as the Try-it form's JSON sends them.
    tensors = [
        {
            "name": spec["name"],
            "datatype": spec["datatype"],
            "shape": [len(rows), 1],
            "data": rows[spec["name"]].tolist(),
        }
        for spec in metadata["inputs"]
    ]
    body = conforms({"inputs": tensors}, "PredictBody")
    v2 = conforms(
        await call(jp_fetch, "POST", "services", name, "predict", body=body), "ServingPrediction"
    )
    assert [r[0] for r in v2["table"]["rows"]] == expected


def model_of_two_versions(registered: Registered, name: str) -> tuple[str, str]:
    """A registered model of its own with two versions of the session's logged model, so
    moving its alias leaves the session's model as other tests expect it."""
    from mlflow import MlflowClient

    client = MlflowClient(registered.url)
    logged = client.get_model_version(registered.name, registered.version)
    client.create_registered_model(name)
    # MLflow 3 names the logged model in the source: models:/<model id>.
    source = str(logged.source)
    logged_model = logged.model_id or source.removeprefix("models:/")
    made = [
        client.create_model_version(name, source, run_id=logged.run_id, model_id=logged_model)
        for _ in range(2)
    ]
    return str(made[0].version), str(made[1].version)


async def test_rolling_out_a_moved_alias_with_a_canary(
    jp_fetch: Any, namespace: Namespace, registered: Registered
) -> None:
    from mlflow import MlflowClient

    s3_account(namespace)
    model = f"{registered.name}-{namespace.name}"
    first, newer = model_of_two_versions(registered, model)
    client = MlflowClient(registered.url)
    client.set_registered_model_alias(model, "live", first)

    async def rollout(**body: Any) -> dict[str, Any]:
        return await serve(jp_fetch, registered, model=model, alias="live", name="rollout", **body)

    served = await rollout()
    assert served["service"]["version"] == first
    client.set_registered_model_alias(model, "live", newer)

    moved = listed(await call(jp_fetch, "GET", "services"), "rollout")
    assert moved is not None
    assert (moved["version"], moved["alias_version"]) == (first, newer)

    rolled = await rollout(canary=20, deployment_mode="Knative")
    stored = namespace.get("inferenceservice", "rollout")
    assert stored["metadata"]["annotations"]["jupyter-mlops/model-version"] == newer
    assert stored["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
    assert stored["spec"]["predictor"]["canaryTrafficPercent"] == 20
    assert rolled["service"]["canary_percent"] == 20
    assert "canary" not in [f["check"] for f in rolled["findings"]]
    after_roll = listed(await call(jp_fetch, "GET", "services"), "rollout")
    assert after_roll is not None
    assert (after_roll["version"], after_roll["alias_version"]) == (newer, newer)

    # A canary in Standard mode is applied, with the warning that it splits nothing.
    standard = await rollout(canary=50)
    assert "canary" in [f["check"] for f in standard["findings"]]
    # Served again without a canary: the field this manager set is gone (all traffic to it).
    await rollout()
    assert (
        "canaryTrafficPercent"
        not in namespace.get("inferenceservice", "rollout")["spec"]["predictor"]
    )


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({}, 400, "name the registered model"),
        ([1, 2], 400, "the body must be JSON like"),
        ({"model": "x", "version": "1", "alias": "a"}, 400, "not both"),
        ({"model": "x", "version": "v1"}, 400, "version number"),
        ({"model": "x", "canary": 150}, 400, "canary must be a whole percentage"),
        ({"model": "x", "replicas": 2}, 400, "unknown keys replicas"),
        ({"model": "x", "name": "Bad_Name"}, 400, "cannot name an InferenceService"),
        ({"model": "x", "mode": "local", "canary": 10}, 400, "needs mode cluster"),
        ({"model": "x", "runtime": "../../secrets"}, 400, "is not an object name"),
        ({"model": "x", "service_account": "a/b"}, 400, "is not an object name"),
        ({"model": "x", "canary": "20"}, 400, "canary: Input should be a valid integer"),
        ({"model": "x", "canary": True}, 400, "canary: Input should be a valid integer"),
        ({"model": "x", "deployment_mode": "Fast"}, 400, "deployment_mode: Input should be"),
        ({"model": ["x"]}, 400, "model: Input should be a valid string"),
        ({"model": "x", "mode": "both"}, 400, "mode: Input should be 'local' or 'cluster'"),
    ],
)
async def test_bad_serve_requests_are_400(jp_fetch: Any, body: Any, code: int, words: str) -> None:
    status, answer = await refused(jp_fetch, "POST", "serve", body=body)
    assert status == code and words in answer["message"], answer


def test_the_spec_names_each_operations_model() -> None:
    answers = {
        ("services", "get"): "ServingServiceList",
        ("services/{name}", "get"): "ServingService",
        ("services/{name}/metadata", "get"): "ServingMetadata",
        ("services/{name}/predict", "post"): "ServingPrediction",
        ("serve", "post"): "ServeAnswer",
    }
    for (path, method), model in answers.items():
        assert operation_schema(path, method, "200") == model
        assert model in DEFS
    assert operation_schema("services/{name}/predict", "post") == "PredictBody"
    assert operation_schema("serve", "post") == "ServeRequest"


async def test_what_the_backends_refuse_keeps_its_status(
    jp_fetch: Any, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    status, answer = await refused(
        jp_fetch, "POST", "serve", body={"model": f"{registered.name}-nothing", "alias": "a"}
    )
    assert status == 404 and "no registered model" in answer["message"]
    status, answer = await refused(
        jp_fetch,
        "POST",
        "serve",
        body={"model": registered.name, "alias": "champion", "runtime": "no-such-runtime"},
    )
    assert status == 422 and "no-such-runtime" in answer["message"]
    assert namespace.kubectl("get", "isvc", "-o", "name").stdout.strip() == ""

    status, _ = await refused(jp_fetch, "GET", "services", "Bad_Name")
    assert status == 400
    status, answer = await refused(jp_fetch, "GET", "services", "ghost")
    assert status == 404 and "ghost" in answer["message"]
    status, _ = await refused(jp_fetch, "GET", "services", "ghost", mode="both")
    assert status == 400

    # Applied, but KServe gave it no address yet: the model cannot be asked.
    name = (await serve(jp_fetch, registered))["service"]["name"]
    status, answer = await refused(jp_fetch, "GET", "services", name, "metadata")
    assert status == 503 and "has no address yet" in answer["message"]
    for body in BAD_PREDICT_BODIES:
        status, answer = await refused(jp_fetch, "POST", "services", name, "predict", body=body)
        assert status == 400, (body, answer)


class NotV2Server:
    """A loopback model server whose metadata leaves out what the v2 protocol requires of a
    tensor (its datatype and shape), as a hand-made runtime might."""

    def __init__(self, model: str) -> None:
        document = json.dumps({"name": model, "inputs": [{"name": "x"}], "outputs": []}).encode()

        class Answer(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_metadata_that_is_not_v2_is_503_naming_the_field(
    jp_fetch: Any, namespace: Namespace, registered: Registered
) -> None:
    s3_account(namespace)
    name = (await serve(jp_fetch, registered))["service"]["name"]
    runtime = NotV2Server(name)
    try:
        generation = namespace.get("inferenceservice", name)["metadata"]["generation"]
        status = ready_status(
            name, namespace.name, address=runtime.url, url=runtime.url, generation=generation
        )
        write_status(namespace, name, status)

        async def ready() -> dict[str, Any] | None:
            found = listed(await call(jp_fetch, "GET", "services"), name)
            return found if found and found["ready"] else None

        await until("the service to be Ready", ready)
        code, answer = await refused(jp_fetch, "GET", "services", name, "metadata", mode="cluster")
    finally:
        runtime.close()
    assert code == 503
    assert "not the v2 protocol's" in answer["message"]
    assert "inputs.0.datatype" in answer["message"]
