"""Part 2: the board's lines: how fast the parser takes them, and how many each way of reading keeps.

The existing bridge reads the board by opening the port, reading one line with a 1 s
timeout, closing the port and sleeping 0.1 s, over and over. Mains Monitor keeps the
port open. Both read the same simulated board over the same minute, each on a port of
its own that drops what arrives while it is closed, as ser2net or a real UART does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import islice
import time
from urllib.parse import urlsplit

from custom_components.mains_monitor.port_session import open_session
from custom_components.mains_monitor.protocol.mfm import MfmParser

from .ports import FIFO_BYTES, Devices, Played, board_frames
from .table import Row

# The bridge's way: a line within a second, then the port closed for a tenth.
BRIDGE_TIMEOUT = 1.0
BRIDGE_PAUSE = 0.1
# Both readers run this long before the minute counted starts.
WARM_UP = 2.0
PARSER_LINES = 200_000
PARSER_ROUNDS = 5

type Captured = list[tuple[float, Hashable]]


@dataclass(frozen=True, slots=True)
class Capture:
    """What one reader kept of the lines the board sent in the minute."""

    sent: int
    whole: int

    @property
    def share(self) -> float:
        """The share of the board's lines kept whole and correct."""
        return self.whole / self.sent


def parser_rate(read_size: int) -> float:
    """Lines a second through a fresh MfmParser, the stream cut into reads of `read_size` bytes."""
    data = b"".join(frame for _, frame in islice(board_frames(), PARSER_LINES))
    reads = [data[at : at + read_size] for at in range(0, len(data), read_size)]
    best = float("inf")
    for _ in range(PARSER_ROUNDS):
        parser = MfmParser()
        feed = parser.feed
        started = time.perf_counter()
        for chunk in reads:
            feed(chunk)
        best = min(best, time.perf_counter() - started)
        assert parser.accepted == PARSER_LINES
    return PARSER_LINES / best


async def keep_open(url: str, captured: Captured) -> None:
    """Read as Mains Monitor does: the port open all the time, every read parsed."""
    parser = MfmParser()
    async with open_session(url) as session:
        while True:
            data = await session.read()
            now = time.time()
            captured.extend((now, reading) for reading in parser.feed(data))


async def reopen(url: str, captured: Captured) -> None:
    """Read as the bridge does: open, one line within a second, close, pause, again."""
    address = urlsplit(url)
    assert address.hostname is not None
    assert address.port is not None
    while True:
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            async with asyncio.timeout(BRIDGE_TIMEOUT):
                line = await reader.readline()
        except TimeoutError:
            line = b""
        writer.close()
        await writer.wait_closed()
        if line:
            captured.append((time.time(), line))
        await asyncio.sleep(BRIDGE_PAUSE)


def kept(
    played: Sequence[Played],
    captured: Captured,
    key: Callable[[bytes], Hashable],
    window: tuple[float, float],
) -> Capture:
    """Match what a reader captured to the lines sent, in order; count those sent in `window`.

    A capture is the earliest line after the last one matched that was on the line
    by then and reads the same; one that matches none (a line cut short) counts nothing.
    """
    keys = [key(line.frame) for line in played]
    matched = set()
    following = 0
    for at, value in captured:
        index = following
        while index < len(played) and played[index].at <= at:
            if keys[index] == value:
                matched.add(index)
                following = index + 1
                break
            index += 1
    start, end = window
    in_window = [index for index, line in enumerate(played) if start <= line.at < end]
    return Capture(len(in_window), len(matched.intersection(in_window)))


def reading_of(line: bytes) -> Hashable:
    """The reading a line gives a parser of its own."""
    (reading,) = MfmParser().feed(line)
    return reading


async def _read_both(devices: Devices, seconds: float) -> tuple[Capture, Capture]:
    """Run both readers on their ports; what each kept of the minute's lines."""
    ours_port, bridge_port = devices.ports[0]
    ours: Captured = []
    bridge: Captured = []
    readers = [
        asyncio.create_task(keep_open(ours_port.url, ours)),
        asyncio.create_task(reopen(bridge_port.url, bridge)),
    ]
    await asyncio.sleep(WARM_UP)
    window = (time.time(), time.time() + seconds)
    await asyncio.sleep(seconds + BRIDGE_TIMEOUT)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    played = list(devices.lines[0].played)
    return (
        kept(played, ours, reading_of, window),
        kept(played, bridge, bytes, window),
    )


def measure(seconds: float) -> list[Row]:
    """The parser's speed and both readers' share of a minute of the board's lines; part 2's rows."""
    rows = [
        Row(
            "2",
            f"mfm parser, {size} B reads: lines/s",
            f"{parser_rate(size):,.0f}/s",
            "",
            "",
            "",
            None,
        )
        for size in (FIFO_BYTES, 4096)
    ]
    with Devices([(board_frames(), 2)]).running() as devices:
        ours, bridge = asyncio.run(_read_both(devices, seconds))
    rows.append(
        Row(
            "2",
            f"mfm board lines kept whole and correct, {seconds:.0f} s, "
            f"{ours.sent} sent; alternative: re-open per line",
            f"{ours.whole} ({ours.share:.1%})",
            f"{bridge.whole} ({bridge.share:.1%})",
            f"{ours.share / bridge.share:.1f}x" if bridge.whole else "∞",
            "100 %",
            ours.whole == ours.sent,
        )
    )
    return rows
