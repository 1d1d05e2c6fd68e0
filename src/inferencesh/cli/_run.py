"""`inferencesh run APP INPUT`: run an app and print its output."""

from __future__ import annotations

import json
import sys

from inferencesh.cli._progress import ProgressLine


def run(app: str, raw_input: str, *, base_url: str | None, api_key: str | None) -> int:
    """Run `app` with the JSON `raw_input`; print the output, or the error, and exit."""
    from inferencesh import InferenceError, inference

    try:
        data = json.loads(raw_input)
    except ValueError as exc:
        print(f"input is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        with inference(api_key, base_url=base_url) as client, ProgressLine(sys.stderr) as line:
            task = client.run(app, data, on_update=line.update)
    except InferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(task.output, indent=2))
    return 0
