"""Running apps: outputs, the status sequence, workers, failures and the built-in apps."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx2
import pytest

from inferencesh.local import Emulator
from tests.local._support import HELLO_RUN, new_gate, run


def finished(
    http: httpx2.Client, emu: Emulator, app: str, input: object, **fields: object
) -> dict[str, Any]:
    return emu.wait_for_task(run(http, app, input, **fields)["id"])


@pytest.mark.parametrize(
    ("template", "strings", "text"),
    [
        ("Hello {1}!", ["World"], "Hello World!"),
        ("{2} before {1}, {1} again", ["a", "b"], "b before a, a again"),
        ("no placeholders", [], "no placeholders"),
        ("{10}", [str(i) for i in range(1, 11)], "10"),
    ],
)
def test_text_templating_is_one_based(
    http: httpx2.Client, local_emu: Emulator, template: str, strings: list[str], text: str
) -> None:
    task = finished(
        http, local_emu, "infsh/text-templating", {"template": template, "strings": strings}
    )
    assert task["output"] == {"text": text}


def test_a_missing_template_argument_fails_the_task(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    task = finished(
        http, local_emu, "infsh/text-templating", {"template": "{1} {2}", "strings": ["a"]}
    )
    assert task["status"] == 11
    assert task["error"] == "template error: missing argument {2}"
    assert task["output"] is None


def test_the_status_sequence_has_a_timestamped_event_per_step(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    task = local_emu.wait_for_task(run(http, HELLO_RUN["app"], HELLO_RUN["input"])["id"])
    statuses = [e["status"] for e in task["events"]]
    assert statuses == [1, 2, 3, 4, 7, 10]
    times = [e["event_time"] for e in task["events"]]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert task["updated_at"] == times[-1]
    assert all(
        e["task_id"] == task["id"] and e["created_at"] == e["event_time"] for e in task["events"]
    )
    assert task["worker_id"].startswith("wrk_") and task["engine_id"]


def test_a_failing_app_ends_failed_with_its_message_and_a_traceback(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    task = finished(http, local_emu, "infsh/fail", {"message": "boom"})
    assert [e["status"] for e in task["events"]][-2:] == [7, 11]
    assert task["error"] == "boom"
    logs = [entry["content"] for entry in task["logs"]]
    assert logs[0] == "about to fail"
    assert "Traceback" in logs[-1] and "AppFailure: boom" in logs[-1]


def test_unknown_fields_and_explicit_nulls_are_ignored(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    body = {
        **HELLO_RUN,
        "setup": None,
        "infra": None,
        "webhook": None,
        "session": None,
        "function": None,
        "role": "user",
        "future_field": {"x": 1},
    }
    response = http.post("/apps/run", json=body)
    assert response.status_code == 200, response.text
    task = local_emu.wait_for_task(response.json()["data"]["id"])
    assert (task["status"], task["function"], task["infra"]) == (10, "run", "cloud")
    # Nulls inside the input mean "not given" too.
    task = finished(http, local_emu, "infsh/text-templating", {"template": "x", "strings": None})
    assert task["output"] == {"text": "x"}


@pytest.mark.parametrize(
    "ref",
    [
        "infsh/text-templating",
        "infsh/text-templating@latest",
        "infsh/text-templating@53bk0yzk",
        "infsh/text-templating@someothr",
        "app/infsh/text-templating@53bk0yzk",
        "infsh/text-templating@53bk0yzk:run",
    ],
)
def test_every_ref_form_runs_the_registered_app(
    http: httpx2.Client, local_emu: Emulator, ref: str
) -> None:
    task = finished(http, local_emu, ref, HELLO_RUN["input"])
    assert task["output"] == {"text": "Hello World!"}
    assert task["app_version_id"] == "53bk0yzk"


def test_app_id_names_an_app_too(http: httpx2.Client, local_emu: Emulator) -> None:
    app_id = finished(http, local_emu, "infsh/echo", {"a": 1})["app_id"]
    response = http.post("/apps/run", json={"app_id": app_id, "input": {"b": 2}})
    task = local_emu.wait_for_task(response.json()["data"]["id"])
    assert task["output"] == {"b": 2}


def test_request_options_are_kept_on_the_task(http: httpx2.Client, local_emu: Emulator) -> None:
    metadata = {"action": {"key": "notify", "on": "completed"}}
    task = finished(
        http,
        local_emu,
        "infsh/echo",
        {"k": "v"},
        infra="private",
        webhook="https://example.com/hook",
        metadata=metadata,
        workers=["w1"],
    )
    assert task["infra"] == "private"
    assert task["webhook"] == "https://example.com/hook"
    assert task["metadata"] == metadata
    assert task["workers"] == ["w1"]
    assert task["output"] == {"k": "v"}


def test_unannotated_apps_get_raw_json(http: httpx2.Client, local_emu: Emulator) -> None:
    task = finished(http, local_emu, "test/raw", [1, "two", None])
    assert task["output"] == {"got": [1, "two", None], "function": "run", "task_id": task["id"]}


def test_output_that_is_not_json_fails_the_task(http: httpx2.Client, local_emu: Emulator) -> None:
    task = finished(http, local_emu, "test/not-json", {})
    assert task["status"] == 11
    assert "not JSON serializable" in task["error"]


def test_apps_see_only_the_secrets_they_declared(http: httpx2.Client, local_emu: Emulator) -> None:
    local_emu.secrets.update({"TOKEN": "12345", "OTHER": "x"})
    task = finished(http, local_emu, "test/secretive", {})
    assert task["output"] == {"secrets": ["TOKEN"], "length": 5}


# -- class apps: setup once per worker, warm workers, functions --------------------------


def test_a_class_app_sets_up_each_worker_once(http: httpx2.Client, local_emu: Emulator) -> None:
    setup = {"start": 100 + len(local_emu.tasks())}  # a setup no earlier test used
    first = finished(http, local_emu, "test/counter", {}, function="add", setup=setup)
    assert [e["status"] for e in first["events"]] == [1, 2, 3, 4, 6, 7, 10]
    assert [(log["log_type"], log["content"]) for log in first["logs"]] == [(3, "setting up")]
    assert first["output"] == {"count": setup["start"] + 1}
    assert first["app_version_id"] == "c1"

    second = finished(http, local_emu, "test/counter:add", {"amount": 5}, setup=setup)
    assert [e["status"] for e in second["events"]] == [1, 2, 3, 4, 7, 10]
    assert second["worker_id"] == first["worker_id"]
    assert second["output"] == {"count": setup["start"] + 6}

    other = finished(http, local_emu, "test/counter", {}, setup={"start": -1})
    assert 6 in [e["status"] for e in other["events"]]
    assert other["worker_id"] != first["worker_id"]
    assert other["output"] == {"count": -1}


# -- async apps ---------------------------------------------------------------------------


def test_an_async_app_runs_on_the_task_loop(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    task = run(http, "test/async-gate", {"gate": gate.name, "output": 7})
    gate.wait_entered()
    assert local_emu.task(task["id"])["status"] == 7
    gate.release.set()
    done = local_emu.wait_for_task(task["id"])
    assert done["output"] == {"async": True, "output": 7}
    assert [log["content"] for log in done["logs"]] == ["async app waiting"]


# -- built-in apps ------------------------------------------------------------------------


def test_echo_returns_its_input(http: httpx2.Client, local_emu: Emulator) -> None:
    value = {"text": "hi", "nested": {"list": [1, 2.5, None, True]}}
    assert finished(http, local_emu, "infsh/echo", value)["output"] == value


def test_slow_reports_progress_and_logs(http: httpx2.Client, local_emu: Emulator) -> None:
    task = finished(http, local_emu, "infsh/slow", {"steps": 3, "interval": 0})
    assert task["output"] == {"steps": 3}
    assert [log["content"] for log in task["logs"]] == ["step 1/3", "step 2/3", "step 3/3"]
    assert (task["progress"], task["progress_message"]) == (1.0, "step 3 of 3")


def test_draw_image_returns_a_valid_png(http: httpx2.Client, local_emu: Emulator) -> None:
    task = finished(
        http, local_emu, "infsh/draw-image", {"prompt": "a cat", "width": 40, "height": 30}
    )
    image = task["output"]["image"]
    assert task["output"]["width"] == 40 and task["output"]["height"] == 30
    # A real file of the emulator, fetched like a presigned URL: no key needed.
    fetched = httpx2.get(image["uri"])
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    png = fetched.content
    assert (image["content_type"], image["size"], image["filename"]) == (
        "image/png",
        len(png),
        "image.png",
    )
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (width, height, depth, colour) == (40, 30, 8, 2)
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == 30 * (1 + 40 * 3)
    rows = [pixels[y * 121 : (y + 1) * 121] for y in range(30)]
    assert all(row[0] == 0 for row in rows)
    assert len({row[1:] for row in rows}) > 1  # it drew something, not a flat colour
    same = finished(
        http, local_emu, "infsh/draw-image", {"prompt": "a cat", "width": 40, "height": 30}
    )
    assert same["output"]["image"]["uri"] != image["uri"]  # a file per run
    assert httpx2.get(same["output"]["image"]["uri"]).content == png  # the same picture


def test_draw_image_limits_its_size(http: httpx2.Client) -> None:
    response = http.post("/apps/run", json={"app": "infsh/draw-image", "input": {"width": 5000}})
    assert response.status_code == 422
    assert "input.width" in response.json()["detail"]


def test_logs_and_timings_endpoints(http: httpx2.Client, local_emu: Emulator) -> None:
    task = finished(http, local_emu, "infsh/slow", {"steps": 2, "interval": 0})
    logs = http.get(f"/tasks/{task['id']}/logs").json()["data"]
    assert logs == {
        "task_id": task["id"],
        "status": 10,
        "events": task["events"],
        "logs": task["logs"],
    }
    assert {log["log_type"] for log in logs["logs"]} == {1}
    timings = http.get(f"/tasks/{task['id']}/timings").json()["data"]
    assert timings["task_id"] == task["id"] and timings["status"] == 10
    assert [g["label"] for g in timings["groups"]] == ["queue", "setup", "run"]
    assert [e["status"] for e in timings["events"]] == [e["status"] for e in task["events"]]
    assert timings["events"][0]["next_status"] == 2 and "next_status" not in timings["events"][-1]
    assert timings["total_duration"] >= 0
    assert timings["total_duration_ms"] == round(timings["total_duration"] * 1000)
