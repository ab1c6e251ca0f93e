"""The grid's time correction and the readings' stability, on plain numbers."""

from __future__ import annotations

import itertools
import math
import statistics

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.stability import (
    ALLAN_TAUS,
    ALLAN_WINDOW,
    ISLAND_SPREAD,
    ISLAND_WANDER,
    ISLAND_WINDOW,
    Recent,
    allan_deviation,
    expected_correction,
    inferred_correction,
    island,
)
from simulator.mfm import (
    Generator,
    MfmBoard,
    Profile,
    measure,
    oscillation,
    random_walk,
    step,
    trading_schedule,
)

pytestmark = pytest.mark.without_hass


@pytest.mark.parametrize(
    ("grid_time", "offset"),
    [(0.0, 0), (20.0, 0), (20.01, -10), (-20.0, 0), (-20.01, 10), (45.0, -10)],
)
def test_the_correction_a_grid_time_calls_for(grid_time: float, offset: int) -> None:
    """Clocks more than 20 s ahead: the setpoint goes 10 mHz down; behind: up."""
    assert expected_correction(grid_time) == offset


@pytest.mark.parametrize(
    ("mean", "seconds", "offset"),
    [
        (9.2, 7200.0, 10),
        (-10.4, 7200.0, -10),
        (0.8, 7200.0, 0),
        (5.0, 7200.0, None),  # halfway: no offset is in force
        (9.2, 3599.0, None),  # less than an hour of readings
        (None, 7200.0, None),
    ],
)
def test_the_correction_a_mean_shows(
    mean: float | None, seconds: float, offset: int | None
) -> None:
    """A mean within 3 mHz of a setpoint offset, over an hour or more, names it."""
    assert inferred_correction(mean, seconds) == offset


def test_alternating_seconds() -> None:
    """±1 mHz second by second: 2 mHz steps at 1 s, nothing left at 10 s."""
    means = [(second, 1.0 if second % 2 else -1.0) for second in range(200)]
    assert allan_deviation(means, 1) == pytest.approx(math.sqrt(2))
    assert allan_deviation(means, 10) == pytest.approx(0.0)
    assert allan_deviation(means, 100) == pytest.approx(0.0)
    # Two blocks of 100 s are the fewest that give a figure.
    assert allan_deviation(means[:199], 100) is None


