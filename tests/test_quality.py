"""A day's frequency quality, checked against a plain recomputation from the readings."""

from __future__ import annotations

import json
import math
import statistics

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.quality import (
    BANDS_MHZ,
    MAX_GAP,
    PERCENTILES,
    RESTORE_TIME,
    DayQuality,
    QualitySummary,
)

pytestmark = pytest.mark.without_hass

BOUNDED = settings(max_examples=300, deadline=None)

type Reading = tuple[float, float]  # (deviation mHz, timestamp s)


def day_of(readings: list[Reading]) -> DayQuality:
    """A day fed the readings in order."""
    day = DayQuality()
    for deviation, timestamp in readings:
        day.add(deviation, timestamp)
    return day


def expected_summary(readings: list[Reading]) -> QualitySummary:
    """The figures recomputed the long way: lists, sorting and runs."""
    steps = [
        (deviation, timestamp - previous)
        for (deviation, timestamp), (_, previous) in zip(
            readings[1:], readings, strict=False
        )
        if 0 <= timestamp - previous <= MAX_GAP
    ]
    deviations = [deviation for deviation, _ in readings]
    rounded = sorted(round(deviation) for deviation in deviations)
    percentiles = {
        percent: rounded[math.ceil(percent / 100 * len(rounded)) - 1]
        for percent in PERCENTILES
        if rounded
    }
    excursions = late = 0
    start: float | None = None
    counted_late = False
    previous_time: float | None = None
    for deviation, timestamp in readings:
        if previous_time is None or not 0 <= timestamp - previous_time <= MAX_GAP:
            start = None
        previous_time = timestamp
        if abs(deviation) <= 50:
            start = None
        elif start is None:
            start, counted_late = timestamp, False
            excursions += 1
        elif not counted_late and timestamp - start > RESTORE_TIME:
            counted_late = True
            late += 1
    return QualitySummary(
        measured=math.fsum(elapsed for _, elapsed in steps),
        over={band: math.fsum(e for d, e in steps if d > band) for band in BANDS_MHZ},
        under={band: math.fsum(e for d, e in steps if d < -band) for band in BANDS_MHZ},
        standard_deviation=statistics.pstdev(deviations) if deviations else None,
        percentiles=percentiles,
        excursions=excursions,
        excursions_not_restored=late,
    )


def assert_same(actual: QualitySummary, expected: QualitySummary) -> None:
    """Equal figures; sums of seconds and the spread to float precision."""
    assert actual.measured == pytest.approx(expected.measured, abs=1e-6)
    assert actual.over == pytest.approx(expected.over, abs=1e-6)
    assert actual.under == pytest.approx(expected.under, abs=1e-6)
    if expected.standard_deviation is None:
        assert actual.standard_deviation is None
    else:
        assert actual.standard_deviation == pytest.approx(
            expected.standard_deviation, rel=1e-9, abs=1e-9
        )
    assert actual.percentiles == expected.percentiles
    assert (actual.excursions, actual.excursions_not_restored) == (
        expected.excursions,
        expected.excursions_not_restored,
    )


def test_a_dip_with_a_gap() -> None:
    """Readings 0.2 s apart: a dip to -120 mHz for 1 s, an outage, then +60 mHz for 0.4 s."""
    readings: list[Reading] = [
        (0, 0.0),
        (-30, 0.2),
        (-120, 0.4),
        (-120, 0.6),
        (-120, 0.8),
        (-120, 1.0),
        (-120, 1.2),
        (10, 1.4),
        # 60 s without a reading: an outage.
        (60, 61.4),
        (60, 61.6),
        (60, 61.8),
        (0, 62.0),
    ]
    summary = day_of(readings).summary()
    assert summary.measured == pytest.approx(2.0)  # 7 steps before, 3 after the gap
    assert summary.under == pytest.approx({50: 1.0, 100: 1.0, 200: 0.0})
    assert summary.over == pytest.approx({50: 0.4, 100: 0.0, 200: 0.0})
    # Two excursions beyond ±50 mHz, both back within seconds.
    assert (summary.excursions, summary.excursions_not_restored) == (2, 0)
    # 12 readings: ranks 1 (1 %, 5 %, 10 %), 11 (90 %) and 12 (95 %, 99 %).
    assert summary.percentiles == {1: -120, 5: -120, 10: -120, 90: 60, 95: 60, 99: 60}
    mean = (0 - 30 - 600 + 10 + 180 + 0) / 12
    squares = [(d - mean) ** 2 for d, _ in readings]
    assert summary.standard_deviation == pytest.approx(math.sqrt(sum(squares) / 12))


