"""Checking raw JSON against the kfp_server_api models, which the client would quietly trim."""

import re
from typing import Any

import kfp_server_api


def wire_names(model: str) -> dict[str, str]:
    """The JSON names of a kfp_server_api model's fields, with their types."""
    cls = getattr(kfp_server_api, model)
    return {cls.attribute_map[a]: t for a, t in cls.openapi_types.items()}


def assert_wire(model: str, value: Any, where: str = "") -> None:
    """Every key of ``value``, at every depth, is a field of the model it stands for."""
    inner = re.fullmatch(r"list\[(.+)\]|dict\(str, (.+)\)", model)
    if inner:
        item = inner.group(1) or inner.group(2)
        items = value if isinstance(value, list) else list(value.values())
        for index, each in enumerate(items):
            assert_wire(item, each, f"{where}[{index}]")
        return
    cls = getattr(kfp_server_api, model, None)
    if cls is None:
        return  # a scalar or a free-form object
    if not cls.openapi_types:
        assert value in cls.allowable_values, f"{where}: {value!r} is no {model}"
        return
    fields = wire_names(model)
    assert isinstance(value, dict), f"{where}: {model} is not an object"
    unknown = set(value) - set(fields)
    assert not unknown, f"{where}: {model} has no fields {sorted(unknown)}"
    for key, each in value.items():
        assert_wire(fields[key], each, f"{where}.{key}")
