"""`python -m inferencesh`: the `inferencesh` command."""

from __future__ import annotations

from inferencesh.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
