"""Where a simulated device's bytes go: a pseudo-terminal or a loopback TCP server.

The links move bytes and know nothing of any device. Every call made from the event
loop is non-blocking, and no link starts a thread or a task.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
import tty

_LOGGER = logging.getLogger(__name__)

_READ_CHUNK = 4096


class LinkClosedError(RuntimeError):
    """A link was used while it was not open."""


class PtyLink:
    """A pseudo-terminal whose host side is reachable under a stable symlink.

    `open` plugs the device in (a new pty, the symlink pointing at its `/dev/pts/N`);
    `close` unplugs it: the host's next read fails with EIO, and the symlink is gone.
    The link keeps its own handle on the host side so that the pty outlives a host
    closing and reopening the port.
    """

    def __init__(self, link_path: Path) -> None:
        """Prepare a link at `link_path`; nothing is opened yet."""
        self._path = Path(link_path)
        self._master: int | None = None
        self._slave: int | None = None
        self._dropped = 0

    @property
    def path(self) -> Path:
        """The symlink the host opens."""
        return self._path

    @property
    def is_open(self) -> bool:
        """Whether the device is plugged in."""
        return self._master is not None

    @property
    def dropped(self) -> int:
        """Bytes discarded because the host let the pty's buffer fill up."""
        return self._dropped

    def open(self) -> None:
        """Create the pty (raw on both sides) and point the symlink at it."""
        if self._master is not None:
            msg = f"pty link {self._path} is already open"
            raise LinkClosedError(msg)
        if self._path.exists() and not self._path.is_symlink():
            msg = f"{self._path} exists and is not a symlink"
            raise FileExistsError(msg)
        master, slave = os.openpty()
        try:
            tty.setraw(master)
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._replace_symlink(os.ttyname(slave))
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        self._master, self._slave = master, slave

    def close(self) -> None:
        """Unplug the device: close both ends and remove the symlink (no-op if closed)."""
        if self._master is None or self._slave is None:
            return
        self._path.unlink(missing_ok=True)
        os.close(self._master)
        os.close(self._slave)
        self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to the host; what does not fit in the pty's buffer is dropped."""
        master = self._require_master()
        view = memoryview(data)
        while view:
            try:
                written = os.write(master, view)
            except BlockingIOError:
                self._dropped += len(view)
                return
            view = view[written:]

    def read_available(self) -> bytes:
        """Whatever the host wrote to the port since the last call (b"" if nothing)."""
        master = self._require_master()
        chunks = []
        while True:
            try:
                chunk = os.read(master, _READ_CHUNK)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    async def receive(self) -> bytes:
        """Wait until the host has written something; return all of it."""
        master = self._require_master()
        loop = asyncio.get_running_loop()
        while not (data := self.read_available()):
            readable: asyncio.Future[None] = loop.create_future()
            loop.add_reader(master, _resolve, readable)
            try:
                await readable
            finally:
                loop.remove_reader(master)
        return data

    def _require_master(self) -> int:
        """The master fd, or a clear error when the device is unplugged."""
        if self._master is None:
            msg = f"pty link {self._path} is closed"
            raise LinkClosedError(msg)
        return self._master

    def _replace_symlink(self, target: str) -> None:
        """Point the symlink at `target` atomically."""
        temporary = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(target)
        temporary.replace(self._path)


def _resolve(future: asyncio.Future[None]) -> None:
    """Mark `future` done unless it already is (a reader callback can fire twice)."""
    if not future.done():
        future.set_result(None)


class _Client(asyncio.Protocol):
    """One TCP client of a `TcpLink`."""

    def __init__(self, link: TcpLink) -> None:
        """Attach to the link."""
        self._link = link
        self._peer = "?"
        self.transport: asyncio.WriteTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register with the link."""
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport
        self._peer = _format_peer(transport.get_extra_info("peername"))
        self._link._attach(self)
        _LOGGER.info("client %s connected", self._peer)

    def data_received(self, data: bytes) -> None:
        """Keep what the client sent."""
        self._link._receive(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Unregister from the link."""
        self._link._detach(self)
        if not self.closed.done():
            self.closed.set_result(None)
        _LOGGER.info("client %s disconnected", self._peer)


def _format_peer(peer: object) -> str:
    """`host:port` of a socket peer address."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class TcpLink:
    """A loopback TCP server like ser2net: every client gets the same byte stream."""

    def __init__(self) -> None:
        """Prepare a server; nothing listens until `start`."""
        self._server: asyncio.Server | None = None
        self._host = ""
        self._port = 0
        self._clients: set[_Client] = set()
        self._inbox = bytearray()
        self._changed = asyncio.Event()  # a client came or went, or bytes arrived

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (port 0: any free port, see `port`)."""
        if self._server is not None:
            msg = f"tcp link {self.url} is already started"
            raise LinkClosedError(msg)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Client(self), host, port)
        self._host = host
        self._port = self._server.sockets[0].getsockname()[1]

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            msg = "tcp link is not started"
            raise LinkClosedError(msg)
        return self._port

    @property
    def url(self) -> str:
        """The serial URL a host opens: `socket://host:port`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"socket://{host}:{self.port}"

    @property
    def is_open(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def write(self, data: bytes) -> None:
        """Send bytes to every connected client (none connected: they are lost)."""
        if self._server is None:
            msg = "tcp link is not started"
            raise LinkClosedError(msg)
        for client in self._clients:
            if client.transport is not None and not client.transport.is_closing():
                client.transport.write(data)

    @property
    def client_count(self) -> int:
        """How many clients are connected."""
        return len(self._clients)

    async def wait_for_clients(self, count: int = 1) -> None:
        """Return once at least `count` clients are connected."""
        while len(self._clients) < count:
            await self._wait_for_change()

    def received(self) -> bytes:
        """What clients sent since the last call."""
        data = bytes(self._inbox)
        self._inbox.clear()
        return data

    async def receive(self) -> bytes:
        """Wait until a client has sent something; return all of it."""
        while not self._inbox:
            await self._wait_for_change()
        return self.received()

    async def drop_clients(self) -> None:
        """Close every client connection, as ser2net does when its port goes away."""
        clients = list(self._clients)
        for client in clients:
            if client.transport is not None:
                client.transport.close()
        await asyncio.gather(*(client.closed for client in clients))

    async def stop(self) -> None:
        """Drop the clients and stop listening (no-op if not started)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await self.drop_clients()
        await server.wait_closed()

    async def _wait_for_change(self) -> None:
        """Wait for the next client or bytes."""
        self._changed.clear()
        await self._changed.wait()

    def _attach(self, client: _Client) -> None:
        """A client connected."""
        self._clients.add(client)
        self._changed.set()

    def _detach(self, client: _Client) -> None:
        """A client went away."""
        self._clients.discard(client)
        self._changed.set()

    def _receive(self, data: bytes) -> None:
        """A client sent bytes."""
        self._inbox.extend(data)
        self._changed.set()
