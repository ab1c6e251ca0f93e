"""Disturbances of the mains frequency: fast changes, steps and oscillations, one event each.

Pure arithmetic on deviations from nominal (mHz) and arrival times (s); no Home Assistant.

- Rate of change (RoCoF): the least-squares slope of the readings of the last second.
- Step: the mean of the last second against the mean of the ten seconds before it.
- Oscillation: every 10 s, the readings of the last 120 s are averaged into 0.5 s bins,
  freed of their straight-line trend and analysed by a discrete Fourier transform; a
  component between 0.05 Hz and the bins' Nyquist limit (1 Hz) with an amplitude at the
  threshold that carries at least half the power in that band, seen in three analyses in
  a row at the same frequency (±1 bin), is sustained.
- One disturbance is one event: every trigger within 60 s of the previous one belongs to
  the same disturbance, which ends 60 s after its last trigger (or at a gap in the
  readings, or after 10 minutes). It carries the readings from 60 s before its first
  trigger to 60 s after its last.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
import math
from typing import Final

import numpy as np

ROCOF_WINDOW: Final = 1.0  # s
STEP_WINDOW: Final = 1.0  # s
STEP_BASELINE: Final = 10.0  # s before the step window
ANALYSIS_EVERY: Final = 10.0  # s
ANALYSIS_WINDOW: Final = 120.0  # s
BIN: Final = 0.5  # s
LOWEST_OSCILLATION: Final = 0.05  # Hz
SUSTAINED_ANALYSES: Final = 3
PERIODIC_SHARE: Final = 0.5
MERGE_GAP: Final = 60.0  # s: also the readings kept after the last trigger
LEAD_TIME: Final = 60.0  # s of readings kept before the first trigger
LONGEST: Final = 10 * 60.0  # s
# Readings apart more than this are a gap, as for the day's quality.
MAX_GAP: Final = 5.0  # s

DEFAULT_ROCOF: Final = 50.0  # mHz/s
DEFAULT_STEP: Final = 30.0  # mHz
DEFAULT_OSCILLATION: Final = 10.0  # mHz


class DisturbanceKind(StrEnum):
    """What triggered a disturbance."""

    ROCOF = "rocof"
    STEP = "step"
    OSCILLATION = "oscillation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """From which size on a change is a disturbance."""

    rocof: float = DEFAULT_ROCOF  # mHz/s
    step: float = DEFAULT_STEP  # mHz
    oscillation: float = DEFAULT_OSCILLATION  # mHz, amplitude


@dataclass(frozen=True, slots=True, kw_only=True)
class Disturbance:
    """One disturbance, from its first trigger to its last."""

    kinds: tuple[DisturbanceKind, ...]  # in the order first seen
    start: float  # s
    end: float  # s
    peak_deviation: float  # mHz, signed: the reading farthest from nominal
    peak_rocof: float  # mHz/s, signed
    oscillation_frequency: float | None  # Hz
    oscillation_amplitude: float | None  # mHz
    # Its readings from LEAD_TIME before to MERGE_GAP after, as `readings_csv` writes
    # them: a few hundred kB at most for the five kept, where tuples would take MBs.
    csv: str

    @property
    def duration(self) -> float:
        """Seconds from the first trigger to the last."""
        return self.end - self.start


@dataclass(slots=True)
class _Open:
    """The disturbance under way."""

    start: float
    end: float
    kinds: list[DisturbanceKind] = field(default_factory=list)
    peak_rocof: float = 0.0
    oscillation: tuple[float, float] | None = None  # (Hz, mHz), the largest seen


def least_squares_slope(points: list[tuple[float, float]]) -> float | None:
    """The slope of the best straight line through (x, y) points; None without two x."""
    count = len(points)
    if count < 2:
        return None
    mean_x = math.fsum(x for x, _ in points) / count
    mean_y = math.fsum(y for _, y in points) / count
    spread = math.fsum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return math.fsum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def strongest_oscillation(
    readings: list[tuple[float, float]], end: float
) -> tuple[float, float] | None:
    """The strongest periodic component of the readings in the window ending at `end`.

    (frequency Hz, amplitude mHz), or None when a 0.5 s bin of the window is empty or
    when no component stands out: with its two neighbours (where a frequency between two
    bins leaks) it must carry PERIODIC_SHARE of the power above 0.05 Hz. A single dip or
    step spreads its power over many frequencies; a sustained oscillation does not.
    """
    bins = int(ANALYSIS_WINDOW / BIN)
    start = end - ANALYSIS_WINDOW
    sums = np.zeros(bins)
    counts = np.zeros(bins)
    for time, deviation in readings:
        index = math.floor((time - start) / BIN)
        if 0 <= index < bins:
            sums[index] += deviation
            counts[index] += 1
    if not counts.all():
        return None
    series = sums / counts
    times = np.arange(bins) * BIN
    series = series - np.polyval(np.polyfit(times, series, 1), times)
    spectrum = np.abs(np.fft.rfft(series)) * 2 / bins
    frequencies = np.fft.rfftfreq(bins, BIN)
    usable = frequencies >= LOWEST_OSCILLATION
    power = np.where(usable, spectrum**2, 0.0)
    strongest = int(np.argmax(power))
    if power[strongest - 1 : strongest + 2].sum() < PERIODIC_SHARE * power.sum():
        return None
    return float(frequencies[strongest]), float(spectrum[strongest])


def _rocof(window: list[tuple[float, float]], now: float) -> float | None:
    """The rate of change (mHz/s) of the window's last second; None with fewer than 3 readings."""
    recent = [point for point in window if point[0] > now - ROCOF_WINDOW]
    return least_squares_slope(recent) if len(recent) >= 3 else None


