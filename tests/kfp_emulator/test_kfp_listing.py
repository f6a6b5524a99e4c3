"""Listing through kfp.Client: page tokens, sort orders, the JSON filter, capacity."""

import json
import time
from pathlib import Path

import kfp
import kfp_server_api
import pytest

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator


def predicate(key: str, operation: str, **value: object) -> str:
    return json.dumps({"predicates": [{"key": key, "operation": operation, **value}]})


def all_pages(client: kfp.Client, page_size: int, **query: str) -> list[kfp_server_api.V2beta1Run]:
    runs: list[kfp_server_api.V2beta1Run] = []
    token = ""
    for _ in range(100):
        page = client.list_runs(page_token=token, page_size=page_size, **query)
        runs.extend(page.runs or [])
        token = page.next_page_token or ""
        if not token:
            return runs
    raise AssertionError("the listing did not end within 100 pages")


def test_page_tokens_walk_every_run_once_newest_first(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    seeded = kfp_emulator.seed_runs(45, spacing_seconds=1)

    first = client.list_runs(page_size=20, sort_by="created_at desc")
    runs = all_pages(client, 20, sort_by="created_at desc")

    assert first.total_size == 45
    assert len(first.runs) == 20 and first.next_page_token
    assert [r.run_id for r in runs] == list(reversed(seeded))
    created = [r.created_at for r in runs]
    assert created == sorted(created, reverse=True)


def test_sort_by_name_ascending_and_ties_broken_by_run_id(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    kfp_emulator.seed_runs(12, spacing_seconds=0, name_prefix="same-second-")

    by_name = all_pages(client, 5, sort_by="name")
    by_time = all_pages(client, 5, sort_by="created_at desc")

    names = [r.display_name for r in by_name]
    assert names == sorted(names)
    # Equal creation times: the server orders by the run id, in the same direction.
    ids = [r.run_id for r in by_time]
    assert ids == sorted(ids, reverse=True)


def test_filters_on_name_state_time_and_experiment(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    other = kfp_emulator.add_experiment("other-experiment")
    kfp_emulator.seed_runs(8, states=("SUCCEEDED", "FAILED"), name_prefix="daily-")
    kfp_emulator.seed_runs(3, experiment_id=other, name_prefix="weekly-", spacing_seconds=3600)

    exact = client.list_runs(filter=predicate("display_name", "EQUALS", stringValue="DAILY-00003"))
    substring = client.list_runs(filter=predicate("name", "IS_SUBSTRING", string_value="week"))
    failed = client.list_runs(
        page_size=100,
        filter=predicate("state", "IN", stringValues={"values": ["FAILED", "CANCELED"]}),
    )
    not_failed = client.list_runs(
        page_size=100, filter=predicate("state", "NOT_EQUALS", stringValue="FAILED")
    )
    oldest_weekly = min(
        r.created_at
        for r in client.list_runs(
            filter=predicate("display_name", "IS_SUBSTRING", stringValue="weekly")
        ).runs
    )
    newer = client.list_runs(
        page_size=100,
        filter=predicate(
            "created_at",
            "GREATER_THAN",
            timestampValue=oldest_weekly.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    )
    in_other = client.list_runs(experiment_id=other)
    by_experiment_key = client.list_runs(
        filter=predicate("experiment_id", "EQUALS", stringValue=other)
    )

    assert [r.display_name for r in exact.runs] == ["daily-00003"]
    assert sorted(r.display_name for r in substring.runs) == [
        "weekly-00000",
        "weekly-00001",
        "weekly-00002",
    ]
    assert {r.state for r in failed.runs} == {"FAILED"} and failed.total_size == 4
    assert not_failed.total_size == 7
    assert all(r.created_at > oldest_weekly for r in newer.runs) and newer.total_size >= 2
    assert in_other.total_size == 3 == by_experiment_key.total_size


def test_an_empty_listing_answers_without_runs(client: kfp.Client) -> None:
    empty = client.list_runs(filter=predicate("name", "EQUALS", stringValue="nothing"))

    assert empty.runs is None
    assert empty.total_size is None
    assert empty.next_page_token is None


def test_a_page_token_with_other_criteria_is_refused(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    kfp_emulator.seed_runs(5)
    token = client.list_runs(page_size=2, sort_by="created_at desc").next_page_token

    with pytest.raises(kfp_server_api.ApiException) as refused:
        client.list_runs(page_token=token, page_size=2, sort_by="name")

    assert refused.value.status == 400
    assert "page token does not match" in json.loads(refused.value.body)["message"]


def test_experiments_and_pipelines_page_too(client: kfp.Client, pipeline_package: Path) -> None:
    for index in range(5):
        client.create_experiment(f"experiment-{index}", namespace=DEFAULT_NAMESPACE)
        client.upload_pipeline(str(pipeline_package), f"pipeline-{index}")

    experiments = client.list_experiments(page_size=4, sort_by="name desc")
    rest = client.list_experiments(page_size=4, page_token=experiments.next_page_token)
    pipelines = client.list_pipelines(page_size=3, sort_by="created_at")
    named = client.list_pipelines(
        filter=predicate("display_name", "EQUALS", stringValue="pipeline-2")
    )

    # The namespace also holds its Default experiment.
    assert experiments.total_size == 6
    names = [e.display_name for e in experiments.experiments + rest.experiments]
    assert names == sorted(names, reverse=True) and len(names) == 6
    assert pipelines.total_size == 5 and len(pipelines.pipelines) == 3
    assert client.get_pipeline_id("pipeline-2") == named.pipelines[0].pipeline_id


def test_first_page_of_five_thousand_runs_is_fast(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    kfp_emulator.seed_runs(5000, spacing_seconds=30)
    client.list_runs(page_size=20, sort_by="created_at desc")

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        page = client.list_runs(page_size=20, sort_by="created_at desc")
        timings.append(time.perf_counter() - started)

    assert page.total_size == 5000 and len(page.runs) == 20
    median = sorted(timings)[2]
    print(f"list_runs first page of 5000 runs via kfp.Client: median {median * 1000:.1f} ms")
    assert median < 0.5
