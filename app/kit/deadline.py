"""A deadline for one network exchange (a webhook's POST, a mail's SMTP conversation).

A client's timeout (httpx's, smtplib's) bounds each wait for the next bytes, not the exchange:
a peer that answers a byte at a time, or each reply just within the timeout, keeps one exchange
going for as long as it likes. The workers lease what they send for one send's allowance, so a
send past it let another worker take the message over and send it a second time, and every other
job of the stalled worker waited meanwhile. ``Deadline`` is the one way a send is bounded.
"""

from __future__ import annotations

import socket
import threading
from typing import Any


class Deadline:
    """Ends one send when its allowance is spent, however the peer answers.

    The rule: the send's connection is made for it alone (none is reused), its socket is handed
    over as it opens (``watch``; httpx's ``trace`` extension does it for a webhook), and a timer
    shuts the socket down once the allowance is spent, which ends any blocked read or write at
    once. ``passed`` then says why the send failed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.passed = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            handle, self._socket = self._socket, None
        if handle is not None:
            handle.close()

    def watch(self, opened: socket.socket) -> None:
        """Shut ``opened`` down at the deadline, or at once if it has passed (it took the whole
        allowance to connect). A duplicate is kept, which stays valid when TLS takes the socket
        over."""
        with self._lock:
            self._socket = opened.dup()
            passed = self.passed
        if passed:
            self._shut()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` extension: ``watch`` the connection's socket as it opens."""
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        opened = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(opened, socket.socket):
            self.watch(opened)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
        self._shut()

    def _shut(self) -> None:
        with self._lock:
            handle = self._socket
            if handle is None:
                return
            try:
                handle.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed already: the send is over
