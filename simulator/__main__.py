"""Run a simulated device until Ctrl-C or SIGTERM.

    python -m simulator mfm [--firmware V1|V2] [--format 1-4] [--nominal 50|60]
        [--scenario normal|dip|reboot-loop] [--seed N] (--pty PATH | --tcp HOST:PORT)
        [--speed X]

The first line on stdout is where to connect: the pty's symlink path or the
`socket://host:port` URL (with the port actually bound when 0 was asked for).
Start, client connects and disconnects are logged to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
import contextlib
import logging
from pathlib import Path
import signal
import sys

from .links import PtyLink, TcpLink
from .mfm import Firmware, MfmBoard, dip, random_walk, reboot_loop, stream

_LOGGER = logging.getLogger("simulator")

type Chunks = Iterator[tuple[float, bytes]]

# The `dip` scenario: 49.8 Hz for 20 s every 2 minutes, the first 30 s in.
DIP_TO_MHZ = 49800
DIP_AT = 30.0
DIP_SECONDS = 20.0
DIP_EVERY = 120.0


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m simulator")
    devices = parser.add_subparsers(dest="device", required=True)
    mfm = devices.add_parser("mfm", help="the mains frequency meter board")
    mfm.add_argument(
        "--firmware", type=Firmware, choices=list(Firmware), default=Firmware.V2
    )
    mfm.add_argument(
        "--format", type=int, choices=range(1, 5), default=4, dest="output_format"
    )
    mfm.add_argument("--nominal", type=int, choices=(50, 60), default=50)
    mfm.add_argument(
        "--scenario", choices=("normal", "dip", "reboot-loop"), default="normal"
    )
    mfm.add_argument(
        "--seed", type=int, default=0, help="seed of the grid's random walk"
    )
    mfm.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="time factor (2 = twice as fast)",
    )
    where = mfm.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--pty", type=Path, metavar="PATH", help="symlink to a new pseudo-terminal"
    )
    where.add_argument(
        "--tcp",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve TCP clients (port 0: any)",
    )
    return parser


def _positive_float(text: str) -> float:
    """A float above zero."""
    value = float(text)
    if value <= 0:
        msg = f"must be above 0: {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _host_port(text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 hosts in brackets) as a pair."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        msg = f"expected HOST:PORT, not {text}"
        raise argparse.ArgumentTypeError(msg)
    return host.strip("[]"), int(port)


def _mfm_chunks(args: argparse.Namespace) -> Chunks:
    """The endless timed byte stream of the chosen mfm scenario."""
    board = MfmBoard(
        firmware=args.firmware, output_format=args.output_format, nominal=args.nominal
    )
    if args.scenario == "reboot-loop":
        return reboot_loop(board)
    grid = random_walk(args.seed, center=board.nominal_mhz)
    if args.scenario == "dip":
        grid = dip(DIP_TO_MHZ, DIP_AT, DIP_SECONDS, every=DIP_EVERY, base=grid)
    return stream(board, grid)


async def _feed(chunks: Chunks, write: Callable[[bytes], None], speed: float) -> None:
    """Write each chunk at its time, scaled by `speed`, from now on."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    for t, data in chunks:
        delay = began + t / speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        write(data)


async def _until_signal(
    chunks: Chunks, write: Callable[[bytes], None], speed: float
) -> None:
    """Feed the chunks until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    feeder = asyncio.create_task(_feed(chunks, write, speed))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({feeder, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (feeder, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _LOGGER.info("stopped")


def _describe(args: argparse.Namespace) -> str:
    """The simulated device and scenario, for the start log line."""
    return (
        f"mfm {args.firmware} format {args.output_format} {args.nominal} Hz, "
        f"scenario {args.scenario}, seed {args.seed}, speed {args.speed}"
    )


async def _run(args: argparse.Namespace) -> None:
    """Open the link, announce it, and stream until stopped."""
    chunks = _mfm_chunks(args)
    what = _describe(args)
    if args.pty is not None:
        pty = PtyLink(args.pty.absolute())
        pty.open()
        try:
            print(pty.path, flush=True)
            _LOGGER.info("%s on %s", what, pty.path)
            await _until_signal(chunks, pty.write, args.speed)
        finally:
            pty.close()
        return
    tcp = TcpLink()
    await tcp.start(*args.tcp)
    try:
        print(tcp.url, flush=True)
        _LOGGER.info("%s on %s", what, tcp.url)
        await _until_signal(chunks, tcp.write, args.speed)
    finally:
        await tcp.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the simulator."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s: %(message)s",
    )
    asyncio.run(_run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
