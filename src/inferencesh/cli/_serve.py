"""`inferencesh serve`: the emulator on a real port."""

from __future__ import annotations

from typing import Any

from inferencesh.cli._agents import configure_agents
from inferencesh.cli._main import require_local_extra


def serve(
    *,
    host: str,
    port: int,
    api_key: str,
    data_dir: str | None = None,
    max_upload_size: int | None = None,
    max_body_size: int | None = None,
    **agent_options: Any,
) -> int:
    """Run the emulator until interrupted."""
    require_local_extra()
    from inferencesh.local import Emulator
    from inferencesh.local import serve as serve_emulator

    options: dict[str, Any] = {"api_key": api_key, "data_dir": data_dir}
    if max_upload_size is not None:
        options["max_upload_size"] = max_upload_size
    if max_body_size is not None:
        options["max_body_size"] = max_body_size
    emulator = Emulator(**options)
    configure_agents(emulator, **agent_options)  # --agent, --llm: see cli/_agents.py
    try:
        serve_emulator(host=host, port=port, api_key=api_key, emulator=emulator)
    finally:
        emulator.close()
    return 0
