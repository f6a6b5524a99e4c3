"""The `Tracking` API against a real MLflow server over HTTP, as a notebook user calls it."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from jupyter_mlops.errors import BadInput, NotFound, Unavailable
from jupyter_mlops.testing.mlflow_server import free_port
from jupyter_mlops.tracking import MAX_RESULTS, Tracking

from .conftest import SPIKE_STEP, STEPS, Seeded, settings_for


def test_experiments_are_searched_by_name_and_paged(tracking: Tracking, seeded: Seeded) -> None:
    first = tracking.experiments(seeded.prefix, max_results=2)
    assert len(first.experiments) == 2 and first.next_page_token
    rest = tracking.experiments(seeded.prefix, max_results=2, page_token=first.next_page_token)
    names = [e.name for e in first.experiments + rest.experiments]
    assert names == sorted(names)
    assert set(names) == {seeded.experiment_name} | {f"{seeded.prefix}-other-{i}" for i in range(3)}
    assert rest.next_page_token is None


def test_name_search_ignores_case(tracking: Tracking, seeded: Seeded) -> None:
    found = tracking.experiments(f"{seeded.prefix}-CHURN")
    assert [e.id for e in found.experiments] == [seeded.experiment_id]


def test_an_experiment_is_found_by_name_or_id(tracking: Tracking, seeded: Seeded) -> None:
    assert tracking.experiment(seeded.experiment_name).id == seeded.experiment_id
    assert tracking.experiment(seeded.experiment_id).name == seeded.experiment_name


def test_a_missing_experiment_is_named(tracking: Tracking) -> None:
    with pytest.raises(NotFound, match="no experiment named 'nowhere'"):
        tracking.experiment("nowhere")
    with pytest.raises(NotFound, match="987654"):
        tracking.runs("987654")


def test_runs_are_filtered_with_mlflow_syntax(tracking: Tracking, seeded: Seeded) -> None:
    page = tracking.runs(seeded.experiment_id, filter="params.lr = '0.1'")
    assert {r.name for r in page.runs} == {"run-0", "run-3"}
    failed = tracking.runs(seeded.experiment_id, filter="attributes.status = 'FAILED'")
    assert [r.name for r in failed.runs] == ["run-2"]


def test_runs_are_ordered_by_a_metric(tracking: Tracking, seeded: Seeded) -> None:
    page = tracking.runs(
        seeded.experiment_id, filter="metrics.loss < 2", order_by=["metrics.loss ASC"]
    )
    losses = [r.metrics["loss"] for r in page.runs]
    assert losses == sorted(losses) and len(losses) == 5


def test_paging_visits_every_run_once(tracking: Tracking, seeded: Seeded) -> None:
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = tracking.runs(seeded.experiment_id, max_results=2, page_token=token)
        assert len(page.runs) <= 2
        seen += [r.id for r in page.runs]
        token = page.next_page_token
        if token is None:
            break
    assert sorted(seen) == sorted(seeded.runs.values())


def test_chosen_columns_only_are_sent(tracking: Tracking, seeded: Seeded) -> None:
    page = tracking.runs(
        seeded.experiment_id, filter="params.lr = '0.01'", params=["lr"], metrics=["loss"]
    )
    assert {tuple(r.params) for r in page.runs} == {("lr",)}
    assert {tuple(r.metrics) for r in page.runs} == {("loss",)}


def test_a_bad_filter_is_bad_input_with_mlflows_message(tracking: Tracking, seeded: Seeded) -> None:
    with pytest.raises(BadInput, match="Invalid comparator '>>>'"):
        tracking.runs(seeded.experiment_id, filter="metrics.loss >>> 3")
    with pytest.raises(BadInput, match="Invalid entity type 'nonsense'"):
        tracking.runs(seeded.experiment_id, order_by=["nonsense.x"])


def test_page_size_is_capped_and_must_be_positive(tracking: Tracking, seeded: Seeded) -> None:
    # MLflow itself refuses more than 50,000; ours stops at MAX_RESULTS instead of failing.
    page = tracking.runs(seeded.experiment_id, max_results=60_000)
    assert len(page.runs) == len(seeded.runs) <= MAX_RESULTS
    with pytest.raises(BadInput):
        tracking.runs(seeded.experiment_id, max_results=0)


def test_one_run_in_full(tracking: Tracking, seeded: Seeded) -> None:
    run = tracking.run(seeded.runs["run-2"])
    assert run.status == "FAILED"
    assert run.params == {"lr": "0.001", "depth": "4"}
    assert run.metrics == {"accuracy": pytest.approx(0.7), "loss": pytest.approx(1 / 3)}
    assert run.tags["mlflow.runName"] == "run-2"
    assert run.ended_at is not None and run.started_at is not None


def test_a_missing_run_is_named(tracking: Tracking) -> None:
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(NotFound, match=f"no run '{missing}'"):
        tracking.run(missing)


def test_full_metric_history_in_step_order(tracking: Tracking, seeded: Seeded) -> None:
    history = tracking.metric_history(seeded.runs["long"], "curve")
    assert history.total == STEPS and not history.downsampled
    assert [p.step for p in history.points] == list(range(STEPS))


def test_downsampled_history_keeps_first_last_and_the_spike(
    tracking: Tracking, seeded: Seeded
) -> None:
    history = tracking.metric_history(seeded.runs["long"], "curve", points=100)
    assert history.total == STEPS and history.downsampled
    assert len(history.points) <= 100
    steps = [p.step for p in history.points]
    assert steps[0] == 0 and steps[-1] == STEPS - 1 and SPIKE_STEP in steps
    assert steps == sorted(steps)
    assert max(p.value or 0 for p in history.points) == 100.0


def test_a_missing_metric_is_named(tracking: Tracking, seeded: Seeded) -> None:
    with pytest.raises(NotFound, match="no metric 'nope'"):
        tracking.metric_history(seeded.runs["long"], "nope")


def test_artifacts_are_listed_per_folder(tracking: Tracking, seeded: Seeded) -> None:
    top = tracking.artifacts(seeded.runs["long"])
    assert {(a.path, a.is_dir) for a in top} == {("notes", True), ("data", True)}
    notes = tracking.artifacts(seeded.runs["long"], "notes")
    assert [(a.path, a.is_dir, a.size) for a in notes] == [("notes/readme.txt", False, 16)]


def test_an_artifact_file_is_downloaded(tracking: Tracking, seeded: Seeded, tmp_path: Path) -> None:
    local = tracking.download_artifact(seeded.runs["long"], "notes/readme.txt", tmp_path)
    assert local.read_text() == "hello artifacts\n"
    assert tmp_path in local.parents


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "notes/../../x", "a\\b"])
def test_artifact_paths_cannot_leave_the_run(
    tracking: Tracking, seeded: Seeded, tmp_path: Path, path: str
) -> None:
    with pytest.raises(BadInput):
        tracking.download_artifact(seeded.runs["long"], path, tmp_path)
    with pytest.raises(BadInput):
        tracking.artifacts(seeded.runs["long"], path)


def test_a_folder_or_missing_file_is_not_downloaded(
    tracking: Tracking, seeded: Seeded, tmp_path: Path
) -> None:
    with pytest.raises(BadInput, match="is a folder"):
        tracking.download_artifact(seeded.runs["long"], "notes", tmp_path)
    with pytest.raises(NotFound, match=r"no artifact 'notes/other\.txt'"):
        tracking.download_artifact(seeded.runs["long"], "notes/other.txt", tmp_path)


def test_registered_models_show_aliases(tracking: Tracking, seeded: Seeded) -> None:
    page = tracking.models(seeded.prefix)
    assert [m.name for m in page.models] == [seeded.model]
    assert page.models[0].aliases == {"champion": "2", "challenger": "3"}
    assert page.models[0].description == "churn classifier"


def test_model_versions_newest_first_with_their_aliases(tracking: Tracking, seeded: Seeded) -> None:
    page = tracking.model_versions(seeded.model)
    assert [(v.version, v.aliases) for v in page.versions] == [
        ("3", ["challenger"]),
        ("2", ["champion"]),
        ("1", []),
    ]
    assert page.versions[1].run_id == seeded.runs["run-1"]
    first = tracking.model_versions(seeded.model, max_results=2)
    assert len(first.versions) == 2 and first.next_page_token


def test_a_missing_model_is_named(tracking: Tracking) -> None:
    with pytest.raises(NotFound, match="no registered model named 'ghost'"):
        tracking.model("ghost")
    with pytest.raises(NotFound, match="no registered model named 'ghost'"):
        tracking.model_versions("ghost")


def test_a_dead_server_is_unavailable_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    began = time.monotonic()
    with pytest.raises(Unavailable, match="Connection refused") as refused:
        Tracking(settings_for(url, tmp_path)).experiments()
    assert time.monotonic() - began < 2
    assert url in refused.value.message and refused.value.backend == "tracking"


def test_the_callers_environment_is_left_as_it_was(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")
    tracking = Tracking(settings_for(seeded.url, tmp_path, MLFLOW_TRACKING_TOKEN="secret"))
    assert tracking.experiments(seeded.prefix).experiments
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "7"
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ


def test_a_server_that_never_answers_is_unavailable_after_the_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:
        # Connections complete in the backlog, but no byte ever comes back.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        began = time.monotonic()
        with pytest.raises(Unavailable, match="still computing after 1 s"):
            Tracking(settings_for(url, tmp_path), timeout=1).experiments()
        assert time.monotonic() - began < 3


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_POST(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"experiments": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_configured_token_is_sent(tmp_path: Path) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            settings = settings_for(url, tmp_path, MLFLOW_TRACKING_TOKEN="s3cret")
            assert Tracking(settings).experiments().experiments == []
        finally:
            server.shutdown()
            thread.join(5)
    assert _Recorder.seen == ["Bearer s3cret"]
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ


class _CountingProxy(BaseHTTPRequestHandler):
    """Forwards every request to the MLflow server and counts the paths asked for."""

    target: ClassVar[str] = ""
    paths: ClassVar[list[str]] = []

    def _forward(self) -> None:
        import requests

        type(self).paths.append(self.path.split("?")[0])
        length = int(self.headers.get("Content-Length") or 0)
        answer = requests.request(
            self.command,
            self.target + self.path,
            data=self.rfile.read(length) if length else None,
            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
            timeout=30,
        )
        self.send_response(answer.status_code)
        for name in ("Content-Type",):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        return


def test_a_finished_runs_history_is_read_once_until_it_changes(
    seeded: Seeded, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _CountingProxy)
    _CountingProxy.target, _CountingProxy.paths = seeded.url, []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        tracking = Tracking(settings_for(url, tmp_path))
        from mlflow.entities import Metric

        client = MlflowClient(tracking_uri=seeded.url)
        # An experiment and a run of its own: the seeded ones are shared by the session's tests.
        experiment = client.create_experiment(f"history-cache-{os.urandom(4).hex()}")
        run_id = client.create_run(experiment, run_name="cached").info.run_id
        points = [Metric("curve", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(STEPS)]
        for start in range(0, STEPS, 1000):
            client.log_batch(run_id, metrics=points[start : start + 1000])

        def reads() -> int:
            return sum(p.endswith("/metrics/get-history") for p in _CountingProxy.paths)

        # Still running: it may grow, so every view reads it.
        tracking.metric_history(run_id, "curve", points=100)
        tracking.metric_history(run_id, "curve", points=100)
        assert reads() == 2

        client.set_terminated(run_id)
        first = tracking.metric_history(run_id, "curve", points=100)
        again = tracking.metric_history(run_id, "curve", points=100)
        whole = tracking.metric_history(run_id, "curve")
        assert again == first and whole.total == STEPS
        assert reads() == 3, _CountingProxy.paths  # FINISHED: read once, then from memory

        # MLflow lets a finished run be logged to: its latest value moves, it is read again.
        client.log_metric(run_id, "curve", -1.0, step=STEPS)
        after = tracking.metric_history(run_id, "curve")
        assert after.total == STEPS + 1 and after.points[-1].value == -1.0
        assert reads() == 4
    finally:
        proxy.shutdown()
