"""The apps every emulator has unless built with `builtins=False`.

| ref | input | output |
|---|---|---|
| `infsh/text-templating` | `{template, strings}` | `{text}`: `{1}`... replaced, 1-based |
| `infsh/echo` | any object | the same object |
| `infsh/slow` | `{steps=5, interval=0.2}` | `{steps}`; logs and progress per step |
| `infsh/fail` | `{message}` | fails with `message` |
| `infsh/draw-image` | `{prompt, width=128, height=128}` | `{image: <PNG file>, width, height}` |
| `infsh/file-info` | `{file, others=[]}` (files) | `{file: {size, sha256, name}, others: [...]}` |
| `infsh/session-test` | `set_value`, `get_value`, `increment`, `get_all` | state of a worker |
| `infsh/llm-echo` | `{text}` (+ any LLM settings) | `{response, usage}`, streamed as deltas |
| `infsh/needs-secret` | `{}` | needs secret `OPENAI_API_KEY`, else 412 |
| `infsh/needs-integration` | `{}` | needs that secret and Google, else 412 |
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inferencesh.local.apps._png import encode_png
from inferencesh.local.apps._registry import AppContext, IntegrationRequirement, RegisteredApp
from inferencesh.local.files._store import LocalFile

__all__ = ["builtin_apps"]

_PLACEHOLDER = re.compile(r"\{(\d+)\}")


class TemplateInput(BaseModel):
    """Input of `infsh/text-templating`."""

    template: str
    strings: list[str] = Field(default_factory=list[str])


def text_templating(ctx: AppContext, input: TemplateInput) -> dict[str, Any]:
    """Fill `{1}`, `{2}`... with `strings[0]`, `strings[1]`..."""

    def fill(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(input.strings):
            raise ValueError(f"template error: missing argument {{{n}}}")
        return input.strings[n - 1]

    return {"text": _PLACEHOLDER.sub(fill, input.template)}


def echo(ctx: AppContext, input: dict[str, Any]) -> dict[str, Any]:
    """Return the input unchanged."""
    return input


class SlowInput(BaseModel):
    """Input of `infsh/slow`."""

    steps: int = Field(5, ge=1, le=10_000)
    interval: float = Field(0.2, ge=0, le=60)
    """Seconds per step."""


def slow(ctx: AppContext, input: SlowInput) -> dict[str, Any]:
    """Take `steps * interval` seconds, logging and reporting progress; honours cancel."""
    for step in range(1, input.steps + 1):
        ctx.sleep(input.interval)
        ctx.log(f"step {step}/{input.steps}")
        ctx.progress(step / input.steps, f"step {step} of {input.steps}")
    return {"steps": input.steps}


class FailInput(BaseModel):
    """Input of `infsh/fail`."""

    message: str = "the app failed on purpose"


class AppFailure(Exception):
    """What `infsh/fail` raises."""


def fail(ctx: AppContext, input: FailInput) -> dict[str, Any]:
    """Fail with the given message (it becomes the task's `error`)."""
    ctx.log("about to fail")
    raise AppFailure(input.message)


class DrawInput(BaseModel):
    """Input of `infsh/draw-image`."""

    prompt: str = ""
    """Picks the colours, so the same prompt draws the same image."""
    width: int = Field(128, ge=1, le=1024)
    height: int = Field(128, ge=1, le=1024)


def draw_image(ctx: AppContext, input: DrawInput) -> dict[str, Any]:
    """Draw a gradient with a disc on it and return it as a PNG file."""
    w, h = input.width, input.height
    seed = hashlib.sha256(input.prompt.encode()).digest()
    top, bottom, disc = seed[0:3], seed[3:6], seed[6:9]
    cx, cy, radius = w / 2, h / 2, min(w, h) / 3
    rows: list[bytes] = []
    for y in range(h):
        t = y / max(1, h - 1)
        bg = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        row = bytearray(bg * w)
        dy = y + 0.5 - cy
        if abs(dy) < radius:
            half = (radius * radius - dy * dy) ** 0.5
            x0, x1 = max(0, round(cx - half)), min(w, round(cx + half))
            row[x0 * 3 : x1 * 3] = disc * (x1 - x0)
        rows.append(bytes(row))
        if ctx.cancelled:
            ctx.raise_if_cancelled()
    png = encode_png(w, h, rows)
    ctx.log(f"drew a {w}x{h} PNG ({len(png)} bytes)")
    image = LocalFile(png, filename="image.png", content_type="image/png")
    return {"image": image, "width": w, "height": h}


class FileInfoInput(BaseModel):
    """Input of `infsh/file-info`: files, which the app gets as local paths."""

    file: Path
    others: list[Path] = Field(default_factory=list[Path])


def _digest(path: Path, ctx: AppContext) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path.name}")
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            ctx.raise_if_cancelled()
            sha.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": sha.hexdigest()}


def file_info(ctx: AppContext, input: FileInfoInput) -> dict[str, Any]:
    """Size and SHA-256 of each file (proves the bytes arrived), and the first one's name."""
    first = {**_digest(input.file, ctx), "name": input.file.name}
    ctx.log(f"{first['name']}: {first['size']} bytes")
    return {"file": first, "others": [_digest(p, ctx) for p in input.others]}


class SetValueInput(BaseModel):
    """Input of `infsh/session-test` `set_value`."""

    key: str
    value: Any = None


class KeyInput(BaseModel):
    """Input of `infsh/session-test` `get_value`."""

    key: str


class SessionTest:
    """`infsh/session-test`: state that lives as long as its worker, to prove sessions work.

    The functions the official SDKs' integration tests call. Each session has a worker of its
    own, so the state of one session never shows in another.
    """

    def setup(self, ctx: AppContext) -> None:
        """Start empty."""
        self.values: dict[str, Any] = {}
        self.count = 0

    def set_value(self, ctx: AppContext, input: SetValueInput) -> dict[str, Any]:
        """Store `value` under `key`."""
        self.values[input.key] = input.value
        return {"key": input.key, "value": input.value}

    def get_value(self, ctx: AppContext, input: KeyInput) -> dict[str, Any]:
        """The value stored under `key` in this worker (None if none)."""
        return {"value": self.values.get(input.key)}

    def increment(self, ctx: AppContext, input: NoInput) -> dict[str, Any]:
        """Count the calls of `increment` on this worker."""
        self.count += 1
        return {"value": self.count}

    def get_all(self, ctx: AppContext, input: NoInput) -> dict[str, Any]:
        """Everything stored, and the count."""
        return {"values": dict(self.values), "count": self.count}

    def run(self, ctx: AppContext, input: NoInput) -> dict[str, Any]:
        """What a session's first call runs by default: the same as `get_all`."""
        return self.get_all(ctx, input)


class LLMInput(BaseModel):
    """Input of `infsh/llm-echo`; other LLM settings are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    text: str
    token_delay: float = Field(0.0, ge=0, le=5)
    """Seconds between tokens, to watch the stream in a demo."""


def llm_echo(ctx: AppContext, input: LLMInput) -> dict[str, Any]:
    """Echo `text` back as an LLM would: token deltas, then the whole response."""
    tokens = re.findall(r"\S+\s*|\s+", input.text)
    for token in tokens:
        if input.token_delay:
            ctx.sleep(input.token_delay)
        ctx.delta({"response": token})
    usage = {
        "prompt_tokens": len(tokens),
        "completion_tokens": len(tokens),
        "total_tokens": 2 * len(tokens),
    }
    ctx.delta({"usage": usage})
    return {"response": input.text, "usage": usage}


class NoInput(BaseModel):
    """Apps that take nothing accept any object."""


def needs_secret(ctx: AppContext, input: NoInput) -> dict[str, Any]:
    """Report that the secret is there (never its value)."""
    return {"text": f"OPENAI_API_KEY is set ({len(ctx.secrets['OPENAI_API_KEY'])} characters)"}


GOOGLE = IntegrationRequirement(
    provider="google",
    provider_name="Google",
    scopes=("https://www.googleapis.com/auth/gmail.send",),
    scope_descriptions={"https://www.googleapis.com/auth/gmail.send": "Send email on your behalf"},
    message="Connect Google to continue",
)


def needs_integration(ctx: AppContext, input: NoInput) -> dict[str, Any]:
    """Report that the secret and the integration are there."""
    return {"text": "OPENAI_API_KEY is set and Google is connected"}


def builtin_apps() -> list[RegisteredApp]:
    """Fresh registrations of the built-in apps (each emulator gets its own workers)."""
    return [
        # The version the official SDKs' integration tests pin.
        RegisteredApp("infsh/text-templating", text_templating, version="53bk0yzk"),
        # Echoes file uris as sent, not as the local paths other apps get.
        RegisteredApp("infsh/echo", echo, local_files=False),
        RegisteredApp("infsh/slow", slow),
        RegisteredApp("infsh/fail", fail),
        RegisteredApp("infsh/draw-image", draw_image),
        RegisteredApp("infsh/file-info", file_info),
        RegisteredApp("infsh/session-test", SessionTest),
        RegisteredApp("infsh/llm-echo", llm_echo, wait_for_stream=1.0),
        RegisteredApp("infsh/needs-secret", needs_secret, requires_secrets=("OPENAI_API_KEY",)),
        RegisteredApp(
            "infsh/needs-integration",
            needs_integration,
            requires_secrets=("OPENAI_API_KEY",),
            requires_integrations=(GOOGLE,),
        ),
    ]
