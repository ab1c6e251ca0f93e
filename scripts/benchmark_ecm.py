"""Measure the ECM-1240 parser against siobrultech-protocols' PacketProtocol on the same bytes.

Needs requirements_bench.txt installed in the newest release's environment:

    bash scripts/setup --bench
    bash scripts/py314 newest python scripts/benchmark_ecm.py [--packets 20000] [--rounds 5] [--seed 1240]

Both parsers read one stream of realistic ECM-1240 packets, cut into reads as a serial line
delivers it: a mix of 1-, 8- and 64-byte reads, then reads of one size each (from single bytes to
4 KiB, sizes that do and do not divide a packet). For each cutting they run in the same process,
in alternating rounds; the median round counts. The table shows the time per packet sent, the
speed-up and how many packets each recovers.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
import random
from statistics import median
import sys
import time

try:
    from siobrultech_protocols.gem.protocol import (
        PacketProtocol,
        PacketProtocolMessage,
        PacketReceivedMessage,
    )
except ImportError as err:
    sys.exit(
        f"{err}: install requirements_bench.txt first (bash scripts/setup --bench)"
    )

# Run as a script from anywhere: the repository root holds the integration's package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from custom_components.mains_monitor.protocol.ecm1240 import EcmParser

CHUNK_SIZES = (1, 8, 64)
# One packet is 65 bytes: reads of 7, 256 and 4096 bytes end at a different place in each packet.
FIXED_SIZES = (1, 7, 65, 256, 4096)
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


def mixed_chunks(data: bytes, rng: random.Random) -> list[bytes]:
    """Cut data into reads of 1, 8 or 64 bytes, chosen at random."""
    chunks = []
    position = 0
    while position < len(data):
        size = rng.choice(CHUNK_SIZES)
        chunks.append(data[position : position + size])
        position += size
    return chunks


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


def main(argv: Sequence[str] | None = None) -> int:
    """Build the stream, run both parsers on each cutting of it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1240)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    stream = realistic_stream(args.packets, rng)
    cuttings = {"mixed 1/8/64": mixed_chunks(stream, rng)}
    cuttings |= {f"{size} B": fixed_chunks(stream, size) for size in FIXED_SIZES}
    print(
        f"{args.packets} ECM-1240 packets, {len(stream)} bytes; "
        f"{args.rounds} alternating rounds per cutting, median"
    )
    runners = {"ours": run_ours, "reference": run_reference}
    print(
        f"\n{'reads of':<14}{'ours µs/p':>10}{'ref µs/p':>10}{'speed-up':>10}"
        f"{'ours':>8}{'ref':>8}   packets recovered of {args.packets}"
    )
    for label, chunks in cuttings.items():
        results = rounds(runners, chunks, args.rounds)
        ours, reference = (
            median(run.seconds for run in results[name]) / args.packets
            for name in runners
        )
        print(
            f"{label:<14}{ours * 1e6:>10.2f}{reference * 1e6:>10.2f}"
            f"{reference / ours:>9.1f}x"
            f"{results['ours'][0].packets:>8}{results['reference'][0].packets:>8}"
        )

    ours_fields = [
        (packet.seconds, packet.ch1_abs_ws, packet.ch2_abs_ws)
        for packet in EcmParser().feed(stream)
    ]
    agree = ours_fields == reference_fields(stream)
    print(f"\nfields of the whole stream agree: {'yes' if agree else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