def readings_csv(readings: Iterable[tuple[float, float]]) -> str:
    """Readings as CSV: arrival time (Unix seconds, to the ms) and deviation (mHz, to 0.1)."""
    rows = (f"{time:.3f},{deviation:.1f}" for time, deviation in readings)
    return "\n".join(("time,deviation_mhz", *rows)) + "\n"


class DisturbanceDetector:
    """Finds disturbances in the readings, in bounded memory."""

    def __init__(self, thresholds: Thresholds) -> None:
        """Start with no reading seen."""
        self.thresholds = thresholds
        self._readings: deque[tuple[float, float]] = deque()
        self._open: _Open | None = None
        self._next_analysis: float | None = None
        # Consecutive analyses with a strong component: (Hz, mHz) each.
        self._oscillating: list[tuple[float, float]] = []

    def add(self, deviation: float, timestamp: float) -> Disturbance | None:
        """Count one reading; return the disturbance it completes, if any."""
        readings = self._readings
        if readings and not 0 <= timestamp - readings[-1][0] <= MAX_GAP:
            finished = self.gap()
        else:
            finished = None
        readings.append((timestamp, deviation))
        finished = self._close_if_over(timestamp) or finished
        # Every per-reading test looks at most this far back.
        window = self._since(timestamp - STEP_WINDOW - STEP_BASELINE)
        slope = _rocof(window, timestamp)
        triggers = self._triggers(window, slope, timestamp)
        if triggers:
            self._extend(triggers, timestamp)
        if (
            self._open is not None
            and slope is not None
            and abs(slope) > abs(self._open.peak_rocof)
        ):
            self._open.peak_rocof = slope
        self._forget_before(timestamp)
        return finished

    def gap(self) -> Disturbance | None:
        """The readings stopped: close a disturbance under way and start afresh."""
        finished = None if self._open is None else self._close(self._open)
        self._readings.clear()
        self._next_analysis = None
        self._oscillating = []
        return finished

    def _since(self, start: float) -> list[tuple[float, float]]:
        """The readings after `start`, oldest first (read from the newest end)."""
        found = []
        for point in reversed(self._readings):
            if point[0] <= start:
                break
            found.append(point)
        found.reverse()
        return found

    def _triggers(
        self, window: list[tuple[float, float]], slope: float | None, now: float
    ) -> list[DisturbanceKind]:
        """What the readings up to `now` (the last ones in `window`) trigger."""
        found = []
        if slope is not None and abs(slope) >= self.thresholds.rocof:
            found.append(DisturbanceKind.ROCOF)
        if self._step(window, now):
            found.append(DisturbanceKind.STEP)
        if self._oscillation(now):
            found.append(DisturbanceKind.OSCILLATION)
        return found

    def _step(self, window: list[tuple[float, float]], now: float) -> bool:
        """Whether the last second's mean stands off the ten seconds' before it."""
        if now - self._readings[0][0] < STEP_WINDOW + STEP_BASELINE:
            return False
        split = now - STEP_WINDOW
        last = [d for t, d in window if t > split]
        before = [d for t, d in window if t <= split]
        if not last or not before:
            return False
        shift = math.fsum(last) / len(last) - math.fsum(before) / len(before)
        return abs(shift) >= self.thresholds.step

    def _oscillation(self, now: float) -> bool:
        """Whether a sustained oscillation shows, analysed every ANALYSIS_EVERY seconds."""
        if self._next_analysis is None:
            self._next_analysis = self._readings[0][0] + ANALYSIS_WINDOW
        if now < self._next_analysis:
            return False
        self._next_analysis = now + ANALYSIS_EVERY
        found = strongest_oscillation(list(self._readings), now)
        if found is None or found[1] < self.thresholds.oscillation:
            self._oscillating = []
            return False
        resolution = 1 / ANALYSIS_WINDOW
        if (
            self._oscillating
            and abs(found[0] - self._oscillating[-1][0]) > resolution * 1.5
        ):
            self._oscillating = []
        self._oscillating.append(found)
        return len(self._oscillating) >= SUSTAINED_ANALYSES

    def _extend(self, triggers: list[DisturbanceKind], now: float) -> None:
        """Start a disturbance, or carry the one under way on to `now`."""
        if self._open is None:
            self._open = _Open(start=now, end=now)
        disturbance = self._open
        disturbance.end = now
        for kind in triggers:
            if kind not in disturbance.kinds:
                disturbance.kinds.append(kind)
        if DisturbanceKind.OSCILLATION in triggers:
            strongest = max(self._oscillating, key=lambda found: found[1])
            if (
                disturbance.oscillation is None
                or strongest[1] > disturbance.oscillation[1]
            ):
                disturbance.oscillation = strongest

    def _close_if_over(self, now: float) -> Disturbance | None:
        """Close the disturbance under way once it is quiet or too long."""
        disturbance = self._open
        if disturbance is None:
            return None
        if now - disturbance.end > MERGE_GAP or now - disturbance.start > LONGEST:
            return self._close(disturbance)
        return None

    def _close(self, disturbance: _Open) -> Disturbance:
        """The disturbance under way, finished, with its readings."""
        self._open = None
        self._oscillating = []
        first, last = disturbance.start - LEAD_TIME, disturbance.end + MERGE_GAP
        readings = tuple(point for point in self._readings if first <= point[0] <= last)
        during = [d for t, d in readings if disturbance.start <= t <= disturbance.end]
        return Disturbance(
            kinds=tuple(disturbance.kinds),
            start=disturbance.start,
            end=disturbance.end,
            peak_deviation=max(during, key=abs),
            peak_rocof=disturbance.peak_rocof,
            oscillation_frequency=(
                None if disturbance.oscillation is None else disturbance.oscillation[0]
            ),
            oscillation_amplitude=(
                None if disturbance.oscillation is None else disturbance.oscillation[1]
            ),
            csv=readings_csv(readings),
        )

    def _forget_before(self, now: float) -> None:
        """Drop readings nothing needs: older than the analysis window and the lead time."""
        keep_from = now - max(ANALYSIS_WINDOW, LEAD_TIME + MERGE_GAP)
        if self._open is not None:
            keep_from = min(keep_from, self._open.start - LEAD_TIME)
        readings = self._readings
        while readings and readings[0][0] < keep_from:
            readings.popleft()
