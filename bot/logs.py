"""structlog set-up: one event per line, key=value facts, JSON in containers, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"


class SecretRedactor:
    """Replaces every occurrence of the given secrets in an event's values."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = tuple(s for s in secrets if s)

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        if not self._secrets:
            return event_dict
        for key, value in event_dict.items():
            if isinstance(value, str):
                event_dict[key] = self._clean(value)
        return event_dict

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(
    *,
    level: str = "INFO",
    fmt: str | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog (and the standard library's root logger) once, at start."""
    out = stream or sys.stderr
    if fmt is None:
        fmt = "console" if out.isatty() else "json"
    renderers: list[Processor]
    if fmt == "json":
        renderers = [structlog.processors.format_exc_info, SecretRedactor(secrets)]
        renderers.append(structlog.processors.JSONRenderer(sort_keys=False))
    else:
        renderers = [SecretRedactor(secrets)]
        renderers.append(structlog.dev.ConsoleRenderer(colors=out.isatty(), sort_keys=False))
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _exception_as_text,
    ]
    structlog.configure(
        processors=[*shared, *renderers],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the standard library: same format, and quiet unless it matters.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    # "skipped: maximum number of running instances reached" is how a long cycle looks.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _exception_as_text(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Exceptions become one short value (type: message), never a multi-line traceback."""
    error = event_dict.get("error")
    if isinstance(error, BaseException):
        event_dict["error"] = f"{type(error).__name__}: {error}"
    return event_dict
