"""The async client: `async_inference()` and `AsyncInference`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx2

from inferencesh._async._closing import ClosingContext
from inferencesh._async._http import AsyncHTTP
from inferencesh._async.files import AsyncFiles
from inferencesh._async.sessions import AsyncAppSession, AsyncSessions
from inferencesh._async.tasks import AsyncTasks, AsyncTaskStream
from inferencesh._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RECONNECTS,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_STREAM_IDLE_TIMEOUT,
    ClientOptions,
)
from inferencesh._types import NOT_GIVEN, NotGiven, StreamMode, TimeoutTypes
from inferencesh.models._status import TaskUpdate

if TYPE_CHECKING:
    from inferencesh._async.agents import AsyncAgent
    from inferencesh.agent.config import AgentConfig, CoreApp, ToolSource
    from inferencesh.agent.dispatch import Approver
    from inferencesh.models.task import Task
    from inferencesh.tools import InternalTools, Skill

__all__ = ["AsyncInference", "async_inference"]


class AsyncInference(ClosingContext):
    """A client of the inference.sh API.

    Example:
        ```python
        from inferencesh import async_inference

        async with async_inference() as client:  # the key comes from INFERENCE_API_KEY
            task = await client.run("infsh/echo", {"text": "hi"})
            print(task.output)
        ```
    """

    tasks: AsyncTasks
    """Run, look up, follow, cancel and delete tasks."""
    files: AsyncFiles
    """Upload, look up, download and delete files."""
    sessions: AsyncSessions
    """Look up, keep alive and end sessions."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        proxy_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int = 2,
        stream_mode: StreamMode = "stream",
        poll_interval: float = 1.0,
        headers: dict[str, str] | None = None,
        auto_upload: bool = True,
        stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        """Create a client.

        Args:
            api_key: Your API key; defaults to the `INFERENCE_API_KEY` environment variable.
            base_url: The API's URL; defaults to `INFERENCE_BASE_URL`, then the public API.
            proxy_url: Send every request through a server proxy that adds the key.
            timeout: Seconds (or an `httpx2.Timeout`) per HTTP request; `None` for none.
            max_retries: Retries of failed requests that are safe to repeat.
            stream_mode: Follow tasks with an NDJSON `"stream"` or by `"poll"`ing.
            poll_interval: Seconds between polls in poll mode.
            headers: Extra headers for every request.
            auto_upload: Upload `Path`s, open binary files, bytes and data URIs found in run
                inputs, replacing them by their URIs (a plain `str` is never read from disk).
            stream_idle_timeout: Seconds a task stream may stay silent before it is
                reconnected (the API sends a heartbeat every 15 s).
            max_reconnects: Stream reconnects in a row without a new update before
                `StreamError`.
            max_connections: Connections the pool opens at most.
            max_retry_after: The longest `Retry-After` (seconds) waited for before a retry;
                a longer one raises at once (`RateLimitError` with `.retry_after`).
            http_client: Your own `httpx2.AsyncClient` (you close it; `max_connections` is
                then yours to set on it).

        Raises:
            ConfigurationError: no API key and no proxy URL, an empty key, a malformed URL,
                an option out of range.
        """
        self._opts = ClientOptions.resolve(
            api_key,
            base_url=base_url,
            proxy_url=proxy_url,
            timeout=timeout,
            max_retries=max_retries,
            stream_mode=stream_mode,
            poll_interval=poll_interval,
            headers=headers,
            auto_upload=auto_upload,
            stream_idle_timeout=stream_idle_timeout,
            max_reconnects=max_reconnects,
            max_connections=max_connections,
            max_retry_after=max_retry_after,
        )
        self._http = AsyncHTTP(self._opts, http_client)
        self.files = AsyncFiles(self._http)
        self.sessions = AsyncSessions(self._http)
        self.tasks = AsyncTasks(self._http, self.files)

    @property
    def base_url(self) -> str:
        """The API's URL."""
        return self._opts.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._opts.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool; later calls raise `ClientClosedError`."""
        await self._http.aclose()

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: Literal[False] = False,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task: ...

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: Literal[True],
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncTaskStream: ...

    @overload
    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: bool,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task | AsyncTaskStream: ...

    async def run(
        self,
        app: str | Mapping[str, Any] | None = None,
        input: Any = NOT_GIVEN,
        *,
        setup: Any = None,
        infra: str | None = None,
        function: str | None = None,
        session: str | None = None,
        session_idle_timeout: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        wait: bool = True,
        stream: bool = False,
        on_update: Callable[[TaskUpdate], object] | None = None,
        mode: StreamMode | None = None,
        wait_timeout: float | None = None,
        auto_upload: bool | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Task | AsyncTaskStream:
        """Run an app as a task (the same call as `client.tasks.run`).

        `app` is a ref `namespace/name[@version]`, or one dict holding the whole request as
        the JS SDK takes it (`run({"app": ..., "input": ...})`); keyword fields are added to it.

        Args:
            app: The app to run, or the whole request as a dict.
            input: The app's input. `Path`s, open binary files, bytes and data URIs in it are
                uploaded first (see `auto_upload`); plain strings are sent as they are.
            setup: Setup parameters (they decide which warm worker can serve the task).
            infra: `"cloud"`, `"private"` or `"private_first"`.
            function: The entry point of a multi-function app.
            session: `"new"` to open a session, or a session id to run on its warm worker.
            session_idle_timeout: Idle seconds (1-3600) before a new session expires (sent as
                `session_timeout`); only with `session="new"`.
            webhook: A URL the API calls when the task ends.
            metadata: Free-form metadata stored with the task.
            wait: Follow the task to its end and return it (`False`: return it at once).
            stream: Return a `AsyncTaskStream` of updates instead of the finished task.
            on_update: Called with every update while waiting.
            mode: `"stream"` or `"poll"`, overriding the client's `stream_mode`.
            wait_timeout: Seconds this whole call may take: uploads, the run request, every
                retry, reconnect and poll (`TaskTimeoutError` after; the task keeps running).
            auto_upload: Override the client's `auto_upload` for this call.
            timeout: HTTP timeout of each request of this call (float or `httpx2.Timeout`).
            max_retries: Retries of this call's requests that are safe to repeat.

        Returns:
            The completed task (`wait=True`), the created task (`wait=False`), or a
            `AsyncTaskStream` (`stream=True`).

        Raises:
            TaskFailedError: the task failed (`TaskCancelledError` if it was cancelled).
            TaskTimeoutError: `wait_timeout` passed first.
            InvalidInputError: the input holds a value JSON cannot carry (NaN, ...).
            RequirementsNotMetError: the app needs secrets or integrations you lack.
            NotFoundError: no such app.
        """
        return await self.tasks.run(
            app,
            input,
            setup=setup,
            infra=infra,
            function=function,
            session=session,
            session_idle_timeout=session_idle_timeout,
            webhook=webhook,
            metadata=metadata,
            wait=wait,
            stream=stream,
            on_update=on_update,
            mode=mode,
            wait_timeout=wait_timeout,
            auto_upload=auto_upload,
            timeout=timeout,
            max_retries=max_retries,
        )

    def session(
        self,
        app: str,
        *,
        idle_timeout: int | None = None,
        function: str | None = None,
        setup: Any = None,
    ) -> AsyncAppSession:
        """Keep one warm worker across runs of `app`.

        The session opens on the first `run` and ends when the `with` block exits, also on
        error:

            async with client.session("me/counter", idle_timeout=300) as s:
                await s.run({"by": 1})
                await s.run({"by": 2})  # same worker, same state

        Args:
            app: The app to run.
            idle_timeout: Idle seconds (1-3600) before the session expires; the server's
                default otherwise.
            function: The default entry point for the session's runs.
            setup: Setup parameters for the worker.
        """
        return AsyncAppSession(
            self.tasks,
            self.sessions,
            app,
            idle_timeout=idle_timeout,
            function=function,
            setup=setup,
        )

    def agent(
        self,
        agent: str | AgentConfig | Mapping[str, Any] | None = None,
        /,
        *,
        core_app: CoreApp | None = None,
        system_prompt: str | None = None,
        tools: Iterable[ToolSource] | None = None,
        name: str | None = None,
        description: str | None = None,
        internal_tools: InternalTools | Mapping[str, bool] | None = None,
        skills: Sequence[Skill | Mapping[str, Any]] | None = None,
        context: Sequence[Mapping[str, Any]] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        chat_id: str | None = None,
        approve: Approver | None = None,
        approval_timeout: float | None = None,
        max_concurrent_tools: int = 8,
        mask_error_details: bool = False,
    ) -> AsyncAgent:
        """An agent to chat with: a template (`"acme/support@latest"`) or an ad-hoc one.

            agent = client.agent(core_app="infsh/claude-haiku-45@latest", tools=[get_weather])
            reply = await agent.send_message("What's the weather in Paris?")

        Args:
            agent: A template ref, or a whole ad-hoc config (`AgentConfig` or dict).
            core_app: The ad-hoc agent's LLM app: a ref, or `{"ref": ..., "input": {...}}`.
            system_prompt: The ad-hoc agent's instructions.
            tools: `@tool` functions (run here when the model calls them), server-side tools
                (`app_tool`, ...), toolsets or wire dicts. With a template, only the handlers
                and approval policies of the template's tools.
            name: The agent's name (also what its events carry).
            description: What the agent does (when another agent uses it as a tool).
            internal_tools: The server's built-in tools, e.g. `internal_tools(plan=True)`.
            skills: `Skill`s the agent can load.
            context: Context declarations (`{"name": ..., "description": ...}`).
            output_schema: JSON Schema of a structured result (see also `run(output_type=)`).
            chat_id: Continue this saved chat instead of starting a new one.
            approve: Decides calls that need approval (sync or async; only `True` approves);
                without one, every such call is refused.
            approval_timeout: Seconds to wait for `approve` (a tool's own timeout wins).
            max_concurrent_tools: Tool calls of one turn running at once.
            mask_error_details: The model reads a generic message, not the exception, when
                any tool fails.

        Raises:
            ConfigurationError: Neither a template nor a `core_app`, or both.
        """
        from inferencesh._async.agents import AsyncAgent
        from inferencesh.agent.config import AgentSpec

        spec = AgentSpec.build(
            agent,
            tools=tools,
            core_app=core_app,
            system_prompt=system_prompt,
            name=name,
            description=description,
            internal_tools=internal_tools,
            skills=skills,
            context=context,
            output_schema=output_schema,
        )
        return AsyncAgent(
            self._http,
            self.files,
            spec,
            client=self,
            chat_id=chat_id,
            approve=approve,
            approval_timeout=approval_timeout,
            max_concurrent_tools=max_concurrent_tools,
            mask_error_details=mask_error_details,
        )


def async_inference(
    api_key: str | None = None,
    *,
    base_url: str | None = None,
    proxy_url: str | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    max_retries: int = 2,
    stream_mode: StreamMode = "stream",
    poll_interval: float = 1.0,
    headers: dict[str, str] | None = None,
    auto_upload: bool = True,
    stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
    max_reconnects: int = DEFAULT_MAX_RECONNECTS,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    http_client: httpx2.AsyncClient | None = None,
) -> AsyncInference:
    """Create an async client; see `AsyncInference` for the arguments."""
    return AsyncInference(
        api_key,
        base_url=base_url,
        proxy_url=proxy_url,
        timeout=timeout,
        max_retries=max_retries,
        stream_mode=stream_mode,
        poll_interval=poll_interval,
        headers=headers,
        auto_upload=auto_upload,
        stream_idle_timeout=stream_idle_timeout,
        max_reconnects=max_reconnects,
        max_connections=max_connections,
        max_retry_after=max_retry_after,
        http_client=http_client,
    )
