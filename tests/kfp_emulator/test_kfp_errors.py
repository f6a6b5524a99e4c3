"""Bad requests and faults: proper grpc-gateway error bodies, never a hang or a traceback."""

import json
import socket
import time
from pathlib import Path

import kfp
import kfp_server_api
import pytest
import requests

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator


@pytest.fixture
def api(kfp_emulator: KfpEmulator, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def assert_error_body(response: requests.Response, status: int, code: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "code", "message", "details"}
    assert body["code"] == code and body["error"] == body["message"]
    assert "Traceback" not in response.text
    # The body is a google.rpc.Status the generated client can read.
    status_model = kfp_server_api.ApiClient().deserialize(
        type("Response", (), {"data": response.text})(), "GoogleRpcStatus"
    )
    assert status_model.code == code
    return body


def test_malformed_json_is_a_400(api: requests.Session, kfp_emulator: KfpEmulator) -> None:
    response = api.post(f"{kfp_emulator.url}/apis/v2beta1/runs", data="{not json", timeout=10)

    body = assert_error_body(response, 400, 3)
    assert "syntax error" in str(body["message"])


def test_an_unknown_field_in_a_body_is_a_400(
    api: requests.Session, kfp_emulator: KfpEmulator
) -> None:
    response = api.post(
        f"{kfp_emulator.url}/apis/v2beta1/experiments",
        json={"display_name": "x", "namespace": DEFAULT_NAMESPACE, "colour": "blue"},
        timeout=10,
    )

    body = assert_error_body(response, 400, 3)
    assert 'unknown field "colour"' in str(body["message"])


def test_an_unknown_run_is_a_404(api: requests.Session, kfp_emulator: KfpEmulator) -> None:
    response = api.get(f"{kfp_emulator.url}/apis/v2beta1/runs/no-such-run", timeout=10)

    body = assert_error_body(response, 404, 5)
    assert "Run no-such-run not found." in str(body["message"])


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"filter": "{nope"}, "failed to parse valid filter"),
        ({"filter": json.dumps({"predicates": [{"key": "colour"}]})}, "invalid predicate"),
        (
            {"filter": json.dumps({"predicates": [{"key": "colour", "operation": "EQUALS"}]})},
            "unrecognized field",
        ),
        (
            {
                "filter": json.dumps(
                    {"predicates": [{"key": "name", "operation": "IN", "stringValue": "a"}]}
                )
            },
            "cannot use IN operator",
        ),
        ({"sort_by": "colour desc"}, "Invalid sorting field"),
        ({"sort_by": "name sideways"}, "invalid sort by format"),
        ({"page_token": "not-a-token"}, "Invalid package token"),
        ({"page_size": "-1"}, "page size should be greater than 0"),
    ],
)
def test_bad_list_queries_are_400s(
    api: requests.Session, kfp_emulator: KfpEmulator, query: dict[str, str], words: str
) -> None:
    response = api.get(
        f"{kfp_emulator.url}/apis/v2beta1/runs",
        params={"namespace": DEFAULT_NAMESPACE, **query},
        timeout=10,
    )

    body = assert_error_body(response, 400, 3)
    assert words.lower() in str(body["message"]).lower()


def test_an_unknown_path_and_a_wrong_method_get_error_bodies(
    api: requests.Session, kfp_emulator: KfpEmulator
) -> None:
    unknown = api.get(f"{kfp_emulator.url}/apis/v2beta1/nothing-here", timeout=10)
    wrong_method = api.put(f"{kfp_emulator.url}/apis/v2beta1/runs", timeout=10)

    assert_error_body(unknown, 404, 5)
    body = assert_error_body(wrong_method, 501, 12)
    assert body["message"] == "Method Not Allowed"


def test_a_bad_pipeline_spec_and_a_duplicate_experiment(
    client: kfp.Client, api: requests.Session, kfp_emulator: KfpEmulator
) -> None:
    experiment = client.create_experiment("dup", namespace=DEFAULT_NAMESPACE)
    duplicate = api.post(
        f"{kfp_emulator.url}/apis/v2beta1/experiments",
        json={"display_name": "dup", "namespace": DEFAULT_NAMESPACE},
        timeout=10,
    )
    bad_spec = api.post(
        f"{kfp_emulator.url}/apis/v2beta1/runs",
        json={
            "display_name": "r",
            "experiment_id": experiment.experiment_id,
            "pipeline_spec": {"pipelineInfo": {"name": "p"}},
        },
        timeout=10,
    )

    assert_error_body(duplicate, 409, 6)
    body = assert_error_body(bad_spec, 400, 3)
    assert "root.dag.tasks" in str(body["message"])


def test_fail_next_answers_the_chosen_status_then_recovers(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    kfp_emulator.fail_next(2, code=503)

    for _ in range(2):
        with pytest.raises(kfp_server_api.ApiException) as failed:
            client.list_experiments()
        assert failed.value.status == 503
        assert json.loads(failed.value.body)["code"] == 14
    assert client.get_kfp_healthz().multi_user is True
    assert client.list_experiments().total_size == 1


def test_latency_delays_every_answer(client: kfp.Client, kfp_emulator: KfpEmulator) -> None:
    kfp_emulator.latency = 0.2

    started = time.perf_counter()
    client.list_experiments()

    assert time.perf_counter() - started >= 0.2


def test_stop_refuses_connections_and_start_resumes_with_state(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("train-model", 0.5)
    run_id = client.create_run_from_pipeline_package(str(pipeline_package), run_name="r").run_id
    kfp_emulator.wait_for_task_state(run_id, "train-model", "RUNNING")

    kfp_emulator.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", kfp_emulator.port)):
        pass
    kfp_emulator.start()

    assert kfp_emulator.wait_for_run_state(run_id) == "SUCCEEDED"
    assert client.get_run(run_id).state == "SUCCEEDED"
