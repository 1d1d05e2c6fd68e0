"""Model arguments are validated by the adapters that produced the schema; errors are results."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from inferencesh.tools import FieldError, InvalidArguments, ValidatedArgs, tool


class Item(BaseModel):
    id: int
    note: str = ""


@tool
def order(
    item: Item,
    qty: Annotated[int, Field(ge=1)] = 1,
    when: datetime.date | None = None,
    mode: Literal["fast", "slow"] = "fast",
    tags: list[str] = Field(default_factory=list),  # noqa: B008
) -> str:
    """Place an order."""
    return "ok"


def test_valid_arguments_are_coerced_and_defaults_filled() -> None:
    result = order.validate_arguments('{"item": {"id": "7"}, "when": "2024-05-01"}')
    assert result == ValidatedArgs(
        arguments={
            "item": Item(id=7),
            "qty": 1,
            "when": datetime.date(2024, 5, 1),
            "mode": "fast",
            "tags": [],
        }
    )


def test_default_factory_gives_a_fresh_value_each_time() -> None:
    a = order.validate_arguments({"item": {"id": 1}})
    b = order.validate_arguments({"item": {"id": 1}})
    assert isinstance(a, ValidatedArgs) and isinstance(b, ValidatedArgs)
    assert a.arguments["tags"] == [] and a.arguments["tags"] is not b.arguments["tags"]


def test_every_bad_field_is_named() -> None:
    result = order.validate_arguments(
        {"item": {"id": "x"}, "qty": 0, "mode": "medium", "extra": 1, "tags": "[1]"}
    )
    assert isinstance(result, InvalidArguments)
    assert result.errors == (
        FieldError(
            field="extra",
            message="unexpected argument; the parameters are: item, mode, qty, tags, when",
            type="extra_forbidden",
        ),
        FieldError(
            field="item.id",
            message="Input should be a valid integer, unable to parse string as an integer",
            type="int_parsing",
        ),
        FieldError(
            field="qty",
            message="Input should be greater than or equal to 1",
            type="greater_than_equal",
        ),
        FieldError(field="mode", message="Input should be 'fast' or 'slow'", type="literal_error"),
        FieldError(field="tags", message="Input should be a valid list", type="list_type"),
    )
    assert json.loads(result.to_text()) == {
        "error": "invalid_arguments",
        "message": "The arguments for tool 'order' are invalid. Fix the fields listed below and call the tool again.",
        "fields": [
            {
                "field": "extra",
                "message": "unexpected argument; the parameters are: item, mode, qty, tags, when",
            },
            {
                "field": "item.id",
                "message": "Input should be a valid integer, unable to parse string as an integer",
            },
            {"field": "qty", "message": "Input should be greater than or equal to 1"},
            {"field": "mode", "message": "Input should be 'fast' or 'slow'"},
            {"field": "tags", "message": "Input should be a valid list"},
        ],
    }


def test_missing_required_argument() -> None:
    result = order.validate_arguments("{}")
    assert result == InvalidArguments(
        tool="order", errors=(FieldError(field="item", message="Field required", type="missing"),)
    )


def test_nested_list_paths() -> None:
    @tool
    def bulk(items: list[Item]) -> None: ...

    result = bulk.validate_arguments({"items": [{"id": 1}, {"id": 2}, {"note": "x"}]})
    assert isinstance(result, InvalidArguments)
    assert result.errors == (
        FieldError(field="items[2].id", message="Field required", type="missing"),
    )


@pytest.mark.parametrize(
    ("raw", "message", "kind"),
    [
        ("{not json", "the arguments are not valid JSON: ", "json_invalid"),
        ("[1, 2]", "the arguments must be a JSON object", "dict_type"),
        (b'"text"', "the arguments must be a JSON object", "dict_type"),
    ],
)
def test_undecodable_arguments(raw: str | bytes, message: str, kind: str) -> None:
    result = order.validate_arguments(raw)
    assert isinstance(result, InvalidArguments)
    (error,) = result.errors
    assert (error.field, error.type) == ("", kind)
    assert error.message.startswith(message)


@pytest.mark.parametrize("raw", [None, "", "  ", b"{}", {}])
def test_empty_arguments_mean_no_arguments(raw: str | bytes | dict[str, object] | None) -> None:
    @tool
    def ping(host: str = "localhost") -> str:
        return host

    assert ping.validate_arguments(raw) == ValidatedArgs(arguments={"host": "localhost"})


def test_no_sniffing_a_string_stays_a_string() -> None:
    @tool
    def echo(text: str, items: list[int] | None = None) -> str:
        return text

    assert echo.validate_arguments({"text": "[1,2]"}) == ValidatedArgs(
        arguments={"text": "[1,2]", "items": None}
    )
    result = echo.validate_arguments({"text": "x", "items": "[1,2]"})
    assert isinstance(result, InvalidArguments)
    assert [e.field for e in result.errors] == ["items"]


def test_lax_scalar_coercion_follows_pydantic() -> None:
    @tool
    def f(n: int, u: uuid.UUID, flag: bool) -> None: ...

    u = uuid.UUID(int=5)
    assert f.validate_arguments({"n": "5", "u": str(u), "flag": "true"}) == ValidatedArgs(
        arguments={"n": 5, "u": u, "flag": True}
    )


def test_int_parameter_with_none_default_rejects_explicit_null() -> None:
    @tool
    def f(x: int = None) -> None: ...  # type: ignore[assignment]

    assert f.validate_arguments({}) == ValidatedArgs(arguments={"x": None})
    result = f.validate_arguments({"x": None})
    assert isinstance(result, InvalidArguments)
    assert result.errors[0].field == "x"


def test_nullable_required_parameter() -> None:
    @tool
    def f(x: int | None) -> None: ...

    assert f.validate_arguments({"x": None}) == ValidatedArgs(arguments={"x": None})
    result = f.validate_arguments({})
    assert isinstance(result, InvalidArguments)
    assert result.errors == (FieldError(field="x", message="Field required", type="missing"),)


def test_reserved_and_underscore_names_validate() -> None:
    @tool
    def f(json: str, model_config: int, _cursor: str = "") -> None: ...

    assert f.validate_arguments({"json": "a", "model_config": 1, "_cursor": "c"}) == ValidatedArgs(
        arguments={"json": "a", "model_config": 1, "_cursor": "c"}
    )
