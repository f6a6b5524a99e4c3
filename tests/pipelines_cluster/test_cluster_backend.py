"""The cluster backend: the unmodified kfp.Client against the KFP API emulator over HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from jupyter_mlops.errors import BadInput, Conflict, Forbidden, NotFound, Unavailable
from jupyter_mlops.pipelines import ListRunsQuery, RunStatus
from jupyter_mlops.pipelines.cluster import ClusterPipelines
from jupyter_mlops.testing.kfp import KfpEmulator

from .conftest import NAMESPACE, TOKEN, settings_of, training


def test_a_submitted_run_shows_its_tasks_states_and_dashboard_link(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    run = cluster_backend.submit(training, {"rows": "300"}, experiment="tuning", run_name="first")
    assert run.status == RunStatus.PENDING and run.backend == "cluster"
    assert run.url == f"/_/pipeline/?ns={NAMESPACE}#/runs/details/{run.id}"

    assert kfp_api.wait_for_run_state(run.id) == "SUCCEEDED"
    done = cluster_backend.get_run(run.id)
    assert done.name == "first" and done.pipeline_name == "train-model"
    assert done.experiment == "tuning" and done.parameters == {"rows": 300}
    assert [(t.name, t.state) for t in done.tasks] == [
        ("prepare", RunStatus.SUCCEEDED),
        ("train", RunStatus.SUCCEEDED),
    ]
    assert done.tasks_done == done.tasks_total == 2
    assert done.started_at is not None and done.finished_at is not None


def test_each_task_names_the_tasks_it_depends_on_from_the_run_spec(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    run = cluster_backend.submit(training, {"rows": "20"}, experiment="tuning", run_name="graph")
    assert kfp_api.wait_for_run_state(run.id) == "SUCCEEDED"
    done = cluster_backend.get_run(run.id)
    assert [(t.name, t.depends_on) for t in done.tasks] == [("prepare", []), ("train", ["prepare"])]


def test_runs_are_in_the_profile_namespace_under_the_named_experiment(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    run = cluster_backend.submit(training, experiment="tuning")
    stored = kfp_api.service.runs[run.id]
    assert stored.namespace == NAMESPACE
    assert kfp_api.service.experiments[stored.experiment_id].display_name == "tuning"
    assert [e.name for e in cluster_backend.list_experiments()] == ["Default", "tuning"]


def test_runs_are_paged_sorted_and_filtered_by_the_api(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.seed_runs(25)
    first = cluster_backend.list_runs(ListRunsQuery(page_size=10))
    assert first.total_size == 25 and len(first.runs) == 10
    assert first.runs[0].name == "seeded-run-00024"
    second = cluster_backend.list_runs(
        ListRunsQuery(page_size=10, page_token=first.next_page_token)
    )
    assert second.runs[0].name == "seeded-run-00014"

    failed = cluster_backend.list_runs(ListRunsQuery(page_size=50, status=RunStatus.FAILED))
    assert failed.total_size == 6 and {r.status for r in failed.runs} == {RunStatus.FAILED}

    by_name = cluster_backend.list_runs(ListRunsQuery(page_size=3, sort="name asc"))
    assert [r.name for r in by_name.runs] == [f"seeded-run-0000{i}" for i in range(3)]
    assert cluster_backend.list_runs(ListRunsQuery(experiment="nowhere")).runs == []


def test_a_page_token_the_api_never_gave_is_bad_input(cluster_backend: ClusterPipelines) -> None:
    with pytest.raises(BadInput, match="list runs"):
        cluster_backend.list_runs(ListRunsQuery(page_token="not-a-token"))


def test_a_task_log_is_read_from_its_pod(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    run = cluster_backend.submit(training)
    kfp_api.wait_for_run_state(run.id)
    log = cluster_backend.task_logs(run.id, "train")
    assert log and "train" in log
    whole = cluster_backend.task_logs(run.id)
    assert "----- prepare -----" in whole and "----- train -----" in whole
    with pytest.raises(NotFound, match="its tasks: prepare, train"):
        cluster_backend.task_logs(run.id, "evaluate")


def test_task_logs_without_a_cluster_say_so(
    config: dict[str, Any], tmp_path: Path, kfp_api: KfpEmulator
) -> None:
    backend = ClusterPipelines(settings_of(config, tmp_path))
    run = backend.submit(training)
    kfp_api.wait_for_run_state(run.id)
    with pytest.raises(Unavailable, match="no cluster is configured"):
        backend.task_logs(run.id, "train")


def test_terminate_stops_a_run_and_refuses_an_ended_one(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.set_task_seconds("prepare", 30)
    run = cluster_backend.submit(training)
    kfp_api.wait_for_task_state(run.id, "prepare", "RUNNING")
    cluster_backend.terminate(run.id)
    assert kfp_api.wait_for_run_state(run.id) == "CANCELED"
    assert cluster_backend.get_run(run.id).status == RunStatus.CANCELED
    with pytest.raises(Conflict, match="already ended"):
        cluster_backend.terminate(run.id)


def test_retry_runs_a_failed_run_again(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.fail_tasks_named("train")
    run = cluster_backend.submit(training)
    assert kfp_api.wait_for_run_state(run.id) == "FAILED"
    assert cluster_backend.get_run(run.id).error
    kfp_api.schedule.failing_task_names.clear()
    with pytest.raises(Conflict, match="only a FAILED or CANCELED"):
        cluster_backend.retry(cluster_backend.submit(training).id)
    cluster_backend.retry(run.id)
    assert kfp_api.wait_for_run_state(run.id, "SUCCEEDED") == "SUCCEEDED"


def test_a_missing_run_is_not_found_by_its_id(cluster_backend: ClusterPipelines) -> None:
    with pytest.raises(NotFound, match="no-such-run"):
        cluster_backend.get_run("no-such-run")


def test_an_expired_token_is_explained(
    cluster_backend: ClusterPipelines, kfp_api: KfpEmulator
) -> None:
    kfp_api.expire_token(TOKEN)
    with pytest.raises(Forbidden, match=r"401.*may have expired"):
        cluster_backend.list_runs()


def test_the_token_file_is_read_again_on_every_call(
    config: dict[str, Any], tmp_path: Path, kfp_api: KfpEmulator
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old-token")
    kfp_api.add_token("old-token")
    settings = settings_of(
        {**config, "kfp_token": None, "kfp_token_path": str(token_file)}, tmp_path
    )
    backend = ClusterPipelines(settings)
    assert backend.list_runs().runs == []
    kfp_api.expire_token("old-token")
    kfp_api.add_token("rotated-token")
    token_file.write_text("rotated-token")
    assert backend.list_runs().runs == []


def test_no_credentials_at_all_says_which_to_set(config: dict[str, Any], tmp_path: Path) -> None:
    settings = settings_of({**config, "kfp_token": None}, tmp_path)
    with pytest.raises(Forbidden, match="kfp_token"):
        ClusterPipelines(settings).list_experiments()


def test_an_unreachable_endpoint_fails_fast_and_keeps_the_spec(
    config: dict[str, Any], tmp_path: Path, workspace: Path, kfp_api: KfpEmulator
) -> None:
    kfp_api.stop()
    backend = ClusterPipelines(settings_of(config, tmp_path))
    started = time.monotonic()
    with pytest.raises(Unavailable, match="cannot reach") as caught:
        backend.submit(training, {"rows": "5"})
    assert time.monotonic() - started < 2.5
    unsent = list((workspace / ".mlops" / "pipelines" / "unsent").glob("train-model-*.yaml"))
    assert len(unsent) == 1 and str(unsent[0]) in caught.value.message
    assert yaml.safe_load(unsent[0].read_text())["pipelineInfo"]["name"] == "train-model"


def test_a_dex_session_cookie_is_sent_when_there_is_no_token(
    config: dict[str, Any], tmp_path: Path
) -> None:
    with KfpEmulator(session_cookie="dex-session", step_seconds=0.05) as behind_login:
        settings = settings_of(
            {
                **config,
                "kfp_endpoint": behind_login.url,
                "kfp_token": None,
                "kfp_cookie": "authservice_session=dex-session",
            },
            tmp_path,
        )
        backend = ClusterPipelines(settings)
        assert [e.name for e in backend.list_experiments()] == ["Default"]
        behind_login.expire_token("dex-session")
        with pytest.raises(Forbidden, match="may have expired"):
            backend.list_experiments()
