"""Keep one warm worker, and the app's state in it, across several runs."""

from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client:
    with client.session("infsh/session-test", idle_timeout=60) as session:
        session.run({"key": "name", "value": "Ada"}, function="set_value")
        for _ in range(3):
            task = session.run({}, function="increment")
        print("same worker, counter =", task.output["value"])
        print("remembered:", session.run({"key": "name"}, function="get_value").output)
    # Leaving the block ended the session; a new one starts empty.
    with client.session("infsh/session-test") as fresh:
        print("new session, counter =", fresh.run({}, function="increment").output["value"])
