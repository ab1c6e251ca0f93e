"""Run a simulated device until Ctrl-C or SIGTERM.

    python -m simulator mfm [--firmware V1|V2] [--format 1-4] [--nominal 50|60]
        [--scenario normal|dip|trading|oscillation|step|generator|reboot-loop] [--seed N] (--pty PATH | --tcp HOST:PORT)
        [--speed X]
    python -m simulator ecm1240 [--model ECM-1240|ECM-1220] [--unit-id N]
        [--serial N] [--interval S] [--realtime on|off] [--near-wrap]
        [--reset-every S] [--line-voltage 120|230] [--voltage steady|sag-swell]
        [--loads house|main]
        [--seed N] [--speed X] (--pty PATH | --tcp HOST:PORT)

The ECM-1240 streams in real-time mode and answers host commands (a poll, real-time
on/off, the settings block, the send interval, resets) on the same link.

The first line on stdout is where to connect: the pty's symlink path or the
`socket://host:port` URL (with the port actually bound when 0 was asked for).
Start, client connects and disconnects are logged to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
import contextlib
from itertools import count
import logging
from pathlib import Path
import signal
import sys

from .ecm1240 import (
    LOAD_PROFILES,
    EcmCommandPort,
    EcmModel,
    EcmPacer,
    EcmUnit,
    sags_and_swells,
    start_near_wraps,
)
from .links import PtyLink, TcpLink
from .mfm import (
    Firmware,
    Generator,
    MfmBoard,
    Profile,
    dip,
    oscillation,
    random_walk,
    reboot_loop,
    step,
    stream,
    trading_schedule,
)

_LOGGER = logging.getLogger("simulator")

type Chunks = Iterator[tuple[float, bytes]]
type Write = Callable[[bytes], None]
type Receive = Callable[[], Awaitable[bytes]]
type Work = Coroutine[None, None, None]

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
        "--scenario",
        choices=(
            "normal",
            "dip",
            "trading",
            "oscillation",
            "step",
            "generator",
            "reboot-loop",
        ),
        default="normal",
    )
    mfm.add_argument(
        "--seed", type=int, default=0, help="seed of the grid's random walk"
    )
    _add_link_options(mfm)
    _add_ecm_options(
        devices.add_parser("ecm1240", help="the Brultech ECM-1240 / ECM-1220")
    )
    return parser


def _add_ecm_options(ecm: argparse.ArgumentParser) -> None:
    """The ecm1240 sub-command's own options."""
    ecm.add_argument(
        "--model", type=EcmModel, choices=list(EcmModel), default=EcmModel.ECM_1240
    )
    ecm.add_argument("--unit-id", type=_int_range(0, 255), default=5)
    ecm.add_argument("--serial", type=_int_range(0, 65535), default=434)
    ecm.add_argument(
        "--interval", type=_int_range(1, 255), default=1, help="send interval in s"
    )
    ecm.add_argument("--realtime", choices=("on", "off"), default="on")
    ecm.add_argument(
        "--near-wrap",
        action="store_true",
        help="start every counter just below its wrap point",
    )
    ecm.add_argument(
        "--reset-every",
        type=_int_range(1, None),
        metavar="S",
        help="reset the unit every S simulated seconds",
    )
    ecm.add_argument(
        "--line-voltage",
        type=int,
        choices=(120, 230),
        default=120,
        help="nominal line voltage in V",
    )
    ecm.add_argument(
        "--voltage",
        choices=("steady", "sag-swell"),
        default="steady",
        help="steady at nominal, or a sag and a swell beyond ±10 %% every 10 minutes",
    )
    ecm.add_argument(
        "--loads",
        choices=tuple(LOAD_PROFILES),
        default="house",
        help="CH1 on the house from 10:00, or on the grid connection from 07:30",
    )
    ecm.add_argument("--seed", type=int, default=0, help="seed of the load profiles")
    _add_link_options(ecm)


def _add_link_options(device: argparse.ArgumentParser) -> None:
    """--speed and where the bytes go (--pty or --tcp), common to every device."""
    device.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="time factor (2 = twice as fast)",
    )
    where = device.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--pty", type=Path, metavar="PATH", help="symlink to a new pseudo-terminal"
    )
    where.add_argument(
        "--tcp",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve TCP clients (port 0: any)",
    )


