"""Masks the Jupyter token in every log record the server writes: query values and headers."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["MASK", "TokenMask", "install", "mask"]

MASK = "[secret]"
# The loggers a jupyter_server writes to; records of other loggers do not pass their filters.
SERVER_LOGGERS = ("tornado.access", "tornado.application", "tornado.general", "ServerApp")

# `token=` as a query parameter, not `page_token=`; the value ends where the URL or repr does.
_QUERY = re.compile(r"(?<![\w-])(token=)[^&\s'\"#;,)<>]+", re.IGNORECASE)
_HEADER = re.compile(
    r"(authorization['\"]?\s*[:=]\s*['\"]?(?:token|bearer)\s+)[^\s'\",;)}]+", re.IGNORECASE
)


def mask(text: str) -> str:
    """`text` with every token value replaced by MASK."""
    return _HEADER.sub(rf"\g<1>{MASK}", _QUERY.sub(rf"\g<1>{MASK}", text))


class TokenMask(logging.Filter):
    """Rewrites a record whose formatted message, exception or stack shows a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A record whose arguments do not fit its format: show it as logging would fail to.
            message = str(record.msg)
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install(
    *loggers: logging.Logger | logging.LoggerAdapter[logging.Logger],
    names: Iterable[str] = SERVER_LOGGERS,
) -> None:
    """Add one TokenMask to each named logger and each logger given, once."""
    given = (a.logger if isinstance(a, logging.LoggerAdapter) else a for a in loggers)
    for logger in (*(logging.getLogger(n) for n in names), *given):
        if not any(isinstance(f, TokenMask) for f in logger.filters):
            logger.addFilter(TokenMask())
