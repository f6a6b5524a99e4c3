"""Runs through the unmodified kfp.Client: submit, advance, fail, terminate, retry.

Task details come as a KFP 2.x server on Argo sends them: one per workflow node (the
workflow's own, drivers, task DAGs and executor pods), see ``argo_tree``.
"""

import datetime as dt
import uuid
from collections import Counter
from pathlib import Path

import kfp
import kfp_server_api
import pytest
from kfp import dsl

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator

from .argo_tree import Details

TASKS = ["load-data", "train-model", "report"]


def submit(client: kfp.Client, package: Path, name: str = "nightly") -> str:
    result = client.create_run_from_pipeline_package(
        str(package), arguments={"rows": 7}, run_name=name, experiment_name="training"
    )
    return str(result.run_id)


def test_a_run_has_one_detail_per_argo_node_drivers_and_executors_included(
    client: kfp.Client, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)

    run = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)

    assert run.state == "SUCCEEDED" and run.display_name == "nightly"
    assert run.runtime_config.parameters == {"rows": 7}
    assert run.pipeline_spec["pipelineInfo"]["name"] == "three-step-training"
    assert [h.state for h in run.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    details = Details(run)
    # The workflow is named from the pipeline, as Argo's generateName makes it.
    assert details.workflow.startswith("three-step-training-")
    expected = Counter({details.workflow: 1, "root-driver": 1, "root": 1, "executor": 3})
    expected.update(TASKS)
    expected.update(f"{t}-driver" for t in TASKS)
    assert details.names() == expected
    assert {e.state for e in details.entries} == {"SUCCEEDED"}
    assert len({e.task_id for e in details.entries}) == len(details.entries)
    for entry in details.entries:
        uuid.UUID(entry.task_id)
        assert entry.run_id == run_id and entry.create_time == run.created_at
        assert entry.start_time <= entry.end_time
        # Never filled in by a real server: the node's pod, parent, MLMD execution, I/O.
        assert entry.pod_name is None and entry.parent_task_id is None
        assert entry.execution_id is None and entry.error is None
        assert entry.inputs is None and entry.outputs is None


def test_nodes_are_linked_as_argo_links_them(client: kfp.Client, pipeline_package: Path) -> None:
    run = client.wait_for_run_completion(
        submit(client, pipeline_package), timeout=30, sleep_duration=0.05
    )
    details = Details(run)
    root = f"{details.workflow}.root"

    assert details.listing(details.workflow, f"{details.workflow}.root-driver")
    assert details.listing("root-driver", root)
    # A DAG lists its first task's driver; a driver its task; a task its executor; an executor
    # the drivers of the tasks that wait for it.
    assert details.listing("root", f"{root}.load-data-driver")
    assert details.listing("load-data-driver", f"{root}.load-data")
    assert details.listing("load-data", f"{root}.load-data.executor")
    load_executor = details.listing("executor", f"{root}.train-model-driver")
    # report waits for both upstream tasks, so both executors list its driver.
    waiting = details.listing_all("executor", f"{root}.report-driver")
    assert len(waiting) == 2 and load_executor in waiting
    assert details.edges() == 2 + 1 + 3 * 2 + 3


def test_pods_move_pending_running_succeeded_and_dags_running_succeeded(
    client: kfp.Client, pipeline_package: Path
) -> None:
    run = client.wait_for_run_completion(
        submit(client, pipeline_package), timeout=30, sleep_duration=0.05
    )
    details = Details(run)
    root = f"{details.workflow}.root"

    pod = details.listing("load-data-driver", f"{root}.load-data")
    dag = details.task(f"{root}.train-model")
    assert [h.state for h in pod.state_history] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert [h.state for h in dag.state_history] == ["RUNNING", "SUCCEEDED"]
    # Dependency order: a task's driver starts only after its upstream task ended.
    load, train = details.task(f"{root}.load-data"), details.task(f"{root}.train-model")
    train_driver = details.listing("train-model-driver", f"{root}.train-model")
    assert load.end_time <= train_driver.start_time <= train.start_time


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
    details = Details(run)
    for task in ("fetch", "clean", "publish"):
        assert details.task(f"{details.workflow}.root.{task}").state == "SUCCEEDED"


def test_a_running_task_has_no_end_time_and_later_tasks_no_details_yet(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("train-model", 30)
    run_id = submit(client, pipeline_package)

    assert client.get_run(run_id).state in ("PENDING", "RUNNING")
    kfp_emulator.wait_for_task_state(run_id, "train-model", "RUNNING")
    running = client.get_run(run_id)

    assert running.state == "RUNNING" and running.finished_at.year == 1970
    details = Details(running)
    root = f"{details.workflow}.root"
    assert details.task(f"{root}.load-data").state == "SUCCEEDED"
    train = details.task(f"{root}.train-model")
    # Go's zero time: the server sends year 1 for an end not reached.
    assert train.state == "RUNNING" and train.end_time == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert "report" not in details.names() and "report-driver" not in details.names()


def test_after_a_failure_the_tasks_that_wait_for_it_are_omitted(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.fail_tasks_named("train-model")
    run_id = submit(client, pipeline_package)

    run = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)

    assert run.state == "FAILED" and "train-model" in run.error.message
    details = Details(run)
    root = f"{details.workflow}.root"
    assert details.task(f"{root}.load-data").state == "SUCCEEDED"
    assert details.task(f"{root}.train-model").state == "FAILED"
    # Argo's Omitted phase has no v2 state: the detail exists with no state and no children.
    omitted = details.listing("report-driver", f"{root}.report")
    report = next(e for e in details.entries if e.display_name == "report")
    assert omitted.state is None and report.state is None and not report.child_tasks
    assert {e.state for e in details.entries if e.display_name in ("root", details.workflow)} == {
        "FAILED"
    }


def test_fail_task_fails_one_run_only_and_retry_runs_the_failed_nodes_again(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    run_id = submit(client, pipeline_package)
    # The last task ends several steps after the run is created, so this lands in time.
    kfp_emulator.fail_task(run_id, "report")

    assert kfp_emulator.wait_for_run_state(run_id) == "FAILED"
    failed = Details(client.get_run(run_id))
    client._run_api.run_service_retry_run(run_id=run_id)

    retried = client.wait_for_run_completion(run_id, timeout=30, sleep_duration=0.05)
    assert retried.state == "SUCCEEDED"
    assert [h.state for h in retried.state_history][-4:] == [
        "FAILED",
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]
    details = Details(retried)
    root = f"{details.workflow}.root"
    report = details.task(f"{root}.report")
    # The server's task rows outlive Argo's retry: the same id, the history goes on.
    assert report.task_id == failed.task(f"{root}.report").task_id
    assert [h.state for h in report.state_history] == ["RUNNING", "FAILED", "RUNNING", "SUCCEEDED"]
    kept = details.task(f"{root}.load-data")
    assert [h.state for h in kept.state_history] == ["RUNNING", "SUCCEEDED"]


def test_terminate_fails_what_runs_and_cancels_the_run(
    client: kfp.Client, kfp_emulator: KfpEmulator, pipeline_package: Path
) -> None:
    kfp_emulator.set_task_seconds("load-data", 60)
    run_id = submit(client, pipeline_package)
    kfp_emulator.wait_for_task_state(run_id, "load-data", "RUNNING")

    client.terminate_run(run_id)

    assert kfp_emulator.wait_for_run_state(run_id) == "CANCELED"
    run = client.get_run(run_id)
    assert [h.state for h in run.state_history][-2:] == ["CANCELING", "CANCELED"]
    details = Details(run)
    # Argo has no canceled phase: what ran when the deadline hit fails.
    load = details.task(f"{details.workflow}.root.load-data")
    assert load.state == "FAILED" and load.end_time >= run.state_history[-2].update_time
    assert {e.state for e in details.entries} == {"SUCCEEDED", "FAILED"}
    assert "train-model-driver" not in details.names()


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
    assert Details(client.get_run(created.run_id)).names()["executor"] == 3
