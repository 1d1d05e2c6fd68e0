"""`POST /tasks/list`: cursor paging, filters, sorting."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
from hypothesis import given, settings
from hypothesis import strategies as st

from inferencesh.local import AppContext, Emulator
from inferencesh.local.core._listing import paginate
from tests.local._support import assert_problem, run


def _echo(ctx: AppContext, input: Any) -> Any:
    return input


def make_app(emu: Emulator) -> str:
    """A fresh app, so a test can filter on its tasks alone."""
    ref = f"list/{uuid.uuid4().hex[:8]}"
    emu.register(ref, _echo)
    return ref


def app_tasks(http: httpx2.Client, emu: Emulator, count: int) -> tuple[str, list[str]]:
    ref = make_app(emu)
    ids = [emu.wait_for_task(run(http, ref, {"i": i})["id"])["id"] for i in range(count)]
    app_id = emu.task(ids[0])["app_id"]
    return app_id, ids


def page(http: httpx2.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/tasks/list", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_cursor_paging_visits_each_task_once_newest_first(
    http: httpx2.Client, local_emu: Emulator
) -> None:
    app_id, ids = app_tasks(http, local_emu, 5)
    only = [{"field": "app_id", "operator": "eq", "value": app_id}]
    seen: list[str] = []
    cursor = ""
    pages: list[dict[str, Any]] = []
    while True:
        data = page(http, limit=2, cursor=cursor, filters=only)
        pages.append(data)
        seen += [t["id"] for t in data["items"]]
        if not data["has_next"]:
            break
        cursor = data["next_cursor"]
    assert seen == ids[::-1]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert [p["has_previous"] for p in pages] == [False, True, True]
    assert pages[-1]["next_cursor"] == "" and pages[0]["prev_cursor"] == ""
    assert all(p["total_items"] == 5 and p["items_per_page"] == 2 for p in pages)
    # Backwards from the last page gives the middle page again.
    back = page(http, limit=2, cursor=pages[-1]["prev_cursor"], filters=only)
    assert [t["id"] for t in back["items"]] == [t["id"] for t in pages[1]["items"]]


def test_new_tasks_do_not_shift_a_cursor(http: httpx2.Client, local_emu: Emulator) -> None:
    ref = make_app(local_emu)
    first = [local_emu.wait_for_task(run(http, ref, {})["id"]) for _ in range(3)]
    only = [{"field": "app_id", "operator": "eq", "value": first[0]["app_id"]}]
    one = page(http, limit=2, filters=only)
    local_emu.wait_for_task(run(http, ref, {})["id"])  # a newer task, before page two
    two = page(http, limit=2, cursor=one["next_cursor"], filters=only)
    assert [t["id"] for t in two["items"]] == [first[0]["id"]]


def test_filters_sort_search_and_offset_pages(http: httpx2.Client, local_emu: Emulator) -> None:
    app_id, ids = app_tasks(http, local_emu, 3)
    failed = local_emu.wait_for_task(run(http, "infsh/fail", {})["id"])
    only = {"field": "app_id", "operator": "eq", "value": app_id}
    ascending = page(http, filters=[only], sort=[{"field": "created_at", "dir": "asc"}])
    assert [t["id"] for t in ascending["items"]] == ids
    by_name = page(
        http, filters=[only, {"field": "status", "operator": "eq", "value": "completed"}]
    )
    assert len(by_name["items"]) == 3
    in_list = page(http, filters=[{"field": "status", "operator": "in", "value": [11, 12]}])
    assert failed["id"] in [t["id"] for t in in_list["items"]]
    assert all(t["status"] in (11, 12) for t in in_list["items"])
    searched = page(http, search={"fields": ["id"], "term": ids[1].upper(), "exact": False})
    assert [t["id"] for t in searched["items"]] == [ids[1]]
    second = page(http, filters=[only], page=2, limit=2)
    assert [t["id"] for t in second["items"]] == [ids[0]]
    assert second["has_previous"] and not second["has_next"]


def test_an_empty_body_lists_the_newest_tasks(http: httpx2.Client, local_emu: Emulator) -> None:
    local_emu.wait_for_task(run(http, "infsh/echo", {})["id"])
    response = http.post("/tasks/list")
    assert response.status_code == 200
    items = response.json()["data"]["items"]
    assert 1 <= len(items) <= 20
    assert [t["created_at"] for t in items] == sorted(
        (t["created_at"] for t in items), reverse=True
    )


def test_a_cursor_from_elsewhere_is_refused(http: httpx2.Client) -> None:
    assert_problem(
        http.post("/tasks/list", json={"cursor": "eyJ4IjoxfQ=="}), 400, "invalid_request"
    )


ITEMS = st.lists(
    st.fixed_dictionaries(
        {"v": st.one_of(st.none(), st.integers(-3, 3), st.text("ab", max_size=2))}
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(items=ITEMS, limit=st.integers(1, 5), descending=st.booleans())
def test_paging_forward_and_back_covers_every_item_once(
    items: list[dict[str, Any]], limit: int, descending: bool
) -> None:
    rows = [{**item, "created_at": f"t{i:03}", "id": f"id{i}"} for i, item in enumerate(items)]
    request: dict[str, Any] = {
        "limit": limit,
        "sort": [{"field": "v", "dir": "desc" if descending else "asc"}],
    }
    pages: list[dict[str, Any]] = [paginate(rows, request)]
    while pages[-1]["has_next"]:
        pages.append(paginate(rows, {**request, "cursor": pages[-1]["next_cursor"]}))
    forward = [row["id"] for p in pages for row in p["items"]]
    assert sorted(forward) == sorted(row["id"] for row in rows)
    assert len(forward) == len(set(forward))
    # Each page's prev_cursor leads back to the page before it.
    for before, after in zip(pages, pages[1:], strict=False):
        back = paginate(rows, {**request, "cursor": after["prev_cursor"]})
        assert back["items"] == before["items"]
