"""Recurring runs through kfp.Client: create, get, list, enable, disable, delete, and firing.

Shapes are the server's: int64 fields (``max_concurrency``, ``interval_second``) are strings,
``mode`` is what was asked and ``status`` what is, and a list answers ``recurringRuns``.
"""

import json
import re
import time
from pathlib import Path
from typing import Any

import kfp
import kfp_server_api
import pytest
import requests
import yaml

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator

from .argo_tree import fnv1a_32
from .wire_shapes import assert_wire

HOUR = 3600


@pytest.fixture
def experiment_id(client: kfp.Client) -> str:
    return str(client.create_experiment("nightly", namespace=DEFAULT_NAMESPACE).experiment_id)


@pytest.fixture
def api(token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def every(
    client: kfp.Client, experiment_id: str, package: Path, name: str, seconds: int, **more: Any
) -> Any:
    return client.create_recurring_run(
        experiment_id=experiment_id,
        job_name=name,
        interval_second=seconds,
        pipeline_package_path=str(package),
        **more,
    )


def test_a_periodic_recurring_run_from_a_package(
    client: kfp.Client, experiment_id: str, pipeline_package: Path
) -> None:
    created = every(
        client,
        experiment_id,
        pipeline_package,
        "hourly training",
        HOUR,
        params={"rows": 5},
        max_concurrency=2,
        no_catchup=True,
        description="every hour",
    )

    assert isinstance(created, kfp_server_api.V2beta1RecurringRun)
    assert created.display_name == "hourly training" and created.description == "every hour"
    assert created.mode == "ENABLE" and created.status == "ENABLED"
    assert created.trigger.periodic_schedule.interval_second == str(HOUR)
    assert created.trigger.cron_schedule is None
    assert created.max_concurrency == "2" and created.no_catchup is True
    assert created.experiment_id == experiment_id and created.namespace == DEFAULT_NAMESPACE
    assert created.pipeline_spec["pipelineInfo"]["name"] == "three-step-training"
    assert created.pipeline_version_reference is None
    assert created.runtime_config.parameters == {"rows": 5}
    # A Kubeflow deployment runs pipelines as the profile's default-editor.
    assert created.service_account == "default-editor"
    assert created.created_at == created.updated_at
    fetched = client.get_recurring_run(created.recurring_run_id)
    assert fetched.to_dict() == created.to_dict()


def test_a_cron_recurring_run_of_a_pipeline_version(
    client: kfp.Client, experiment_id: str, pipeline_package: Path
) -> None:
    pipeline = client.upload_pipeline(str(pipeline_package), "shared-training")
    version = client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]

    created = client.create_recurring_run(
        experiment_id=experiment_id,
        job_name="weekdays",
        cron_expression="0 0 9 ? * 2-6",
        start_time="2030-01-01T00:00:00Z",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        enabled=False,
    )

    assert created.trigger.cron_schedule.cron == "0 0 9 ? * 2-6"
    assert created.trigger.cron_schedule.start_time.year == 2030
    assert created.pipeline_spec is None
    reference = created.pipeline_version_reference
    assert reference.pipeline_version_id == version.pipeline_version_id
    assert reference.pipeline_id == pipeline.pipeline_id
    assert created.mode == "DISABLE" and created.status == "DISABLED"


