"""The chat follower: the protocol fixtures fed through `ChatWatch`, line by line and replayed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from inferencesh._config import ClientOptions
from inferencesh._protocol import follow as w
from inferencesh._protocol.chat_view import (
    ChatChanged,
    ChatItem,
    DeltaReceived,
    InvocationDue,
    MessageChanged,
    RunChanged,
    TurnEnded,
)
from inferencesh._protocol.chat_watch import ChatWatch
from inferencesh._protocol.chats import chat_path
from inferencesh._protocol.deadline import Deadline
from inferencesh.errors import (
    AgentTimeoutError,
    APIResponseValidationError,
    APIStatusError,
    StreamError,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "protocol"
OPTS = ClientOptions(api_key="k", base_url="http://api.test", max_reconnects=2, poll_interval=2.0)
CHAT = "chat_4b1e8d"
RUN = "run_5d2e90"


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / name).read_text().splitlines() if line.strip()]


def fixture(name: str) -> Any:
    data = json.loads((FIXTURES / name).read_text())
    return data.get("data", data) if "success" in data else data


def watch(**kwargs: Any) -> ChatWatch:
    kwargs.setdefault("run_id", RUN)
    kwargs.setdefault("assistant_message_id", "msg_a1c4")
    return ChatWatch(OPTS, kwargs.pop("chat_id", CHAT), **kwargs)


def kinds(items: list[ChatItem]) -> list[str]:
    return [type(i).__name__ for i in items]


def feed_settling(w_: ChatWatch, stream: list[dict[str, Any]]) -> list[ChatItem]:
    """Feed lines one by one; answer every handed-out invocation at once (as the runner does)."""
    out: list[ChatItem] = []
    for line in stream:
        items = w_.on_lines([line])
        out += items
        for item in items:
            if isinstance(item, InvocationDue):
                w_.settle(item.invocation.id)
    return out


def last_chat(stream: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat as `GET /chats/{id}` would show it after `stream`: its last state, all messages."""
    chat = next(line["data"] for line in reversed(stream) if line.get("event") == "chats")
    messages: dict[str, Any] = {}
    for line in stream:
        if line.get("event") == "chat_messages":
            messages[line["data"]["id"]] = line["data"]
    return {**chat, "chat_messages": list(messages.values())}


def confirm(follower: ChatWatch, chat: dict[str, Any]) -> list[ChatItem]:
    """What the driver does once the stream says the turn is over: fetch the chat to confirm."""
    assert follower.finished
    action = follower.on_stream_end()
    assert isinstance(action, w.Fetch) and action.request.request.url.path == f"/chats/{chat['id']}"
    items, action = follower.on_fetched(chat)
    assert isinstance(action, w.Finished) and isinstance(items[-1], TurnEnded)
    assert isinstance(follower.on_stream_end(), w.Finished)
    return items


def test_client_tool_fixture_hands_out_the_call_once_and_ends_on_the_final_idle() -> None:
    follower = watch()
    first, action = follower.start()
    assert first == [] and isinstance(action, w.OpenStream)
    assert action.request.request.url.path == f"/chats/{CHAT}/stream"
    assert action.request.request.headers["accept"] == "application/x-ndjson"
    stream = lines("chat-stream-client-tool.ndjson")
    items = feed_settling(follower, stream[:-2])
    assert not follower.finished  # every line but the last `chats` (idle) and a heartbeat
    due = [i for i in items if isinstance(i, InvocationDue)]
    assert [(d.phase, d.invocation.id, d.invocation.name) for d in due] == [
        ("input", "tinv_7c3a", "get_weather")
    ]
    assert due[0].invocation.function.arguments == {"city": "Paris"}
    deltas = [i for i in items if isinstance(i, DeltaReceived)]
    assert [(d.message_id, d.delta.get("response")) for d in deltas] == [
        ("msg_a1c4", "Let me check"),
        ("msg_a1c4", " the weather."),
        ("msg_a1c4", None),
        ("msg_a1c4", None),
        ("msg_a2f9", "It's 18 °C and cloudy"),
        ("msg_a2f9", " in Paris right now."),
    ]
    messages = [(i.message.id, i.message.status) for i in items if isinstance(i, MessageChanged)]
    assert messages == [
        ("msg_a1c4", "ready"),
        ("msg_a1c4", "ready"),  # its invocation completed
        ("msg_t1e2", "ready"),
        ("msg_a2f9", "pending"),
        ("msg_a2f9", "ready"),
    ]
    runs = [i.run.state for i in items if isinstance(i, RunChanged)]
    assert runs == ["submitted", "working", "input_required", "working", "completed"]
    end = follower.on_lines(stream[-2:])
    # The stream showed the whole turn (A1, the tool message, A2; all final): no fetch.
    assert kinds(end) == ["ChatChanged", "TurnEnded"] and follower.finished
    assert isinstance(end[-1], TurnEnded) and end[-1].chat.status == "idle"
    assert not end[-1].paused
    assert isinstance(follower.on_stream_end(), w.Finished)


