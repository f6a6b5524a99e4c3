"""Identity and namespaces: tokens, session cookies, profile scoping, multi-user rules."""

import json
from pathlib import Path

import kfp
import kfp_server_api
import pytest
import requests
from tornado.httpclient import AsyncHTTPClient

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator


def test_healthz_needs_no_token_and_reports_multi_user(kfp_emulator: KfpEmulator) -> None:
    anonymous = kfp.Client(host=kfp_emulator.url, namespace=DEFAULT_NAMESPACE)

    health = anonymous.get_kfp_healthz()

    assert isinstance(health, kfp_server_api.V2beta1GetHealthzResponse)
    assert health.multi_user is True


def test_calls_without_a_token_get_401_with_the_servers_message(
    kfp_emulator: KfpEmulator,
) -> None:
    anonymous = kfp.Client(host=kfp_emulator.url, namespace=DEFAULT_NAMESPACE)

    with pytest.raises(kfp_server_api.ApiException) as refused:
        anonymous.list_runs()

    assert refused.value.status == 401
    body = json.loads(refused.value.body)
    assert body["code"] == 16
    assert "there is no user identity header" in body["message"]
    assert body["details"][0]["@type"] == "type.googleapis.com/api.Error"


def test_a_wrong_or_expired_token_gets_401(kfp_emulator: KfpEmulator, token: str) -> None:
    wrong = kfp.Client(host=kfp_emulator.url, existing_token="nope", namespace=DEFAULT_NAMESPACE)
    client = kfp.Client(host=kfp_emulator.url, existing_token=token, namespace=DEFAULT_NAMESPACE)
    client.list_experiments()

    with pytest.raises(kfp_server_api.ApiException) as refused:
        wrong.list_experiments()
    kfp_emulator.expire_token(token)
    with pytest.raises(kfp_server_api.ApiException) as expired:
        client.list_experiments()

    assert refused.value.status == 401 == expired.value.status
    assert "Authentication failure" in json.loads(expired.value.body)["message"]


def test_a_dex_session_cookie_is_accepted(kfp_emulator: KfpEmulator) -> None:
    kfp_emulator.add_session_cookie("dex-session-1", user="alice@example.com")
    browser_like = kfp.Client(
        host=kfp_emulator.url,
        cookies="authservice_session=dex-session-1",
        namespace=DEFAULT_NAMESPACE,
    )

    listed = browser_like.list_experiments()

    assert [e.display_name for e in listed.experiments] == ["Default"]


def test_runs_are_scoped_to_their_namespace(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path, other_namespace: str
) -> None:
    client.create_run_from_pipeline_package(str(pipeline_package), run_name="mine")
    theirs = client.create_run_from_pipeline_package(
        str(pipeline_package), run_name="theirs", namespace=other_namespace
    )

    mine = client.list_runs(namespace=DEFAULT_NAMESPACE)
    other = client.list_runs(namespace=other_namespace)
    experiments = client.list_experiments(namespace=other_namespace)

    assert [r.display_name for r in mine.runs] == ["mine"]
    assert [r.display_name for r in other.runs] == ["theirs"]
    assert {e.namespace for e in experiments.experiments} == {other_namespace}
    assert theirs.run_info.experiment_id in {e.experiment_id for e in experiments.experiments}


def test_a_token_for_one_profile_is_forbidden_in_another(
    kfp_emulator: KfpEmulator, pipeline_package: Path, other_namespace: str
) -> None:
    kfp_emulator.add_token("alice-token", user="alice@example.com", namespaces=[DEFAULT_NAMESPACE])
    alice = kfp.Client(
        host=kfp_emulator.url, existing_token="alice-token", namespace=DEFAULT_NAMESPACE
    )
    foreign_experiment = kfp_emulator.default_experiment_id(other_namespace)

    alice.list_runs()
    with pytest.raises(kfp_server_api.ApiException) as listing:
        alice.list_runs(namespace=other_namespace)
    with pytest.raises(kfp_server_api.ApiException) as creating:
        alice.create_run_from_pipeline_package(
            str(pipeline_package), run_name="sneaky", experiment_id=foreign_experiment
        )

    assert listing.value.status == 403 == creating.value.status
    body = json.loads(creating.value.body)
    assert body["code"] == 7
    assert "alice@example.com" in body["message"] and other_namespace in body["message"]


def test_multi_user_mode_needs_an_experiment_and_a_namespace(
    kfp_emulator: KfpEmulator, token: str, pipeline_package: Path
) -> None:
    no_namespace = kfp.Client(host=kfp_emulator.url, existing_token=token)
    headers = {"Authorization": f"Bearer {token}"}
    spec = {"pipelineInfo": {"name": "p"}, "root": {"dag": {"tasks": {"a": {}}}}}

    without_experiment = requests.post(
        f"{kfp_emulator.url}/apis/v2beta1/runs",
        json={"display_name": "orphan", "pipeline_spec": spec},
        headers=headers,
        timeout=10,
    )
    with pytest.raises(kfp_server_api.ApiException) as listing:
        no_namespace.list_runs()

    assert without_experiment.status_code == 400
    assert (
        "Experiment id can not be empty in multi-user mode" in without_experiment.json()["message"]
    )
    assert listing.value.status == 400


def test_single_user_mode_puts_runs_in_the_default_experiment(pipeline_package: Path) -> None:
    with KfpEmulator(multi_user=False, step_seconds=0.05) as standalone:
        client = kfp.Client(host=standalone.url)
        spec = {"pipelineInfo": {"name": "p"}, "root": {"dag": {"tasks": {"only": {}}}}}
        created = requests.post(
            f"{standalone.url}/apis/v2beta1/runs",
            json={"display_name": "no-experiment", "pipeline_spec": spec},
            timeout=10,
        ).json()

        assert client.get_kfp_healthz().multi_user is False
        assert created["experiment_id"] == standalone.default_experiment_id("")
        assert standalone.wait_for_run_state(created["run_id"]) == "SUCCEEDED"
        assert client.list_runs().total_size == 1


async def test_async_code_on_another_loop_reaches_the_same_state(
    kfp_emulator: KfpEmulator, token: str
) -> None:
    kfp_emulator.seed_runs(2)
    http = AsyncHTTPClient(force_instance=True)
    try:
        response = await http.fetch(
            f"{kfp_emulator.url}/apis/v2beta1/runs?namespace={DEFAULT_NAMESPACE}",
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        http.close()

    assert json.loads(response.body)["total_size"] == 2
    assert kfp_emulator.requests["GET /apis/v2beta1/runs"] == 1