def test_list_pages_sorts_and_filters_by_experiment_and_namespace(
    client: kfp.Client, kfp_emulator: KfpEmulator, experiment_id: str, pipeline_package: Path
) -> None:
    for index in range(5):
        every(client, experiment_id, pipeline_package, f"job-{index}", HOUR)
    other = client.create_experiment("elsewhere", namespace=DEFAULT_NAMESPACE).experiment_id
    every(client, other, pipeline_package, "other-job", HOUR)

    first = client.list_recurring_runs(
        experiment_id=experiment_id, page_size=2, sort_by="display_name desc"
    )
    second = client.list_recurring_runs(
        experiment_id=experiment_id, page_size=2, page_token=first.next_page_token
    )
    in_namespace = client.list_recurring_runs(namespace=DEFAULT_NAMESPACE, page_size=50)
    named = client.list_recurring_runs(
        namespace=DEFAULT_NAMESPACE,
        filter=json.dumps(
            {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": "job-3"}]}
        ),
    )

    assert first.total_size == 5
    assert [r.display_name for r in first.recurring_runs] == ["job-4", "job-3"]
    assert [r.display_name for r in second.recurring_runs] == ["job-2", "job-1"]
    assert in_namespace.total_size == 6 and not in_namespace.next_page_token
    assert [r.display_name for r in named.recurring_runs] == ["job-3"]


def test_disable_enable_and_delete(
    client: kfp.Client, experiment_id: str, pipeline_package: Path
) -> None:
    created = every(client, experiment_id, pipeline_package, "toggled", HOUR)

    client.disable_recurring_run(created.recurring_run_id)
    disabled = client.get_recurring_run(created.recurring_run_id)
    client.enable_recurring_run(created.recurring_run_id)
    enabled = client.get_recurring_run(created.recurring_run_id)
    client.delete_recurring_run(created.recurring_run_id)

    assert (disabled.mode, disabled.status) == ("DISABLE", "DISABLED")
    assert (enabled.mode, enabled.status) == ("ENABLE", "ENABLED")
    assert disabled.updated_at >= created.created_at
    with pytest.raises(kfp_server_api.ApiException) as missing:
        client.get_recurring_run(created.recurring_run_id)
    assert missing.value.status == 404
    assert f"Job {created.recurring_run_id} not found" in json.loads(missing.value.body)["message"]
    assert client.list_recurring_runs(experiment_id=experiment_id).recurring_runs is None


def post(api: requests.Session, emulator: KfpEmulator, body: dict[str, Any]) -> Any:
    return api.post(f"{emulator.url}/apis/v2beta1/recurringruns", json=body, timeout=10)


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"max_concurrency": "0"}, 400, "at least 1 and at most 10. Received 0"),
        ({"max_concurrency": "11"}, 400, "at least 1 and at most 10. Received 11"),
        (
            {"trigger": {"cron_schedule": {"cron": "0 70 * * *"}}},
            400,
            "Schedule cron is not a supported format",
        ),
        ({"trigger": {"cron_schedule": {"cron": "* *"}}}, 400, "Expected 5 to 6 fields, found 2"),
        (
            {"trigger": {"periodic_schedule": {"interval_second": "-5"}}},
            400,
            "Found invalid period schedule interval -5",
        ),
        ({"display_name": ""}, 500, "Recurring run's name cannot be empty"),
        ({"pipeline_spec": None}, 500, "Cannot create a job with an empty pipeline ID"),
        ({"experiment_id": ""}, 400, "Experiment id can not be empty in multi-user mode"),
    ],
)
def test_what_the_server_refuses(
    api: requests.Session,
    kfp_emulator: KfpEmulator,
    experiment_id: str,
    pipeline_package: Path,
    change: dict[str, Any],
    status: int,
    words: str,
) -> None:
    body = {
        "display_name": "refused",
        "experiment_id": experiment_id,
        "pipeline_spec": yaml.safe_load(pipeline_package.read_text()),
        "trigger": {"periodic_schedule": {"interval_second": "60"}},
        "max_concurrency": "1",
        "mode": "ENABLE",
        **change,
    }

    answer = post(api, kfp_emulator, body)

    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"]


def test_a_namespace_the_user_may_not_use_is_refused(
    kfp_emulator: KfpEmulator, token: str, other_namespace: str
) -> None:
    kfp_emulator.add_token("outsider", user="outsider@example.com", namespaces=[other_namespace])
    outsider = kfp.Client(
        host=kfp_emulator.url, existing_token="outsider", namespace=other_namespace
    )

    with pytest.raises(kfp_server_api.ApiException) as refused:
        outsider.list_recurring_runs(namespace=DEFAULT_NAMESPACE)
    with pytest.raises(kfp_server_api.ApiException) as unscoped:
        outsider.list_recurring_runs()

    assert refused.value.status == 403
    assert unscoped.value.status == 400
    assert "empty namespace in multi-user mode" in json.loads(unscoped.value.body)["message"]


