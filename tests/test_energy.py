"""The ECM energy ledger: totals that never go back or jump, whatever the stream does.

Packets come from the simulated unit as bytes and are decoded by the real parser. Every
expected value is the energy the test applied, worked out here as watts * seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import json
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.energy import (
    BACKWARD_PACKETS_BEFORE_RESYNC,
    ChannelCounters,
    EnergyLedger,
    Interval,
    to_kwh,
    to_watt_seconds,
)
from custom_components.mains_monitor.protocol.ecm1240 import (
    CHANNELS,
    EcmPacket,
    EcmParser,
)
from simulator.ecm1240 import (
    AUX_CHANNELS,
    EcmModel,
    EcmUnit,
    Loads,
    start_near_wraps,
)

BOUNDED = settings(max_examples=200, deadline=None)
HOUR = 3600
TWO_40 = 1 << 40
TWO_32 = 1 << 32
TWO_24 = 1 << 24

# Watt-seconds per channel: (absolute, polarized). Polarized counts export only.
type Energy = dict[str, tuple[int, int]]

IMPORT_1KW = Loads(ch1_watts=1000)
HOUSE = Loads(ch1_watts=1800, ch2_watts=-2500, aux_watts=(60, 25, 0, 310, 1500))
QUIET = Loads(ch1_watts=200, ch2_watts=-40, aux_watts=(10, 0, 5, 0, 0))


# --- helpers -------------------------------------------------------------------------


def decode(data: bytes) -> EcmPacket:
    """The one packet in `data`, as the integration's parser reads it."""
    (packet,) = EcmParser().feed(data)
    return packet


def step(unit: EcmUnit, seconds: int, loads: Loads) -> EcmPacket:
    """Run the unit for `seconds` under `loads`; the packet it sends then."""
    unit.advance(seconds, loads)
    return decode(unit.packet())


def zero() -> Energy:
    """No energy on any channel."""
    return dict.fromkeys(CHANNELS, (0, 0))


def applied(loads: Loads, seconds: int, *, aux: bool = True) -> Energy:
    """What `loads` put on each channel in `seconds`; AUX stays 0 for a unit without it."""
    energy = zero()
    for channel, watts in (("ch1", loads.ch1_watts), ("ch2", loads.ch2_watts)):
        whole = int(watts)
        assert whole == watts, "tests use whole watts"
        energy[channel] = (abs(whole) * seconds, -whole * seconds if whole < 0 else 0)
    if aux:
        for number, watts in enumerate(loads.aux_watts, start=1):
            energy[f"aux{number}"] = (int(watts) * seconds, 0)
    return energy


def plus(*parts: Energy) -> Energy:
    """The channel-by-channel sum."""
    total = zero()
    for part in parts:
        for channel, (absolute, polarized) in part.items():
            before = total[channel]
            total[channel] = (before[0] + absolute, before[1] + polarized)
    return total


def totals(ledger: EnergyLedger) -> Energy:
    """The ledger's totals, by channel."""
    return channels_of(ledger.totals)


def channels_of(interval: Interval) -> Energy:
    """An interval's counters, by channel."""
    return {
        channel: (counters.absolute, counters.polarized)
        for channel, counters in interval.channels.items()
    }


def started(unit: EcmUnit) -> EnergyLedger:
    """A ledger that has seen the unit's current packet (its baseline)."""
    ledger = EnergyLedger()
    assert ledger.add(decode(unit.packet())) is None
    return ledger


def restored(ledger: EnergyLedger) -> EnergyLedger:
    """The ledger after a Home Assistant restart: stored as JSON, read back."""
    stored: dict[str, Any] = json.loads(json.dumps(ledger.as_dict()))
    return EnergyLedger.from_dict(stored)


# --- steady flows --------------------------------------------------------------------


def test_first_packet_is_the_baseline_and_adds_nothing() -> None:
    """The first packet only tells where the counters stand."""
    unit = EcmUnit(ch1_abs_ws=5_000_000, aux_ws=[1, 2, 3, 4, 5])
    ledger = started(unit)
    assert totals(ledger) == zero()
    assert ledger.totals.seconds == 0
    assert ledger.resyncs == 0


