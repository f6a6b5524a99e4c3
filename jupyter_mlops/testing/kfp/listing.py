"""List semantics of the KFP API: the JSON filter, ``sort_by`` and keyset page tokens."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

from .wire import ApiError, invalid_input

__all__ = ["Field", "ListQuery", "Listable", "Page", "Predicate", "list_page"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200

# Operation names of filter.proto, and the numbers protojson also accepts for them.
OPERATIONS = {
    1: "EQUALS",
    2: "NOT_EQUALS",
    3: "GREATER_THAN",
    5: "GREATER_THAN_EQUALS",
    6: "LESS_THAN",
    7: "LESS_THAN_EQUALS",
    8: "IN",
    9: "IS_SUBSTRING",
}
SCALAR_OPERATIONS = {
    "EQUALS",
    "NOT_EQUALS",
    "GREATER_THAN",
    "GREATER_THAN_EQUALS",
    "LESS_THAN",
    "LESS_THAN_EQUALS",
}
PREDICATE_FIELDS = {
    "operation": "operation",
    "key": "key",
    "int_value": "int_value",
    "intValue": "int_value",
    "long_value": "long_value",
    "longValue": "long_value",
    "string_value": "string_value",
    "stringValue": "string_value",
    "timestamp_value": "timestamp_value",
    "timestampValue": "timestamp_value",
    "int_values": "int_values",
    "intValues": "int_values",
    "long_values": "long_values",
    "longValues": "long_values",
    "string_values": "string_values",
    "stringValues": "string_values",
}


@dataclass(frozen=True)
class Field:
    """One listable field: the model column it maps to and how to read it from an item."""

    column: str
    read: Callable[[Any], str | int]


@dataclass(frozen=True)
class Listable(Generic[T]):
    """What the server knows to list a resource: API field names, key and default sort."""

    type_name: str
    fields: Mapping[str, Field]
    key: Callable[[T], str]
    default_sort: str = "created_at"


@dataclass(frozen=True)
class Predicate:
    """One parsed filter predicate: a column, an operation and a scalar or list value."""

    column: str
    operation: str
    value: Any

    def matches(self, actual: str | int) -> bool:
        """Whether a field value satisfies this predicate, with the server's SQL semantics."""
        value = self.value
        if self.operation == "IN":
            return bool(_fold(actual) in {_fold(v) for v in value})
        if self.operation == "IS_SUBSTRING":
            return str(value).lower() in str(actual).lower()
        left, right = _fold(actual), _fold(value)
        if self.operation == "EQUALS":
            return bool(left == right)
        if self.operation == "NOT_EQUALS":
            return bool(left != right)
        if isinstance(left, str) != isinstance(right, str):
            # SQL compares a string column to a number without raising; nothing matches.
            return False
        if self.operation == "GREATER_THAN":
            return bool(left > right)
        if self.operation == "GREATER_THAN_EQUALS":
            return bool(left >= right)
        if self.operation == "LESS_THAN":
            return bool(left < right)
        return bool(left <= right)


