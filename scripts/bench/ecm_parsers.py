"""Part 1: the ECM-1240 parser against siobrultech-protocols' PacketProtocol on the same bytes.

Both parsers read one stream of realistic ECM-1240 packets, cut into reads of one size
each (from single bytes to 4 KiB, sizes that do and do not divide a packet), in the same
process, in alternating rounds; the median round counts. The reference needs
requirements_bench.txt (`bash scripts/setup --bench`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import random
from statistics import median
import time

from siobrultech_protocols.gem.protocol import (
    PacketProtocol,
    PacketProtocolMessage,
    PacketReceivedMessage,
)

from custom_components.mains_monitor.protocol.ecm1240 import EcmParser

from .table import Row

# One packet is 65 bytes: reads of 7, 256 and 4096 bytes end at a different place in each packet.
READ_SIZES = (1, 7, 65, 256, 4096)
SECONDS_WRAP = 1 << 24


@dataclass(frozen=True, slots=True)
class Result:
    """One run of one parser: packets decoded and the time spent in feeding."""

    packets: int
    seconds: float


def encode_packet(
    seconds: int,
    volts_tenths: int,
    amps_hundredths: tuple[int, int],
    watt_seconds: Sequence[int],
    aux: Sequence[int],
) -> bytes:
    """Build one ECM-1240 packet (unit 5, serial 434) from its field values."""
    body = bytearray(b"\xfe\xff\x03")
    body += volts_tenths.to_bytes(2, "big")
    for counter in watt_seconds:
        body += (counter % (1 << 40)).to_bytes(5, "little")
    body += b"\xb2\x01\x05\x00"  # reserved: what the real unit sends there
    body += (434).to_bytes(2, "little") + bytes((0x18, 5))
    for amps in amps_hundredths:
        body += amps.to_bytes(2, "little")
    body += (seconds % SECONDS_WRAP).to_bytes(3, "little")
    for counter in aux:
        body += (counter % (1 << 32)).to_bytes(4, "little")
    body += (511).to_bytes(2, "little") + b"\xff\xfe"
    return bytes(body + bytes((sum(body) & 0xFF,)))


def realistic_stream(count: int, rng: random.Random) -> bytes:
    """Return `count` consecutive packets of a busy house, one a second, crossing the 2^24 s wrap."""
    seconds = SECONDS_WRAP - count // 2
    counters = [rng.randrange(1 << 39) for _ in range(4)]
    aux = [rng.randrange(1 << 31) for _ in range(5)]
    packets = []
    for _ in range(count):
        amps = (rng.randrange(0, 6000), rng.randrange(0, 3000))
        volts = rng.randrange(1170, 1260)
        powers = [volts * amp // 1000 for amp in amps]
        exported = rng.randrange(0, 2000) if rng.random() < 0.3 else 0
        counters = [
            counters[0] + powers[0],
            counters[1] + powers[1] + exported,
            counters[2],
            counters[3] + exported,
        ]
        aux = [value + rng.randrange(0, 1500) for value in aux]
        packets.append(encode_packet(seconds, volts, amps, counters, aux))
        seconds += 1
    return b"".join(packets)


def fixed_chunks(data: bytes, size: int) -> list[bytes]:
    """Cut data into reads of one size."""
    return [data[position : position + size] for position in range(0, len(data), size)]


def run_ours(chunks: Sequence[bytes]) -> Result:
    """Feed every chunk to a fresh EcmParser; count the packets it accepted, as the reference's are."""
    parser = EcmParser()
    feed = parser.feed
    started = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    elapsed = time.perf_counter() - started
    return Result(parser.accepted, elapsed)


def run_reference(chunks: Sequence[bytes]) -> Result:
    """Feed every chunk to a fresh PacketProtocol; count the packets it queued."""
    queue: asyncio.Queue[PacketProtocolMessage] = asyncio.Queue()
    protocol = PacketProtocol(queue)
    # Without a transport it logs an exception for every chunk.
    protocol.connection_made(asyncio.BaseTransport())
    data_received = protocol.data_received
    started = time.perf_counter()
    for chunk in chunks:
        data_received(chunk)
    elapsed = time.perf_counter() - started
    count = 0
    while not queue.empty():
        count += isinstance(queue.get_nowait(), PacketReceivedMessage)
    return Result(count, elapsed)


def reference_fields(data: bytes) -> list[tuple[int, int, int]]:
    """Return seconds and CH1/CH2 absolute counters of each packet the reference finds."""
    queue: asyncio.Queue[PacketProtocolMessage] = asyncio.Queue()
    protocol = PacketProtocol(queue)
    protocol.connection_made(asyncio.BaseTransport())
    protocol.data_received(data)
    fields = []
    while not queue.empty():
        message = queue.get_nowait()
        if isinstance(message, PacketReceivedMessage):
            packet = message.packet
            ch1, ch2 = packet.absolute_watt_seconds
            fields.append((packet.seconds, ch1, ch2))
    return fields


def rounds(
    runners: Mapping[str, Callable[[Sequence[bytes]], Result]],
    chunks: Sequence[bytes],
    count: int,
) -> dict[str, list[Result]]:
    """Run every runner `count` times, alternating between them."""
    results: dict[str, list[Result]] = {name: [] for name in runners}
    for _ in range(count):
        for name, runner in runners.items():
            results[name].append(runner(chunks))
    return results


def measure(packets: int, rounds_per_size: int, seed: int = 1240) -> list[Row]:
    """Time both parsers on each read size; the rows of part 1."""
    stream = realistic_stream(packets, random.Random(seed))
    runners = {"ours": run_ours, "reference": run_reference}
    rows = []
    for size in READ_SIZES:
        results = rounds(runners, fixed_chunks(stream, size), rounds_per_size)
        ours, reference = (
            Result(
                results[name][0].packets,
                median(run.seconds for run in results[name]),
            )
            for name in runners
        )
        rows.append(_row(size, packets, ours, reference))
    agree = [
        (packet.seconds, packet.ch1_abs_ws, packet.ch2_abs_ws)
        for packet in EcmParser().feed(stream)
    ] == reference_fields(stream)
    rows.append(
        Row(
            "1",
            "ECM: fields of every packet of the whole stream",
            f"{packets} packets",
            "the same" if agree else "DIFFERENT",
            "",
            "agree",
            agree,
        )
    )
    return rows


def _row(size: int, packets: int, ours: Result, reference: Result) -> Row:
    """One read size: packets each parser decoded a second, and the time each took for the stream.

    A parser's packets a second are those it decoded over the time it took for the
    stream; the stream ratio compares the times alone, as if both had decoded all.
    """
    ours_rate = ours.packets / ours.seconds
    reference_rate = reference.packets / reference.seconds
    ratio = ours_rate / reference_rate if reference_rate else float("inf")
    shown = f"{ratio:.1f}x" if reference_rate else "∞"
    return Row(
        "1",
        f"ECM framing + decoding, {size} B reads: packets decoded a second "
        f"(decoded of {packets})",
        f"{ours_rate:,.0f}/s ({ours.packets})",
        f"{reference_rate:,.0f}/s ({reference.packets})",
        f"{shown} (stream time {reference.seconds / ours.seconds:.1f}x)",
        "≥ 10x, every packet",
        ours.packets == packets and ratio >= 10,
    )