def test_one_kilowatt_for_an_hour_on_ch1_is_one_kwh_imported() -> None:
    """1 000 W on CH1 for 3 600 s: 3 600 000 Ws absolute, nothing polarized."""
    unit = EcmUnit()
    ledger = started(unit)
    for _ in range(60):
        ledger.add(step(unit, 60, IMPORT_1KW))
    assert totals(ledger)["ch1"] == (3_600_000, 0)
    assert totals(ledger) == applied(IMPORT_1KW, HOUR)
    assert ledger.totals.seconds == HOUR


def test_export_on_ch2_advances_absolute_and_polarized() -> None:
    """2 500 W exported on CH2 for 10 min: both counters step; imported 0, exported all."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 600, Loads(ch2_watts=-2500)))
    absolute, polarized = totals(ledger)["ch2"]
    assert (absolute, polarized) == (1_500_000, 1_500_000)
    assert absolute - polarized == 0  # imported
    assert polarized == 1_500_000  # exported


def test_import_and_export_in_one_pair_split_into_imported_and_exported() -> None:
    """1 000 W in for 60 s then 400 W out for 30 s: 60 000 Ws imported, 12 000 exported."""
    unit = EcmUnit()
    ledger = started(unit)
    unit.advance(60, Loads(ch1_watts=1000))
    unit.advance(30, Loads(ch1_watts=-400))
    ledger.add(decode(unit.packet()))
    absolute, polarized = totals(ledger)["ch1"]
    assert absolute - polarized == 60_000
    assert polarized == 12_000


def test_aux_channels_count_their_own_energy() -> None:
    """Each AUX channel sums its own load; CH1/CH2 stay at zero."""
    unit = EcmUnit()
    ledger = started(unit)
    loads = Loads(aux_watts=(60, 25, 0, 310, 1500))
    for _ in range(10):
        ledger.add(step(unit, 10, loads))
    assert totals(ledger) == {
        "ch1": (0, 0),
        "ch2": (0, 0),
        "aux1": (6_000, 0),
        "aux2": (2_500, 0),
        "aux3": (0, 0),
        "aux4": (31_000, 0),
        "aux5": (150_000, 0),
    }


def test_each_pair_returns_its_own_interval() -> None:
    """Seconds and per-channel counters of every pair are exactly what happened in it."""
    unit = EcmUnit()
    ledger = started(unit)
    for seconds, loads in ((1, HOUSE), (7, QUIET), (255, HOUSE), (60, Loads())):
        interval = ledger.add(step(unit, seconds, loads))
        assert interval is not None
        assert interval.seconds == seconds
        assert channels_of(interval) == applied(loads, seconds)
    assert ledger.totals.seconds == 1 + 7 + 255 + 60
    assert totals(ledger) == plus(
        applied(HOUSE, 256), applied(QUIET, 7), applied(Loads(), 60)
    )


# --- wraps ---------------------------------------------------------------------------


def test_ch1_ch2_counters_continue_across_the_2_40_wrap() -> None:
    """Import on CH1 and export on CH2 carry every counter past 2^40 within a minute."""
    unit = EcmUnit()
    start_near_wraps(unit)
    unit.seconds = 1000
    assert unit.ch1_abs_ws == unit.ch2_pol_ws == TWO_40 - 20_000
    ledger = started(unit)
    loads = Loads(ch1_watts=1000, ch2_watts=-1000)
    packet = step(unit, 60, loads)
    wrapped = (
        packet.ch1_abs_ws,
        packet.ch2_abs_ws,
        packet.ch2_pol_ws,
    )
    assert wrapped == (40_000, 40_000, 40_000)  # 60 000 Ws from 2^40 - 20 000
    ledger.add(packet)
    ledger.add(step(unit, 60, loads))
    assert totals(ledger)["ch1"] == (120_000, 0)
    assert totals(ledger)["ch2"] == (120_000, 120_000)
    assert totals(ledger) == applied(loads, 120)


def test_aux_counters_continue_across_the_2_32_wrap() -> None:
    """100 W on every AUX channel carries its counter past 2^32 in 20 s."""
    unit = EcmUnit()
    start_near_wraps(unit)
    unit.seconds = 1000
    assert unit.aux_ws == [TWO_32 - 2_000] * AUX_CHANNELS
    ledger = started(unit)
    loads = Loads(aux_watts=(100,) * AUX_CHANNELS)
    packet = step(unit, 60, loads)
    assert packet.aux_ws == (4_000,) * AUX_CHANNELS  # 6 000 Ws from 2^32 - 2 000
    ledger.add(packet)
    ledger.add(step(unit, 60, loads))
    assert totals(ledger) == applied(loads, 120)
    assert totals(ledger)["aux3"] == (12_000, 0)


def test_seconds_counter_continues_across_the_2_24_wrap() -> None:
    """A pair that straddles the seconds wrap lasts its true 20 s."""
    unit = EcmUnit()
    start_near_wraps(unit)
    ledger = started(unit)
    assert unit.seconds == TWO_24 - 30
    for _ in range(3):
        packet = step(unit, 20, HOUSE)
        interval = ledger.add(packet)
        assert interval is not None
        assert interval.seconds == 20
    assert packet.seconds == 30  # wrapped
    assert ledger.totals.seconds == 60
    assert totals(ledger) == applied(HOUSE, 60)


# --- duplicates and late packets -----------------------------------------------------


def test_duplicate_packet_adds_nothing_and_keeps_the_baseline() -> None:
    """The same bytes twice: the second adds nothing, the next packet adds its own share."""
    unit = EcmUnit()
    ledger = started(unit)
    unit.advance(30, HOUSE)
    data = unit.packet()
    assert ledger.add(decode(data)) is not None
    baseline = ledger.baseline
    assert ledger.add(decode(data)) is None
    assert ledger.baseline == baseline
    assert totals(ledger) == applied(HOUSE, 30)
    ledger.add(step(unit, 10, QUIET))
    assert totals(ledger) == plus(applied(HOUSE, 30), applied(QUIET, 10))
    assert ledger.resyncs == 0


def test_late_older_packet_adds_nothing_and_nothing_is_counted_twice() -> None:
    """p1 arrives after p2: p1 adds nothing, p3 adds exactly p2 → p3."""
    unit = EcmUnit()
    ledger = started(unit)
    first = step(unit, 20, HOUSE)
    second = step(unit, 20, QUIET)
    assert ledger.add(second) is not None
    assert ledger.add(first) is None
    assert totals(ledger) == plus(applied(HOUSE, 20), applied(QUIET, 20))
    interval = ledger.add(step(unit, 5, HOUSE))
    assert interval is not None
    assert channels_of(interval) == applied(HOUSE, 5)
    assert totals(ledger) == plus(applied(HOUSE, 25), applied(QUIET, 20))
    assert ledger.resyncs == 0


# Fewer than the run that means the unit started over.
LATE_PACKETS = BACKWARD_PACKETS_BEFORE_RESYNC - 1


def test_several_late_packets_in_a_row_are_not_counted_twice() -> None:
    """Old packets delivered late, several in a row, never add energy a second time."""
    unit = EcmUnit()
    ledger = started(unit)
    late = [step(unit, 10, IMPORT_1KW) for _ in range(LATE_PACKETS)]
    ledger.add(step(unit, 10, IMPORT_1KW))
    for packet in late:
        assert ledger.add(packet) is None
    ledger.add(step(unit, 10, IMPORT_1KW))
    seconds = 10 * (LATE_PACKETS + 2)
    assert totals(ledger) == applied(IMPORT_1KW, seconds)


# --- resets and counters that restart ------------------------------------------------


def test_device_reset_adds_and_subtracts_nothing_then_accounting_resumes() -> None:
    """The pair across a reset (reset counter changes) is skipped; later pairs count."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 100, HOUSE))
    unit.advance(40, HOUSE)  # lost with the reset: the unit zeroes its counters
    unit.reset()
    packet = step(unit, 5, QUIET)
    assert packet.reset_counter == 1
    assert ledger.add(packet) is None
    assert totals(ledger) == applied(HOUSE, 100)
    assert ledger.resyncs == 1
    interval = ledger.add(step(unit, 10, QUIET))
    assert interval is not None
    assert channels_of(interval) == applied(QUIET, 10)
    assert totals(ledger) == plus(applied(HOUSE, 100), applied(QUIET, 10))


