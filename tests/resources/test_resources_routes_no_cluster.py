"""`mlops/api/resources` on a server with no cluster configured: 503 with the reason, while
`resources/me` (the server's own cgroup) still answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_mlops.server.resources_routes import RESOURCES_ROUTES

from .conftest import add_routes, get_json, refused


@pytest.fixture(autouse=True)
def routes(jp_serverapp: Any) -> None:
    add_routes(jp_serverapp)


async def test_the_report_is_503_with_the_reason(jp_fetch: Any) -> None:
    code, body = await refused(jp_fetch, "resources")
    assert code == 503 and "No cluster is configured" in body["message"]


async def test_my_own_use_still_answers(jp_fetch: Any) -> None:
    mine = await get_json(jp_fetch, "resources", "me")
    assert mine["name"] is None and mine["namespace"] is None
    assert mine["usage"]["memory_bytes"] > 0 and mine["note"] == "no cluster: use only"


@pytest.mark.parametrize(("pattern", "handler"), RESOURCES_ROUTES)
async def test_every_resources_route_refuses_a_request_without_the_token(
    jp_fetch: Any, pattern: str, handler: Any
) -> None:
    assert re.fullmatch(pattern, handler.example), "the example must match its route"
    with pytest.raises(HTTPClientError) as error:
        await jp_fetch("mlops", "api", *handler.example.split("/"), headers={"Authorization": ""})
    assert error.value.code == 403
