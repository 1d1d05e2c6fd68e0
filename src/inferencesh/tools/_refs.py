"""`$ref` handling: inline every non-recursive definition, keep `$defs` for recursive ones.

Several model providers reject `$ref` (Gemini, some OpenAI-compatible servers) or `$ref` with
sibling keywords (OpenAI strict mode), so schemas are sent inlined. Only a type that contains
itself cannot be inlined; it stays in the root `$defs`. All functions here are pure.
"""

from __future__ import annotations

from typing import Any

from ._json import JSONObject, as_dict, as_list

__all__ = ["merge_defs", "normalize_schema"]

_PREFIX = "#/$defs/"


def _ref_name(node: JSONObject) -> str | None:
    ref = node.get("$ref")
    return ref[len(_PREFIX) :] if isinstance(ref, str) and ref.startswith(_PREFIX) else None


def normalize_schema(raw: JSONObject) -> JSONObject:
    """Turn `TypeAdapter(T).json_schema()` output into the form tool schemas use.

    Discriminated unions become plain `anyOf` (the OpenAPI `discriminator` keyword is not JSON
    Schema and points at `$defs`), non-recursive `$ref`s are replaced by their target (the
    reference's siblings, e.g. `description`, win), and `$defs` keeps only recursive types.
    """
    defs = {n: _strip_discriminators(d) for n, d in (as_dict(raw.get("$defs")) or {}).items()}
    body: JSONObject = _strip_discriminators({k: v for k, v in raw.items() if k != "$defs"})
    if not defs:
        return body
    recursive = _recursive_names(defs)
    cache: dict[str, Any] = {}

    def resolve(value: Any) -> Any:
        if (node := as_dict(value)) is not None:
            name = _ref_name(node)
            if name is not None and name in defs and name not in recursive:
                if name not in cache:
                    cache[name] = resolve(defs[name])
                siblings = {k: resolve(v) for k, v in node.items() if k != "$ref"}
                return {**cache[name], **siblings}
            return {k: resolve(v) for k, v in node.items()}
        if (items := as_list(value)) is not None:
            return [resolve(v) for v in items]
        return value

    out: JSONObject = resolve(body)
    kept = {n: resolve(defs[n]) for n in sorted(recursive & _reachable(out, defs))}
    if kept:
        out["$defs"] = kept
    return out


def merge_defs(target: JSONObject, schema: JSONObject) -> JSONObject:
    """Move `schema`'s `$defs` into `target`, renaming a name already used for another type.

    Each parameter's schema is rendered on its own, so two parameters may both define `Node`
    (different classes with one name). Returns the schema with its refs rewritten.
    """
    defs = as_dict(schema.pop("$defs", None))
    if not defs:
        return schema
    renames: dict[str, str] = {}
    for name, body in defs.items():
        new, n = name, 2
        while new in target and target[new] != body:
            new, n = f"{name}{n}", n + 1
        if new != name:
            renames[name] = new
    if renames:
        schema = _rename_refs(schema, renames)
        defs = {renames.get(k, k): _rename_refs(v, renames) for k, v in defs.items()}
    for name, body in defs.items():
        target.setdefault(name, body)
    return schema


def _strip_discriminators(value: Any) -> Any:
    if (node := as_dict(value)) is not None:
        out = {k: _strip_discriminators(v) for k, v in node.items() if k != "discriminator"}
        if "discriminator" in node and "oneOf" in out:
            out["anyOf"] = out.pop("oneOf")
        return out
    if (items := as_list(value)) is not None:
        return [_strip_discriminators(v) for v in items]
    return value


def _refs_in(value: Any, found: set[str]) -> set[str]:
    if (node := as_dict(value)) is not None:
        if (name := _ref_name(node)) is not None:
            found.add(name)
        for v in node.values():
            _refs_in(v, found)
    elif (items := as_list(value)) is not None:
        for v in items:
            _refs_in(v, found)
    return found


def _recursive_names(defs: JSONObject) -> set[str]:
    """Definitions that reach themselves through refs (members of a cycle)."""
    edges = {name: _refs_in(body, set()) & defs.keys() for name, body in defs.items()}
    recursive: set[str] = set()
    for start in defs:
        stack, seen = list(edges[start]), set[str]()
        while stack:
            name = stack.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack.extend(edges[name])
    return recursive


def _reachable(value: Any, defs: JSONObject) -> set[str]:
    found: set[str] = set()
    stack = list(_refs_in(value, set()))
    while stack:
        name = stack.pop()
        if name not in found and name in defs:
            found.add(name)
            stack.extend(_refs_in(defs[name], set()))
    return found


def _rename_refs(value: Any, renames: dict[str, str]) -> Any:
    if (node := as_dict(value)) is not None:
        out = {k: _rename_refs(v, renames) for k, v in node.items()}
        if (name := _ref_name(out)) is not None and name in renames:
            out["$ref"] = _PREFIX + renames[name]
        return out
    if (items := as_list(value)) is not None:
        return [_rename_refs(v, renames) for v in items]
    return value
