"""The board's calibration offset, worked out from a reference.

Pure arithmetic; no Home Assistant. Offsets are in mHz, added to every reading.

- Official grid time: over `covered` s of readings, the board's grid time count moved
  by C s and the official grid time deviation by O s. A board that reads e Hz high
  counts e / f0 s more each second: e = (C - O) * f0 / covered, and the offset falls
  by e. The official figures are taken as read to 0.1 s; the period must be long
  enough for that to make 1 mHz or less: 0.1 s * f0 / 1 mHz, 5000 s (1 h 23 min)
  on a 50 Hz grid, 6000 s on a 60 Hz one. The count may have missed at most 1 % of
  the time since it began: what the grid did while it was not counting is unknown.
- Reference reading: a reference's mean frequency over the last minutes against the
  board's mean of its 1-second means over the same seconds (the last hour is kept),
  less the offset in force: the offset becomes reference - uncalibrated mean. At
  least 90 % of the period's seconds must have readings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import math
from typing import Final

GRID_TIME_RESOLUTION: Final = 0.1  # s, how the official figures are read
FINEST_OFFSET: Final = 1.0  # mHz the official figures must resolve over the period
GAP_ALLOWANCE: Final = 0.01  # of the time since the count began
REFERENCE_COVERAGE: Final = 0.9  # of the period's seconds with readings
OFFSET_LIMIT: Final = 100.0  # mHz, the options form's bounds


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no offset can be worked out: a form error key and the figures its text shows."""

    error: str
    placeholders: Mapping[str, str] = field(default_factory=dict)


def minimum_period(nominal: int) -> float:
    """The seconds of counting after which 0.1 s of grid time makes 1 mHz."""
    return GRID_TIME_RESOLUTION * nominal * 1000 / FINEST_OFFSET


def offset_from_grid_time(
    *,
    offset: float,
    nominal: int,
    counted: float,
    official_change: float,
    covered: float | None,
    elapsed: float,
) -> float | Refusal:
    """The offset (mHz) that makes the board's count of `covered` s agree with the official change (s).

    `offset` is the one in force while it counted, `elapsed` the seconds since it began.
    """
    if covered is None:
        return Refusal("count_unknown")
    if covered < minimum_period(nominal):
        return Refusal(
            "period_too_short",
            {
                "counted_for": duration(covered),
                "minimum": duration(minimum_period(nominal)),
            },
        )
    if elapsed - covered > GAP_ALLOWANCE * elapsed:
        return Refusal("count_has_gaps", {"missed": duration(elapsed - covered)})
    error = (counted - official_change) * nominal / covered * 1000
    return within_limits(offset - error)


def offset_from_reference(
    *, offset: float, nominal: int, reference: float, means: list[float], period: int
) -> float | Refusal:
    """The offset (mHz) that makes the board's mean agree with `reference` (Hz).

    `means` are the board's calibrated 1-second means (mHz from nominal) of the last
    `period` s, taken with `offset` in force.
    """
    if len(means) < REFERENCE_COVERAGE * period:
        return Refusal(
            "too_few_readings", {"seconds": str(len(means)), "period": str(period)}
        )
    uncalibrated = nominal + (math.fsum(means) / len(means) - offset) / 1000
    return within_limits((reference - uncalibrated) * 1000)


def within_limits(offset: float) -> float | Refusal:
    """`offset` to 0.1 mHz, as the options form takes it; refused beyond its bounds."""
    value = round(offset, 1) + 0.0  # no -0.0
    if abs(value) > OFFSET_LIMIT:
        return Refusal("offset_out_of_range", {"offset": f"{value:+.1f}"})
    return value


def duration(seconds: float) -> str:
    """Seconds as hours and minutes, "1 h 23 min"."""
    minutes = math.floor(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