def test_seconds_reset_by_command_counts_as_a_reset() -> None:
    """RKS in the simulator steps the reset counter: that pair adds nothing."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 1000, QUIET))
    unit.reset_seconds()
    packet = step(unit, 10, QUIET)
    assert (packet.seconds, packet.reset_counter) == (10, 1)
    assert ledger.add(packet) is None
    assert totals(ledger) == applied(QUIET, 1000)
    ledger.add(step(unit, 10, QUIET))
    assert totals(ledger) == applied(QUIET, 1010)


def test_seconds_restart_without_reset_counter_resyncs_at_once() -> None:
    """Seconds back near 0 while the counters run on: a restarted clock, not an old packet."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 1000, QUIET))
    reset_counter = unit.reset_counter
    unit.reset_seconds()
    unit.reset_counter = reset_counter
    packet = step(unit, 10, HOUSE)
    assert (packet.seconds, packet.reset_counter) == (10, reset_counter)
    assert ledger.add(packet) is None
    assert ledger.resyncs == 1
    assert totals(ledger) == applied(QUIET, 1000)
    interval = ledger.add(step(unit, 10, HOUSE))
    assert interval is not None
    assert channels_of(interval) == applied(HOUSE, 10)
    assert totals(ledger) == plus(applied(QUIET, 1000), applied(HOUSE, 10))