def _without(stream: list[dict[str, Any]], drop: Any) -> list[dict[str, Any]]:
    return [line for line in stream if not drop(line.get("data") or {})]


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(lambda d: d.get("id") == "msg_a1c4", id="first-message-before-connect"),
        pytest.param(lambda d: d.get("id") == "msg_t1e2", id="tool-message"),
        pytest.param(
            lambda d: d.get("id") == "msg_a2f9" and d.get("status") == "ready",
            id="answer-not-final",
        ),
        pytest.param(
            lambda d: (
                d.get("id") == "msg_a1c4" and d["tool_invocations"][0]["status"] == "completed"
            ),
            id="call-not-seen-settled",
        ),
    ],
)
def test_a_turn_the_stream_did_not_show_whole_is_confirmed_by_a_fetch(missing: Any) -> None:
    follower = watch()
    stream = _without(lines("chat-stream-client-tool.ndjson"), missing)
    items = feed_settling(follower, stream)
    assert "TurnEnded" not in kinds(items) and follower.finished
    confirmed = confirm(follower, fixture("chat-final.json"))
    assert isinstance(confirmed[-1], TurnEnded) and confirmed[-1].chat.status == "idle"
    messages = {i.message.id for i in items + confirmed if isinstance(i, MessageChanged)}
    assert messages == {"msg_a1c4", "msg_t1e2", "msg_a2f9"}  # what the stream missed, fetched


def test_a_turn_followed_without_its_message_posted_is_confirmed_by_a_fetch() -> None:
    follower = watch(assistant_message_id=None)  # the first assistant message is not known
    items = feed_settling(follower, lines("chat-stream-client-tool.ndjson"))
    assert "TurnEnded" not in kinds(items) and follower.finished
    assert isinstance(confirm(follower, fixture("chat-final.json"))[-1], TurnEnded)


def test_two_messages_with_one_order_are_not_a_whole_turn() -> None:
    follower = watch()
    stream = lines("chat-stream-client-tool.ndjson")
    odd = copy.deepcopy(stream)
    for line in odd:
        data = line.get("data") or {}
        if data.get("id") == "msg_t1e2":
            data["order"] = 4  # the same order as the answer: the server numbers oddly
    items = feed_settling(follower, odd)
    assert "TurnEnded" not in kinds(items) and follower.finished


def test_a_replayed_stream_emits_nothing_and_hands_out_nothing_again() -> None:
    follower = watch()
    stream = lines("chat-stream-client-tool.ndjson")
    items = feed_settling(follower, stream[:13])  # up to the invocation's completion
    assert sum(isinstance(i, InvocationDue) for i in items) == 1
    # The stream breaks; the reconnect replays everything from the start (a snapshot).
    assert isinstance(follower.on_stream_error(httpx2.ReadError("reset")), w.Sleep)
    again = feed_settling(follower, stream)
    assert not any(isinstance(i, InvocationDue) for i in again)
    assert not any(isinstance(i, DeltaReceived) and i.message_id == "msg_a1c4" for i in again)
    kept = [i for i in again if isinstance(i, MessageChanged)]
    assert [m.message.id for m in kept] == ["msg_t1e2", "msg_a2f9", "msg_a2f9"]
    # The replay showed the whole turn: it ends there.
    assert follower.finished and kinds(again)[-1] == "TurnEnded"
    assert isinstance(follower.on_stream_end(), w.Finished)


