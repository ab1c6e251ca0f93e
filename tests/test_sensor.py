"""The board's sensors, fed through a real pty, against independently computed values."""

from __future__ import annotations

import statistics

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.helpers import (
    Clock,
    advance,
    disabled_by_default,
    load_difference,
    send,
    send_readings,
    state,
)

PREFIX = "mains_frequency_board"


@pytest.mark.parametrize(
    "platforms",
    [[Platform.SENSOR], [Platform.BINARY_SENSOR], [Platform.BUTTON], [Platform.EVENT]],
    ids=["sensor", "binary_sensor", "button", "event"],
)
@pytest.mark.usefixtures("all_entities_enabled")
async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every entity, its registry entry and its state after one interval of readings."""
    await send_readings(
        init_integration, mfm_link, clock, board, [50012, 50020, 49995], spacing=0.5
    )
    await advance(hass, clock, 4.0)
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


async def test_only_the_diagnostic_counters_start_disabled(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Counters and Allan deviations change at every update: off; the Connection sensor stays on."""
    assert disabled_by_default(hass, init_integration.entry_id) == {
        "readings_accepted",
        "lines_rejected",
        "board_restarts",
        "allan_deviation_1",
        "allan_deviation_10",
        "allan_deviation_100",
    }
    assert hass.states.get(f"sensor.{PREFIX}_readings_accepted") is None
    assert hass.states.get(f"sensor.{PREFIX}_connection") is not None


