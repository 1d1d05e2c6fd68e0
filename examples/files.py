"""Upload a file, pass a local path in an input (uploaded for you), download an output file."""

import tempfile
from pathlib import Path

from inferencesh.local import Emulator, running

with (
    running(Emulator()) as server,
    server.client() as client,
    tempfile.TemporaryDirectory() as tmp,
):
    notes = Path(tmp) / "notes.txt"
    notes.write_text("files go up in 1 MiB chunks, so memory stays flat\n")

    uploaded = client.files.upload(notes)  # streamed from disk
    print("uploaded:", uploaded.filename, uploaded.content_type, uploaded.size, "bytes")
    print("its uri: ", uploaded.uri)

    info = client.run("infsh/file-info", {"file": notes})  # a Path in an input is uploaded
    print(
        "the app saw",
        info.output["file"]["size"],
        "bytes, sha256",
        info.output["file"]["sha256"][:12],
    )

    drawn = client.run("infsh/draw-image", {"prompt": "sunset", "width": 32, "height": 32})
    saved = drawn.output["image"].download(f"{tmp}/out/")  # a trailing / makes it a folder
    print("downloaded:", saved.name, saved.stat().st_size, "bytes")
    print("PNG:", saved.read_bytes()[:4] == b"\x89PNG")
