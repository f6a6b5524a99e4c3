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
MODEL_REF = re.compile(r"schemas\.json#/\$defs/(\w+)")
METHODS = ("get", "put", "post", "patch", "delete")


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


def model_ref(schema: Any, defs: dict[str, Any]) -> str | None:
    """What is wrong with `schema` as a reference to a model of schemas.json, if anything."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    found = MODEL_REF.fullmatch(ref) if isinstance(ref, str) else None
    if found is None:
        return f"not a $ref into schemas.json#/$defs/ but {json.dumps(schema)[:60]}"
    return None if found[1] in defs else f"{ref} is not in schemas.json"


def untyped(operation: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """Why an operation's answers or request body are not models of schemas.json."""
    problems = []
    answers = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
    if "x-messages" in operation:  # the WebSocket upgrade: its messages are the models
        for way, schema in operation["x-messages"].items():
            problems += [f"{way} messages: {p}" for p in [model_ref(schema, defs)] if p]
    elif not answers and not all(int(s) >= 400 for s in operation["responses"]):
        problems.append("no 2xx answer")
    for status, answer in answers.items():
        content = answer.get("content", {})
        if "application/json" in content:
            problem = model_ref(content["application/json"].get("schema"), defs)
            problems += [f"{status} answer: {problem}"] if problem else []
        elif not content:
            problems.append(f"{status} answer: no content")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        problem = model_ref(body.get("schema"), defs)
        problems += [f"request body: {problem}"] if problem else []
    return problems


def test_every_route_answers_and_takes_models_of_the_schema_file() -> None:
    """Each served operation's success answer (and JSON request body) is a model: a `$ref`
    into schemas.json that exists. Binary answers (another media type) have nothing to model;
    the WebSocket's messages are named by its `x-messages`."""
    spec = yaml.safe_load((ROOT / "api" / "openapi.yaml").read_text())
    defs = json.loads((ROOT / "api" / "schemas.json").read_text())["$defs"]
    missing = []
    for pattern, handler in ROUTES:
        path = openapi_path(pattern)
        for method in (m for m in METHODS if m in vars(handler)):
            operation = spec["paths"].get(path, {}).get(method)
            problems = ["no operation"] if operation is None else untyped(operation, defs)
            missing += [f"{method.upper()} {path}: {p}" for p in problems]
    assert not missing, f"{len(missing)} untyped:\n" + "\n".join(missing)


def test_the_schema_file_is_generated_from_the_models() -> None:
    on_disk = json.loads((ROOT / "api" / "schemas.json").read_text())
    assert on_disk == api_schema(), "run: python -m jupyter_mlops.server.schema > api/schemas.json"


async def test_unknown_api_paths_answer_404_not_500(jp_fetch: Any) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("mlops", "api", "nowhere")
    assert refused.value.code == 404


async def test_the_contract_plugin_finds_what_the_spec_does_not_say(jp_fetch: Any) -> None:
    """The suite-wide check (tests/response_contract.py) passes a real answer and names each
    way an answer can leave the spec: a renamed field, an undocumented status, a JSON body
    where the spec has none, an unknown message type."""
    from tests.response_contract import _load

    answer = json.loads((await jp_fetch("mlops", "api", "status")).body)
    renamed = {("identity_renamed" if k == "identity" else k): v for k, v in answer.items()}
    contract = _load()
    contract.test = "the test"
    status = "/base/mlops/api/status"
    contract.response("GET", status, 200, json.dumps(answer).encode())
    contract.response("GET", "/base/mlops/api/nowhere", 404, b'{"reason": "r", "message": "m"}')
    contract.frame('[{"id": null, "type": "error", "reason": "Bad input", "message": "m"}]')
    assert contract.findings == []
    contract.response("GET", status, 200, json.dumps(renamed).encode())
    contract.response("GET", status, 418, b"{}")
    contract.response("GET", "/base/mlops/api/ws", 101, b"{}")
    contract.frame('[{"id": "a", "type": "synced", "extra": 1}, {"id": "a", "type": "new"}]')
    found = {(m.operation, m.status): m.error for m in contract.findings}
    assert set(found) == {
        ("GET /mlops/api/status", "200"),
        ("GET /mlops/api/status", "418"),
        ("GET /mlops/api/ws", "101"),
        ("WS synced", "-"),
        ("WS new", "-"),
    }
    assert "identity" in found[("GET /mlops/api/status", "200")]
    assert "undocumented status" in found[("GET /mlops/api/status", "418")]
    assert "extra" in found[("WS synced", "-")]
    assert contract.responses == 5 and contract.frame_messages == 3
