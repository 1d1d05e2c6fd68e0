"""`inferencesh serve`: the emulator on a real port."""

from __future__ import annotations

import errno
import sys
from typing import Any

from inferencesh.cli._agents import configure_agents
from inferencesh.cli._common import require_local_extra


def serve(
    *,
    host: str,
    port: int,
    api_key: str | None = None,
    data_dir: str | None = None,
    max_upload_size: int | None = None,
    max_body_size: int | None = None,
    **agent_options: Any,
) -> int:
    """Run the emulator until interrupted; a server that cannot start is one line on stderr."""
    require_local_extra()
    from inferencesh.local import Emulator
    from inferencesh.local import serve as serve_emulator

    options: dict[str, Any] = {"data_dir": data_dir}
    if api_key is not None:
        options["api_key"] = api_key
    if max_upload_size is not None:
        options["max_upload_size"] = max_upload_size
    if max_body_size is not None:
        options["max_body_size"] = max_body_size
    try:
        emulator = Emulator(**options)
    except (ValueError, OSError) as exc:
        print(f"inferencesh serve: {exc}", file=sys.stderr)
        return 2
    try:
        configure_agents(emulator, **agent_options)  # --agent, --llm: see cli/_agents.py
        serve_emulator(host=host, port=port, emulator=emulator)
    except OSError as exc:  # the address: in use, not this machine's, not a host at all
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        print(f"inferencesh serve: cannot listen on {where}: {_reason(exc)}", file=sys.stderr)
        return 1
    finally:
        emulator.close()
    return 0


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is in use (another server? try --port 0 for a free port)"
    return exc.strerror or str(exc)
