"""The service's limits against slow or many clients: timeouts and a connection cap for uvicorn.

uvicorn cuts an idle keep-alive connection (``timeout_keep_alive``) and refuses connections beyond
``limit_concurrency`` with 503, but it waits forever for a request head sent one byte at a time.
:class:`_HeadTimeoutProtocol` closes a connection whose request line and headers have not all
arrived ``read_timeout_s`` after the connection opened (or after its previous answer); the app's
middleware bounds the body the same way (408).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_READ_TIMEOUT_S", "ServiceLimits", "server_config"]

# Importable without FastAPI or uvicorn: the CLI shows them in --help.
#: Most jobs in one ``/predict`` request.
DEFAULT_MAX_BATCH = 1000
#: Largest request body, bytes.
DEFAULT_MAX_BODY_BYTES = 1_000_000
#: Most seconds to receive a request's head, and again its body.
DEFAULT_READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ServiceLimits:
    """How long and how many: documented in the README's "Safety" section.

    Attributes
    ----------
    read_timeout_s : float
        Most seconds to receive a request's head, and again its body.
    keep_alive_s : int
        Seconds an idle keep-alive connection stays open.
    max_connections : int
        Connections (and requests) served at once; more get 503 at once instead of piling up.
    """

    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    keep_alive_s: int = 5
    max_connections: int = 100


def server_config(app, *, host: str, port: int, limits: ServiceLimits = ServiceLimits(), log_level: str = "info"):
    """A ``uvicorn.Config`` serving ``app`` with ``limits`` applied.

    Examples
    --------
    >>> config = server_config(lambda scope: None, host="127.0.0.1", port=0, limits=ServiceLimits(keep_alive_s=2))
    >>> config.timeout_keep_alive, config.limit_concurrency
    (2, 100)
    """
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=_protocol(limits.read_timeout_s),
        timeout_keep_alive=limits.keep_alive_s,
        limit_concurrency=limits.max_connections,
        timeout_graceful_shutdown=5,
    )


def _protocol(read_timeout_s: float):
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class _HeadTimeoutProtocol(H11Protocol):
        """uvicorn's h11 protocol, closing a connection whose request head is too slow."""

        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_timer = self.loop.call_later(read_timeout_s, self._head_too_slow)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_too_slow(self) -> None:
            self._head_timer = None
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and not self.cycle.response_complete:
                self._cancel_head_timer()  # the head is in: the body has its own deadline

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head_timer()

        def connection_lost(self, exc) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

    return _HeadTimeoutProtocol
