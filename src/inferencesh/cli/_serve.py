"""`inferencesh serve`: the emulator on a real port."""

from __future__ import annotations

from inferencesh.cli._main import require_local_extra


def serve(*, host: str, port: int, api_key: str) -> int:
    """Run the emulator until interrupted."""
    require_local_extra()
    from inferencesh.local import serve as serve_emulator

    serve_emulator(host=host, port=port, api_key=api_key)
    return 0