def test_the_turn_does_not_end_while_a_handed_out_call_is_unanswered() -> None:
    follower = watch()
    stream = lines("chat-stream-client-tool.ndjson")
    items = follower.on_lines(stream[:9])
    assert any(isinstance(i, InvocationDue) for i in items)
    assert follower.pending == {"tinv_7c3a"}
    final = stream[-2]  # the chat says idle, the run completed: still one call being answered
    assert not any(isinstance(i, TurnEnded) for i in follower.on_lines([final]))
    assert not follower.finished
    follower.settle("tinv_7c3a")
    assert follower.finished and follower.pending == frozenset()
    confirm(follower, fixture("chat-final.json"))


def test_a_call_the_runner_could_not_answer_fails_the_follower_at_its_next_step() -> None:
    follower = watch()
    stream = lines("chat-stream-client-tool.ndjson")
    follower.on_lines(stream[:9])
    broken, later = ConnectionError("the result could not be posted"), ValueError("later")
    follower.fail(broken)
    follower.fail(later)  # the first failure is the one told
    with pytest.raises(ConnectionError) as info:
        follower.on_lines([{"type": "heartbeat"}])
    assert info.value is broken
    with pytest.raises(ConnectionError):
        follower.check_deadline()


def test_deltas_are_dropped_when_replayed_when_final_or_without_a_message() -> None:
    follower = watch()

    def delta(seq: object, resource: object = "m1", text: str = "x") -> dict[str, Any]:
        return {
            "event": "delta",
            "data": {"delta": {"response": text}, "seq": seq, "resource_id": resource},
        }

    got = follower.on_lines(
        [
            delta(1),
            delta(2),
            delta(2),  # replayed
            delta(1, "m2"),  # another message has its own sequence
            delta(None, "m2", "unnumbered"),
            delta(3, None),  # no message: dropped (as the official clients do)
            {"event": "delta", "data": {"delta": "not an object", "resource_id": "m1"}},
            {"event": "delta", "data": "not an object"},
        ]
    )
    assert [(d.message_id, d.delta["response"]) for d in got if isinstance(d, DeltaReceived)] == [
        ("m1", "x"),
        ("m1", "x"),
        ("m2", "x"),
        ("m2", "unnumbered"),
    ]
    message = {
        "id": "m1",
        "chat_id": CHAT,
        "agent_run_id": RUN,
        "status": "ready",
        "role": "assistant",
    }
    follower.on_lines([{"event": "chat_messages", "data": message}])
    assert follower.on_lines([delta(9)]) == []  # its message is complete


def test_approval_fixture_hands_out_one_decision_from_message_and_interrupt() -> None:
    follower = watch(chat_id="chat_9a3c5e", run_id="run_8e4b21", assistant_message_id=None)
    stream = lines("chat-stream-approval.ndjson")
    items = feed_settling(follower, stream)
    due = [i for i in items if isinstance(i, InvocationDue)]
    assert [(d.phase, d.invocation.id, d.invocation.type) for d in due] == [
        ("approval", "tinv_9d1b", "app")
    ]
    assert follower.finished
    assert kinds(confirm(follower, last_chat(stream))) == ["TurnEnded"]


def test_a_snapshot_naming_the_call_only_in_its_interrupts_hands_it_out() -> None:
    chat = fixture("chat-approval-required.json")
    del chat["chat_messages"]
    follower = watch(chat_id="chat_9a3c5e", run_id="run_8e4b21", assistant_message_id=None)
    items = follower.on_lines([{"event": "chats", "data": chat}])
    due = [i for i in items if isinstance(i, InvocationDue)]
    assert len(due) == 1 and due[0].phase == "approval"
    assert due[0].interrupt is not None and due[0].interrupt.id == "int_4f8e"
    assert (due[0].invocation.id, due[0].invocation.name) == ("tinv_9d1b", "generate_image")
    assert due[0].invocation.function.arguments == {"prompt": "a red fox in snow"}
    # A client-tool interrupt (meta as a JSON string, as some servers send it):
    client = copy.deepcopy(chat)
    client["pending_interrupts"] = [
        {
            "id": "int_2",
            "reason": "client_tool",
            "resource_type": "tool_invocation",
            "resource_id": "tinv_c",
            "status": "pending",
            "meta": json.dumps({"tool_name": "get_weather", "arguments": {"city": "Oslo"}}),
        },
        {"id": "int_3", "reason": "client_tool", "status": "pending", "resource_type": "turn"},
        {"id": "int_4", "reason": "client_tool", "status": "resolved", "resource_id": "x"},
    ]
    got = [
        i
        for i in follower.on_lines([{"event": "chats", "data": client}])
        if isinstance(i, InvocationDue)
    ]
    assert [(d.phase, d.invocation.id, d.invocation.type, d.invocation.name) for d in got] == [
        ("input", "tinv_c", "client", "get_weather")
    ]


