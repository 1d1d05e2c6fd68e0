"""What failures look like, and how to recover from each: one typed error per situation."""

from inferencesh import (
    NotFoundError,
    RequirementsNotMetError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)
from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    # The app failed: the task (and its error and logs) rides on the exception.
    try:
        client.run("infsh/text-templating", {"template": "Hi {1} and {2}", "strings": ["Ada"]})
    except TaskFailedError as exc:
        print("failed:", exc.task.error)
        fixed = client.run(
            "infsh/text-templating", {"template": "Hi {1} and {2}", "strings": ["Ada", "Bob"]}
        )
        print("retried with a fixed input:", fixed.output)

    # A wrong app name is a 404, before anything ran.
    try:
        client.run("infsh/no-such-app", {})
    except NotFoundError as exc:
        print("not found:", exc.status_code)

    # The app needs a secret you have not set: nothing ran, the error lists what is missing.
    try:
        client.run("infsh/needs-secret", {})
    except RequirementsNotMetError as exc:
        print("missing:", [e.get("key") for e in exc.errors])

    # Waiting longer than you can afford: the task keeps running; pick it up later.
    try:
        client.run("infsh/slow", {"steps": 3, "interval": 0.2}, wait_timeout=0.1)
    except TaskTimeoutError as exc:
        assert exc.task_id is not None
        print("gave up waiting; later:", client.tasks.wait(exc.task_id).output)

    # Cancelling: whoever waits gets TaskCancelledError.
    slow = client.run("infsh/slow", {"steps": 50, "interval": 0.1}, wait=False)
    client.tasks.cancel(slow.id)
    try:
        client.tasks.wait(slow.id)
    except TaskCancelledError as exc:
        print("cancelled:", exc.task.status)
