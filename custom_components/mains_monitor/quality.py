"""A day's frequency quality, after EU SOGL Art. 131: time outside bands, spread, excursions.

Pure arithmetic on deviations from nominal (mHz) and arrival times (s); no Home Assistant.

- Time (`BandTime`, which the line voltage's day uses too): each reading stands for the
  time since the reading before it (the board's value is the mean of the mains periods
  before it was sent). Two readings further apart than `MAX_GAP` leave the time between
  them unmeasured: an outage or a restart is a gap, not time inside or outside a band.
- Spread: every reading counts once. The standard deviation is exact (Welford's running
  sums). Percentiles come from a histogram of 1 mHz bins, so they are exact to the bin:
  each is the nearest-rank percentile of the readings rounded to whole mHz, at most
  0.5 mHz from that of the unrounded readings. The histogram holds one count per mHz
  value seen, whatever the number of readings: a day at 7 readings a second within
  ±200 mHz keeps at most 401 bins.
- Excursions: a reading beyond ±50 mHz starts one; a reading within ends it. One that
  lasts more than 15 minutes is also counted as not restored in time. A gap ends an
  excursion without a verdict.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
import math
from typing import Any, Final

# SOGL's standard frequency range and the wider bands whose time outside is counted, mHz.
BANDS_MHZ: Final = (50, 100, 200)
STANDARD_RANGE_MHZ: Final = 50
# SOGL's time to restore the frequency into the standard range, s.
RESTORE_TIME: Final = 15 * 60
# The board sends 3-7 readings a second; readings further apart are a gap.
MAX_GAP: Final = 5.0
PERCENTILES: Final = (1, 5, 10, 90, 95, 99)


@dataclass(frozen=True, slots=True, kw_only=True)
class QualitySummary:
    """A day's figures so far."""

    measured: float  # s
    over: dict[int, float]  # band (mHz) -> s above +band
    under: dict[int, float]  # band (mHz) -> s below -band
    standard_deviation: float | None  # mHz
    percentiles: dict[int, int]  # percent -> mHz, nearest rank of whole-mHz readings
    excursions: int
    excursions_not_restored: int


class BandTime:
    """Time measured, and time beyond each band on either side, of readings with arrival times.

    Each reading stands for the time since the one before it; readings further apart
    than `max_gap` s leave the time between them unmeasured. A reading beyond +band
    (or below -band) counts; one right on it does not.
    """

    def __init__(self, bands: tuple[int, ...], max_gap: float) -> None:
        """Start with nothing measured."""
        self.bands = bands
        self.max_gap = max_gap
        self.measured = 0.0
        self.over = dict.fromkeys(bands, 0.0)
        self.under = dict.fromkeys(bands, 0.0)
        self._previous_time: float | None = None

    def add(self, deviation: float, timestamp: float) -> bool:
        """Count a reading `deviation` from nominal at `timestamp` s; False if it follows a gap."""
        previous, self._previous_time = self._previous_time, timestamp
        if previous is None or not 0 <= timestamp - previous <= self.max_gap:
            return False
        elapsed = timestamp - previous
        self.measured += elapsed
        for band in self.bands:
            if deviation > band:
                self.over[band] += elapsed
            elif deviation < -band:
                self.under[band] += elapsed
        return True

    def gap(self) -> None:
        """The readings stopped: the time until the next one is not measured."""
        self._previous_time = None

    def as_dict(self) -> dict[str, Any]:
        """The times, to be stored; the next reading after a restart follows a gap."""
        return {
            "measured": self.measured,
            "over": [self.over[band] for band in self.bands],
            "under": [self.under[band] for band in self.bands],
        }

    @classmethod
    def from_dict(
        cls, stored: dict[str, Any], bands: tuple[int, ...], max_gap: float
    ) -> BandTime:
        """The times as `as_dict` stored them."""
        time = cls(bands, max_gap)
        time.measured = stored["measured"]
        time.over = dict(zip(bands, stored["over"], strict=True))
        time.under = dict(zip(bands, stored["under"], strict=True))
        return time


class DayQuality:
    """Accumulates one day's readings in bounded memory."""

    def __init__(self) -> None:
        """Start an empty day."""
        self.time = BandTime(BANDS_MHZ, MAX_GAP)
        self.count = 0
        self._mean = 0.0
        self._squares = 0.0  # sum of squared differences from the mean (Welford)
        self.histogram: Counter[int] = Counter()
        self.excursions = 0
        self.excursions_not_restored = 0
        self._excursion_start: float | None = None
        self._excursion_late = False

    def add(self, deviation: float, timestamp: float) -> None:
        """Count one reading, `deviation` mHz from nominal, arrived at `timestamp` s."""
        self.count += 1
        delta = deviation - self._mean
        self._mean += delta / self.count
        self._squares += delta * (deviation - self._mean)
        self.histogram[round(deviation)] += 1
        if not self.time.add(deviation, timestamp):
            self._excursion_start = None
        self._track_excursion(deviation, timestamp)

    def _track_excursion(self, deviation: float, timestamp: float) -> None:
        """Start, end or age the excursion beyond the standard range."""
        outside = abs(deviation) > STANDARD_RANGE_MHZ
        start = self._excursion_start
        if start is None:
            if outside:
                self._excursion_start = timestamp
                self._excursion_late = False
                self.excursions += 1
            return
        if not outside:
            self._excursion_start = None
        elif not self._excursion_late and timestamp - start > RESTORE_TIME:
            self._excursion_late = True
            self.excursions_not_restored += 1

    def gap(self) -> None:
        """The readings stopped: the time until the next one is not measured."""
        self.time.gap()
        self._excursion_start = None

    def summary(self) -> QualitySummary:
        """The day's figures so far."""
        return QualitySummary(
            measured=self.time.measured,
            over=dict(self.time.over),
            under=dict(self.time.under),
            standard_deviation=(
                math.sqrt(self._squares / self.count) if self.count else None
            ),
            percentiles=self._percentiles(),
            excursions=self.excursions,
            excursions_not_restored=self.excursions_not_restored,
        )

    def _percentiles(self) -> dict[int, int]:
        """Nearest-rank percentiles of the histogram; empty before the first reading."""
        if not self.count:
            return {}
        ranks = {
            percent: math.ceil(percent / 100 * self.count) for percent in PERCENTILES
        }
        found: dict[int, int] = {}
        seen = 0
        pending = iter(PERCENTILES)
        percent = next(pending, None)
        for value in sorted(self.histogram):
            seen += self.histogram[value]
            while percent is not None and seen >= ranks[percent]:
                found[percent] = value
                percent = next(pending, None)
        return found

    def as_dict(self) -> dict[str, Any]:
        """The day so far, to be stored; the next reading after a restart starts after a gap."""
        return self.time.as_dict() | {
            "count": self.count,
            "mean": self._mean,
            "squares": self._squares,
            "histogram": [
                [value, count] for value, count in sorted(self.histogram.items())
            ],
            "excursions": self.excursions,
            "excursions_not_restored": self.excursions_not_restored,
        }

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> DayQuality:
        """The day as `as_dict` stored it."""
        day = cls()
        day.time = BandTime.from_dict(stored, BANDS_MHZ, MAX_GAP)
        day.count = stored["count"]
        day._mean = stored["mean"]
        day._squares = stored["squares"]
        day.histogram = Counter(dict(stored["histogram"]))
        day.excursions = stored["excursions"]
        day.excursions_not_restored = stored["excursions_not_restored"]
        return day