def test_the_previous_turns_idle_snapshot_does_not_end_a_new_turn() -> None:
    old = fixture("chat-final.json")  # the last turn: idle, run run_5d2e90 completed
    follower = watch(run_id="run_next", assistant_message_id="msg_next")
    items = follower.on_lines([{"event": "chats", "data": old}])
    assert not follower.finished and not any(isinstance(i, TurnEnded) for i in items)
    assert not any(isinstance(i, RunChanged) for i in items)  # not this turn's run
    # A watch that did not send a message (following a chat as it is) ends at once.
    idle = ChatWatch(OPTS, CHAT)
    first, action = idle.start()
    assert first == [] and isinstance(action, w.Fetch)  # the whole chat first
    items, action = idle.on_fetched(old)
    assert isinstance(action, w.Finished) and isinstance(items[-1], TurnEnded)
    assert [i.message.id for i in items if isinstance(i, MessageChanged)] == [
        "msg_a1c4",
        "msg_t1e2",
        "msg_a2f9",
    ]  # the last turn's, learned from its run


def test_without_a_known_run_the_turn_is_settled_by_busy_or_its_message() -> None:
    old = {"id": CHAT, "status": "idle", "active_run": None}
    follower = ChatWatch(OPTS, CHAT, expect_turn=True)
    assert follower.on_lines([{"event": "chats", "data": old}]) == [ChatChanged(follower.chat)]  # type: ignore[arg-type]
    busy = {"id": CHAT, "status": "busy", "active_run": {"id": "r9", "state": "working"}}
    follower.on_lines([{"event": "chats", "data": busy}])
    assert follower.run_id == "r9"  # learned from the active run
    done = {"id": CHAT, "status": "idle", "active_run": {"id": "r9", "state": "completed"}}
    follower.on_lines([{"event": "chats", "data": done}])
    confirm(follower, done)

    by_message = ChatWatch(OPTS, CHAT, assistant_message_id="a1")
    by_message.on_lines([{"event": "chats", "data": old}])
    assert not by_message.finished
    msg = {"id": "a1", "chat_id": CHAT, "status": "ready", "role": "assistant"}
    by_message.on_lines([{"event": "chat_messages", "data": msg}])
    confirm(by_message, {**old, "chat_messages": [msg]})


def test_a_run_paused_on_something_only_a_person_can_give_ends_the_turn_paused() -> None:
    follower = watch()
    run = {"id": RUN, "state": "input_required", "interrupt_reason": "widget"}
    waiting = {"id": CHAT, "status": "awaiting_input", "active_run": run, "pending_interrupts": []}
    assert not any(
        isinstance(i, TurnEnded) for i in follower.on_lines([{"event": "chats", "data": waiting}])
    )
    widget = {
        **waiting,
        "pending_interrupts": [{"id": "i1", "reason": "widget", "status": "pending"}],
    }
    follower.on_lines([{"event": "chats", "data": widget}])
    end = confirm(follower, widget)
    assert isinstance(end[-1], TurnEnded) and end[-1].paused