def reference_allan(means: list[tuple[int, float]], tau: int) -> float | None:
    """The Allan deviation the long way: split at gaps, slice each run into blocks."""
    runs: list[list[float]] = []
    previous = None
    for second, mean in means:
        if previous is None or second != previous + 1:
            runs.append([])
        runs[-1].append(mean)
        previous = second
    squares = []
    for run in runs:
        blocks = [
            sum(run[i * tau : (i + 1) * tau]) / tau for i in range(len(run) // tau)
        ]
        squares += [(b - a) ** 2 for a, b in itertools.pairwise(blocks)]
    if not squares:
        return None
    return math.sqrt(sum(squares) / (2 * len(squares)))


@st.composite
def second_means(draw: st.DrawFn) -> list[tuple[int, float]]:
    """1-second means with now and then a missing stretch."""
    second = draw(st.integers(0, 10**6))
    means = []
    for mean, skip in draw(
        st.lists(
            st.tuples(
                st.floats(-300, 300),
                st.sampled_from([0] * 20 + [1, 5, 100]),
            ),
            max_size=400,
        )
    ):
        second += 1 + skip
        means.append((second, mean))
    return means


@settings(max_examples=300, deadline=None)
@given(means=second_means(), tau=st.sampled_from(ALLAN_TAUS))
def test_any_means_match_the_long_way(means: list[tuple[int, float]], tau: int) -> None:
    """Blocks never straddle a missing second; the figure equals the long way's."""
    expected = reference_allan(means, tau)
    actual = allan_deviation(means, tau)
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_recent_readings_show_the_correction_in_force() -> None:
    """An hour at -10 mHz, then three at +10 mHz, 5 readings a second: the last 3 h say +10."""
    recent = Recent()
    timestamp = 0.0
    for hour, deviation in enumerate((-10.0, 10.0, 10.0, 10.0)):
        for _ in range(5 * 3600):
            recent.add(deviation, timestamp)
            timestamp += 0.2
        assert timestamp == pytest.approx((hour + 1) * 3600)
    assert recent.mean_deviation(timestamp) == pytest.approx(10.0)
    assert (
        inferred_correction(recent.mean_deviation(timestamp), recent.covered(timestamp))
        == 10
    )
    assert len(recent.seconds) == ALLAN_WINDOW
    # A steady +10 mHz has no wander at any averaging time.
    assert recent.allan_deviations() == pytest.approx(dict.fromkeys(ALLAN_TAUS, 0.0))


def test_a_gap_drops_the_open_second() -> None:
    """Readings of a second cut by a gap make no mean; the seconds around it stay apart."""
    recent = Recent()
    for timestamp, deviation in ((0.1, 1.0), (0.6, 3.0), (1.2, 5.0)):
        recent.add(deviation, timestamp)
    recent.gap()
    recent.add(7.0, 3.5)
    recent.add(9.0, 4.5)
    assert list(recent.seconds) == [(0, 2.0), (3, 7.0)]


def board_means(profile: Profile, seconds: int) -> list[tuple[int, float]]:
    """The 1-second means of the simulated board measuring `profile` for `seconds`."""
    board = MfmBoard()
    recent = Recent()
    for index in range(int(seconds / board.line_interval)):
        t = index * board.line_interval
        recent.add(measure(board, profile, t) - 50000, t)
    return recent.last_seconds(ISLAND_WINDOW, seconds)


@pytest.mark.parametrize(
    ("profile", "verdict"),
    [
        (random_walk(7), False),
        (trading_schedule(random_walk(7)), False),
        (step(-80, at=30.0, base=random_walk(7)), False),
        # Inter-area modes are grid events, not an island.
        (oscillation(0.2, 20.0, at=0.0, base=random_walk(7)), False),
        (Generator(7), True),
        (Generator(8), True),
    ],
    ids=["grid", "trading", "step", "oscillation", "generator", "other_generator"],
)
def test_an_island_is_told_from_the_grid(profile: Profile, verdict: bool) -> None:
    """A minute of each simulator scenario, judged from nothing known before."""
    means = board_means(profile, 70)
    # The last second is still open: 59 means.
    assert len(means) == ISLAND_WINDOW - 1
    wander = allan_deviation(means, 1)
    spread = statistics.pstdev(mean for _, mean in means)
    assert wander is not None
    # Far from the limits either way: the verdict does not hang on them.
    if verdict:
        assert wander > 2 * ISLAND_WANDER[1]
    else:
        assert wander < ISLAND_WANDER[0]
        assert spread < ISLAND_SPREAD[0]
    assert island(means, None) is verdict


def test_between_the_limits_the_verdict_stays() -> None:
    """30 mHz from second to second is neither: the last verdict holds; too few means, none."""
    means = [(second, 30.0 * (second % 2)) for second in range(60)]
    assert island(means, True) is True
    assert island(means, False) is False
    assert island(means[:29], False) is None


def test_allan_deviations_are_worked_out_again_each_minute() -> None:
    """Once a minute of means is kept, the figures change after 60 new means, not before."""
    recent = Recent()
    for second in range(120):
        recent.add(float(second % 2), second + 0.5)
    first = recent.allan_deviations()
    for second in range(120, 179):
        recent.add(10.0 * (second % 2), second + 0.5)
    assert recent.allan_deviations() == first
    recent.add(0.0, 179.5)
    recent.add(0.0, 180.5)  # closes the 60th new second
    assert recent.allan_deviations() != first
