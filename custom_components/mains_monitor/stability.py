"""The grid's time correction and the readings' stability, from recent readings.

Pure arithmetic on deviations from nominal (mHz) and arrival times (s); no Home Assistant.

- Time correction: Continental Europe's grid time is corrected by moving the frequency
  setpoint 10 mHz (Swissgrid sets it daily): down while the grid time deviation is beyond
  +20 s, up while it is beyond -20 s. `expected_correction` gives that rule's offset for a
  grid time deviation; `Recent.mean_deviation` the mean deviation of the last 3 hours,
  from which `inferred_correction` names the offset in force, if the mean is near one.
- Stability: the Allan deviation at 1, 10 and 100 s of the readings' 1-second means over
  the last hour. A crystal that drifts shows at long averaging times; the grid's own
  wander shows at all of them.
- Island or generator: judged on the last minute's 1-second means. A large grid moves
  slowly: its Allan deviation at 1 s is 1-3 mHz and the spread of a minute's means
  5-15 mHz; a step (a power station tripping) or an inter-area oscillation of 20 mHz
  raises them to about 40 and 15 mHz. A generator's governor hunts: tens of mHz from
  one second to the next. The supply is taken for an island above 32 mHz (Allan, 1 s)
  or 120 mHz (spread), and for the grid again below 16 and 60 mHz; between, the
  verdict stays.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
import itertools
import math
import statistics
from typing import Final

GRID_TIME_LIMIT: Final = 20.0  # s
CORRECTION_MHZ: Final = 10
CORRECTIONS: Final = (-CORRECTION_MHZ, 0, CORRECTION_MHZ)
# A mean this close to a setpoint offset is taken for it, mHz.
INFERENCE_MARGIN: Final = 3.0
CORRECTION_WINDOW: Final = 3 * 3600  # s
# At least an hour of readings before a correction is inferred.
INFERENCE_MINIMUM: Final = 3600  # s
ALLAN_TAUS: Final = (1, 10, 100)  # s
ALLAN_WINDOW: Final = 3600  # s of 1-second means
# An hour's Allan deviations move slowly: worked out again after this many new means,
# not at every update (an hour of means takes milliseconds).
ALLAN_REFRESH: Final = 60
ISLAND_WINDOW: Final = 60  # s of 1-second means judged
ISLAND_MINIMUM: Final = 30  # 1-second means needed for a verdict
# Allan deviation at 1 s and spread of the means (mHz): the grid below the first, an
# island above the second.
ISLAND_WANDER: Final = (16.0, 32.0)
ISLAND_SPREAD: Final = (60.0, 120.0)


def expected_correction(grid_time_deviation: float) -> int:
    """The setpoint offset (mHz) the grid time deviation (s) calls for."""
    if grid_time_deviation > GRID_TIME_LIMIT:
        return -CORRECTION_MHZ
    if grid_time_deviation < -GRID_TIME_LIMIT:
        return CORRECTION_MHZ
    return 0


def inferred_correction(mean_deviation: float | None, seconds: float) -> int | None:
    """The setpoint offset (mHz) a mean deviation over `seconds` shows; None if it shows none."""
    if mean_deviation is None or seconds < INFERENCE_MINIMUM:
        return None
    nearest = min(CORRECTIONS, key=lambda offset: abs(mean_deviation - offset))
    return nearest if abs(mean_deviation - nearest) <= INFERENCE_MARGIN else None


def allan_deviation(means: list[tuple[int, float]], tau: int) -> float | None:
    """The Allan deviation (mHz) at `tau` s of 1-second means given as (second, mean).

    Means are averaged in blocks of `tau` consecutive seconds; only blocks next to each
    other, with no missing second between or inside them, are compared. None without two.
    """
    differences = [
        later - earlier
        for (start, earlier), (next_start, later) in itertools.pairwise(
            _blocks(means, tau)
        )
        if next_start - start == tau
    ]
    if not differences:
        return None
    return math.sqrt(math.fsum(d * d for d in differences) / (2 * len(differences)))


def _blocks(means: list[tuple[int, float]], tau: int) -> Iterator[tuple[int, float]]:
    """The means of whole blocks of `tau` consecutive seconds, by their first second."""
    start = previous = -2
    total = 0.0
    count = 0
    for second, mean in means:
        if second != previous + 1:
            start, total, count = second, 0.0, 0
        previous = second
        total += mean
        count += 1
        if count == tau:
            yield start, total / tau
            start, total, count = second + 1, 0.0, 0


def island(means: list[tuple[int, float]], previous: bool | None) -> bool | None:
    """Whether the last minute's 1-second means show an island or generator supply.

    None with fewer than ISLAND_MINIMUM means; `previous` while between the limits.
    """
    if len(means) < ISLAND_MINIMUM:
        return None
    wander = allan_deviation(means, 1) or 0.0
    spread = statistics.pstdev(mean for _, mean in means)
    if wander > ISLAND_WANDER[1] or spread > ISLAND_SPREAD[1]:
        return True
    if wander < ISLAND_WANDER[0] and spread < ISLAND_SPREAD[0]:
        return False
    return previous


class Recent:
    """The last hours of readings, kept as 1-second and 1-minute means in bounded memory."""

    def __init__(self) -> None:
        """Start with nothing seen."""
        self.seconds: deque[tuple[int, float]] = deque(maxlen=ALLAN_WINDOW)
        self._closed = 0  # 1-second means kept so far
        self._allan: tuple[int, dict[int, float | None]] | None = None
        self._minutes: deque[tuple[int, float, int]] = deque(
            maxlen=CORRECTION_WINDOW // 60
        )
        self._second: int | None = None
        self._second_sum = 0.0
        self._second_count = 0

    def add(self, deviation: float, timestamp: float) -> None:
        """Count one reading, `deviation` mHz from nominal, arrived at `timestamp` s."""
        second = int(timestamp)
        if second != self._second:
            self._close_second()
            self._second = second
        self._second_sum += deviation
        self._second_count += 1
        minute = second // 60
        if self._minutes and self._minutes[-1][0] == minute:
            _, total, count = self._minutes[-1]
            self._minutes[-1] = (minute, total + deviation, count + 1)
        else:
            self._minutes.append((minute, deviation, 1))

    def _close_second(self) -> None:
        """Keep the mean of the second that ended."""
        if self._second is not None and self._second_count:
            self.seconds.append((self._second, self._second_sum / self._second_count))
            self._closed += 1
        self._second_sum = 0.0
        self._second_count = 0

    def gap(self) -> None:
        """The readings stopped: the open second's readings never complete a mean."""
        self._second = None
        self._second_sum = 0.0
        self._second_count = 0

    def covered(self, now: float) -> float:
        """Seconds from the oldest kept minute to `now`, within the correction window."""
        if not self._minutes:
            return 0.0
        return min(now - self._minutes[0][0] * 60, CORRECTION_WINDOW)

    def mean_deviation(self, now: float) -> float | None:
        """The mean deviation (mHz) of the readings in the correction window before `now`."""
        oldest = (now - CORRECTION_WINDOW) // 60
        kept = [
            (total, count) for minute, total, count in self._minutes if minute >= oldest
        ]
        readings = sum(count for _, count in kept)
        if not readings:
            return None
        return math.fsum(total for total, _ in kept) / readings

    def last_seconds(self, seconds: int, now: float) -> list[tuple[int, float]]:
        """The 1-second means of the last `seconds` before `now`."""
        oldest = now - seconds
        found = []
        for point in reversed(self.seconds):
            if point[0] < oldest:
                break
            found.append(point)
        found.reverse()
        return found

    def means_after(self, oldest: float) -> list[float]:
        """The 1-second means (mHz) of the seconds after `oldest`, the open second's included."""
        found = [mean for second, mean in self.seconds if second > oldest]
        if self._second is not None and self._second_count and self._second > oldest:
            found.append(self._second_sum / self._second_count)
        return found

    def allan_deviations(self) -> dict[int, float | None]:
        """The Allan deviation (mHz) at each of ALLAN_TAUS; the same until ALLAN_REFRESH new means.

        While fewer means than that are kept, every call works them out afresh.
        """
        if self._allan is not None and (
            self._closed - self._allan[0] < ALLAN_REFRESH <= len(self.seconds)
        ):
            return self._allan[1]
        means = list(self.seconds)
        found = {tau: allan_deviation(means, tau) for tau in ALLAN_TAUS}
        self._allan = (self._closed, found)
        return found
