"""A TCP relay in front of PostgreSQL that a test can stall (the server accepts and then never
answers) or cut (the server went away), then resume: database faults without mocks."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url

from app.kit.settings import Settings


class StallingRelay:
    """Forwards 127.0.0.1:<port> to the database until :meth:`stall`; then accepts and holds."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.forwarding = threading.Event()
        self.refusing = False
        self.forwarding.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.closed = False
        #: The database's URL through the relay (set by the fixture).
        self.database_url = ""
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.forwarding.clear()

    def resume(self) -> None:
        # Connections accepted while stalled never reached the server: drop them (their clients
        # gave up long ago); the ones that were open before the stall carry on.
        self.refusing = False
        self.forwarding.set()

    def cut(self) -> None:
        """The database goes away (a restart): open connections are closed, new ones refused
        (accepted and closed at once) until :meth:`resume`."""
        self.refusing = True
        self.forwarding.clear()
        for sock in list(self.open):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        self.forwarding.set()
        self.listener.close()
        for sock in self.open:
            sock.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            self.open.append(client)
            if not self.forwarding.is_set():
                threading.Thread(target=self._hold, args=(client,), daemon=True).start()
                continue
            server = socket.create_connection(self.target)
            self.open.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _hold(self, client: socket.socket) -> None:
        self.forwarding.wait()
        client.close()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                self.forwarding.wait()
                source.settimeout(0.05)
                try:
                    data = source.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                self.forwarding.wait()  # bytes read before a stall are held, not sent
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay(database_url: str) -> Iterator[StallingRelay]:
    """A relay in front of this run's PostgreSQL database (the test is skipped on SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("the relay stands in front of PostgreSQL (SQLite is a local file)")
    relay = StallingRelay((url.host or "127.0.0.1", url.port or 5432))
    relay.database_url = url.set(host="127.0.0.1", port=relay.port).render_as_string(
        hide_password=False
    )
    yield relay
    relay.close()


def through(relay: StallingRelay, settings: Settings) -> Settings:
    """The settings of an app that reaches the database through ``relay``."""
    return settings.model_copy(update={"DATABASE_URL": relay.database_url})
