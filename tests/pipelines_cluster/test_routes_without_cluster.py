"""The pipelines routes of a notebook with local runs only, or in read-only mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlops.pipelines import Run

from .test_pipelines_routes import get_json, refused


@pytest.fixture(params=[False, True], ids=["writable", "read-only"])
def mlops_config(request: pytest.FixtureRequest, workspace: Path) -> dict[str, Any]:
    return {"workspace": str(workspace), "read_only": request.param}


async def test_without_an_endpoint_only_local_runs_list_and_cluster_routes_say_how(
    jp_fetch: Any, local_run: Run
) -> None:
    code, body = await refused(jp_fetch, "pipelines")
    assert code == 503 and "KF_PIPELINES_ENDPOINT" in body["message"]
    page = await get_json(jp_fetch, "runs")
    assert [r["name"] for r in page["runs"]] == ["local try"] and page["errors"] == {}
    assert json.dumps(page["pages"]["local"]) == '{"next_page_token": "", "total_size": 1}'


async def test_writes_are_refused_in_read_only_mode(
    jp_fetch: Any, local_run: Run, mlops_config: dict[str, Any]
) -> None:
    if not mlops_config["read_only"]:
        code, body = await refused(jp_fetch, "runs", local_run.id, "terminate", method="POST")
        assert code == 409 and "already ended" in body["message"]
        return
    for action in ("terminate", "retry"):
        code, body = await refused(jp_fetch, "runs", local_run.id, action, method="POST")
        assert code == 403 and "read-only" in body["message"]
