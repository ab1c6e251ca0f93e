"""A day's line voltage after EN 50160: the time above +10 % and below -10 % of nominal.

Pure arithmetic on the unit's voltages (0.1 V resolution, compared in whole tenths)
and arrival times (s); no Home Assistant.

- Time: counted packet by packet, as the board's frequency is (`quality.BandTime`):
  each packet's voltage stands for the time since the packet before it; packets
  further apart than `max_gap` (the entry's silence timeout) leave the time between
  them unmeasured.
- EN 50160 judges 10-minute means of the r.m.s. voltage (95 % of a week's within
  ±10 %); this counts per packet instead: a sag of two minutes counts two minutes
  here, though it may leave its 10-minute mean within the band.
- Limits: above nominal + 10 % is outside, right on it is within (253.0 V on 230 V is
  within, 253.1 V is not).
- Nominal: 120 or 230 V, as the option says; automatic: the first packet within
  ±15 % of either decides (102-138 V or 195.5-264.5 V; no voltage is near both).
  Until one does, nothing is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .quality import BandTime

NOMINAL_VOLTAGES: Final = (120, 230)
# EN 50160's band around nominal, %.
LIMIT_PERCENT: Final = 10
# The automatic choice: a voltage this close to a nominal one decides it, %.
AUTO_WINDOW_PERCENT: Final = 15


def tenths(voltage: float) -> int:
    """A voltage in whole tenths of a volt, the unit's resolution."""
    return round(voltage * 10)


def nominal_of(voltage: float) -> int | None:
    """The nominal voltage within ±15 % of `voltage`; None when it is near neither."""
    for nominal in NOMINAL_VOLTAGES:
        # |V - n| <= n x 15 / 100, in whole tenths of a volt times 100.
        if abs(tenths(voltage) - 10 * nominal) * 100 <= 10 * nominal * (
            AUTO_WINDOW_PERCENT
        ):
            return nominal
    return None


def _band(nominal: int) -> int:
    """10 % of `nominal`, in tenths of a volt."""
    return nominal * LIMIT_PERCENT // 10


@dataclass(frozen=True, slots=True, kw_only=True)
class VoltageSummary:
    """A day's voltage figures so far."""

    nominal: int | None  # V; None: automatic, not decided yet
    measured: float  # s
    over: float  # s above nominal + 10 %
    under: float  # s below nominal - 10 %


class VoltageDay:
    """Accumulates one day's line voltages in constant memory."""

    def __init__(self, nominal: int | None, max_gap: float) -> None:
        """Start an empty day on `nominal` V (None: the first packet near one decides)."""
        self.max_gap = max_gap
        self.nominal = nominal
        self.time: BandTime | None = None
        if nominal is not None:
            self.time = BandTime((_band(nominal),), max_gap)

    def add(self, voltage: float, timestamp: float) -> None:
        """Count one packet's `voltage` (V), arrived at `timestamp` s."""
        nominal = self.nominal if self.nominal is not None else nominal_of(voltage)
        if nominal is None:
            return
        if self.time is None:
            self.nominal = nominal
            self.time = BandTime((_band(nominal),), self.max_gap)
        self.time.add(tenths(voltage) - 10 * nominal, timestamp)

    def gap(self) -> None:
        """The packets stopped: the time until the next one is not measured."""
        if self.time is not None:
            self.time.gap()

    def next_day(self) -> VoltageDay:
        """An empty day on the same nominal voltage."""
        return VoltageDay(self.nominal, self.max_gap)

    def summary(self) -> VoltageSummary:
        """The day's figures so far."""
        time = self.time
        if time is None:
            return VoltageSummary(nominal=None, measured=0.0, over=0.0, under=0.0)
        (band,) = time.bands
        return VoltageSummary(
            nominal=self.nominal,
            measured=time.measured,
            over=time.over[band],
            under=time.under[band],
        )

    def as_dict(self) -> dict[str, Any] | None:
        """The day so far, to be stored; None before a nominal voltage is known."""
        if self.time is None:
            return None
        return self.time.as_dict() | {"nominal": self.nominal}

    @classmethod
    def from_dict(cls, stored: dict[str, Any], max_gap: float) -> VoltageDay:
        """The day as `as_dict` stored it; its next packet follows a gap."""
        nominal: int = stored["nominal"]
        day = cls(nominal, max_gap)
        day.time = BandTime.from_dict(stored, (_band(nominal),), max_gap)
        return day