def test_messages_of_other_chats_users_and_earlier_runs_are_not_this_turns() -> None:
    follower = watch()
    base = {"status": "ready", "role": "assistant", "chat_id": CHAT, "agent_run_id": RUN}
    got = follower.on_lines(
        [
            {"event": "chat_messages", "data": {**base, "id": "x", "chat_id": "child_chat"}},
            {"event": "chat_messages", "data": {**base, "id": "u", "role": "user"}},
            {"event": "chat_messages", "data": {**base, "id": "old", "agent_run_id": "run_old"}},
            {"event": "chat_messages", "data": {"no": "id"}},
            {"event": "agent_runs", "data": {"id": "r_other", "chat_id": "child_chat"}},
            {"event": "agent_runs", "data": {"no": "id"}},
            {"event": "chats", "data": {"id": "child_chat", "status": "idle"}},
            {"event": "unknown", "data": {}},
            {"event": "chats", "data": [1, 2]},
            {"type": "heartbeat"},
            {"event": "chat_messages", "data": {**base, "id": "ok"}},
        ]
    )
    assert [(type(i).__name__, getattr(i, "message", None) and i.message.id) for i in got] == [  # type: ignore[union-attr]
        ("MessageChanged", "ok")
    ]


def test_agent_runs_update_the_chat_and_partial_chats_merge() -> None:
    follower = watch()
    busy = {"id": CHAT, "status": "busy", "active_run": {"id": RUN, "state": "submitted"}}
    follower.on_lines([{"event": "chats", "data": busy}])
    follower.on_lines(
        [{"event": "agent_runs", "data": {"id": RUN, "chat_id": CHAT, "state": "completed"}}]
    )
    assert follower.chat is not None and follower.chat.active_run is not None
    assert follower.chat.active_run.state == "completed" and not follower.finished  # chat: busy
    follower.on_lines([{"event": "chats", "data": {"status": "idle"}, "fields": ["status"]}])
    assert follower.finished and follower.chat.status == "idle"
    assert follower.chat.active_run.state == "completed"
    assert follower.on_lines([{"event": "chats", "data": busy}]) == []  # finished: nothing more
    done = {**busy, "status": "idle", "active_run": {"id": RUN, "state": "completed"}}
    assert confirm(follower, done)[-1].chat.active_run.state == "completed"  # type: ignore[union-attr]


def test_a_run_before_any_chat() -> None:
    follower = watch()
    run = {"id": RUN, "chat_id": CHAT, "state": "working"}
    assert [type(i) for i in follower.on_lines([{"event": "agent_runs", "data": run}])] == [
        RunChanged
    ]
    assert follower.chat is None


def test_a_shared_ledger_hands_a_call_out_once_across_watches() -> None:
    ledger: set[str] = set()
    stream = lines("chat-stream-client-tool.ndjson")[:9]
    first = watch(handed_out=ledger).on_lines(stream)
    second = watch(handed_out=ledger).on_lines(stream)
    assert sum(isinstance(i, InvocationDue) for i in first) == 1
    assert not any(isinstance(i, InvocationDue) for i in second)
    assert ledger == {"input:tinv_7c3a"}


def test_a_stream_that_ends_early_is_reconciled_then_reconnected() -> None:
    follower = watch()
    follower.start()
    follower.on_lines(lines("chat-stream-client-tool.ndjson")[:3])
    action = follower.on_stream_end()
    assert isinstance(action, w.Fetch) and action.request.request.url.path == f"/chats/{CHAT}"
    busy = fixture("chat-final.json") | {"status": "busy"}
    busy["active_run"] = busy["active_run"] | {"state": "working"}
    items, action = follower.on_fetched(busy)
    assert isinstance(action, w.Sleep) and isinstance(action.then, w.OpenStream)
    assert [i.message.id for i in items if isinstance(i, MessageChanged)] == [
        "msg_a1c4",
        "msg_t1e2",
        "msg_a2f9",
    ]
    # The chat ends while we were away: the next reconcile finishes the turn.
    items, action = follower.on_fetched(fixture("chat-final.json"))
    assert isinstance(action, w.Finished) and isinstance(items[-1], TurnEnded)
    assert isinstance(follower.on_stream_error(httpx2.ReadError("x")), w.Finished)


