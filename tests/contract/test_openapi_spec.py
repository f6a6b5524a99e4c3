"""api/openapi.yaml documents, for every operation, the auth refusals and one error envelope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "api" / "openapi.yaml").read_text())
ENVELOPE = "#/components/schemas/ErrorBody"
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
]


def resolved(item: dict[str, Any]) -> dict[str, Any]:
    """A response or parameter, its `$ref` to the components followed."""
    ref = item.get("$ref")
    if ref is None:
        return item
    _, _, section, name = ref.split("/")
    return {**SPEC["components"][section][name], **{k: v for k, v in item.items() if k != "$ref"}}


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_error_status_answers_the_one_envelope(label: str, operation: Any) -> None:
    statuses = set(operation["responses"])
    assert {"401", "403", "503"} <= statuses, "Jupyter auth and a refused configuration"
    assert not statuses & {"500", "default"}, "a server fault is never part of the contract"
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            content = resolved(response)["content"]
            assert content == {"application/json": {"schema": {"$ref": ENVELOPE}}}, status


def test_the_envelope_has_exactly_reason_and_message() -> None:
    envelope = SPEC["components"]["schemas"]["ErrorBody"]
    assert envelope["additionalProperties"] is False
    assert set(envelope["required"]) == set(envelope["properties"]) == {"reason", "message"}


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_a_bad_path_value_or_body_is_answered_400(label: str, operation: Any) -> None:
    in_path = [p for p in operation.get("parameters", []) if resolved(p)["in"] == "path"]
    if in_path or "requestBody" in operation:
        assert "400" in operation["responses"]