def _fold(value: Any) -> Any:
    # String comparisons are LOWER(column) = LOWER(?) in the server's SQL.
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class ListQuery:
    """A validated list request: page size, sort column and direction, filter, resume point."""

    page_size: int
    sort_field: str
    sort_column: str
    descending: bool
    predicates: tuple[Predicate, ...]
    filter_json: Any
    after: tuple[Any, str] | None = None

    @classmethod
    def parse(
        cls,
        listable: Listable[Any],
        *,
        page_token: str = "",
        page_size: str | int = "",
        sort_by: str = "",
        filter_text: str = "",
    ) -> ListQuery:
        """Validate the query parameters as the server does; raises ApiError (400)."""
        size = _page_size(page_size)
        if page_token:
            from_token = cls._from_token(page_token, size)
            if sort_by or filter_text:
                fresh = cls.parse(
                    listable, page_size=size, sort_by=sort_by, filter_text=filter_text
                )
                same = (
                    fresh.sort_column == from_token.sort_column
                    and fresh.descending == from_token.descending
                    and fresh.filter_json == from_token.filter_json
                )
                if not same:
                    raise invalid_input(
                        "page token does not match the supplied sort by and/or filtering "
                        "criteria. Either specify the same criteria or leave the latter empty "
                        "if page token is specified."
                    )
            return from_token
        words = sort_by.lower().split()
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise invalid_input(
                f'Received invalid sort by format "{sort_by}". Supported format: '
                '"field_name", "field_name desc", or "field_name asc"'
            )
        sort_field = words[0] if words else listable.default_sort
        if sort_field not in listable.fields:
            raise invalid_input(
                f'Invalid sorting field: "{sort_field}" on listable type {listable.type_name}'
            )
        filter_json, predicates = _parse_filter(listable, filter_text)
        return cls(
            page_size=size,
            sort_field=sort_field,
            sort_column=listable.fields[sort_field].column,
            descending=len(words) == 2 and words[1] == "desc",
            predicates=predicates,
            filter_json=filter_json,
        )

    @classmethod
    def _from_token(cls, token: str, size: int) -> ListQuery:
        try:
            decoded = json.loads(base64.b64decode(token, validate=True))
            predicates = tuple(
                Predicate(column=p["column"], operation=p["operation"], value=p["value"])
                for p in decoded["Filter"]["predicates"]
            )
            return cls(
                page_size=size,
                sort_field=decoded["SortByFieldName"],
                sort_column=decoded["SortByColumn"],
                descending=bool(decoded["IsDesc"]),
                predicates=predicates,
                filter_json=decoded["Filter"]["json"],
                after=(decoded["SortByFieldValue"], decoded["KeyFieldValue"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise ApiError(
                3, f"InvalidInputError: Invalid package token: {error}", "Invalid package token"
            ) from error

    def token_for(self, sort_value: Any, key: str) -> str:
        """The page token that resumes this listing at the item with ``sort_value`` and key."""
        token = {
            "SortByFieldName": self.sort_field,
            "SortByColumn": self.sort_column,
            "SortByFieldValue": sort_value,
            "KeyFieldName": "UUID",
            "KeyFieldValue": key,
            "IsDesc": self.descending,
            "Filter": {
                "json": self.filter_json,
                "predicates": [
                    {"column": p.column, "operation": p.operation, "value": p.value}
                    for p in self.predicates
                ],
            },
        }
        return base64.b64encode(json.dumps(token).encode()).decode()


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items, the total that matched, and the next page's token."""

    items: list[T]
    total_size: int
    next_page_token: str


def list_page(listable: Listable[T], items: Iterable[T], query: ListQuery) -> Page[T]:
    """Filter, sort and page ``items`` the way the server's SQL does (keyset pagination)."""
    fields = listable.fields
    by_column = {f.column: f for f in fields.values()}
    matching = [
        item
        for item in items
        if all(p.matches(by_column[p.column].read(item)) for p in query.predicates)
    ]
    read_sort = fields[query.sort_field].read

    def order(item: T) -> tuple[Any, str]:
        return (read_sort(item), listable.key(item))

    matching.sort(key=order, reverse=query.descending)
    start = 0
    if query.after is not None:
        after = (query.after[0], query.after[1])
        start = len(matching)
        for index, item in enumerate(matching):
            here = order(item)
            if (here <= after) if query.descending else (here >= after):
                start = index
                break
    window = matching[start : start + query.page_size + 1]
    next_token = ""
    if len(window) > query.page_size:
        following = window[query.page_size]
        next_token = query.token_for(read_sort(following), listable.key(following))
        window = window[: query.page_size]
    return Page(items=window, total_size=len(matching), next_page_token=next_token)


def _page_size(raw: str | int) -> int:
    if raw in ("", None):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as error:
        raise invalid_input(f'failed to parse page_size "{raw}": not an integer') from error
    if size < 0:
        raise invalid_input(f"The page size should be greater than 0. Got {size}")
    if size == 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def _parse_filter(listable: Listable[Any], text: str) -> tuple[Any, tuple[Predicate, ...]]:
    if not text:
        return None, ()

    def bad(reason: str) -> ApiError:
        return invalid_input(f"failed to parse valid filter from {text!r}: {reason}")

    try:
        document = json.loads(unquote(text))
    except ValueError as error:
        raise bad(f"proto: syntax error: {error}") from error
    if not isinstance(document, dict):
        raise bad("proto: syntax error: a Filter must be a JSON object")
    unknown = set(document) - {"predicates"}
    if unknown:
        raise bad(f'proto: unknown field "{sorted(unknown)[0]}"')
    raw_predicates = document.get("predicates") or []
    if not isinstance(raw_predicates, list):
        raise bad("proto: predicates must be a list")
    predicates = tuple(_predicate(listable, raw, bad) for raw in raw_predicates)
    return document, predicates


def _predicate(listable: Listable[Any], raw: Any, bad: Callable[[str], ApiError]) -> Predicate:
    if not isinstance(raw, dict):
        raise bad("proto: a predicate must be a JSON object")
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in PREDICATE_FIELDS:
            raise bad(f'proto: unknown field "{name}"')
        fields[PREDICATE_FIELDS[name]] = value
    operation = fields.get("operation", "OPERATION_UNSPECIFIED")
    if isinstance(operation, int):
        operation = OPERATIONS.get(operation, "OPERATION_UNSPECIFIED")
    if operation not in SCALAR_OPERATIONS | {"IN", "IS_SUBSTRING"}:
        raise invalid_input(f"invalid predicate operation: {operation}")
    value = _predicate_value(fields, bad)
    key = fields.get("key") or ""
    if not key:
        raise invalid_input(
            f"Predicate key cannot be empty for operation {operation} and value {value}"
        )
    if key not in listable.fields:
        raise invalid_input(f'no support for filtering on unrecognized field "{key}"')
    if operation == "IN" and not isinstance(value, list):
        raise invalid_input(f"cannot use IN operator with scalar type {_go_type(value)}")
    if operation in SCALAR_OPERATIONS and isinstance(value, list):
        raise invalid_input(
            f"cannot use scalar operator {operation} on array type {_go_type(value)}"
        )
    if operation == "IS_SUBSTRING" and not isinstance(value, str):
        raise invalid_input(
            f"cannot use non string value type {_go_type(value)} with operator {operation}"
        )
    return Predicate(column=listable.fields[key].column, operation=operation, value=value)


def _predicate_value(fields: Mapping[str, Any], bad: Callable[[str], ApiError]) -> Any:
    present = [name for name in fields if name not in ("operation", "key")]
    if len(present) > 1:
        raise bad("proto: a predicate holds one value (a oneof)")
    if not present:
        return ""
    name = present[0]
    raw = fields[name]
    try:
        if name == "string_value":
            return str(raw)
        if name in ("int_value", "long_value"):
            return int(raw)
        if name == "timestamp_value":
            return _seconds(raw)
        values = raw.get("values") if isinstance(raw, dict) else None
        if not isinstance(values, list):
            raise bad(f"proto: {name} needs a values list")
        if name == "string_values":
            return [str(v) for v in values]
        return [int(v) for v in values]
    except (TypeError, ValueError) as error:
        raise bad(f"proto: invalid value for {name}: {raw!r}") from error


def _seconds(text: Any) -> int:
    moment = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp without a zone")
    return int(moment.timestamp())


def _go_type(value: Any) -> str:
    if isinstance(value, list):
        return "[]string" if all(isinstance(v, str) for v in value) else "[]int64"
    return "string" if isinstance(value, str) else "int64"
