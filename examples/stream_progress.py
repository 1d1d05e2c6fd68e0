"""Stream a task's updates: its status, its progress and its log lines, each shown once.

An update comes for every change (a log line, a progress report, a status), so print what
changed, not every update.
"""

from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    status, progress, logs_seen = None, None, 0
    with client.run("infsh/slow", {"steps": 5, "interval": 0.1}, stream=True) as updates:
        for update in updates:
            if update.status != status:
                status = update.status
                print(f"status:   {status}")
            if update.progress != progress and update.progress is not None:
                progress = update.progress
                print(f"progress: {progress:4.0%}  {update.progress_message}")
            logs = update.task.logs
            for log in logs[logs_seen:]:
                print(f"log:      {log.content}")
            logs_seen = len(logs)
        task = updates.result()  # the completed task (or TaskFailedError)
    print("output:", task.output)
