"""Energy accounting for the ECM-1240 / ECM-1220: totals that never go back or jump."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from .protocol.ecm1240 import (
    AUX_CHANNELS,
    CHANNELS,
    COUNTER_BITS,
    POLARIZED_BITS,
    POLARIZED_CHANNELS,
    SECONDS_BITS,
    EcmPacket,
    counter_delta,
)

WATT_SECONDS_PER_KWH: Final = 3_600_000
# A seconds counter that seems to run backwards by less than half its range is an
# old packet delivered late, not a jump forward of three months.
MAX_GAP_SECONDS: Final = 1 << (SECONDS_BITS - 1)
# A serial line does not reorder: this many packets in a row behind the baseline,
# each following the one before, mean the unit started over without its reset
# counter showing it (the 3-bit counter wrapped, or the unit was swapped).
BACKWARD_PACKETS_BEFORE_RESYNC: Final = 3
# No channel of the unit can carry more (200 A CTs at 250 V is 50 kW); a larger
# step means its counters restarted without the reset counter changing.
MAX_PLAUSIBLE_WATTS: Final = 100_000


def to_kwh(watt_seconds: int) -> float:
    """An energy in watt-seconds, in kWh."""
    return watt_seconds / WATT_SECONDS_PER_KWH


def to_watt_seconds(kwh: float) -> int:
    """An energy in kWh, in whole watt-seconds."""
    return round(kwh * WATT_SECONDS_PER_KWH)


@dataclass(slots=True)
class ChannelCounters:
    """Watt-seconds summed over accepted packet pairs: all that passed, and the exported part."""

    absolute: int = 0
    polarized: int = 0

    @property
    def imported(self) -> int:
        """The watt-seconds that were not exported."""
        return self.absolute - self.polarized

    def drawn(self, *, net: bool) -> int:
        """The watt-seconds drawn: all that passed, or net of export (negative when exporting more)."""
        return self.imported - self.polarized if net else self.absolute

    def mean_watts(self, seconds: int, *, net: bool) -> float:
        """The mean power over the seconds: of all that passed, or net with export negative."""
        return self.drawn(net=net) / seconds


@dataclass(slots=True)
class Baseline:
    """The packet new ones are compared with."""

    device_id: str
    reset_counter: int
    seconds: int
    absolute: dict[str, int]
    polarized: dict[str, int]


def baseline_of(packet: EcmPacket) -> Baseline:
    """The counters of a packet, by channel."""
    absolute = {"ch1": packet.ch1_abs_ws, "ch2": packet.ch2_abs_ws}
    # An ECM-1220's packet has no AUX counters.
    absolute |= dict(zip(AUX_CHANNELS, packet.aux_ws, strict=False))
    return Baseline(
        device_id=packet.device_id,
        reset_counter=packet.reset_counter,
        seconds=packet.seconds,
        absolute=absolute,
        polarized={"ch1": packet.ch1_pol_ws, "ch2": packet.ch2_pol_ws},
    )


@dataclass(slots=True)
class Interval:
    """What accrued over one stretch of packet pairs."""

    seconds: int = 0
    channels: dict[str, ChannelCounters] = field(
        default_factory=lambda: {channel: ChannelCounters() for channel in CHANNELS}
    )

    def add(self, other: Interval) -> None:
        """Add another stretch to this one."""
        self.seconds += other.seconds
        for channel, counters in other.channels.items():
            self.channels[channel].absolute += counters.absolute
            self.channels[channel].polarized += counters.polarized


class EnergyLedger:
    """Adds up the energy between consecutive packets of one unit.

    A pair is used only when it is unambiguous: same unit, same reset counter,
    time moved forward, every counter moved forward by a plausible amount.
    Anything else moves the baseline (or not) but never a total.
    """

    def __init__(self, inverted: frozenset[str] = frozenset()) -> None:
        """Start with no baseline and zero totals.

        On the `inverted` channels the CT sits the other way round: what the
        polarized counter counts is imported, not exported. Only energy added
        from now on is counted that way; totals already counted stay as they are.
        """
        self.baseline: Baseline | None = None
        self.totals = Interval()
        self.inverted = inverted
        self.resyncs = 0
        self._behind: tuple[Baseline, int] | None = None

    def add(self, packet: EcmPacket) -> Interval | None:
        """Account one packet; return what accrued since the previous one, if usable."""
        baseline = self.baseline
        if baseline is not None and packet.device_id != baseline.device_id:
            return None  # another unit's packet: not ours to count
        if baseline is None or baseline.reset_counter != packet.reset_counter:
            self._resync(packet)
            return None
        elapsed = _seconds_between(baseline.seconds, packet.seconds)
        if elapsed == 0:
            return None  # a duplicate or a trigger burst within the same second
        new = baseline_of(packet)
        if elapsed >= MAX_GAP_SECONDS:
            # Time ran backwards: an old packet delivered late (its counters are
            # behind, or still), the unit's seconds counter reset (they ran on),
            # or a unit that started over (a run of packets behind).
            if _counters_ahead(baseline, new) or self._started_over(new):
                self._resync(packet)
            return None
        interval = _interval_between(baseline, new, elapsed)
        if interval is None:
            self._resync(packet)
            return None
        self.baseline = new
        self._behind = None
        for channel in self.inverted:
            counters = interval.channels[channel]
            counters.polarized = counters.absolute - counters.polarized
        self.totals.add(interval)
        return interval

    def _started_over(self, new: Baseline) -> bool:
        """Count a packet behind the baseline; True once they keep coming in order."""
        previous = self._behind
        follows = previous is not None and (
            0 < _seconds_between(previous[0].seconds, new.seconds) < MAX_GAP_SECONDS
        )
        count = previous[1] + 1 if previous is not None and follows else 1
        self._behind = (new, count)
        return count >= BACKWARD_PACKETS_BEFORE_RESYNC

    def _resync(self, packet: EcmPacket) -> None:
        """Take the packet as the new baseline without adding anything."""
        if self.baseline is not None:
            self.resyncs += 1
        self.baseline = baseline_of(packet)
        self._behind = None

    def raise_to(
        self, channel: str, *, absolute: int = 0, imported: int = 0, exported: int = 0
    ) -> bool:
        """Raise a channel's totals to what was shown of them; True if any rose.

        Exported energy is polarized, imported the rest of the absolute; more
        exported means as much more absolute.
        """
        counters = self.totals.channels[channel]
        before = (counters.absolute, counters.polarized)
        exported_missing = max(0, exported - counters.polarized)
        counters.polarized += exported_missing
        counters.absolute = max(
            counters.absolute + exported_missing,
            counters.polarized + imported,
            absolute,
        )
        return (counters.absolute, counters.polarized) != before

    def as_dict(self) -> dict[str, Any]:
        """The ledger as stored."""
        baseline = self.baseline
        return {
            "baseline": None
            if baseline is None
            else {
                "device_id": baseline.device_id,
                "reset_counter": baseline.reset_counter,
                "seconds": baseline.seconds,
                "absolute": baseline.absolute,
                "polarized": baseline.polarized,
            },
            "totals": {
                channel: [counters.absolute, counters.polarized]
                for channel, counters in self.totals.channels.items()
            },
        }

    @classmethod
    def from_dict(
        cls, stored: dict[str, Any], inverted: frozenset[str] = frozenset()
    ) -> EnergyLedger:
        """A ledger as it was stored."""
        ledger = cls(inverted)
        if (baseline := stored.get("baseline")) is not None:
            ledger.baseline = Baseline(**baseline)
        for channel, (absolute, polarized) in stored.get("totals", {}).items():
            if channel in ledger.totals.channels:
                ledger.totals.channels[channel] = ChannelCounters(absolute, polarized)
        return ledger


def _seconds_between(earlier: int, later: int) -> int:
    """How far the unit's seconds counter moved on, across its wrap."""
    return counter_delta(earlier, later, SECONDS_BITS)


def _counters_ahead(old: Baseline, new: Baseline) -> bool:
    """Whether `new`'s counters moved on from `old`'s: some forwards, none backwards."""
    moved = False
    for channel, value in new.absolute.items():
        bits = COUNTER_BITS[channel]
        forwards = counter_delta(old.absolute[channel], value, bits)
        if counter_delta(value, old.absolute[channel], bits) < forwards:
            return False
        moved = moved or forwards > 0
    return moved


def _interval_between(old: Baseline, new: Baseline, elapsed: int) -> Interval | None:
    """The counter steps between two packets; None if any is implausible."""
    if new.absolute.keys() != old.absolute.keys():
        return None
    limit = MAX_PLAUSIBLE_WATTS * elapsed
    interval = Interval(seconds=elapsed)
    for channel, value in new.absolute.items():
        absolute = counter_delta(old.absolute[channel], value, COUNTER_BITS[channel])
        polarized = 0
        if channel in POLARIZED_CHANNELS:
            polarized = counter_delta(
                old.polarized[channel], new.polarized[channel], POLARIZED_BITS
            )
        if absolute > limit or polarized > absolute:
            return None
        interval.channels[channel] = ChannelCounters(absolute, polarized)
    return interval
