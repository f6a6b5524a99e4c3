"""Local runs through kfp.local: live state, logs, history on disk, paging, terminate, retry."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from IPython.core.error import UsageError

from jupyter_mlops.errors import BadInput, Conflict, NotFound
from jupyter_mlops.magics.kfp import RunTable
from jupyter_mlops.pipelines import ListRunsQuery, LocalPipelines, Run, RunStatus
from jupyter_mlops.widgets.run_monitor import RunMonitor

from .conftest import DOUBLE, PIPELINE, THREE_STEPS, Notebook

FAILING = """
%%kfp_component check --inputs total:int --outputs verdict:str
print("checking", total)
if total > 10:
    raise ValueError(f"total {total} is over the limit")
verdict = "fine"
"""

FAILING_PIPELINE = """
%%kfp_pipeline checked --params a:int
total = add(a=a, b=5)
verdict = check(total=total.output)
double(x=total.output).after(verdict)
"""

SLOW = """
%%kfp_component slow --inputs seconds:int --outputs done:bool
import time
print("waiting", flush=True)
time.sleep(seconds)
done = True
"""


@dataclass
class Story:
    """Runs made once for the module, as a user would make them in one notebook."""

    notebook: Notebook
    succeeded: Run
    failed: Run
    printed: str


@pytest.fixture(scope="module")
def story(module_notebook: Notebook) -> Story:
    nb = module_notebook
    for cell in (THREE_STEPS, DOUBLE, PIPELINE, FAILING, FAILING_PIPELINE, SLOW):
        nb.cell(cell)
    nb.cell("%%kfp_pipeline waits --params seconds:int\nslow(seconds=seconds)\n")
    # The failing run goes on in the background while the successful one is awaited.
    failing = nb.backend.submit(nb.shell.user_ns["checked"], {"a": 7}, experiment="checks")
    succeeded, printed = nb.printed(
        "%kfp run three_steps --param a=10 --experiment arithmetic --run-name '<i>first</i>' --wait"
    )
    return Story(nb, succeeded, nb.backend.wait(failing.id, timeout=60), printed)


def test_a_three_step_run_succeeds_with_each_task_recorded(story: Story) -> None:
    run = story.succeeded
    assert isinstance(run, Run)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.name, run.experiment, run.parameters) == ("<i>first</i>", "arithmetic", {"a": 10})
    assert [(t.name, t.state) for t in run.tasks] == [
        ("add", RunStatus.SUCCEEDED),
        ("double", RunStatus.SUCCEEDED),
        ("double-2", RunStatus.SUCCEEDED),
    ]
    assert [(t.inputs, t.outputs) for t in run.tasks] == [
        ({"a": 10, "b": 2}, {"Output": 12}),
        ({"x": 12}, {"Output": 24}),
        ({"x": 24}, {"Output": 48}),
    ]
    assert run.created_at <= run.started_at <= run.tasks[0].started_at  # type: ignore[operator]
    assert run.tasks[-1].finished_at <= run.finished_at  # type: ignore[operator]
    assert (run.tasks_done, run.tasks_total) == (3, 3)


def test_without_a_widget_frontend_the_run_is_followed_in_text(story: Story) -> None:
    lines = story.printed.splitlines()
    assert lines[0].startswith(f"Run {story.succeeded.id} (<i>first</i>) started on the local")
    # How many had ended when a step is seen ending depends on when the follow looks.
    assert any(re.search(r"add: SUCCEEDED \([1-3]/3\)$", line) for line in lines)
    assert any(line.endswith("double-2: SUCCEEDED (3/3)") for line in lines)
    # Then where MLflow recorded it, and last the shell echoing the returned Run.
    assert lines[-3].startswith(f"Run {story.succeeded.id} SUCCEEDED in ")
    assert lines[-2].startswith("MLflow: run ") and "in experiment kfp/" in lines[-2]
    assert lines[-1].startswith(f"Out[0]: Run(id='{story.succeeded.id}'")


def test_a_failing_step_fails_the_run_and_keeps_its_log(story: Story) -> None:
    run = story.failed
    assert run.status == RunStatus.FAILED
    assert {t.name: t.state for t in run.tasks} == {
        "add": RunStatus.SUCCEEDED,
        "check": RunStatus.FAILED,
        "double": RunStatus.CANCELED,
    }
    assert run.error is not None and "check" in run.error
    log = story.notebook.backend.task_logs(run.id, "check")
    assert "checking 12" in log
    assert "ValueError: total 12 is over the limit" in log


def test_logs_magic_prints_a_task_log_by_a_short_run_id(story: Story) -> None:
    _, printed = story.notebook.printed(f"%kfp logs {story.succeeded.id[:8]} add")
    assert "adding 10 and 2" in printed
    _, tail = story.notebook.printed(f"%kfp logs {story.succeeded.id} add --tail 2")
    assert len(tail.splitlines()) == 2 and tail in printed
    with pytest.raises(UsageError, match="has no task 'train'; its tasks: add, double, double-2"):
        story.notebook.cell(f"%kfp logs {story.succeeded.id} train")
    with pytest.raises(UsageError, match="No local run 'feedbeef'"):
        story.notebook.cell("%kfp logs feedbeef")


def test_history_survives_a_new_kernel(story: Story) -> None:
    fresh = LocalPipelines(story.notebook.backend.root)
    assert fresh.get_run(story.succeeded.id) == story.succeeded
    page = fresh.list_runs()
    assert {r.id for r in page.runs} >= {story.succeeded.id, story.failed.id}
    assert {e.name for e in fresh.list_experiments()} >= {"arithmetic", "checks"}
    assert "pipelineInfo" in fresh.compiled(story.succeeded.id)


def test_runs_are_paged_filtered_and_sorted(story: Story) -> None:
    backend = story.notebook.backend
    first = backend.list_runs(ListRunsQuery(page_size=1, sort="created_at asc"))
    assert first.total_size >= 2 and first.next_page_token
    second = backend.list_runs(
        ListRunsQuery(page_size=1, sort="created_at asc", page_token=first.next_page_token)
    )
    assert first.runs[0].created_at <= second.runs[0].created_at
    assert first.runs[0].id != second.runs[0].id
    failed = backend.list_runs(ListRunsQuery(status=RunStatus.FAILED, experiment="checks"))
    assert [r.id for r in failed.runs] == [story.failed.id] and failed.next_page_token == ""
    with pytest.raises(BadInput, match="different query"):
        backend.list_runs(ListRunsQuery(page_size=1, page_token=first.next_page_token))
    with pytest.raises(BadInput, match="not one this API gave out"):
        backend.list_runs(ListRunsQuery(page_token="%%%"))
    with pytest.raises(BadInput, match="Cannot sort by 'colour'"):
        backend.list_runs(ListRunsQuery(sort="colour"))


def test_runs_magic_shows_an_escaped_table(story: Story) -> None:
    table = story.notebook.cell("%kfp runs --experiment arithmetic")
    assert isinstance(table, RunTable)
    html = table._repr_html_()
    assert "&lt;i&gt;first&lt;/i&gt;" in html and "<i>" not in html
    assert story.succeeded.id in repr(table) and "SUCCEEDED" in repr(table)
    assert repr(story.notebook.cell("%kfp runs --status canceled --experiment arithmetic")) == (
        "No runs."
    )
    with pytest.raises(UsageError, match="--status DONE: use one of PENDING"):
        story.notebook.cell("%kfp runs --status done")


def test_the_monitor_widget_shows_an_ended_run(story: Story) -> None:
    monitor = RunMonitor(story.notebook.backend, story.failed)
    run = monitor.refresh()
    assert monitor.status == "FAILED" == run.status.value
    assert (monitor.tasks_done, monitor.tasks_total) == (3, 3)
    assert monitor.children[1].value == 3 and monitor.children[1].description == "3/3"
    assert "over the limit" in monitor.log_tail and monitor.log_task == "check"
    assert "check" in monitor.children[2].value and "FAILED" in monitor.children[2].value
    assert "over the limit" in monitor.children[0].value  # the run's error, in the header


def test_a_component_called_in_the_notebook_runs_at_once(story: Story) -> None:
    assert story.notebook.cell("add(a=2, b=3).output") == 5


def test_a_retry_runs_the_same_pipeline_with_the_same_arguments(story: Story) -> None:
    again = story.notebook.cell(f"%kfp retry {story.failed.id} --wait")
    assert again.retry_of == story.failed.id and again.id != story.failed.id
    assert (again.parameters, again.experiment) == (story.failed.parameters, "checks")
    assert again.status == RunStatus.FAILED
    assert [t.state for t in again.tasks] == [t.state for t in story.failed.tasks]


@pytest.fixture
def slow_run(story: Story) -> Iterator[Run]:
    """A run whose only task is under way."""
    backend = story.notebook.backend
    run = backend.submit(story.notebook.shell.user_ns["waits"], {"seconds": 120})
    for seen in backend.watch(run.id, interval=0.05, timeout=60):
        if seen.tasks and seen.tasks[0].state == RunStatus.RUNNING:
            break
    # The task's own output is the sign it is under way; only its log file tells.
    printed = threading.Event()
    for _ in range(600):
        if "waiting" in backend.task_logs(run.id, "slow") or printed.wait(0.05):
            break
    yield backend.get_run(run.id)
    if not backend.get_run(run.id).status.finished:
        backend.terminate(run.id)


def test_terminate_stops_a_run_and_its_task(story: Story, slow_run: Run) -> None:
    backend = story.notebook.backend
    assert slow_run.status == RunStatus.RUNNING and slow_run.pid is not None
    monitor = RunMonitor(backend, slow_run)
    monitor.refresh()
    assert monitor.log_task == "slow" and "waiting" in monitor.log_tail
    assert "RUNNING" in monitor.children[0].value
    ended = threading.Event()
    monitor.follow(interval=0.05, on_end=lambda _: ended.set())
    _, printed = story.notebook.printed(f"%kfp terminate {slow_run.id}")
    assert printed.strip() == f"Run {slow_run.id} CANCELED."
    run = backend.get_run(slow_run.id)
    assert run.status == RunStatus.CANCELED and run.tasks[0].state == RunStatus.CANCELED
    with pytest.raises(ProcessLookupError):
        os.kill(slow_run.pid, 0)
    assert ended.wait(30) and monitor.status == "CANCELED"
    assert "waiting" in backend.task_logs(run.id, "slow")
    with pytest.raises(Conflict, match="has already ended"):
        backend.terminate(run.id)


def test_a_run_whose_process_died_is_reported_failed(story: Story, slow_run: Run) -> None:
    assert slow_run.pid is not None
    # Another kernel (or the server) reads the history while the run's process dies.
    reader = LocalPipelines(story.notebook.backend.root)
    os.killpg(slow_run.pid, signal.SIGKILL)
    run = story.notebook.backend.wait(slow_run.id, timeout=30)
    seen = reader.get_run(slow_run.id)
    assert run.status == seen.status == RunStatus.FAILED
    assert run.error is not None and "ended" in run.error


def test_bad_arguments_are_refused_before_a_run_starts(story: Story) -> None:
    backend = story.notebook.backend
    before = backend.list_runs().total_size
    with pytest.raises(BadInput, match=r"Missing value for pipeline parameter.*: a"):
        backend.submit(story.notebook.shell.user_ns["three_steps"], {})
    with pytest.raises(UsageError, match="Parameter a takes int values, got 'ten'"):
        story.notebook.cell("%kfp run three_steps --param a=ten")
    with pytest.raises(UsageError, match="write it as name=value"):
        story.notebook.cell("%kfp run three_steps --param a")
    with pytest.raises(NotFound):
        backend.get_run("../../etc")
    assert backend.list_runs().total_size == before


def test_created_times_are_aware_and_ordered(story: Story) -> None:
    page = story.notebook.backend.list_runs(ListRunsQuery(sort="created_at desc", page_size=200))
    times = [r.created_at for r in page.runs]
    assert all(t.tzinfo is not None for t in times)
    assert times == sorted(times, reverse=True)
    assert times[0] <= dt.datetime.now(dt.timezone.utc)


def test_each_task_names_the_tasks_it_depends_on_as_the_pipeline_declares(story: Story) -> None:
    run = story.succeeded
    assert {t.name: t.depends_on for t in run.tasks} == {
        "add": [],
        "double": ["add"],
        "double-2": ["double"],
    }
    declared = yaml.safe_load(story.notebook.backend.compiled(run.id))["root"]["dag"]["tasks"]
    assert {t.name: t.depends_on for t in run.tasks} == {
        name: task.get("dependentTasks", []) for name, task in declared.items()
    }
