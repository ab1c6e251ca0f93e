"""The arithmetic behind the board's entities, on plain numbers."""

from __future__ import annotations

import math
import statistics

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.coordinator import rounded
from custom_components.mains_monitor.frequency import (
    AlarmHold,
    FrequencyBand,
    frequency_band,
    least_squares_slope,
)


@pytest.mark.parametrize(
    ("deviation", "band"),
    [
        (0.0, FrequencyBand.STANDARD),
        (-50.0, FrequencyBand.STANDARD),
        (50.1, FrequencyBand.PRIMARY_CONTROL),
        (-200.0, FrequencyBand.PRIMARY_CONTROL),
        (200.0, FrequencyBand.PRIMARY_CONTROL),
        (200.1, FrequencyBand.OVERFREQUENCY_CURTAILMENT),
        (-200.1, FrequencyBand.UNDERFREQUENCY_RESERVES),
        (-999.9, FrequencyBand.UNDERFREQUENCY_RESERVES),
        (-1000.0, FrequencyBand.LOAD_SHEDDING),
        (-2500.0, FrequencyBand.LOAD_SHEDDING),
        (-2500.1, FrequencyBand.GENERATOR_DISCONNECTION),
    ],
)
def test_band_edges(deviation: float, band: FrequencyBand) -> None:
    """Each limit falls in the band the grid code puts it in."""
    assert frequency_band(deviation) is band


def test_slope_needs_two_moments() -> None:
    """One reading, or readings that arrived together, have no slope."""
    assert least_squares_slope([], []) is None
    assert least_squares_slope([1.0], [50.0]) is None
    assert least_squares_slope([1.0, 1.0], [50.0, 50.1]) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=60, allow_nan=False),
            st.floats(min_value=45, max_value=65, allow_nan=False),
        ),
        min_size=2,
        max_size=50,
        unique_by=lambda point: point[0],
    )
)
def test_slope_matches_the_standard_library(points: list[tuple[float, float]]) -> None:
    """The slope is the least-squares one, as statistics.linear_regression computes it."""
    times, values = zip(*points, strict=True)
    if statistics.pvariance(times) < 1e-6:
        return
    expected = statistics.linear_regression(times, values).slope
    slope = least_squares_slope(times, values)
    assert slope == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_alarm_hold_lasts_ten_seconds_per_threshold() -> None:
    """Each alarm bit is held 10 s after its own last breach; bit 7 sums them up."""
    hold = AlarmHold()
    assert hold.update(-250.0, 0.0) == 0b1000_0111
    assert hold.update(-80.0, 5.0) == 0b1000_0111
    assert hold.update(0.0, 10.0) == 0b1000_0111
    assert hold.update(0.0, 10.5) == 0b1000_0001
    assert hold.update(0.0, 15.5) == 0
    assert hold.update(1000.0, 16.0) == 0b1000_1111


@given(
    value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    digits=st.integers(min_value=0, max_value=6),
)
@settings(max_examples=500)
def test_rounding_never_gives_a_negative_zero(value: float, digits: int) -> None:
    """Rounded as the coordinators round: the value round() gives, but 0.0 for -0.0."""
    result = rounded(value, digits)

    assert result == round(value, digits)
    if result == 0:
        assert math.copysign(1.0, result) == 1.0, value