def test_reconnects_are_bounded() -> None:
    follower = watch()
    follower.start()
    for _ in range(OPTS.max_reconnects):
        action = follower.on_stream_error(httpx2.ReadError("reset"))
        # The chat is read in full before reconnecting: what finished meanwhile is in no
        # snapshot. Then the stream at once.
        assert isinstance(action, w.Sleep) and isinstance(action.then, w.Fetch)
        assert 0 <= action.seconds <= 8
        _, action = follower.on_fetched({"id": CHAT, "status": "busy"})
        assert isinstance(action, w.OpenStream)
    with pytest.raises(StreamError, match="lost the stream of chat chat_4b1e8d 3 times"):
        follower.on_stream_error(httpx2.ReadError("reset"))

    quiet = watch()  # a stream that keeps ending before the turn, with nothing new
    busy = {"id": CHAT, "status": "busy", "active_run": {"id": RUN, "state": "working"}}
    for _ in range(OPTS.max_reconnects):
        quiet.on_stream_end()
        quiet.on_fetched(busy)
    quiet.on_stream_end()
    with pytest.raises(StreamError, match="kept ending before the turn did"):
        quiet.on_fetched(busy)


def test_a_line_resets_the_reconnect_count() -> None:
    follower = watch()
    for _ in range(5):
        follower.on_stream_error(httpx2.ReadError("reset"))
        follower.on_lines([{"event": "chats", "data": {"id": CHAT, "status": "busy"}}])


def test_polling_fetches_when_the_status_changes_and_ends_on_the_final_chat() -> None:
    follower = watch(mode="poll")
    _, action = follower.start()
    assert isinstance(action, w.PollStatus)
    assert action.request.request.url.path == f"/chats/{CHAT}/status"
    busy = {"id": CHAT, "status": "busy", "updated_at": "t1"}
    assert isinstance(follower.on_status(busy), w.Fetch)
    working = fixture("chat-approval-required.json") | {"id": CHAT, "chat_messages": []}
    working["active_run"] = {"id": RUN, "state": "working"}
    working["pending_interrupts"] = []
    working["status"] = "busy"
    working["updated_at"] = "2026-10-20T12:00:01Z"
    _, action = follower.on_fetched(working)
    assert isinstance(action, w.Sleep) and action.seconds == 2.0
    assert isinstance(action.then, w.PollStatus)
    assert isinstance(follower.on_status(busy), w.Sleep)  # nothing changed: no GET
    assert isinstance(follower.on_status(fixture("chat-status.json")), w.Fetch)
    items, action = follower.on_fetched(fixture("chat-final.json"))
    assert isinstance(action, w.Finished) and isinstance(items[-1], TurnEnded)
    completed = [i for i in items if isinstance(i, MessageChanged)]
    assert [m.message.id for m in completed] == ["msg_a1c4", "msg_t1e2", "msg_a2f9"]


def test_polling_keeps_fetching_until_the_turn_is_seen_busy() -> None:
    follower = watch(mode="poll")
    idle = {"id": CHAT, "status": "idle", "updated_at": "t0"}
    assert isinstance(follower.on_status(idle), w.Fetch)
    follower.on_fetched({"id": CHAT, "status": "idle"})
    assert isinstance(follower.on_status(idle), w.Fetch)  # same status, but not started yet


def test_the_callers_deadline() -> None:
    now = [0.0]
    deadline = Deadline(5.0, on_expiry=lambda: RuntimeError("replaced"), clock=lambda: now[0])
    follower = watch(deadline=deadline)
    _, action = follower.start()
    assert isinstance(action, w.OpenStream)
    assert action.request.deadline is deadline  # every request is cut to the time left
    assert action.request.max_retries == 0  # a stream open is tried once per reconnect
    now[0] = 4.5
    action = follower.on_stream_error(httpx2.ReadError("x"))
    assert isinstance(action, w.Sleep) and action.seconds <= 0.5
    fetch = follower.on_stream_end()
    assert isinstance(fetch, w.Fetch) and fetch.request.deadline is deadline
    assert follower.remaining() == 0.5
    follower.check_deadline()
    now[0] = 5.0
    with pytest.raises(AgentTimeoutError, match="did not end within 5 s") as info:
        follower.check_deadline()
    assert info.value.chat_id == CHAT and isinstance(info.value, TimeoutError)
    with pytest.raises(AgentTimeoutError):
        deadline.check()  # the deadline's own error names this chat
    with pytest.raises(AgentTimeoutError):
        follower.on_stream_error(httpx2.ReadError("x"))
    assert watch().remaining() is None


