"""Start tasks without waiting, then collect them later; handle a failure."""

from inferencesh import TaskFailedError
from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    started = [client.run("infsh/echo", {"text": f"job {i}"}, wait=False) for i in range(3)]
    print("started:", [t.id for t in started])
    for task in started:
        print(task.id, "->", client.tasks.wait(task.id).output)
    try:
        client.run("infsh/fail", {"message": "out of ideas"})
    except TaskFailedError as exc:
        print("failed as expected:", exc.task.error)