def _restart_all(unit: EcmUnit) -> None:
    """Every watt-second counter back at 0."""
    unit.reset_energy()


def _restart_aux(unit: EcmUnit) -> None:
    """The AUX counters back at 0."""
    unit.aux_ws = [0] * AUX_CHANNELS


def _restart_ch2_polarized(unit: EcmUnit) -> None:
    """Only CH2's polarized counter back at 0."""
    unit.ch2_pol_ws = 0


@pytest.mark.parametrize(
    "restart", [_restart_all, _restart_aux, _restart_ch2_polarized]
)
def test_counters_restarting_without_reset_counter_resync_and_add_nothing(
    restart: Callable[[EcmUnit], None],
) -> None:
    """A counter that steps back (an implausible step forward) adds nothing."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 600, HOUSE))
    reset_counter = unit.reset_counter
    restart(unit)
    unit.reset_counter = reset_counter
    packet = step(unit, 10, HOUSE)
    assert packet.reset_counter == reset_counter
    assert ledger.add(packet) is None
    assert ledger.resyncs == 1
    assert totals(ledger) == applied(HOUSE, 600)
    ledger.add(step(unit, 10, QUIET))
    assert totals(ledger) == plus(applied(HOUSE, 600), applied(QUIET, 10))


# --- other units ---------------------------------------------------------------------


@pytest.mark.parametrize("other_seconds", [5, 100_000])
def test_packet_from_another_unit_is_not_mixed_in(other_seconds: int) -> None:
    """Another unit's energy never reaches this unit's totals, whatever its clock says."""
    unit = EcmUnit()
    other = EcmUnit(unit_id=6, serial=1234, seconds=other_seconds)
    ledger = started(unit)
    ledger.add(step(unit, 10, QUIET))
    foreign = step(other, 10, Loads(ch1_watts=7777, aux_watts=(9999,) * AUX_CHANNELS))
    assert foreign.device_id != decode(unit.packet()).device_id
    assert ledger.add(foreign) is None
    counted = 10
    for _ in range(6):
        interval = ledger.add(step(unit, 10, QUIET))
        if interval is not None:
            assert channels_of(interval) == applied(QUIET, interval.seconds)
            counted += interval.seconds
    assert totals(ledger) == applied(QUIET, counted)


def test_packet_from_another_unit_costs_this_unit_nothing() -> None:
    """A stray packet of another unit leaves this unit's accounting exact."""
    unit = EcmUnit()
    other = EcmUnit(unit_id=6, serial=1234, seconds=100_000)
    ledger = started(unit)
    ledger.add(step(unit, 10, QUIET))
    ledger.add(step(other, 10, Loads(ch1_watts=7777)))
    for _ in range(6):
        ledger.add(step(unit, 10, QUIET))
    assert totals(ledger) == applied(QUIET, 10 * (1 + 6))