def _int_range(low: int, high: int | None) -> Callable[[str], int]:
    """An argument type: an integer from `low` to `high` (None: no upper bound)."""

    def parse(text: str) -> int:
        """The integer, checked."""
        value = int(text)
        if value < low or (high is not None and value > high):
            upper = "" if high is None else f"-{high}"
            msg = f"must be {low}{upper}: {text}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


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
    scenarios: dict[str, Profile] = {
        "normal": grid,
        "dip": dip(DIP_TO_MHZ, DIP_AT, DIP_SECONDS, every=DIP_EVERY, base=grid),
        "trading": trading_schedule(grid),
        "oscillation": oscillation(base=grid),
        "step": step(base=grid),
        "generator": Generator(args.seed, center=board.nominal_mhz),
    }
    return stream(board, scenarios[args.scenario])


def _ecm_unit(args: argparse.Namespace) -> EcmUnit:
    """The simulated ECM unit the command line describes."""
    unit = EcmUnit(
        model=args.model,
        unit_id=args.unit_id,
        serial=args.serial,
        send_interval=args.interval,
        realtime=args.realtime == "on",
        voltage=float(args.line_voltage),
    )
    if args.near_wrap:
        start_near_wraps(unit)
    return unit


def _ecm_pacer(args: argparse.Namespace, unit: EcmUnit) -> EcmPacer:
    """The unit on the seeded demo loads, with its scripted resets."""
    every: int | None = args.reset_every
    pacer = EcmPacer(unit, LOAD_PROFILES[args.loads](args.seed))
    if args.voltage == "sag-swell":
        pacer.voltage = sags_and_swells(args.line_voltage, args.seed)
    if every is not None:
        pacer.reset_at = lambda t: t % every == 0
    return pacer


async def _tick(
    step: Callable[[int], bytes | None], write: Write, speed: float
) -> None:
    """Step simulated second 1, 2, ... each at its time (scaled), writing what it sends."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    for t in count(1):
        delay = began + t / speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        data = step(t)
        if data is not None:
            write(data)


async def _answer(port: EcmCommandPort, receive: Receive, write: Write) -> None:
    """Answer whatever the host writes, as soon as it arrives."""
    while True:
        reply = port.receive(await receive())
        if reply:
            write(reply)


async def _serve_ecm(args: argparse.Namespace, write: Write, receive: Receive) -> None:
    """Run the unit's clock and its command port side by side."""
    unit = _ecm_unit(args)
    pacer = _ecm_pacer(args, unit)
    async with asyncio.TaskGroup() as group:
        group.create_task(_tick(pacer.step, write, args.speed))
        group.create_task(_answer(EcmCommandPort(unit), receive, write))


async def _feed(chunks: Chunks, write: Write, speed: float) -> None:
    """Write each chunk at its time, scaled by `speed`, from now on."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    for t, data in chunks:
        delay = began + t / speed - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        write(data)


def _device(args: argparse.Namespace, write: Write, receive: Receive) -> Work:
    """The simulated device's work on a link."""
    if args.device == "ecm1240":
        return _serve_ecm(args, write, receive)
    return _feed(_mfm_chunks(args), write, args.speed)


async def _until_signal(work: Work) -> None:
    """Run the device's work until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    feeder = asyncio.create_task(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({feeder, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (feeder, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _LOGGER.info("stopped")


def _describe(args: argparse.Namespace) -> str:
    """The simulated device and scenario, for the start log line."""
    if args.device == "ecm1240":
        return _describe_ecm(args)
    return (
        f"mfm {args.firmware} format {args.output_format} {args.nominal} Hz, "
        f"scenario {args.scenario}, seed {args.seed}, speed {args.speed}"
    )


def _describe_ecm(args: argparse.Namespace) -> str:
    """The simulated ECM unit and its set-up, for the start log line."""
    wrap = ", near wrap" if args.near_wrap else ""
    resets = f", reset every {args.reset_every} s" if args.reset_every else ""
    return (
        f"ecm1240 {args.model} unit {args.unit_id} serial {args.serial}, "
        f"interval {args.interval} s, real-time {args.realtime}{wrap}{resets}, "
        f"{args.line_voltage} V {args.voltage}, {args.loads} loads, seed {args.seed}, speed {args.speed}"
    )


async def _run(args: argparse.Namespace) -> None:
    """Open the link, announce it, and stream until stopped."""
    what = _describe(args)
    if args.pty is not None:
        pty = PtyLink(args.pty.absolute())
        pty.open()
        try:
            print(pty.path, flush=True)
            _LOGGER.info("%s on %s", what, pty.path)
            await _until_signal(_device(args, pty.write, pty.receive))
        finally:
            pty.close()
        return
    tcp = TcpLink()
    await tcp.start(*args.tcp)
    try:
        print(tcp.url, flush=True)
        _LOGGER.info("%s on %s", what, tcp.url)
        await _until_signal(_device(args, tcp.write, tcp.receive))
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
