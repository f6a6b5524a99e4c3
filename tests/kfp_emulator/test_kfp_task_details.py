"""Task details of sub-pipelines, ParallelFor loops, dsl.If branches and exit handlers.

Each is named and linked as the KFP Argo compiler and Argo name them (see ``argo_tree``), and
the raw JSON holds only fields of the ``kfp_server_api`` models.
"""

import itertools
import re
from pathlib import Path
from typing import Any

import kfp
import pytest
import requests
import yaml
from kfp import compiler, dsl

from jupyter_mlops.testing.kfp import DEFAULT_NAMESPACE, KfpEmulator

from .argo_tree import Details, fnv1a_32
from .wire_shapes import assert_wire


@dsl.component(base_image="python:3.11")
def prepare(rows: int) -> int:
    return rows


@dsl.component(base_image="python:3.11")
def train(rows: int, rate: float) -> float:
    return rows * rate


@dsl.component(base_image="python:3.11")
def report(score: float) -> str:
    return str(score)


@dsl.component(base_image="python:3.11")
def flip() -> str:
    return "heads"


@dsl.pipeline(name="preprocess")
def preprocess(rows: int) -> int:
    first = prepare(rows=rows)
    return prepare(rows=first.output).output


@dsl.pipeline(name="sweep")
def sweep(rows: int = 10, mode: str = "train") -> None:
    data = preprocess(rows=rows)
    with dsl.ParallelFor([0.1, 0.2, 0.3]) as rate:
        train(rows=data.output, rate=rate)
    with dsl.If(mode == "train"):
        report(score=1.0)
    with dsl.Else():
        report(score=2.0)


@dsl.pipeline(name="rates")
def rates(rates: list = [0.1, 0.2]) -> None:  # noqa: B006 (the pipeline's default)
    with dsl.ParallelFor(rates, parallelism=1) as rate:
        train(rows=1, rate=rate)


@dsl.pipeline(name="coin")
def coin() -> None:
    toss = flip()
    with dsl.If(toss.output == "heads"):
        report(score=1.0)


@dsl.pipeline(name="cleanup")
def cleanup() -> None:
    goodbye = report(score=0.0)
    with dsl.ExitHandler(goodbye):
        prepare(rows=1)


def compiled(pipeline: Any, folder: Path) -> tuple[Path, dict[str, Any]]:
    path = folder / "pipeline.yaml"
    compiler.Compiler().compile(pipeline, str(path))
    return path, yaml.safe_load(path.read_text())


