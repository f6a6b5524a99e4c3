"""Runs through the unmodified kfp.Client: submit, advance, fail, terminate, retry."""

from pathlib import Path

import kfp
import kfp_server_api
import pytest
from kfp import dsl

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator

TASKS = ["load-data", "train-model", "report"]


def submit(client: kfp.Client, package: Path, name: str = "nightly") -> str:
    result = client.create_run_from_pipeline_package(
        str(package), arguments={"rows": 7}, run_name=name, experiment_name="training"
    )
    return str(result.run_id)


def test_a_compiled_package_runs_to_success_with_one_task_detail_per_task(
    client: kfp.Client, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)

    run = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)

    assert run.state == "SUCCEEDED"
    assert run.display_name == "nightly"
    assert run.runtime_config.parameters == {"rows": 7}
    assert run.pipeline_spec["pipelineInfo"]["name"] == "three-step-training"
    assert [h.state for h in run.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    details = {t.display_name: t for t in run.run_details.task_details}
    assert sorted(details) == sorted(TASKS)
    for task in details.values():
        assert task.state == "SUCCEEDED"
        assert task.run_id == run_id
        assert task.pod_name and task.child_tasks[0].pod_name == task.pod_name
        assert task.start_time <= task.end_time
        assert [h.state for h in task.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    # Dependency order: a task starts only after its upstream tasks ended.
    assert details["load-data"].end_time <= details["train-model"].start_time
    assert details["train-model"].end_time <= details["report"].start_time
    assert run.finished_at >= run.created_at
    assert len({t.pod_name for t in details.values()}) == 3


def test_a_pipeline_function_runs_in_the_named_experiment(client: kfp.Client) -> None:
    @dsl.component(base_image="python:3.11")
    def fetch(url: str) -> str:
        return url

    @dsl.component(base_image="python:3.11")
    def clean(text: str) -> str:
        return text.strip()

    @dsl.component(base_image="python:3.11")
    def publish(text: str) -> None:
        print(text)

    @dsl.pipeline(name="fetch-clean-publish")
    def etl(url: str = "s3://bucket/data.csv") -> None:
        fetched = fetch(url=url)
        publish(text=clean(text=fetched.output).output)

    result = client.create_run_from_pipeline_func(
        etl, arguments={"url": "s3://bucket/other.csv"}, experiment_name="etl"
    )
    run = client.wait_for_run_completion(result.run_id, timeout=30, sleep_duration=0.05)

    assert run.state == "SUCCEEDED"
    experiment = client.get_experiment(experiment_name="etl", namespace=DEFAULT_NAMESPACE)
    assert run.experiment_id == experiment.experiment_id
    assert [t.display_name for t in run.run_details.task_details] == ["fetch", "clean", "publish"]


def test_states_advance_pending_running_succeeded(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("train-model", 30)
    run_id = submit(client, pipeline_package)

    assert client.get_run(run_id).state in ("PENDING", "RUNNING")
    kfp_emulator.wait_for_task_state(run_id, "train-model", "RUNNING")
    running = client.get_run(run_id)

    assert running.state == "RUNNING"
    states = {t.display_name: t.state for t in running.run_details.task_details}
    assert states == {"load-data": "SUCCEEDED", "train-model": "RUNNING"}
    assert running.finished_at.year == 1970


def test_a_failing_task_fails_the_run_and_skips_what_depends_on_it(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.fail_tasks_named("train-model")
    run_id = submit(client, pipeline_package)

    run = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)

    assert run.state == "FAILED"
    assert "train-model" in run.error.message
    states = {t.display_name: t.state for t in run.run_details.task_details}
    assert states == {"load-data": "SUCCEEDED", "train-model": "FAILED", "report": "SKIPPED"}
    failed = next(t for t in run.run_details.task_details if t.display_name == "train-model")
    assert failed.error.message


def test_fail_task_fails_one_run_only_and_retry_then_succeeds(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)
    # The last task ends several steps after the run is created, so this lands in time.
    kfp_emulator.fail_task(run_id, "report")

    assert kfp_emulator.wait_for_run_state(run_id) == "FAILED"
    client._run_api.run_service_retry_run(run_id=run_id)

    retried = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)
    assert retried.state == "SUCCEEDED"
    assert [h.state for h in retried.state_history][-4:] == [
        "FAILED",
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]


def test_terminate_cancels_a_running_run(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("load-data", 60)
    run_id = submit(client, pipeline_package)
    kfp_emulator.wait_for_task_state(run_id, "load-data", "RUNNING")

    client.terminate_run(run_id)

    assert kfp_emulator.wait_for_run_state(run_id) == "CANCELED"
    run = client.get_run(run_id)
    assert [h.state for h in run.state_history][-2:] == ["CANCELING", "CANCELED"]
    assert {t.display_name: t.state for t in run.run_details.task_details} == {
        "load-data": "CANCELED"
    }


def test_retrying_a_successful_run_is_refused_with_409(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)
    kfp_emulator.wait_for_run_state(run_id, "SUCCEEDED")

    with pytest.raises(kfp_server_api.ApiException) as refused:
        client._run_api.run_service_retry_run(run_id=run_id)

    assert refused.value.status == 409


def test_archive_unarchive_and_delete_a_run(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)

    client.archive_run(run_id)
    assert client.get_run(run_id).storage_state == "ARCHIVED"
    client.unarchive_run(run_id)
    assert client.get_run(run_id).storage_state == "AVAILABLE"
    client.delete_run(run_id)

    with pytest.raises(kfp_server_api.ApiException) as missing:
        client.get_run(run_id)
    assert missing.value.status == 404


def test_a_run_from_a_pipeline_version_reference(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    pipeline = client.upload_pipeline(str(pipeline_package), "shared-training")
    versions = client.list_pipeline_versions(pipeline.pipeline_id)
    version_id = versions.pipeline_versions[0].pipeline_version_id
    experiment = client.create_experiment("from-versions", namespace=DEFAULT_NAMESPACE)

    created = client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name="from-version",
        pipeline_id=pipeline.pipeline_id,
        version_id=version_id,
    )

    assert created.pipeline_version_reference.pipeline_version_id == version_id
    assert created.pipeline_spec is None
    assert kfp_emulator.wait_for_run_state(created.run_id) == "SUCCEEDED"
    assert len(client.get_run(created.run_id).run_details.task_details) == 3
