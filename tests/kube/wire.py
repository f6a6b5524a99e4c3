"""Whether an answer's bytes are what its model in api/schemas.json says, no more, no less."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
from pydantic import BaseModel

SCHEMAS = json.loads((Path(__file__).resolve().parents[2] / "api" / "schemas.json").read_text())
M = TypeVar("M", bound=BaseModel)


def conforms(raw: bytes | str, model: type[M]) -> M:
    """The answer parsed as `model`, after proving it valid against the schema file and that
    parsing keeps every key: a renamed, missing or extra field (where the model allows no
    extras) fails, as does a wrong type."""
    body: Any = json.loads(raw)
    jsonschema.validate(body, {"$ref": f"#/$defs/{model.__name__}", "$defs": SCHEMAS["$defs"]})
    parsed = model.model_validate_json(raw, strict=True)
    assert json.loads(parsed.model_dump_json(exclude_unset=True)) == body, model.__name__
    return parsed
