"""One reporter for the choices the engine makes on its own (as sfhotspot announces its defaults).

When a caller leaves a parameter to the engine (a KDE radius, a cell size,
the time step of a trend analysis, the alert extent of near-repeat zones), the
library calls :func:`announce` with one plain sentence saying what it chose and
why, and records the same sentence in the result's ``choices`` mapping.

Who hears the sentence depends on who is calling:

* the ``hotspots`` command and :func:`hotspots.pipeline.run` install the
  terminal reporter (nothing when ``--quiet``) with :func:`reporting_to`;
* anyone else (a notebook, a script) gets the default: the ``hotspots``
  logger at INFO level, and standard error when that logger has no handler.

The reporter lives in a context variable, so concurrent runs in threads or
tasks each keep their own.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

Listener = Callable[[str], None]

LOGGER = logging.getLogger("hotspots")

_listener: ContextVar[Listener | None] = ContextVar("hotspots_announce_listener", default=None)


def _default(message: str) -> None:
    if LOGGER.hasHandlers():
        LOGGER.info(message)
    else:
        print(f"hotspots: {message}", file=sys.stderr)


def announce(message: str) -> None:
    """Tell the current listener about an automatic choice (one plain sentence)."""
    listener = _listener.get()
    (listener or _default)(message)


def choose(choices: MutableMapping[str, str], key: str, message: str) -> None:
    """Record ``message`` as the choice made for ``key`` (a parameter name) and announce it."""
    choices[key] = message
    announce(message)


@contextmanager
def reporting_to(listener: Listener) -> Iterator[None]:
    """Send announcements made inside the ``with`` block to ``listener`` (e.g. a terminal printer)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def quietly() -> AbstractContextManager[None]:
    """Announcements inside the ``with`` block are dropped (they stay in the results' ``choices``)."""
    return reporting_to(lambda _message: None)
