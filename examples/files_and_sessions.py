"""Upload a file, pass a path in an input, download an output file, keep a warm session."""

import tempfile
from pathlib import Path

from inferencesh.local import Emulator, running

with running(Emulator()) as server, server.client() as client, tempfile.TemporaryDirectory() as tmp:
    notes = Path(tmp) / "notes.txt"
    notes.write_text("files go up in chunks\n")

    uploaded = client.files.upload(notes)
    print("uploaded:", uploaded.filename, uploaded.content_type, uploaded.size)

    info = client.run("infsh/file-info", {"file": notes})  # the Path is uploaded for you
    print("the app saw", info.output["file"]["size"], "bytes")

    drawn = client.run("infsh/draw-image", {"prompt": "sunset", "width": 32, "height": 32})
    saved = drawn.output["image"].download(f"{tmp}/out/")  # a trailing / makes it a folder
    print("downloaded:", saved.name, saved.stat().st_size, "bytes")

    with client.session("infsh/session-test", idle_timeout=60) as session:
        session.run({}, function="increment")
        task = session.run({}, function="increment")
        print("same worker, counter =", task.output["value"])
