from __future__ import annotations

import pytest

from inferencesh.errors import ToolDefinitionError
from inferencesh.tools import Tool, Toolset, mcp_tool, tool


@tool
def read_file(path: str) -> str:
    """Read a file."""
    return path


@tool
def write_file(path: str, text: str) -> str:
    """Write a file."""
    return path


@tool(display_name="Delete!")
def delete_file(path: str) -> str:
    """Delete a file."""
    return path


def test_lookup_and_iteration() -> None:
    files = Toolset([read_file, write_file])
    assert len(files) == 2
    assert files.names == ("read_file", "write_file")
    assert list(files) == [read_file, write_file]
    assert "read_file" in files and "nope" not in files
    assert files["write_file"] is write_file
    assert files.get("nope") is None
    assert files.get("nope", read_file) is read_file
    assert repr(files) == "Toolset(['read_file', 'write_file'])"


def test_missing_name_suggests_a_close_one() -> None:
    with pytest.raises(KeyError, match="no tool named 'read_fil'; did you mean 'read_file'"):
        Toolset([read_file])["read_fil"]
    with pytest.raises(KeyError, match="no tool named 'zzz'\"?'?$"):
        Toolset([read_file])["zzz"]


def test_duplicates_are_rejected_and_nothing_is_added() -> None:
    files = Toolset([read_file])
    with pytest.raises(ToolDefinitionError) as info:
        files.add(write_file, read_file, write_file)
    assert info.value.problems == [
        "duplicate tool name 'read_file': rename one (name=...)",
        "duplicate tool name 'write_file': rename one (name=...)",
    ]
    assert files.names == ("read_file",)


def test_only_tools_are_accepted() -> None:
    def plain() -> None: ...

    with pytest.raises(
        TypeError, match="Toolset takes tools, not function: decorate it with @tool"
    ):
        Toolset([plain])  # type: ignore[list-item]


def test_prefixed_renames_copies_and_keeps_display_names() -> None:
    files = Toolset([read_file, delete_file])
    fs = files.prefixed("fs_")
    assert fs.names == ("fs_read_file", "fs_delete_file")
    assert fs["fs_read_file"].display_name == "read_file"
    assert fs["fs_delete_file"].display_name == "Delete!"
    assert read_file.name == "read_file"  # the original is untouched
    assert fs["fs_read_file"].invoke({"path": "x"}).output == "x"  # type: ignore[attr-defined]
    with pytest.raises(ToolDefinitionError, match="is invalid"):
        files.prefixed("x" * 60)


def test_filtered_and_requiring_approval() -> None:
    files = Toolset([read_file, write_file, delete_file])
    assert files.filtered(lambda t: "write" in t.name).names == ("write_file",)
    guarded = files.requiring_approval(lambda t: t.name != "read_file")
    assert [t.require_approval for t in guarded] == [False, True, True]
    assert [t.require_approval for t in files] == [False, False, False]
    assert all(t.require_approval for t in files.requiring_approval())


def test_combine_and_send() -> None:
    search = mcp_tool("search", server="exa")
    both = Toolset([read_file]) + Toolset([search])
    assert both.names == ("read_file", "search")
    nested = Toolset([Toolset([read_file]), search])
    assert nested.to_wire() == both.to_wire()
    assert [w["type"] for w in both.to_wire()] == ["client", "mcp"]


def test_with_options_copies() -> None:
    renamed: Tool = read_file.with_options(
        name="cat", description="Print a file", display_name="Cat", approval_timeout=0
    )
    assert (renamed.name, renamed.description, renamed.display_name) == (
        "cat",
        "Print a file",
        "Cat",
    )
    assert renamed.to_wire()["approval_timeout"] == 0
    assert (read_file.name, read_file.description) == ("read_file", "Read a file.")
    assert repr(renamed) == "<FunctionTool 'cat' (client)>"
    with pytest.raises(ToolDefinitionError):
        read_file.with_options(name="bad name")
