"""The agent options of `inferencesh serve`: templates from JSON files, and a real LLM.

```bash
inferencesh serve --agent acme/support=support.json          # an AgentConfigInput per file
inferencesh serve --llm llama3.2 --llm-base-url http://localhost:11434/v1   # Ollama answers
```

Kept apart from the emulator so that parsing the command line imports nothing heavy.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferencesh.local import Emulator

__all__ = ["add_serve_arguments", "configure_agents", "serve_agent_options"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--agent`, `--llm` and `--llm-base-url` to the `serve` command."""
    parser.add_argument(
        "--agent",
        action="append",
        default=[],
        metavar="NS/NAME=FILE",
        help="serve an agent template: a JSON file holding its AgentConfigInput (repeatable)",
    )
    parser.add_argument(
        "--llm",
        default=None,
        metavar="MODEL",
        help="answer agents with this model of an OpenAI-compatible server (needs the openai "
        "extra; default: the offline rule-based model)",
    )
    parser.add_argument(
        "--llm-base-url",
        default=None,
        metavar="URL",
        help="that server's API root, e.g. http://localhost:11434/v1 (INFERENCESH_LLM_BASE_URL)",
    )


def serve_agent_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed agent options, as `configure_agents` takes them."""
    return {"agents": list(args.agent), "llm": args.llm, "llm_base_url": args.llm_base_url}


def configure_agents(
    emulator: Emulator,
    *,
    agents: Sequence[str] = (),
    llm: str | None = None,
    llm_base_url: str | None = None,
) -> None:
    """Register the templates and the LLM the options name.

    Raises:
        SystemExit: an option is malformed, a file is unreadable or not a valid config.
    """
    for spec in agents:
        ref, sep, file = spec.partition("=")
        if not sep or not ref or not file:
            raise SystemExit(f"--agent takes NS/NAME=FILE, got {spec!r}")
        try:
            config = json.loads(Path(file).read_text())
            emulator.register_agent(ref, config)
        except (OSError, ValueError, TypeError) as exc:
            raise SystemExit(f"--agent {spec}: {exc}") from exc
    if llm is not None:
        from inferencesh.local.models import OpenAICompatibleModel

        emulator.models.default = OpenAICompatibleModel(model=llm, base_url=llm_base_url)
