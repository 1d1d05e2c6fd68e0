"""Cancelling and deleting tasks, and the state left behind."""

from __future__ import annotations

import httpx2

from inferencesh.local import Emulator, running
from tests.local._support import (
    API_KEY,
    assert_problem,
    new_gate,
    run,
    run_gated,
    task_lines,
    updates,
)


def test_cancelling_a_running_app_ends_it_cancelled(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate, task = run_gated(http)
    with task_lines(http, task["id"]) as lines:
        assert next(lines)["status"] == 7
        cancelled = http.post(f"/tasks/{task['id']}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["data"]["status"] in (8, 12)
        seen = [u["status"] for u in updates(list(lines))]
    assert seen[-1] == 12 and set(seen) <= {8, 12}
    final = local_emu.task(task["id"])
    assert [e["status"] for e in final["events"]][-3:] == [7, 8, 12]
    assert final["output"] is None and "error" not in final
    # The app's thread is still waiting; once let go it sees that it was cancelled.
    gate.release.set()
    assert gate.finished.wait(10)
    assert gate.saw_cancel.is_set()
    assert local_emu.task(task["id"]) == final


def test_a_cooperative_app_stops_at_once(http: httpx2.Client, local_emu: Emulator) -> None:
    task = run(http, "infsh/slow", {"steps": 1000, "interval": 10})
    local_emu.task_store.wait(task["id"], lambda t: t["status"] == 7, timeout=10)
    assert http.post(f"/tasks/{task['id']}/cancel").status_code == 200
    assert local_emu.wait_for_task(task["id"], timeout=5)["status"] == 12


def test_cancelling_an_async_app_interrupts_it(http: httpx2.Client, local_emu: Emulator) -> None:
    gate = new_gate()
    task = run(http, "test/async-gate", {"gate": gate.name})
    gate.wait_entered()
    assert http.post(f"/tasks/{task['id']}/cancel").status_code == 200
    assert local_emu.wait_for_task(task["id"])["status"] == 12
    assert gate.saw_cancel.wait(10)
    gate.release.set()


def test_cancelling_an_ended_task_is_a_conflict_and_changes_nothing(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    for app, input in (("infsh/echo", {}), ("infsh/fail", {"message": "x"})):
        task = local_emu.wait_for_task(run(http, app, input)["id"])
        problem = assert_problem(
            http.post(f"/tasks/{task['id']}/cancel"), 409, "invalid_transition"
        )
        assert task["id"] in problem["detail"]
        assert local_emu.task(task["id"]) == task


def test_a_task_waiting_for_a_worker_can_be_cancelled() -> None:
    emu = Emulator(api_key=API_KEY, max_concurrent_tasks=1)
    gate = new_gate()
    from tests.local._support import register_test_apps

    register_test_apps(emu)
    with running(emu) as server:
        headers = {"authorization": f"Bearer {API_KEY}"}
        with httpx2.Client(base_url=server.base_url, headers=headers, timeout=10) as http:
            busy = run(http, "test/gate", {"gate": gate.name})
            gate.wait_entered()
            waiting = run(http, "infsh/echo", {"x": 1})
            emu.task_store.wait(waiting["id"], lambda t: t["status"] == 2, timeout=10)
            assert http.post(f"/tasks/{waiting['id']}/cancel").status_code == 200
            final = emu.wait_for_task(waiting["id"])
            assert [e["status"] for e in final["events"]] == [1, 2, 8, 12]
            gate.release.set()
            assert emu.wait_for_task(busy["id"])["status"] == 10
    emu.close()


def test_deleting_a_task(http: httpx2.Client, local_emu: Emulator) -> None:
    task = local_emu.wait_for_task(run(http, "infsh/echo", {"x": 1})["id"])
    assert http.delete(f"/tasks/{task['id']}", params={"files": "true"}).status_code == 200
    assert_problem(http.get(f"/tasks/{task['id']}"), 404, "not_found")
    assert task["id"] not in [t["id"] for t in local_emu.tasks()]
    assert_problem(http.delete(f"/tasks/{task['id']}"), 404, "not_found")


def test_deleting_a_running_task_cancels_it_and_ends_its_streams(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    gate, task = run_gated(http)
    with task_lines(http, task["id"]) as lines:
        assert next(lines)["status"] == 7
        assert http.delete(f"/tasks/{task['id']}").status_code == 200
        seen = updates(list(lines))
    assert seen[-1]["status"] == 12
    assert_problem(http.get(f"/tasks/{task['id']}"), 404, "not_found")
    gate.release.set()
    assert gate.finished.wait(10)
    assert task["id"] not in [t["id"] for t in local_emu.tasks()]
