"""Experiments through kfp.Client: create once by name, archive with their runs, delete."""

import kfp
import kfp_server_api
import pytest

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator


def test_create_experiment_is_idempotent_by_name(client: kfp.Client) -> None:
    first = client.create_experiment("churn", description="weekly churn model")
    again = client.create_experiment("churn")

    fetched = client.get_experiment(experiment_id=first.experiment_id)

    assert again.experiment_id == first.experiment_id
    assert fetched.namespace == DEFAULT_NAMESPACE
    assert fetched.description == "weekly churn model"
    assert fetched.storage_state == "AVAILABLE"


def test_archiving_an_experiment_archives_its_runs_and_blocks_new_ones(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    experiment = client.create_experiment("to-archive")
    (run_id,) = kfp_emulator.seed_runs(1, experiment_id=experiment.experiment_id)

    client.archive_experiment(experiment.experiment_id)
    archived = client.get_experiment(experiment_id=experiment.experiment_id)
    with pytest.raises(kfp_server_api.ApiException) as refused:
        client.run_pipeline(
            experiment_id=experiment.experiment_id,
            job_name="late",
            pipeline_id="p",
            version_id="missing",
        )
    client.unarchive_experiment(experiment.experiment_id)

    assert archived.storage_state == "ARCHIVED"
    assert client.get_run(run_id).storage_state == "ARCHIVED"
    assert refused.value.status == 400
    assert client.get_experiment(experiment_id=experiment.experiment_id).storage_state == (
        "AVAILABLE"
    )


def test_last_run_created_at_follows_new_runs(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    experiment = client.create_experiment("busy")
    assert experiment.last_run_created_at.year == 1970

    kfp_emulator.seed_runs(2, experiment_id=experiment.experiment_id)

    updated = client.get_experiment(experiment_id=experiment.experiment_id)
    assert updated.last_run_created_at.year > 1970


def test_delete_an_experiment(client: kfp.Client) -> None:
    experiment = client.create_experiment("short-lived")

    client.delete_experiment(experiment.experiment_id)

    with pytest.raises(kfp_server_api.ApiException) as missing:
        client.get_experiment(experiment_id=experiment.experiment_id)
    assert missing.value.status == 404
