"""Stream a task's updates and show its progress."""

from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    with client.run("infsh/slow", {"steps": 5}, stream=True) as updates:
        for update in updates:
            progress = "" if update.progress is None else f" {update.progress:.0%}"
            print(f"{update.status.label}{progress}")
        task = updates.result()
    print("output:", task.output)