def dag_of(spec: dict[str, Any], key: str, tasks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The tasks of the DAG component task ``key`` runs."""
    task = (tasks if tasks is not None else spec["root"]["dag"]["tasks"])[key]
    return dict(spec["components"][task["componentRef"]["name"]]["dag"]["tasks"])


def keyed(tasks: dict[str, Any], pattern: str) -> str:
    """The one task key matching ``pattern`` (the SDK numbers loops and branches)."""
    (key,) = [k for k in tasks if re.fullmatch(pattern, k)]
    return key


def finished(client: kfp.Client, package: Path, **arguments: Any) -> Any:
    result = client.create_run_from_pipeline_package(
        str(package), arguments=arguments, run_name="r", experiment_name="details"
    )
    return client.wait_for_run_completion(result.run_id, timeout=60, sleep_duration=0.05)


def test_the_node_ids_use_fnv_1a_as_argo_does() -> None:
    # Published FNV-1a 32-bit vectors, so the tests' own hash can be trusted.
    assert [fnv1a_32(t) for t in ("", "a", "foobar")] == [0x811C9DC5, 0xE40C292C, 0xBF9CF968]


def test_a_sub_pipeline_is_a_dag_with_a_driver_and_its_own_tasks(
    client: kfp.Client, tmp_path: Path
) -> None:
    package, spec = compiled(sweep, tmp_path)
    loop = keyed(spec["root"]["dag"]["tasks"], r"for-loop-\d+")

    run = finished(client, package)

    assert run.state == "SUCCEEDED"
    details = Details(run)
    root = f"{details.workflow}.root"
    assert details.listing("root", f"{root}.preprocess-driver")
    assert details.listing("preprocess-driver", f"{root}.preprocess")
    assert details.listing("preprocess", f"{root}.preprocess.prepare-driver")
    for task in ("prepare", "prepare-2"):
        assert details.task(f"{root}.preprocess.{task}").state == "SUCCEEDED"
    # The loop waits for the sub-pipeline: the last executor inside it lists the loop.
    assert details.listing("executor", f"{root}.{loop}")


def test_a_parallel_for_has_an_iteration_dag_per_item(client: kfp.Client, tmp_path: Path) -> None:
    package, spec = compiled(sweep, tmp_path)
    loop = keyed(spec["root"]["dag"]["tasks"], r"for-loop-\d+")

    details = Details(finished(client, package))

    name = f"{details.workflow}.root.{loop}"
    assert details.listing(loop, f"{name}.iteration-driver")
    assert details.listing("iteration-driver", f"{name}.iteration-iterations")
    group = details.listing("iteration-iterations", f"{name}.iteration-iterations(0:0)")
    assert group.state == "SUCCEEDED" and len(group.child_tasks) == 3
    for index in range(3):
        iteration = f"{name}.iteration-iterations({index}:{index})"
        assert details.id(iteration) in details.child_ids(group)
        assert details.listing(
            f"iteration-iterations({index}:{index})", f"{iteration}.iteration-item-driver"
        )
        assert details.listing("iteration-item-driver", f"{iteration}.iteration-item")
        assert details.task(f"{iteration}.iteration-item.train").state == "SUCCEEDED"
    assert details.names()["train"] == 3 and details.names()["executor"] == 6


def test_a_loop_over_a_parameter_runs_one_iteration_per_item_one_at_a_time(
    client: kfp.Client, kfp_emulator: KfpEmulator, tmp_path: Path
) -> None:
    package, spec = compiled(rates, tmp_path)
    loop = keyed(spec["root"]["dag"]["tasks"], r"for-loop-\d+")
    key = keyed(dag_of(spec, loop), r"train(-\d+)?")
    kfp_emulator.set_task_seconds(key, 1.1)

    details = Details(finished(client, package, rates=[0.5, 0.6, 0.7]))

    name = f"{details.workflow}.root.{loop}.iteration-iterations"
    trains = [details.task(f"{name}({i}:{i}).iteration-item.{key}") for i in range(3)]
    assert not details.referenced(f"{name}(3:3)")
    # parallelism=1: each iteration starts once the one before ended.
    spans = sorted((t.start_time, t.end_time) for t in trains)
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


@pytest.mark.parametrize(("mode", "taken"), [("train", 0), ("eval", 1)])
def test_the_branch_not_taken_is_skipped_and_empty(
    client: kfp.Client, tmp_path: Path, mode: str, taken: int
) -> None:
    package, spec = compiled(sweep, tmp_path)
    branches = keyed(spec["root"]["dag"]["tasks"], r"condition-branches-\d+")
    arms = sorted(dag_of(spec, branches), key=lambda k: int(k.rsplit("-", 1)[1]))
    chosen, other = arms[taken], arms[1 - taken]

    details = Details(finished(client, package, mode=mode))

    outer = f"{details.workflow}.root.{branches}"
    assert details.listing(f"{branches}-driver", outer).state == "SUCCEEDED"
    ran = details.listing(f"{chosen}-driver", f"{outer}.{chosen}")
    assert ran.state == "SUCCEEDED"
    (task,) = dag_of(spec, chosen, dag_of(spec, branches))
    assert details.task(f"{outer}.{chosen}.{task}").state == "SUCCEEDED"
    skipped = next(e for e in details.entries if e.display_name == other)
    assert skipped.state == "SKIPPED" and not skipped.child_tasks
    assert details.listing(f"{other}-driver", f"{outer}.{other}").state == "SUCCEEDED"
    (not_run,) = dag_of(spec, other, dag_of(spec, branches))
    assert not_run not in details.names()


@pytest.mark.parametrize(("toss", "state"), [("heads", "SUCCEEDED"), ("tails", "SKIPPED")])
def test_a_branch_on_a_task_output_follows_what_the_task_output(
    client: kfp.Client, kfp_emulator: KfpEmulator, tmp_path: Path, toss: str, state: str
) -> None:
    package, spec = compiled(coin, tmp_path)
    branch = keyed(spec["root"]["dag"]["tasks"], r"condition-\d+")
    kfp_emulator.set_task_output("flip", "Output", toss)

    details = Details(finished(client, package))

    root = f"{details.workflow}.root"
    # The branch reads flip's output, so its driver waits for flip's executor.
    assert details.listing("executor", f"{root}.{branch}-driver")
    assert next(e for e in details.entries if e.display_name == branch).state == state
    assert ("report" in details.names()) is (state == "SUCCEEDED")


def test_an_exit_task_runs_in_an_on_exit_hook_after_a_failure(
    client: kfp.Client, kfp_emulator: KfpEmulator, tmp_path: Path
) -> None:
    package, spec = compiled(cleanup, tmp_path)
    handler = keyed(spec["root"]["dag"]["tasks"], r"exit-handler-\d+")
    kfp_emulator.fail_tasks_named("prepare")

    run = finished(client, package)

    assert run.state == "FAILED"
    details = Details(run)
    watched = f"{details.workflow}.root.{handler}"
    assert details.task(f"{watched}.prepare").state == "FAILED"
    # The handler's DAG failed; its onExit hook, a child of it, ran all the same.
    assert details.listing(handler, f"{watched}.onExit").state == "FAILED"
    on_exit = details.listing(f"{handler}.onExit", f"{watched}.onExit.report-driver")
    assert on_exit.state == "SUCCEEDED"
    assert details.task(f"{watched}.onExit.report").state == "SUCCEEDED"


def test_seeded_runs_have_the_whole_tree_and_a_failed_one_its_last_task_failed(
    client: kfp.Client, kfp_emulator: KfpEmulator
) -> None:
    good, bad = kfp_emulator.seed_runs(2, states=("SUCCEEDED", "FAILED"))

    succeeded, failed = Details(client.get_run(good)), Details(client.get_run(bad))

    # The same nodes, but for the workflow's own (each run has its own workflow name).
    assert succeeded.names() - failed.names() == {succeeded.workflow: 1}
    assert succeeded.names()["executor"] == 2 and "root-driver" in succeeded.names()
    root = f"{failed.workflow}.root"
    assert failed.task(f"{root}.prepare").state == "SUCCEEDED"
    assert failed.task(f"{root}.train").state == "FAILED"
    assert {e.state for e in succeeded.entries} == {"SUCCEEDED"}


def test_the_raw_json_of_runs_holds_only_fields_of_the_models(
    client: kfp.Client, kfp_emulator: KfpEmulator, token: str, tmp_path: Path
) -> None:
    package, _ = compiled(sweep, tmp_path)
    run = finished(client, package)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    got = api.get(f"{kfp_emulator.url}/apis/v2beta1/runs/{run.run_id}", timeout=10).json()
    listed = api.get(
        f"{kfp_emulator.url}/apis/v2beta1/runs",
        params={"namespace": DEFAULT_NAMESPACE},
        timeout=10,
    ).json()

    assert_wire("V2beta1Run", got)
    assert_wire("V2beta1ListRunsResponse", listed)
    assert len(got["run_details"]["task_details"]) == len(run.run_details.task_details)
    detail = got["run_details"]["task_details"][0]
    assert set(detail) <= {
        "run_id",
        "task_id",
        "display_name",
        "create_time",
        "start_time",
        "end_time",
        "state",
        "state_history",
        "child_tasks",
    }