@pytest.mark.usefixtures("all_entities_enabled")
async def test_statistics_count_every_reading(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Mean, extremes, deviation, slope and load difference use every line of the interval."""
    # Four: the reader's rests, ended on the loop's clock, take an interval for five.
    values = [50012, 50020, 49995, 50031]
    await send_readings(init_integration, mfm_link, clock, board, values, spacing=0.2)
    await advance(hass, clock, 4.4)

    mean_mhz = statistics.fmean(values)
    slope = statistics.linear_regression([0.0, 0.2, 0.4, 0.6], values).slope
    loads = [load_difference(value) for value in values]
    assert loads == [30, 153, 0, 322]
    assert state(hass, f"sensor.{PREFIX}_frequency") == str(round(mean_mhz / 1000, 4))
    assert state(hass, f"sensor.{PREFIX}_minimum_frequency") == "49.995"
    assert state(hass, f"sensor.{PREFIX}_maximum_frequency") == "50.031"
    assert state(hass, f"sensor.{PREFIX}_deviation_from_nominal") == str(
        round(mean_mhz - 50000, 1)
    )
    assert state(hass, f"sensor.{PREFIX}_rate_of_change_of_frequency") == str(
        round(slope, 2)
    )
    assert state(hass, f"sensor.{PREFIX}_load_difference") == str(
        round(statistics.fmean(loads))
    )
    assert state(hass, f"sensor.{PREFIX}_frequency_band") == "standard"
    assert state(hass, f"sensor.{PREFIX}_readings_accepted") == "4"
    assert state(hass, f"sensor.{PREFIX}_lines_rejected") == "0"
    assert state(hass, f"binary_sensor.{PREFIX}_frequency_alarm") == "off"


async def test_values_that_round_to_zero_are_never_negative_zero(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A slope, a deviation and a grid time just below zero are shown as 0.0, not -0.0."""
    # 49.999, 50.000, 49.999 Hz 0.1 s apart: a slope of -4e-6 mHz/s in floating point,
    # and -2e-6 s of grid time.
    await send_readings(
        init_integration, mfm_link, clock, board, [49999, 50000, 49999], spacing=0.1
    )
    await advance(hass, clock, 4.8)
    assert state(hass, f"sensor.{PREFIX}_rate_of_change_of_frequency") == "0.0"
    assert state(hass, f"sensor.{PREFIX}_deviation_from_nominal") == "-0.7"
    assert state(hass, f"sensor.{PREFIX}_grid_time_deviation") == "0.0"

    # One reading 1 mHz low among 21: a mean deviation of -0.048 mHz.
    await send_readings(
        init_integration, mfm_link, clock, board, [49999] + [50000] * 20, spacing=0.1
    )
    await advance(hass, clock, 3.0)
    assert state(hass, f"sensor.{PREFIX}_deviation_from_nominal") == "0.0"
    assert state(hass, f"sensor.{PREFIX}_grid_time_deviation") == "0.0"
    assert state(hass, f"sensor.{PREFIX}_frequency") == "50.0"


@pytest.mark.usefixtures("all_entities_enabled")
async def test_each_interval_stands_alone(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """The second interval's statistics hold only the second interval's readings."""
    await send_readings(
        init_integration, mfm_link, clock, board, [50040, 50050], spacing=1.0
    )
    await advance(hass, clock, 4.0)
    await send_readings(
        init_integration, mfm_link, clock, board, [49990, 50000, 50010], spacing=1.0
    )
    await advance(hass, clock, 3.0)

    assert state(hass, f"sensor.{PREFIX}_frequency") == "50.0"
    assert state(hass, f"sensor.{PREFIX}_minimum_frequency") == "49.99"
    assert state(hass, f"sensor.{PREFIX}_maximum_frequency") == "50.01"
    assert state(hass, f"sensor.{PREFIX}_rate_of_change_of_frequency") == "10.0"
    assert state(hass, f"sensor.{PREFIX}_readings_accepted") == "5"


@pytest.mark.parametrize(
    ("millihertz", "band"),
    [
        (50050, "standard"),
        (49949, "primary_control"),
        (50200, "primary_control"),
        (50201, "overfrequency_curtailment"),
        (49799, "underfrequency_reserves"),
        (49000, "load_shedding"),
        (47499, "generator_disconnection"),
    ],
)
async def test_band_names_the_operating_range(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    millihertz: int,
    band: str,
) -> None:
    """The band follows the Continental European limits around 50 Hz."""
    await send(
        init_integration, mfm_link, MfmBoard(output_format=1).line(millihertz, 0), 1
    )
    await advance(hass, clock, 5.0)
    assert state(hass, f"sensor.{PREFIX}_frequency_band") == band


async def test_grid_time_is_the_integral_of_the_deviation(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A ramp from 50.000 to 50.100 Hz over 10 s puts the grid clock 0.01 s ahead."""
    ramp = [50000 + 5 * step for step in range(21)]
    await send_readings(init_integration, mfm_link, clock, board, ramp, spacing=0.5)
    await advance(hass, clock, 5.0)
    # ∫₀¹⁰ (0.01 Hz/s · t) / 50 Hz dt = 0.01 s, exact for a straight line.
    assert state(hass, f"sensor.{PREFIX}_grid_time_deviation") == "0.01"


async def test_grid_time_skips_gaps_in_the_data(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Nothing is integrated across a gap: the grid's path there is unknown."""
    await send_readings(
        init_integration, mfm_link, clock, board, [50050, 50050], spacing=2.0
    )
    clock.tick(6.0)
    await send_readings(
        init_integration, mfm_link, clock, board, [50050, 50050], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    # Two 2 s stretches at +50 mHz: 2 x 2 s x 0.05 / 50 = 0.004 s; the 6 s gap adds nothing.
    assert state(hass, f"sensor.{PREFIX}_grid_time_deviation") == "0.004"


async def test_alarms_from_the_board(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Format P4 carries the alarm bits; the entities show the board's own."""
    await send_readings(init_integration, mfm_link, clock, board, [49850], spacing=0.2)
    await advance(hass, clock, 5.0)
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_70_mhz") == "on"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_100_mhz") == "on"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_200_mhz") == "off"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_1000_mhz") == "off"
    assert state(hass, f"binary_sensor.{PREFIX}_frequency_alarm") == "on"


async def test_alarms_computed_with_the_boards_hold(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
) -> None:
    """A format without alarm bits gets them computed, held 10 s after the breach."""
    plain = MfmBoard(output_format=1)
    await send(init_integration, mfm_link, plain.line(49790, 0), 1)
    await advance(hass, clock, 5.5)
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_200_mhz") == "on"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_1000_mhz") == "off"

    # 9 s after the breach the hold still counts; at 12 s it has ended. The
    # -150 mHz at 9 s breaches ±70 and ±100 again, so those stay held.
    clock.tick(3.5)
    await send(init_integration, mfm_link, plain.line(49850, 9), 1)
    await advance(hass, clock, 1.5)
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_200_mhz") == "on"
    clock.tick(1.5)
    await send(init_integration, mfm_link, plain.line(49940, 12), 1)
    await advance(hass, clock, 3.5)
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_200_mhz") == "off"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_100_mhz") == "on"
    assert state(hass, f"binary_sensor.{PREFIX}_alarm_70_mhz") == "on"
    assert state(hass, f"binary_sensor.{PREFIX}_frequency_alarm") == "on"


@pytest.mark.usefixtures("all_entities_enabled")
async def test_rejected_lines_and_restarts_are_counted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Garbage and banners are counted, never shown as a frequency."""
    garbage = b"5OO28;+0276;0;0;0;0;0;0;0;0\r\nXXXXX\r\n00000;-9999;0;0;0;0;0;0;0;0\r\n"
    await send(
        init_integration, mfm_link, garbage + board.banner() + board.line(50010, 0), 1
    )
    await advance(hass, clock, 5.0)
    assert state(hass, f"sensor.{PREFIX}_lines_rejected") == "3"
    assert state(hass, f"sensor.{PREFIX}_board_restarts") == "1"
    assert state(hass, f"sensor.{PREFIX}_readings_accepted") == "1"
    assert state(hass, f"sensor.{PREFIX}_frequency") == "50.01"
