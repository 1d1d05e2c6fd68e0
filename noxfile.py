"""Developer tasks: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s docs`."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "typecheck", "tests"]

# Our machines carry one interpreter; under CI nox fails on missing ones, so `tests` uses the
# running interpreter and `tests_matrix` is for machines that have them all.
PYTHONS = ["3.11", "3.12", "3.13", "3.14"]


def install(session: nox.Session, *groups: str) -> None:
    session.install("-U", "pip")
    args = [arg for group in groups for arg in ("--group", group)]
    session.install("-e", ".", *args)


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the test suite with coverage in the current environment."""
    session.run("pytest", "--cov", "--cov-report=term-missing:skip-covered", *session.posargs)


@nox.session(python=PYTHONS)
def tests_matrix(session: nox.Session) -> None:
    """Run the test suite on every supported Python."""
    install(session, "test")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format --check and ruff check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("python", "scripts/unasync.py", "--check")


@nox.session
def typecheck(session: nox.Session) -> None:
    """pyright in strict mode on src."""
    install(session, "typecheck")
    session.run("pyright")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (strict: a broken link or reference fails); `-- serve`."""
    install(session, "docs")
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve")
    else:
        session.run("mkdocs", "build", "--strict", "--site-dir", str(session.create_tmp()))
