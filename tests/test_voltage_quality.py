"""A day's line voltage beyond ±10 % of nominal, checked against a plain recount of the packets.

The recount works in whole tenths of a volt, as the unit sends them: above +10 % of
nominal n is more than 11 n tenths, below -10 % is fewer than 9 n tenths, and the
automatic nominal is the first within 8.5 n to 11.5 n tenths.
"""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.voltage_quality import (
    VoltageDay,
    VoltageSummary,
    nominal_of,
)

pytestmark = pytest.mark.without_hass

BOUNDED = settings(max_examples=300, deadline=None)
MAX_GAP = 60.0

type Packet = tuple[int, float]  # (tenths of a volt, arrival time s)


def day_of(packets: list[Packet], nominal: int | None) -> VoltageDay:
    """A day on `nominal` (None: automatic) fed the packets in order."""
    day = VoltageDay(nominal, MAX_GAP)
    for tenths, timestamp in packets:
        day.add(tenths / 10, timestamp)
    return day


def expected_summary(packets: list[Packet], nominal: int | None) -> VoltageSummary:
    """The day recounted the long way: find the nominal, then pair each packet with the one before."""
    if nominal is None:
        decided = [
            (index, n)
            for index, (tenths, _) in enumerate(packets)
            for n in (120, 230)
            if 17 * n <= 2 * tenths <= 23 * n
        ]
        if not decided:
            return VoltageSummary(nominal=None, measured=0.0, over=0.0, under=0.0)
        first, nominal = decided[0]
        packets = packets[first:]
    steps = [
        (tenths, timestamp - previous)
        for (tenths, timestamp), (_, previous) in zip(
            packets[1:], packets, strict=False
        )
        if 0 <= timestamp - previous <= MAX_GAP
    ]
    return VoltageSummary(
        nominal=nominal,
        measured=sum(elapsed for _, elapsed in steps),
        over=sum(elapsed for tenths, elapsed in steps if tenths > 11 * nominal),
        under=sum(elapsed for tenths, elapsed in steps if tenths < 9 * nominal),
    )


def assert_same(actual: VoltageSummary, expected: VoltageSummary) -> None:
    """The same nominal; the same seconds to float precision."""
    assert actual.nominal == expected.nominal
    assert actual.measured == pytest.approx(expected.measured, abs=1e-6)
    assert actual.over == pytest.approx(expected.over, abs=1e-6)
    assert actual.under == pytest.approx(expected.under, abs=1e-6)


@pytest.mark.parametrize(
    ("voltage", "nominal"),
    [
        (101.9, None),
        (102.0, 120),
        (120.0, 120),
        (138.0, 120),
        (138.1, None),
        (175.0, None),
        (195.4, None),
        (195.5, 230),
        (230.0, 230),
        (264.5, 230),
        (264.6, None),
        (0.0, None),
    ],
)
def test_the_automatic_nominal_voltage(voltage: float, nominal: int | None) -> None:
    """Within ±15 % of 120 V or 230 V, ends included; anything else decides nothing."""
    assert nominal_of(voltage) == nominal


def test_the_limits_are_within() -> None:
    """On 230 V: 253.0 V and 207.0 V are within ±10 %, 253.1 V and 206.9 V beyond."""
    packets: list[Packet] = [
        (2300, 0.0),
        (2530, 1.0),
        (2531, 2.0),
        (2070, 3.0),
        (2069, 4.0),
        (2069, 6.0),
    ]
    assert day_of(packets, 230).summary() == VoltageSummary(
        nominal=230, measured=6.0, over=1.0, under=3.0
    )


def test_nothing_counts_until_a_packet_decides() -> None:
    """Automatic: 100 V is near neither nominal; the first 119.0 V packet decides and starts the count."""
    packets: list[Packet] = [(1000, 0.0), (1000, 1.0), (1190, 2.0), (1070, 3.0)]
    assert day_of(packets, None).summary() == VoltageSummary(
        nominal=120, measured=1.0, over=0.0, under=1.0
    )
    assert day_of(packets[:2], None).summary() == VoltageSummary(
        nominal=None, measured=0.0, over=0.0, under=0.0
    )
    assert day_of(packets[:2], None).as_dict() is None


def test_a_gap_is_not_counted() -> None:
    """A packet 61 s after the one before it ends a gap: its time is unmeasured."""
    packets: list[Packet] = [(1000, 0.0), (1000, 60.0), (1000, 121.0), (1000, 122.0)]
    assert day_of(packets, 120).summary() == VoltageSummary(
        nominal=120, measured=61.0, over=0.0, under=61.0
    )


def test_the_next_day_keeps_the_nominal() -> None:
    """After midnight the count starts again on the nominal already decided."""
    day = day_of([(2400, 0.0), (2600, 1.0)], None)
    tomorrow = day.next_day()
    assert tomorrow.summary() == VoltageSummary(
        nominal=230, measured=0.0, over=0.0, under=0.0
    )
    tomorrow.add(130.0, 2.0)  # far below 230 V: not taken for 120 V
    tomorrow.add(130.0, 3.0)
    assert tomorrow.summary() == VoltageSummary(
        nominal=230, measured=1.0, over=0.0, under=1.0
    )


# Voltages around both nominals and between them, in tenths; steps of a push unit's
# 1-5 s, sometimes a gap of up to 5 minutes.
TENTHS = st.one_of(
    st.integers(900, 1500), st.integers(1500, 2000), st.integers(1900, 2800)
)
STEPS = st.one_of(st.integers(1, 5).map(float), st.floats(0.0, 300.0))
NOMINALS = st.sampled_from([None, 120, 230])


@st.composite
def packets(draw: st.DrawFn) -> list[Packet]:
    """A stream of packets with their arrival times."""
    timestamp = draw(st.floats(0, 1e9))
    stream = []
    for tenths, step in draw(st.lists(st.tuples(TENTHS, STEPS), max_size=200)):
        timestamp += step
        stream.append((tenths, timestamp))
    return stream


@BOUNDED
@given(stream=packets(), nominal=NOMINALS)
def test_any_stream_matches_the_long_way(
    stream: list[Packet], nominal: int | None
) -> None:
    """Measured time and time beyond ±10 % equal a plain recount, on any nominal."""
    assert_same(day_of(stream, nominal).summary(), expected_summary(stream, nominal))


@BOUNDED
@given(stream=packets(), nominal=NOMINALS, cut=st.integers(0, 200))
def test_a_stored_day_goes_on_after_a_gap(
    stream: list[Packet], nominal: int | None, cut: int
) -> None:
    """Stored (through JSON) and restored: the same as one day with a gap at the cut."""
    before, after = stream[:cut], stream[cut:]
    stored = day_of(before, nominal).as_dict()
    if stored is None:  # nothing decided yet: the next start begins afresh
        restored = VoltageDay(nominal, MAX_GAP)
    else:
        restored = VoltageDay.from_dict(json.loads(json.dumps(stored)), MAX_GAP)
    whole = day_of(before, nominal)
    whole.gap()
    for tenths, timestamp in after:
        restored.add(tenths / 10, timestamp)
        whole.add(tenths / 10, timestamp)
    assert_same(restored.summary(), whole.summary())
