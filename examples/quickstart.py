"""Run an app and wait for its output, on the local emulator.

Against the real API, replace the `running(...)` block with `inference()` and set
INFERENCE_API_KEY.
"""

from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    task = client.run("infsh/text-templating", {"template": "Hello {1}!", "strings": ["World"]})
    print(task.status.label, task.output)
