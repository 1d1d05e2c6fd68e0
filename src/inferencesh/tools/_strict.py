"""Strict mode: the OpenAI structured-outputs subset of JSON Schema (pure functions).

In strict mode every object is closed and lists all its properties as required; a property
that had a default becomes nullable instead, and `null` from the model means "use the
default" (`drop_default_nulls` undoes it before validation). Free-form values (`dict[str, X]`,
bare `dict`, `Any`) cannot be expressed and are reported as problems. `default` keywords are
dropped (strict mode does not support them; the validator applies defaults).
"""

from __future__ import annotations

from typing import Any

from ._json import JSONObject, as_dict, as_list

__all__ = ["accepts_null", "drop_default_nulls", "to_strict"]

_NULL: JSONObject = {"type": "null"}
_META = ("description", "title")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
# Keywords that make a schema more than "any value".
_CONSTRAINING = frozenset(
    {"type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const", "properties", "items", "not"}
    | {"prefixItems"}
)
_FREE_FORM = "use a model or TypedDict with named fields"


def to_strict(schema: JSONObject) -> tuple[JSONObject, list[str]]:
    """Return the strict form of a root schema and the problems that prevent it."""
    problems: list[str] = []
    return _object(schema, "", problems, root=True), problems


def _node(value: Any, path: str, problems: list[str]) -> Any:
    node = as_dict(value)
    if node is None:
        return value
    if not (_CONSTRAINING & node.keys()):
        where = path or "a value"
        problems.append(f"{where}: any JSON value ({{}}) cannot be expressed in strict mode")
        return node
    return _object(node, path, problems, root=False)


def _object(node: JSONObject, path: str, problems: list[str], *, root: bool) -> JSONObject:
    where = path or "the parameters"
    out: JSONObject = {}
    for key, value in node.items():
        if key in ("default", "properties"):
            continue
        if key == "$defs" and (defs := as_dict(value)) is not None:
            out[key] = {n: _node(d, f"$defs.{n}", problems) for n, d in defs.items()}
        elif key in _SUBSCHEMA_LISTS and (items := as_list(value)) is not None:
            sub = f"{path}[]" if key == "prefixItems" else path
            out[key] = [_node(v, sub, problems) for v in items]
        elif key in ("items", "not"):
            out[key] = _node(value, f"{path}[]" if key == "items" else path, problems)
        elif key == "additionalProperties" and as_dict(value) is not None:
            problems.append(f"{where}: free-form keys are not allowed in strict mode; {_FREE_FORM}")
        else:
            out[key] = value
    props = as_dict(node.get("properties"))
    if node.get("type") != "object" and props is None:
        return out
    extra = node.get("additionalProperties")
    if not props and not root and extra is not False and as_dict(extra) is None:
        problems.append(
            f"{where}: an object without named properties is not allowed in strict mode;"
            f" {_FREE_FORM}"
        )
    required = set(as_list(node.get("required")) or ())
    new_props: JSONObject = {}
    for name, sub in (props or {}).items():
        converted = _node(sub, f"{path}.{name}" if path else name, problems)
        new_props[name] = converted if name in required else _nullable(converted)
    out["properties"] = new_props
    out["required"] = list(new_props)
    out["additionalProperties"] = False
    return out


def _nullable(value: Any) -> Any:
    schema = as_dict(value)
    if schema is None or accepts_null(schema, {}):
        return value
    if (branches := as_list(schema.get("anyOf"))) is not None:
        return {**schema, "anyOf": [*branches, _NULL]}
    meta = {k: v for k, v in schema.items() if k in _META}
    body = {k: v for k, v in schema.items() if k not in _META}
    return {"anyOf": [body, _NULL], **meta}


def accepts_null(value: Any, defs: JSONObject) -> bool:
    """Whether a (non-strict) schema lets `null` through."""
    schema = as_dict(value)
    if schema is None:
        return True
    schema = _deref(schema, defs)
    if not (_CONSTRAINING & schema.keys()):
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in (as_list(schema.get("enum")) or ()) or (
        "const" in schema and schema["const"] is None
    ):
        return True
    return any(accepts_null(s, defs) for s in _branches(schema))


def drop_default_nulls(value: Any, schema: JSONObject) -> Any:
    """Remove `null`s the model sent for defaulted properties that do not accept null.

    `schema` is the non-strict root schema: a property absent from its `required` list had a
    default, and dropping the key lets validation apply that default. Returns a new value.
    """
    return _drop(value, schema, as_dict(schema.get("$defs")) or {})


def _drop(value: Any, raw_schema: Any, defs: JSONObject) -> Any:
    schema = as_dict(raw_schema)
    if schema is None:
        return value
    schema = _deref(schema, defs)
    if branches := _branches(schema):
        # Only follow an unambiguous branch, e.g. Optional[Model] or list[X] | None.
        kind = _json_kind(value)
        matching = [b for b in branches if _deref(as_dict(b) or {}, defs).get("type") == kind]
        if kind and len(matching) == 1:
            return _drop(value, matching[0], defs)
        return value
    obj, props = as_dict(value), as_dict(schema.get("properties"))
    if obj is not None and props is not None:
        required = set(as_list(schema.get("required")) or ())
        out: JSONObject = {}
        for key, item in obj.items():
            sub = props.get(key)
            if item is None and sub is not None and key not in required:
                if not accepts_null(sub, defs):
                    continue
            out[key] = _drop(item, sub, defs)
        return out
    items = as_list(value)
    if items is not None:
        if (prefix := as_list(schema.get("prefixItems"))) is not None:
            return [
                _drop(v, prefix[i] if i < len(prefix) else None, defs) for i, v in enumerate(items)
            ]
        return [_drop(v, schema.get("items"), defs) for v in items]
    return value


def _json_kind(value: Any) -> str:
    if as_dict(value) is not None:
        return "object"
    return "array" if as_list(value) is not None else ""


def _branches(schema: JSONObject) -> list[Any]:
    return [*(as_list(schema.get("anyOf")) or ()), *(as_list(schema.get("oneOf")) or ())]


def _deref(schema: JSONObject, defs: JSONObject) -> JSONObject:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = as_dict(defs.get(ref[len("#/$defs/") :]))
        if target is not None:
            return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema
