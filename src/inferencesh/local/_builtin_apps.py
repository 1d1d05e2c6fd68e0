"""The apps every emulator has unless built with `builtins=False`.

| ref | input | output |
|---|---|---|
| `infsh/text-templating` | `{template, strings}` | `{text}`: `{1}`... replaced, 1-based |
| `infsh/echo` | any object | the same object |
| `infsh/slow` | `{steps=5, interval=0.2}` | `{steps}`; logs and progress per step |
| `infsh/fail` | `{message}` | fails with `message` |
| `infsh/draw-image` | `{prompt, width=128, height=128}` | `{image: {uri (PNG data URI), ...}}` |
| `infsh/llm-echo` | `{text}` (+ any LLM settings) | `{response, usage}`, streamed as deltas |
| `infsh/needs-secret` | `{}` | needs secret `OPENAI_API_KEY`, else 412 |
| `infsh/needs-integration` | `{}` | needs that secret and Google, else 412 |
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inferencesh.local._apps import AppContext, IntegrationRequirement, RegisteredApp
from inferencesh.local._png import encode_png

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
    """Draw a gradient with a disc on it and return it as a PNG data URI."""
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
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    image = {"uri": uri, "content_type": "image/png", "filename": "image.png", "size": len(png)}
    return {"image": image, "width": w, "height": h}


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
        RegisteredApp("infsh/echo", echo),
        RegisteredApp("infsh/slow", slow),
        RegisteredApp("infsh/fail", fail),
        RegisteredApp("infsh/draw-image", draw_image),
        RegisteredApp("infsh/llm-echo", llm_echo, wait_for_stream=1.0),
        RegisteredApp("infsh/needs-secret", needs_secret, requires_secrets=("OPENAI_API_KEY",)),
        RegisteredApp(
            "infsh/needs-integration",
            needs_integration,
            requires_secrets=("OPENAI_API_KEY",),
            requires_integrations=(GOOGLE,),
        ),
    ]
