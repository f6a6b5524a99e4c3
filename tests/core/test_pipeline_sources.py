"""Local and cluster pipelines as one (`Connection.pipelines()`): runs merged with each failing
source's error, the backend holding a run, one folder for unsent pipelines; and the
extension's `connection_class` trait, which picks the class every route stands on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from tornado.httpclient import HTTPClientError

from jupyter_mlops.config import configure, resolve
from jupyter_mlops.connection import Connection
from jupyter_mlops.errors import BadInput, Unavailable
from jupyter_mlops.pipelines.models import ListRunsQuery
from jupyter_mlops.pipelines.sources import PipelineSources
from tests.kfp_pipelines import two_steps
from tests.local_runs import recorded_run

# Nothing listens on port 9 (discard) here: the cluster source fails at once.
NOWHERE = "http://127.0.0.1:9"
LOCAL_RUN = "ab" * 16


def seeded(workspace: Path) -> Path:
    """A workspace holding one finished local run."""
    recorded_run(workspace, LOCAL_RUN)
    return workspace


def connection(workspace: Path, **config: Any) -> Connection:
    return Connection(resolve(configure(workspace=str(workspace), **config), env={}))


def test_runs_of_both_sources_are_merged_and_a_failing_source_is_named(tmp_path: Path) -> None:
    made = connection(seeded(tmp_path), kfp_endpoint=NOWHERE, kfp_token="t" * 20)
    sources = made.pipelines()
    assert sources.configured() == ("local", "cluster")

    merged = sources.list_runs(ListRunsQuery(), sources.asked("all"))
    assert [(source, run.id) for source, run in merged.items] == [("local", LOCAL_RUN)]
    assert list(merged.pages) == ["local"] and merged.pages["local"][1] == 1
    assert isinstance(merged.errors["cluster"], Unavailable)

    with pytest.raises(Unavailable):  # asked alone, the cluster's failure is the answer
        sources.list_runs(ListRunsQuery(), ("cluster",))
    alone = sources.list_runs(ListRunsQuery(), ("cluster",), raise_alone=False)
    assert alone.items == [] and set(alone.errors) == {"cluster"}

    assert sources.holding(LOCAL_RUN) is made.local_pipelines()
    assert sources.holding("6b1f0d2e-1c3a-4b7e-9f00-0123456789ab") is made.cluster_pipelines()
    with pytest.raises(BadInput, match="local, cluster or all"):
        sources.asked("remote")


def test_unsent_pipelines_are_kept_in_one_folder_whoever_keeps_them(tmp_path: Path) -> None:
    made = connection(tmp_path, kfp_endpoint=NOWHERE, kfp_token="t" * 20)
    folder = made.pipelines().unsent
    assert folder == made.local_pipelines().root / "unsent"
    assert made.cluster_pipelines().unsent == folder

    with pytest.raises(Unavailable) as refused:
        made.cluster_pipelines().submit(two_steps, {"rows": 5})
    kept = list(folder.glob("two-step-training-*.yaml"))
    assert len(kept) == 1 and str(kept[0]) in refused.value.message
    assert yaml.safe_load(kept[0].read_text())["pipelineInfo"]["name"] == "two-step-training"


class LocalRunsOnly(Connection):
    """A site's own policy: runs are listed from this machine only, whatever is configured."""

    def pipelines(self) -> PipelineSources:
        sources = super().pipelines()
        sources.has_cluster = False
        return sources


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return seeded(tmp_path / "work")


@pytest.fixture
def mlops_config(workspace: Path) -> dict[str, Any]:
    return {"workspace": str(workspace), "kfp_endpoint": NOWHERE, "kfp_token": "t" * 20}


@pytest.fixture(params=["default", "subclass"])
def jp_server_config(
    request: pytest.FixtureRequest, jp_server_config: dict[str, Any]
) -> dict[str, Any]:
    if request.param == "subclass":
        chosen = f"{__name__}.LocalRunsOnly"
        return {**jp_server_config, "MLOpsExtension": {"connection_class": chosen}}
    return jp_server_config


async def test_the_connection_class_trait_picks_what_the_routes_stand_on(
    jp_fetch: Any, jp_serverapp: Any, jp_server_config: dict[str, Any]
) -> None:
    state = jp_serverapp.web_app.settings["mlops"]
    subclass = "MLOpsExtension" in jp_server_config
    assert isinstance(state.connection, LocalRunsOnly) is subclass

    answer = json.loads((await jp_fetch("mlops", "api", "pipelines", "runs")).body)
    assert [row["id"] for row in answer["runs"]] == [LOCAL_RUN]
    assert list(answer["errors"]) == ([] if subclass else ["cluster"])


async def test_a_bad_source_is_400_naming_the_words(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "pipelines", "runs", params={"source": "remote"})
    assert refused.value.code == 400
    body = json.loads(refused.value.response.body)  # type: ignore[union-attr]
    assert "local, cluster or all" in body["message"]