# --- outages and restarts ------------------------------------------------------------


def test_outage_energy_is_counted_once_from_the_device_counters() -> None:
    """Two hours without packets at a known load: the first packet after adds exactly that."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 60, QUIET))
    unit.advance(HOUR, HOUSE)  # nothing read for two hours; the unit keeps counting
    unit.advance(HOUR, QUIET)
    interval = ledger.add(decode(unit.packet()))
    assert interval is not None
    assert interval.seconds == 2 * HOUR
    assert channels_of(interval) == plus(applied(HOUSE, HOUR), applied(QUIET, HOUR))
    ledger.add(step(unit, 60, QUIET))
    assert totals(ledger) == plus(applied(QUIET, HOUR + 120), applied(HOUSE, HOUR))


@pytest.mark.parametrize("through_json", [False, True], ids=["dict", "json"])
def test_restart_restores_totals_and_continues(through_json: bool) -> None:
    """Stored and read back (as Home Assistant's Store does), the ledger carries on exactly."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 300, HOUSE))
    ledger.add(step(unit, 300, QUIET))
    back = (
        restored(ledger) if through_json else EnergyLedger.from_dict(ledger.as_dict())
    )
    assert totals(back) == totals(ledger)
    assert back.baseline == ledger.baseline
    assert back.as_dict() == ledger.as_dict()
    back.add(step(unit, 60, HOUSE))
    assert totals(back) == plus(applied(HOUSE, 360), applied(QUIET, 300))


def test_energy_while_home_assistant_was_down_is_counted_once() -> None:
    """Down for two hours, no device reset: the first packet after start adds those hours."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 60, HOUSE))
    unit.advance(2 * HOUR, QUIET)
    back = restored(ledger)
    interval = back.add(decode(unit.packet()))
    assert interval is not None
    assert interval.seconds == 2 * HOUR
    assert totals(back) == plus(applied(HOUSE, 60), applied(QUIET, 2 * HOUR))


def test_device_reset_while_home_assistant_was_down_adds_nothing() -> None:
    """Restored, then the first packet has another reset counter: totals stay, then resume."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 600, HOUSE))
    before = totals(ledger)
    unit.advance(HOUR, HOUSE)
    unit.reset()
    unit.advance(HOUR, QUIET)
    back = restored(ledger)
    assert back.add(decode(unit.packet())) is None
    assert totals(back) == before
    back.add(step(unit, 30, QUIET))
    assert totals(back) == plus(before, applied(QUIET, 30))


def test_restore_of_an_empty_ledger_waits_for_a_baseline() -> None:
    """A ledger stored before any packet starts from the first packet after restart."""
    back = restored(EnergyLedger())
    unit = EcmUnit(seconds=500, ch1_abs_ws=123_456)
    assert back.add(decode(unit.packet())) is None
    back.add(step(unit, 10, HOUSE))
    assert totals(back) == applied(HOUSE, 10)


# --- the ECM-1220 --------------------------------------------------------------------


def test_ecm_1220_counts_ch1_ch2_and_keeps_aux_at_zero() -> None:
    """The unit without AUX channels: CH1/CH2 exact, AUX totals 0, through a restart too."""
    unit = EcmUnit(model=EcmModel.ECM_1220)
    ledger = started(unit)
    interval = ledger.add(step(unit, 120, HOUSE))
    assert interval is not None
    assert channels_of(interval) == applied(HOUSE, 120, aux=False)
    back = restored(ledger)
    back.add(step(unit, 60, HOUSE))
    assert totals(back) == applied(HOUSE, 180, aux=False)
    assert all(totals(back)[f"aux{n}"] == (0, 0) for n in range(1, 6))


# --- power and kWh -------------------------------------------------------------------


def test_mean_power_of_one_pair_all_that_passed_or_net() -> None:
    """10 s of 1 800 W in on CH1 and 2 500 W out on CH2: net power is signed, export negative."""
    unit = EcmUnit()
    ledger = started(unit)
    interval = ledger.add(step(unit, 10, HOUSE))
    assert interval is not None
    ch1, ch2 = interval.channels["ch1"], interval.channels["ch2"]
    assert (ch1.mean_watts(10, net=False), ch1.mean_watts(10, net=True)) == (
        1800.0,
        1800.0,
    )
    assert (ch2.mean_watts(10, net=False), ch2.mean_watts(10, net=True)) == (
        2500.0,
        -2500.0,
    )
    assert interval.channels["aux5"].mean_watts(10, net=False) == 1500.0


def test_mean_power_with_import_and_export_in_one_interval() -> None:
    """30 000 Ws passed, 20 000 of them out, in 10 s: 3 000 W through, -1 000 W net."""
    counters = ChannelCounters(absolute=30_000, polarized=20_000)
    assert counters.imported == 10_000
    assert counters.mean_watts(10, net=False) == 3000.0
    assert counters.mean_watts(10, net=True) == -1000.0
    assert ChannelCounters(absolute=5, polarized=0).mean_watts(4, net=True) == 1.25


@pytest.mark.parametrize(
    ("watt_seconds", "kwh"),
    [(0, 0.0), (3_600_000, 1.0), (5_400, 0.0015), (9_000_000_000, 2500.0)],
)
def test_kwh_and_watt_seconds(watt_seconds: int, kwh: float) -> None:
    """3 600 000 Ws to a kWh, both ways."""
    assert to_kwh(watt_seconds) == kwh
    assert to_watt_seconds(kwh) == watt_seconds


def test_kwh_shown_round_to_whole_watt_seconds() -> None:
    """A state of 1.234567 kWh is 4 444 441.2 Ws: 4 444 441 whole ones."""
    assert to_watt_seconds(1.234567) == 4_444_441


# --- any sequence of events ----------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """The unit runs for `seconds` under `loads` and sends its packet."""

    seconds: int
    loads: Loads


@dataclass(frozen=True)
class Duplicate:
    """The newest packet arrives a second time."""


@dataclass(frozen=True)
class Swap:
    """Two packets in a row arrive the wrong way round."""

    first: Run
    second: Run


@dataclass(frozen=True)
class Reset:
    """The unit resets and sends a packet right after."""


@dataclass(frozen=True)
class Outage:
    """The unit runs but nothing is read."""

    seconds: int
    loads: Loads


@dataclass(frozen=True)
class Restart:
    """Home Assistant stores the ledger and reads it back."""


type Event = Run | Duplicate | Swap | Reset | Outage | Restart

watts = st.integers(min_value=-20_000, max_value=20_000)
loads = st.builds(
    Loads,
    ch1_watts=watts,
    ch2_watts=watts,
    aux_watts=st.tuples(*[st.integers(min_value=0, max_value=5_000)] * AUX_CHANNELS),
)
runs = st.builds(Run, seconds=st.integers(min_value=1, max_value=300), loads=loads)
events: st.SearchStrategy[Event] = st.one_of(
    runs,
    st.just(Duplicate()),
    st.builds(Swap, first=runs, second=runs),
    st.just(Reset()),
    st.builds(
        Outage, seconds=st.integers(min_value=1, max_value=2 * HOUR), loads=loads
    ),
    st.just(Restart()),
)


@dataclass
class Model:
    """The unit, the ledger, and what the ledger must hold: energy by the test's count."""

    unit: EcmUnit
    ledger: EnergyLedger
    aux: bool
    newest: bytes = b""
    # Applied since the newest packet; lost if the unit resets before the next one.
    pending: Energy = field(default_factory=zero)
    lost: bool = False
    countable: Energy = field(default_factory=zero)
    applied: Energy = field(default_factory=zero)

    def run(self, seconds: int, loads: Loads) -> bytes:
        """Let the unit run; its packet then."""
        self.unit.advance(seconds, loads)
        energy = applied(loads, seconds, aux=self.aux)
        self.pending = plus(self.pending, energy)
        self.applied = plus(self.applied, energy)
        return self.unit.packet()

    def deliver_newest(self, data: bytes) -> None:
        """A packet newer than any before reaches the ledger."""
        if not self.lost:
            self.countable = plus(self.countable, self.pending)
        self.pending, self.lost, self.newest = zero(), False, data
        self.ledger.add(decode(data))

    def apply(self, event: Event) -> None:
        """One event."""
        match event:
            case Run(seconds, loads):
                self.deliver_newest(self.run(seconds, loads))
            case Duplicate():
                self.ledger.add(decode(self.newest))
            case Swap(first, second):
                late = self.run(first.seconds, first.loads)
                self.deliver_newest(self.run(second.seconds, second.loads))
                assert self.ledger.add(decode(late)) is None
            case Reset():
                self.unit.reset()
                self.lost = True
                self.deliver_newest(self.unit.packet())
            case Outage(seconds, loads):
                self.run(seconds, loads)
            case Restart():
                before = totals(self.ledger)
                self.ledger = restored(self.ledger)
                assert totals(self.ledger) == before


@BOUNDED
@given(
    near_wraps=st.booleans(),
    model=st.sampled_from(EcmModel),
    sequence=st.lists(events, max_size=30),
)
def test_totals_never_decrease_never_exceed_and_match_what_was_applied(
    near_wraps: bool, model: EcmModel, sequence: list[Event]
) -> None:
    """Channel by channel: monotonic, at most the energy applied, exactly the countable part."""
    unit = EcmUnit(model=model)
    if near_wraps:
        start_near_wraps(unit)
    state = Model(unit, EnergyLedger(), aux=model is EcmModel.ECM_1240)
    state.deliver_newest(unit.packet())
    previous = totals(state.ledger)
    reset_seen = False
    for event in sequence:
        state.apply(event)
        reset_seen = reset_seen or isinstance(event, Reset)
        now = totals(state.ledger)
        for channel in CHANNELS:
            (absolute, polarized), (was_abs, was_pol) = now[channel], previous[channel]
            assert absolute >= was_abs
            assert polarized >= was_pol
            assert absolute - polarized >= was_abs - was_pol  # imported
            assert absolute <= state.applied[channel][0]
            assert polarized <= state.applied[channel][1]
        assert now == state.countable
        if not reset_seen:
            assert plus(now, state.pending) == state.applied
            assert state.ledger.resyncs == 0
        previous = now


def test_a_unit_that_started_over_without_its_reset_counter_is_followed() -> None:
    """A unit back near zero with an unchanged reset counter is followed after a run."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 1000, HOUSE))
    reset_counter = unit.reset_counter
    unit.reset()
    unit.reset_counter = reset_counter
    for count in range(1, BACKWARD_PACKETS_BEFORE_RESYNC + 1):
        assert ledger.add(step(unit, 10, QUIET)) is None
        assert ledger.resyncs == (1 if count == BACKWARD_PACKETS_BEFORE_RESYNC else 0)
        assert totals(ledger) == applied(HOUSE, 1000)
    ledger.add(step(unit, 10, HOUSE))
    assert totals(ledger) == plus(applied(HOUSE, 1000), applied(HOUSE, 10))


def test_inverting_a_channel_counts_from_then_on() -> None:
    """Turning a CT round swaps import and export for new energy only."""
    unit = EcmUnit()
    ledger = started(unit)
    ledger.add(step(unit, 100, Loads(ch2_watts=-1000)))
    assert totals(ledger)["ch2"] == (100_000, 100_000)  # all of it exported
    inverted = EnergyLedger.from_dict(ledger.as_dict(), frozenset({"ch2"}))
    inverted.add(step(unit, 100, Loads(ch2_watts=-1000)))
    # The same flow now counts as imported: the polarized total stays put.
    assert totals(inverted)["ch2"] == (200_000, 100_000)
