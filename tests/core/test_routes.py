"""Every route: refused without Jupyter auth, and described by api/openapi.yaml and schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from tornado.httpclient import HTTPClientError

from jupyter_mlops.server.handlers import ROUTES
from jupyter_mlops.server.schema import api_schema

ROOT = Path(__file__).parents[2]


def openapi_path(pattern: str) -> str:
    """`kube/(?P<kind>…)/(?P<name>…)` → `/mlops/api/kube/{kind}/{name}`."""
    return "/mlops/api/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


@pytest.mark.parametrize(("pattern", "handler"), ROUTES)
async def test_every_route_refuses_a_request_without_the_token(
    jp_fetch: Any, pattern: str, handler: Any
) -> None:
    methods = [m for m in ("GET", "POST", "PATCH", "DELETE") if m.lower() in vars(handler)]
    assert methods, f"{handler.__name__} handles no method"
    assert re.fullmatch(pattern, handler.example), "the example must match its route"
    for method in methods:
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(
                "mlops",
                "api",
                *handler.example.split("/"),
                method=method,
                headers={"Authorization": ""},
                body=None if method in ("GET", "DELETE") else "{}",
            )
        assert refused.value.code == 403, (method, pattern)
        assert refused.value.response is not None
        assert b"Traceback" not in refused.value.response.body


def test_openapi_describes_exactly_the_served_routes() -> None:
    spec = yaml.safe_load((ROOT / "api" / "openapi.yaml").read_text())
    assert set(spec["paths"]) == {openapi_path(pattern) for pattern, _ in ROUTES}
    for pattern, handler in ROUTES:
        methods = {m for m in ("get", "put", "post", "patch", "delete") if m in vars(handler)}
        assert set(spec["paths"][openapi_path(pattern)]) == methods, pattern


def test_the_schema_file_is_generated_from_the_models() -> None:
    on_disk = json.loads((ROOT / "api" / "schemas.json").read_text())
    assert on_disk == api_schema(), "run: python -m jupyter_mlops.server.schema > api/schemas.json"


async def test_unknown_api_paths_answer_404_not_500(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "nowhere")
    assert refused.value.code == 404