def test_the_raw_json_holds_only_fields_of_the_models(
    api: requests.Session,
    client: kfp.Client,
    kfp_emulator: KfpEmulator,
    experiment_id: str,
    pipeline_package: Path,
) -> None:
    created = every(client, experiment_id, pipeline_package, "shaped", HOUR, params={"rows": 1})
    url = f"{kfp_emulator.url}/apis/v2beta1/recurringruns"

    got = api.get(f"{url}/{created.recurring_run_id}", timeout=10).json()
    listed = api.get(url, params={"namespace": DEFAULT_NAMESPACE}, timeout=10).json()

    assert_wire("V2beta1RecurringRun", got)
    assert_wire("V2beta1ListRecurringRunsResponse", listed)
    assert [r["recurring_run_id"] for r in listed["recurringRuns"]] == [created.recurring_run_id]
    assert got["max_concurrency"] == "1" and got["trigger"]["periodic_schedule"]["interval_second"]


def test_a_periodic_trigger_starts_runs_named_as_the_scheduled_workflow_names_them(
    client: kfp.Client, kfp_emulator: KfpEmulator, experiment_id: str, pipeline_package: Path
) -> None:
    created = every(client, experiment_id, pipeline_package, "Every Second!", 1, max_concurrency=5)

    first, second = kfp_emulator.wait_for_scheduled_runs(created.recurring_run_id, 2)[:2]

    runs = [client.get_run(first), client.get_run(second)]
    for index, run in enumerate(runs, start=1):
        assert run.recurring_run_id == created.recurring_run_id
        assert run.experiment_id == experiment_id
        # <swf name>-<index>-<FNV-1a of both>; the swf name is generated from the job's name.
        match = re.fullmatch(r"(everysecond[a-z0-9]{5})-(\d+)-(\d+)", run.display_name)
        assert match and int(match.group(2)) == index
        assert int(match.group(3)) == fnv1a_32(f"{match.group(1)}-{index}")
    assert runs[0].created_at < runs[1].created_at
    listed = client.list_runs(
        experiment_id=experiment_id,
        filter=json.dumps(
            {
                "predicates": [
                    {
                        "operation": "EQUALS",
                        "key": "recurring_run_id",
                        "stringValue": created.recurring_run_id,
                    }
                ]
            }
        ),
    )
    assert listed.total_size >= 2


def test_max_concurrency_and_disabling_hold_new_runs_back(
    client: kfp.Client, kfp_emulator: KfpEmulator, experiment_id: str, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("load-data", 60)
    created = every(client, experiment_id, pipeline_package, "busy", 1, max_concurrency=1)
    (first,) = kfp_emulator.wait_for_scheduled_runs(created.recurring_run_id, 1)

    # Two more intervals pass while the first run goes on: nothing new may start.
    kfp_emulator.wait_for_task_state(first, "load-data", "RUNNING")
    with pytest.raises(TimeoutError):
        kfp_emulator.wait_for_scheduled_runs(created.recurring_run_id, 2, timeout=2.5)
    client.disable_recurring_run(created.recurring_run_id)
    client.terminate_run(first)
    kfp_emulator.wait_for_run_state(first, "CANCELED")
    with pytest.raises(TimeoutError):
        kfp_emulator.wait_for_scheduled_runs(created.recurring_run_id, 2, timeout=2.5)
    client.enable_recurring_run(created.recurring_run_id)
    started = time.monotonic()
    assert len(kfp_emulator.wait_for_scheduled_runs(created.recurring_run_id, 2)) == 2
    assert time.monotonic() - started < 10