def test_error_answers_on_the_stream() -> None:
    request = httpx2.Request("GET", f"http://api.test/chats/{CHAT}/stream")

    def answer(status: int, **headers: str) -> APIStatusError:
        return APIStatusError(
            "no",
            response=httpx2.Response(status, headers=headers, request=request),
            retry_after=(float(headers["retry-after"]) if "retry-after" in headers else None),
        )

    follower = watch()
    gone = answer(404)
    with pytest.raises(APIStatusError) as info:
        follower.on_stream_error(gone)
    assert info.value is gone
    busy = follower.on_stream_error(answer(503, **{"retry-after": "3"}))
    assert isinstance(busy, w.Sleep) and busy.seconds == 3.0
    unsaid = watch().on_stream_error(answer(502))
    assert isinstance(unsaid, w.Sleep) and isinstance(unsaid.then, w.Fetch)
    with pytest.raises(APIStatusError):
        follower.on_stream_error(answer(429, **{"retry-after": "3600"}))


def test_what_does_not_fit_the_models_is_a_validation_error_with_its_response() -> None:
    follower = watch()
    bad_chat = {"id": CHAT, "status": "idle", "children": "nope"}
    with pytest.raises(ValueError, match="a Chat this client cannot read"):
        follower.on_lines([{"event": "chats", "data": bad_chat}])
    response = httpx2.Response(
        200, request=httpx2.Request("GET", f"http://api.test/chats/{CHAT}/stream")
    )
    follower.on_response(response)
    bad_run = {"id": RUN, "chat_id": CHAT, "state": "working", "finished_at": "not a date"}
    with pytest.raises(
        APIResponseValidationError, match="an? AgentRun this client cannot read"
    ) as info:
        follower.on_lines([{"event": "agent_runs", "data": bad_run}])
    assert info.value.response is response
    bad_message = {"id": "m", "chat_id": CHAT, "agent_run_id": RUN, "order": "not a number"}
    with pytest.raises(APIResponseValidationError, match="a ChatMessage this client cannot read"):
        follower.on_lines([{"event": "chat_messages", "data": bad_message}])


def test_chat_paths_escape_ids() -> None:
    assert chat_path("a/b?c", "/stream") == "/chats/a%2Fb%3Fc/stream"
    with pytest.raises(ValueError, match="non-empty"):
        chat_path("")


def test_an_earlier_state_never_follows_a_later_one() -> None:
    follower = watch()
    base = {"id": "m", "chat_id": CHAT, "agent_run_id": RUN, "role": "assistant"}
    later = {**base, "status": "ready", "updated_at": "2026-10-20T12:00:04Z"}
    earlier = {**base, "status": "pending", "updated_at": "2026-10-20T12:00:03.500Z"}
    unreadable = {**base, "status": "pending", "updated_at": "yesterday"}
    undated = {**base, "status": "pending", "updated_at": None}
    assert len(follower.on_lines([{"event": "chat_messages", "data": later}])) == 1
    assert follower.on_lines([{"event": "chat_messages", "data": earlier}]) == []
    with pytest.raises(ValueError, match="cannot read"):
        follower.on_lines([{"event": "chat_messages", "data": unreadable}])
    assert len(follower.on_lines([{"event": "chat_messages", "data": undated}])) == 1  # cannot tell
    run = {"id": RUN, "chat_id": CHAT, "state": "working", "updated_at": "2026-10-20T12:00:04Z"}
    chat = {"id": CHAT, "status": "busy", "active_run": run, "updated_at": "2026-10-20T12:00:04Z"}
    follower.on_lines([{"event": "chats", "data": chat}])
    old_run = {**run, "state": "submitted", "updated_at": "2026-10-20T12:00:01Z"}
    assert follower.on_lines([{"event": "agent_runs", "data": old_run}]) == []
    old_chat = {**chat, "status": "idle", "active_run": None, "updated_at": "2026-10-20T12:00:01Z"}
    assert follower.on_lines([{"event": "chats", "data": old_chat}]) == []
    assert not follower.finished


def test_a_fetched_chat_with_odd_messages() -> None:
    follower = watch()
    follower.start()
    follower.on_stream_end()
    chat = {
        "id": CHAT,
        "status": "busy",
        "chat_messages": ["nonsense", {"id": "m", "role": "assistant", "agent_run_id": RUN}],
    }
    items, _ = follower.on_fetched(chat)
    assert [type(i).__name__ for i in items] == ["MessageChanged", "ChatChanged"]
