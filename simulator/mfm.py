"""A deterministic model of the mfm board (mains frequency meter), from its wire spec.

No I/O and no real clock: the caller passes the simulated time. `MfmBoard` turns a
measured value into the exact bytes the board would send; the scenario functions below
it produce timed byte streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import reduce
from itertools import count
import math
import random

type Profile = Callable[[float], int]
"""The true grid frequency in mHz at a simulated time in seconds."""

EOL = b"\r\n"
CLEAR_SCREEN = b"\x1b[2J\x1b[H"  # VT100 clear screen + cursor home, before the banner
BEL = b"\x07"  # ends the banner; it prefixes the first data line
NO_SIGNAL_LINE = b"XXXXX" + EOL  # V1: the mains signal is missing
ERROR_LINES = (
    b"ERROR measurement" + EOL,
    b"failt / Error measurement (Trigger ResetCounter)" + EOL,
)

LOAD_DEAD_BAND_MHZ = 10
LOAD_CAP = 9999
ALARM_THRESHOLDS_MHZ = (70, 100, 200, 1000)  # alarm bits 0..3
SUMMARY_ALARM_BIT = 7
ALARM_HOLD_SECONDS = 10.0
MEASUREMENT_PERIODS = 18  # each value averages 18 mains periods (both firmwares)
# Not in the spec (a guess): banner to first data line, while the board auto-detects.
BOOT_SECONDS = 1.0
# Not in the spec (a guess): error line to the next banner (watchdog reset).
REBOOT_SECONDS = 0.5


class Firmware(StrEnum):
    """The two published firmwares of the board."""

    V1 = "V1"
    V2 = "V2"


# Mains periods between two data lines.
LINE_PERIODS = {Firmware.V1: 18, Firmware.V2: 9}
# The largest move of the value from one line to the next.
MAX_STEP_MHZ = {Firmware.V1: 60, Firmware.V2: 100}
# V1 replaces a value outside this range (Hz, per nominal) by the previous one.
V1_RANGE_HZ = {50: (45, 55), 60: (55, 65)}


@dataclass
class MfmBoard:
    """One board: its settings (public) and its memory (cleared by `reset`)."""

    firmware: Firmware = Firmware.V2
    # 1-4, V2 only; may be changed between lines, as the board re-reads its jumpers.
    output_format: int = 4
    nominal: int = 50
    calibration_mhz: int = 0
    _previous: int | None = field(default=None, init=False, repr=False)
    _last_breach: list[float | None] = field(
        default_factory=lambda: [None] * 4, init=False, repr=False
    )

    def __post_init__(self) -> None:
        """Reject settings the board cannot have."""
        self.firmware = Firmware(self.firmware)
        if self.nominal not in (50, 60):
            msg = f"nominal must be 50 or 60 Hz, not {self.nominal}"
            raise ValueError(msg)
        if self.output_format not in (1, 2, 3, 4):
            msg = f"output_format must be 1-4, not {self.output_format}"
            raise ValueError(msg)

    @property
    def nominal_mhz(self) -> int:
        """The nominal frequency in mHz."""
        return self.nominal * 1000

    @property
    def line_interval(self) -> float:
        """Seconds between two data lines at the nominal frequency."""
        return LINE_PERIODS[self.firmware] / self.nominal

    @property
    def measurement_window(self) -> float:
        """Seconds of signal each value averages."""
        return MEASUREMENT_PERIODS / self.nominal

    def reset(self) -> None:
        """Forget the previous value and the alarms, as a power-up or reset does."""
        self._previous = None
        self._last_breach = [None] * 4

    def banner(self, *, signal_ok: bool = True) -> bytes:
        """The start-up text, ending with the BEL that prefixes the first data line."""
        star = "" if signal_ok else "*"
        if self.firmware is Firmware.V1:
            lines = [
                "NFA-RPi 1.0 Basisprogramm (@Arduino)",
                f"Auto-Detect...  {self.nominal}Hz-Netz{star}",
                "Start Netzfrequenzmessung...",
            ]
        else:
            lines = [
                "NFA-RPi 2.0 extendend mfm (@Arduino)",
                "02'2021 J.Müller www.pc-projekte.de",
                f"Auto-Detect.....  => detect {self.nominal}Hz{star}",
                f"Output protocol: {self.output_format}",
                "Start mains frequency measurement...",
            ]
        text = b"".join(line.encode() + EOL for line in lines)
        return CLEAR_SCREEN + text + BEL

    def line(self, millihertz: int, now: float) -> bytes:
        """The data line for this measured value at simulated time `now` (seconds)."""
        value = self._accept(millihertz + self.calibration_mhz)
        if value is None:
            return self.zero_line()
        self._previous = value
        if self.firmware is Firmware.V1:
            return self._render(value, 0)
        return self._render(value, self._alarm(value, now))

    def zero_line(self) -> bytes:
        """The `00000` line the board can print before its first accepted value."""
        return self._render(0, 0)

    def _accept(self, value: int) -> int | None:
        """Apply the firmware's range and step rules; None before any accepted value."""
        previous = self._previous
        if self.firmware is Firmware.V1:
            low, high = V1_RANGE_HZ[self.nominal]
            if not low * 1000 <= value <= high * 1000:
                return previous
        if previous is None:
            return value
        step = MAX_STEP_MHZ[self.firmware]
        return min(max(value, previous - step), previous + step)

    def _alarm(self, value: int, now: float) -> int:
        """Record breaches at `now`; the alarm byte, each bit held for 10 s."""
        deviation = abs(value - self.nominal_mhz)
        byte = 0
        for bit, threshold in enumerate(ALARM_THRESHOLDS_MHZ):
            if deviation >= threshold:
                self._last_breach[bit] = now
            last = self._last_breach[bit]
            if last is not None and now - last < ALARM_HOLD_SECONDS:
                byte |= 1 << bit
        if byte:
            byte |= 1 << SUMMARY_ALARM_BIT
        return byte

    def _render(self, value: int, alarm: int) -> bytes:
        """Format one line in the current output format."""
        frequency = f"{value:05d}"
        if self.firmware is Firmware.V1 or self.output_format == 1:
            return frequency.encode() + EOL
        load = self._load_field(value)
        if self.output_format == 2:
            text = f"{frequency};{load};{alarm:03d}"
        elif self.output_format == 3:
            body = f"{frequency}f{load}P{alarm:03d}M"
            text = f"NFA{body}{p3_checksum(body):02d}C"
        else:
            bits = ";".join(str(alarm >> bit & 1) for bit in range(8))
            text = f"{frequency};{load};{bits}"
        return text.encode() + EOL

    def _load_field(self, value: int) -> str:
        """The sign character and the 4-digit load difference."""
        difference = value - self.nominal_mhz
        sign = "+" if difference > 0 else "-" if difference < 0 else "0"
        excess = max(abs(difference) - LOAD_DEAD_BAND_MHZ, 0)
        load = min(excess * 46 // 3, LOAD_CAP)  # x 15.333..., truncated, in integers
        return f"{sign}{load:04d}"


def p3_checksum(body: str) -> int:
    """XOR of the characters from the first frequency digit through `M`, mod 100."""
    return reduce(lambda acc, char: acc ^ ord(char), body, 0) % 100


# --- profiles: the true grid frequency over simulated time ------------------------


def steady(millihertz: int = 50000) -> Profile:
    """A grid that never moves."""
    return lambda _t: millihertz


@dataclass
class RandomWalk:
    """A seeded, mean-reverting, smooth wander around `center` (mostly ±20 mHz)."""

    seed: int = 0
    center: int = 50000
    step_seconds: float = 1.0
    # Per step: pulls the value back to the centre over ~50 steps.
    reversion: float = 0.02
    # Per step: with the reversion above, a stationary spread of about 10 mHz.
    sigma_mhz: float = 2.0
    _points: list[float] = field(default_factory=lambda: [0.0], init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Seed the generator."""
        self._rng = random.Random(self.seed)

    def __call__(self, t: float) -> int:
        """The frequency at `t`, linearly interpolated between the walk's steps."""
        position = max(t, 0.0) / self.step_seconds
        index = math.floor(position)
        while len(self._points) <= index + 1:
            last = self._points[-1]
            self._points.append(
                last * (1 - self.reversion) + self._rng.gauss(0.0, self.sigma_mhz)
            )
        before, after = self._points[index], self._points[index + 1]
        return self.center + round(before + (after - before) * (position - index))


def random_walk(seed: int = 0, center: int = 50000) -> Profile:
    """A realistic quiet grid: a seeded random walk around `center`."""
    return RandomWalk(seed=seed, center=center)


def dip(
    to: int = 49800,
    at: float = 30.0,
    duration: float = 20.0,
    *,
    every: float | None = None,
    base: Profile | None = None,
) -> Profile:
    """`base` (steady 50 Hz), but `to` for `duration` s from `at`, every `every` s."""
    underlying = base if base is not None else steady()

    def profile(t: float) -> int:
        """The dip's value inside a dip, the base's value outside."""
        since = t - at
        if every is not None and since >= 0:
            since %= every
        return to if 0 <= since < duration else underlying(t)

    return profile


def _base(profile: Profile | None) -> Profile:
    """The profile a scenario adds to: steady 50 Hz unless given."""
    return profile if profile is not None else steady()


# The power market's schedule changes: (seconds after the hour, depth mHz). Generation
# ramps at the full hour and, less, at each quarter hour: the frequency falls within
# 20 s and recovers over 3 minutes.
SCHEDULE_CHANGES = ((0, 60), (900, 25), (1800, 25), (2700, 25))
SCHEDULE_FALL = 20.0
SCHEDULE_RECOVERY = 180.0


def trading_schedule(base: Profile | None = None) -> Profile:
    """`base` with the hour and quarter-hour dips of the trading schedule; t = 0 is a full hour."""
    underlying = _base(base)

    def profile(t: float) -> int:
        """The base, less the dip of the schedule change under way."""
        into_hour = t % 3600
        for at, depth in SCHEDULE_CHANGES:
            since = into_hour - at
            if 0 <= since < SCHEDULE_FALL:
                return underlying(t) - round(depth * since / SCHEDULE_FALL)
            if SCHEDULE_FALL <= since < SCHEDULE_FALL + SCHEDULE_RECOVERY:
                left = 1 - (since - SCHEDULE_FALL) / SCHEDULE_RECOVERY
                return underlying(t) - round(depth * left)
        return underlying(t)

    return profile


def oscillation(
    frequency: float = 0.2,
    amplitude: float = 20.0,
    *,
    at: float = 60.0,
    duration: float = 300.0,
    base: Profile | None = None,
) -> Profile:
    """`base` with a sine of `frequency` Hz and `amplitude` mHz for `duration` s from `at`."""
    underlying = _base(base)

    def profile(t: float) -> int:
        """The base, plus the sine while it lasts."""
        if at <= t < at + duration:
            swing = amplitude * math.sin(2 * math.pi * frequency * (t - at))
            return underlying(t) + round(swing)
        return underlying(t)

    return profile


def step(size: int = -80, at: float = 60.0, base: Profile | None = None) -> Profile:
    """`base`, moved by `size` mHz from `at` on: a power station tripping, say."""
    underlying = _base(base)
    return lambda t: underlying(t) + (size if t >= at else 0)


@dataclass
class Generator:
    """A seeded generator supply: its governor hunts around `center`, far more than a grid.

    A mean-reverting wander of a few hundred mHz, plus hunting at 0.5 Hz of 100 mHz.
    """

    seed: int = 0
    center: int = 50000
    _walk: RandomWalk = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """A wider, faster wander than the grid's."""
        self._walk = RandomWalk(
            seed=self.seed, center=self.center, step_seconds=0.5, sigma_mhz=40.0
        )

    def __call__(self, t: float) -> int:
        """The frequency at `t`."""
        return self._walk(t) + round(100 * math.sin(2 * math.pi * 0.5 * t))


# --- scenarios: timed byte streams of (absolute simulated seconds, bytes) ----------


def measure(board: MfmBoard, profile: Profile, t: float) -> int:
    """The value measured at `t`: the mean of both halves of the window up to `t`."""
    window = board.measurement_window
    return (profile(t - window / 4) + profile(t - 3 * window / 4)) // 2


def stream(
    board: MfmBoard,
    profile: Profile,
    *,
    start: float = 0.0,
    duration: float = math.inf,
    boot: bool = True,
    zero_line: bool = False,
) -> Iterator[tuple[float, bytes]]:
    """The board measuring `profile` from `start` for `duration` seconds.

    With `boot`, the board is reset and sends its banner at `start`; data lines follow
    BOOT_SECONDS later. With `zero_line`, the first line is the `00000` line some
    boards print before their first measurement.
    """
    first = start
    if boot:
        board.reset()
        yield start, board.banner()
        first = start + BOOT_SECONDS
    interval = board.line_interval
    for k in count():
        t = first + k * interval
        if t >= start + duration:
            return
        if zero_line and k == 0:
            yield t, board.zero_line()
        else:
            yield t, board.line(measure(board, profile, t), t)


def reboot_loop(
    board: MfmBoard,
    *,
    start: float = 0.0,
    duration: float = math.inf,
    period: float = 4.0,
) -> Iterator[tuple[float, bytes]]:
    """A board without mains: banner (with `*`), error line, reboot, every `period` s.

    Between banner and error, V1 sends `XXXXX` lines and V2 nothing. The two error
    texts alternate.
    """
    end = start + duration
    cycle = 0
    while (begin := start + cycle * period) < end:
        board.reset()
        yield begin, board.banner(signal_ok=False)
        error_at = begin + period - REBOOT_SECONDS
        if board.firmware is Firmware.V1:
            for k in count():
                t = begin + BOOT_SECONDS + k * board.line_interval
                if t >= min(error_at, end):
                    break
                yield t, NO_SIGNAL_LINE
        if error_at < end:
            yield error_at, ERROR_LINES[cycle % 2]
        cycle += 1
