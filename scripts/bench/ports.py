"""Loopback TCP ports that play a device's frames as a serial line delivers them.

Like ser2net on a real UART, a port passes on only what arrives while a client is
connected: what the device sends while nobody listens is gone. A pseudo-terminal would
buffer it for the next reader and flatter a reader that keeps closing the port.

The bytes come at the line's pace, 19 200 baud 8N1, handed over FIFO_BYTES at a time as
a UART's receive FIFO does (a Raspberry Pi's PL011 interrupts when half of its 32 bytes
are filled): a 65-byte ECM packet reaches the reader in five pieces over 34 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
import itertools
import threading
import time

from simulator.ecm1240 import EcmPacer, EcmUnit, demo_loads
from simulator.mfm import MfmBoard, random_walk, stream

# 19 200 baud, a start bit, eight data bits, a stop bit: ten bits a byte.
BYTES_PER_SECOND = 1920
FIFO_BYTES = 16

type Frames = Iterator[tuple[float, bytes]]


@dataclass(slots=True)
class Connection:
    """One client's time on a port: each frame it got whole, by the time its last byte went."""

    opened: float
    frames: list[float] = field(default_factory=list)
    closed: float | None = None


@dataclass(frozen=True, slots=True)
class Played:
    """A frame the device sent, and when its last byte was on the line."""

    at: float
    frame: bytes


class _Client(asyncio.Protocol):
    """The client connected to a `PacedPort`; what it sends is ignored."""

    def __init__(self, port: PacedPort) -> None:
        """Belong to `port`."""
        self._port = port
        self.transport: asyncio.Transport | None = None
        self.connection = Connection(time.time())
        # Whether the frame on the line began while this client listened.
        self.frame_whole = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Take the port: the device's bytes go here from now on."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._port.attach(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Give the port back: bytes are dropped until the next client."""
        self.connection.closed = time.time()
        self._port.detach(self)


class PacedPort:
    """One device's port on 127.0.0.1: a client at a time gets what the line carries."""

    def __init__(self) -> None:
        """Prepare; nothing listens before `start`."""
        self.connections: list[Connection] = []
        self._server: asyncio.Server | None = None
        self._client: _Client | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Client(self), "127.0.0.1", 0)

    async def stop(self) -> None:
        """Close the client and stop listening."""
        if self._client is not None and self._client.transport is not None:
            self._client.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        """The URL a serial library opens."""
        assert self._server is not None
        return f"socket://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def attach(self, client: _Client) -> None:
        """A client connected; a second one waits its turn as with ser2net, closed at once."""
        if self._client is not None:
            assert client.transport is not None
            client.transport.close()
            return
        self._client = client
        self.connections.append(client.connection)

    def detach(self, client: _Client) -> None:
        """A client went away."""
        if self._client is client:
            self._client = None

    def deliver(self, piece: bytes, *, first: bool, last: bool) -> None:
        """Hand a piece of a frame to the client, if one listens; note a frame it got whole."""
        client = self._client
        if client is None or client.transport is None or client.transport.is_closing():
            return
        if first:
            client.frame_whole = True
        if last and client.frame_whole:
            client.connection.frames.append(time.time())
            client.frame_whole = False
        client.transport.write(piece)


class Line:
    """Plays one device's timed frames onto its ports at the line's pace."""

    def __init__(self, frames: Frames, ports: Sequence[PacedPort]) -> None:
        """Play `frames` (seconds from the start, bytes) onto every one of `ports`."""
        self._frames = frames
        self._ports = ports
        self.played: list[Played] = []

    async def run(self) -> None:
        """Send every frame at its time, piece by piece as the line carries it."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        for at, frame in self._frames:
            for offset in range(0, len(frame), FIFO_BYTES):
                end = min(offset + FIFO_BYTES, len(frame))
                delay = began + at + end / BYTES_PER_SECOND - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if end == len(frame):
                    # Noted before a reader can have it.
                    self.played.append(Played(time.time(), frame))
                for port in self._ports:
                    port.deliver(
                        frame[offset:end], first=offset == 0, last=end == len(frame)
                    )


def board_frames(nominal: int = 50, seed: int = 0) -> Frames:
    """The lines of a V2 board in format P4 on a quiet grid, from its first measurement.

    A V2 board sends a line every nine mains periods: 5.6 a second at 50 Hz, 6.7 at 60 Hz.
    """
    board = MfmBoard(nominal=nominal)
    return stream(board, random_walk(seed, center=board.nominal_mhz), boot=False)


def ecm_frames(second: float = 1.0, seed: int = 0) -> Frames:
    """The packets of an ECM-1240 sending every second on the simulator's household loads.

    `second`: how long the unit's second lasts by the host's clock. A real unit's clock
    and the host's drift apart, so its packets fall at every point of the host's update
    cycle over hours; a unit whose second is a little too long does that within a minute.
    """
    pacer = EcmPacer(EcmUnit(send_interval=1), demo_loads(seed))
    for count in itertools.count(1):
        if (packet := pacer.step(count)) is not None:
            yield count * second, packet


class Devices:
    """Simulated devices on paced ports, played by an event loop in a thread of their own.

    The benchmark's own steps block (HTTP calls, sleeps); the devices keep their pace.
    """

    def __init__(self, lines: Iterable[tuple[Frames, int]]) -> None:
        """One line per (frames, number of ports) pair; nothing runs before `running`."""
        self._plan = list(lines)
        self.ports: list[list[PacedPort]] = []
        self.lines: list[Line] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None

    @contextmanager
    def running(self) -> Iterator[Devices]:
        """Play the devices for the block."""
        started = threading.Event()
        thread = threading.Thread(
            target=self._loop.run_until_complete,
            args=(self._serve(started),),
            name="bench devices",
        )
        thread.start()
        started.wait()
        try:
            yield self
        finally:
            assert self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            thread.join()
            self._loop.close()

    async def _serve(self, started: threading.Event) -> None:
        """Open the ports, play every line until told to stop, close the ports."""
        self._stop = asyncio.Event()
        for frames, count in self._plan:
            ports = [PacedPort() for _ in range(count)]
            for port in ports:
                await port.start()
            self.ports.append(ports)
            self.lines.append(Line(frames, ports))
        tasks = [asyncio.create_task(line.run()) for line in self.lines]
        started.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ports in self.ports:
            for port in ports:
                await port.stop()