def test_an_excursion_not_restored_in_fifteen_minutes() -> None:
    """Below -50 mHz for 16 minutes: one excursion, not restored in time, counted once."""
    readings = [(-80.0, second * 0.5) for second in range(16 * 60 * 2 + 1)]
    readings.append((0.0, readings[-1][1] + 0.5))
    summary = day_of(readings).summary()
    assert (summary.excursions, summary.excursions_not_restored) == (1, 1)
    assert summary.under[50] == pytest.approx(16 * 60)
    assert summary.measured == pytest.approx(16 * 60 + 0.5)


def test_an_empty_day() -> None:
    """No reading: nothing measured, no spread, no percentiles."""
    assert DayQuality().summary() == QualitySummary(
        measured=0.0,
        over=dict.fromkeys(BANDS_MHZ, 0.0),
        under=dict.fromkeys(BANDS_MHZ, 0.0),
        standard_deviation=None,
        percentiles={},
        excursions=0,
        excursions_not_restored=0,
    )


# A board reading: whole mHz from nominal plus a calibration offset in 0.1 mHz steps.
DEVIATIONS = st.builds(
    lambda mhz, tenths: mhz + tenths / 10,
    st.integers(-300, 300),
    st.integers(-15, 15),
)
# Mostly the board's 0.15-0.36 s, sometimes a gap of up to 20 minutes.
STEPS = st.one_of(
    st.floats(0.1, 0.4),
    st.floats(0.0, 1200.0),
)


@st.composite
def readings(draw: st.DrawFn) -> list[Reading]:
    """A stream of readings with their arrival times."""
    timestamp = draw(st.floats(0, 1e9))
    stream = []
    for deviation, step in draw(st.lists(st.tuples(DEVIATIONS, STEPS), max_size=200)):
        timestamp += step
        stream.append((deviation, timestamp))
    return stream


@BOUNDED
@given(stream=readings())
def test_any_stream_matches_the_long_way(stream: list[Reading]) -> None:
    """Time in bands, spread, percentiles and excursions equal a plain recomputation."""
    assert_same(day_of(stream).summary(), expected_summary(stream))


@BOUNDED
@given(stream=readings(), cut=st.integers(0, 200))
def test_a_stored_day_goes_on_after_a_gap(stream: list[Reading], cut: int) -> None:
    """Stored (through JSON) and restored mid-day: the same as one day with a gap at the cut."""
    before, after = stream[:cut], stream[cut:]
    stored = json.loads(json.dumps(day_of(before).as_dict()))
    restored = DayQuality.from_dict(stored)
    for deviation, timestamp in after:
        restored.add(deviation, timestamp)
    whole = day_of(before)
    whole.gap()
    for deviation, timestamp in after:
        whole.add(deviation, timestamp)
    assert_same(restored.summary(), whole.summary())


def test_a_day_at_seven_readings_a_second_keeps_one_count_per_mhz() -> None:
    """604 800 readings within ±200 mHz leave at most 401 histogram bins."""
    day = DayQuality()
    for index in range(7 * 86_400):
        # A slow swing through ±200 mHz and back, 7 readings a second.
        day.add(200 * math.sin(index / 5000), index / 7)
    assert len(day.histogram) <= 401
    assert day.count == 7 * 86_400
    summary = day.summary()
    assert summary.measured == pytest.approx((7 * 86_400 - 1) / 7)
    assert summary.percentiles[1] == -200
    assert summary.percentiles[99] == 200
