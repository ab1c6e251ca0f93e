"""The board's frequency quality, time correction and stability sensors, fed through a real pty.

Expected values are worked out here from the readings sent: each reading stands for
the seconds since the one before it, percentiles are nearest ranks of the sorted
readings.
"""

from __future__ import annotations

from datetime import timedelta
import math
import statistics
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import DOMAIN, ConnectionState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from simulator.links import PtyLink
from simulator.mfm import Generator, MfmBoard, measure, random_walk
from tests.helpers import (
    Clock,
    advance,
    restarted,
    same_entry,
    send_readings,
    set_up_connected,
    silent_for,
    state,
    wait_for_connection,
)

PREFIX = "sensor.mains_frequency_board"
MEASURED = f"{PREFIX}_measured_time_today"
BELOW_50 = f"{PREFIX}_time_below_50_mhz_today"
BELOW_100 = f"{PREFIX}_time_below_100_mhz_today"
BELOW_200 = f"{PREFIX}_time_below_200_mhz_today"
ABOVE_50 = f"{PREFIX}_time_above_50_mhz_today"
ABOVE_100 = f"{PREFIX}_time_above_100_mhz_today"
SPREAD = f"{PREFIX}_deviation_spread_today"
EXCURSIONS = f"{PREFIX}_excursions_beyond_50_mhz_today"
NOT_RESTORED = f"{PREFIX}_excursions_not_restored_in_15_min_today"
CORRECTION_EXPECTED = f"{PREFIX}_time_correction_called_for"
CORRECTION_INFERRED = f"{PREFIX}_time_correction_in_force"
MEAN_RECENT = f"{PREFIX}_mean_deviation_last_3_hours"
ALLAN_1 = f"{PREFIX}_allan_deviation_1_s"
ALLAN_10 = f"{PREFIX}_allan_deviation_10_s"
ALLAN_100 = f"{PREFIX}_allan_deviation_100_s"
ISLAND = "binary_sensor.mains_frequency_board_island_or_generator_supply"
SPACING = 3.0
# A dip to -110 mHz for 60 s, back to nominal, a rise to +60 mHz for 30 s, back. The board
# moves at most 100 mHz from one reading to the next, so the dip goes by -50 mHz.
DAY = [50000, 49950, *[49890] * 20, 49950, 50000, *[50060] * 10, 50000]


def percentile_states(deviations: list[int]) -> dict[str, str]:
    """Each percentile sensor's expected state: the nearest rank of the sorted deviations."""
    ordered = sorted(deviations)
    return {
        f"{PREFIX}_deviation_{percent}_percentile_today": str(
            ordered[math.ceil(percent / 100 * len(ordered)) - 1]
        )
        for percent in (1, 5, 10, 90, 95, 99)
    }


def shown(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, str]:
    """The states of the given entities."""
    return {entity_id: state(hass, entity_id) for entity_id in entity_ids}


async def test_a_day_of_readings(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Minutes beyond each band, the spread, percentiles and excursions of every reading."""
    await send_readings(init_integration, mfm_link, clock, board, DAY, spacing=SPACING)
    await advance(hass, clock, 5.0)

    deviations = [value - 50000 for value in DAY]
    # Each reading after the first stands for the 3 s before it.
    seconds_at = [(deviation, SPACING) for deviation in deviations[1:]]
    below_50 = sum(seconds for deviation, seconds in seconds_at if deviation < -50)
    above_50 = sum(seconds for deviation, seconds in seconds_at if deviation > 50)
    assert (below_50, above_50) == (60.0, 30.0)
    assert shown(
        hass, [MEASURED, BELOW_50, BELOW_100, BELOW_200, ABOVE_50, ABOVE_100]
    ) == {
        MEASURED: str(round(len(seconds_at) * SPACING / 60)),  # 102 s: 2 min
        BELOW_50: "1.0",
        BELOW_100: "1.0",
        BELOW_200: "0.0",
        ABOVE_50: "0.5",
        ABOVE_100: "0.0",
    }
    assert state(hass, SPREAD) == str(round(statistics.pstdev(deviations), 1))
    assert shown(hass, list(percentile_states(deviations))) == percentile_states(
        deviations
    )
    assert shown(hass, [EXCURSIONS, NOT_RESTORED]) == {
        EXCURSIONS: "2",
        NOT_RESTORED: "0",
    }


async def test_the_day_starts_again_at_local_midnight(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Yesterday's minutes and excursions are gone after midnight; today's count alone."""
    await send_readings(init_integration, mfm_link, clock, board, DAY, spacing=SPACING)
    await advance(hass, clock, 5.0)
    assert state(hass, EXCURSIONS) == "2"

    now = dt_util.now()
    midnight = dt_util.start_of_local_day(now.date() + timedelta(days=1))
    # Silent until 10 s past midnight: the board is lost, then the port reopened.
    await silent_for(
        hass, clock, init_integration, (midnight - now).total_seconds() + 10
    )
    today = [49940, 49940, 49940]
    await send_readings(
        init_integration, mfm_link, clock, board, today, spacing=SPACING
    )
    await advance(hass, clock, 5.0)
    assert dt_util.now() > midnight
    assert shown(hass, [MEASURED, BELOW_50, ABOVE_50, EXCURSIONS]) == {
        MEASURED: "0",  # 6 s
        BELOW_50: "0.1",  # 6 s beyond -50 mHz
        ABOVE_50: "0.0",
        EXCURSIONS: "1",
    }
    assert shown(hass, list(percentile_states([-60, -60, -60]))) == percentile_states(
        [-60, -60, -60]
    )


async def test_the_day_goes_on_after_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """The stop writes the day so far; the next start adds to it, with the restart as a gap."""
    await send_readings(init_integration, mfm_link, clock, board, DAY, spacing=SPACING)
    await advance(hass, clock, 5.0)
    assert state(hass, BELOW_50) == "1.0"

    async with restarted(hass, hass_storage) as new:
        entry = same_entry(init_integration)
        entry.add_to_hass(new)
        assert await new.config_entries.async_setup(entry.entry_id)
        await wait_for_connection(entry, ConnectionState.CONNECTED)
        # -50 mHz after the gap, then 30 readings 3 s apart at -110 mHz: 90 s more below.
        after = [49950, *[49890] * 30]
        await send_readings(entry, mfm_link, clock, board, after, spacing=SPACING)
        await advance(new, clock, 5.0)
        assert shown(new, [BELOW_50, MEASURED, EXCURSIONS]) == {
            BELOW_50: "2.5",  # 60 s + 90 s
            MEASURED: str(round((102 + 90) / 60)),
            EXCURSIONS: "3",  # the restart ends one; the dip after it is a new one
        }
        assert state(new, SPREAD) == str(
            round(statistics.pstdev([value - 50000 for value in DAY + after]), 1)
        )


@pytest.mark.parametrize(("grid_time", "offset"), [(25.0, "-10"), (-20.5, "10")])
async def test_the_correction_the_grid_time_calls_for(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    grid_time: float,
    offset: str,
) -> None:
    """Clocks more than 20 s ahead call for the setpoint 10 mHz lower; behind, higher."""
    key = f"{DOMAIN}.{mock_config_entry.entry_id}"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {
            "grid_time_deviation": grid_time,
            "since": "2026-11-01T00:00:00+00:00",
        },
    }
    await set_up_connected(hass, mock_config_entry)
    await send_readings(
        mock_config_entry, mfm_link, clock, board, [50000, 50000], spacing=1.0
    )
    await advance(hass, clock, 5.0)
    assert state(hass, CORRECTION_EXPECTED) == offset
    # Less than an hour of readings shows no correction in force.
    assert state(hass, CORRECTION_INFERRED) == STATE_UNKNOWN


@pytest.mark.usefixtures("all_entities_enabled")
async def test_stability_of_alternating_seconds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """±1 mHz a second for 20 s: 1.41 mHz at 1 s, 0 at 10 s, too short for 100 s."""
    values = [50001 if second % 2 == 0 else 49999 for second in range(21)]
    await send_readings(init_integration, mfm_link, clock, board, values, spacing=1.0)
    await advance(hass, clock, 5.0)
    assert shown(hass, [ALLAN_1, ALLAN_10, ALLAN_100]) == {
        ALLAN_1: str(round(math.sqrt(2), 2)),  # steps of 2 mHz: sqrt(4 / 2)
        ALLAN_10: "0.0",
        ALLAN_100: STATE_UNKNOWN,
    }
    assert state(hass, MEAN_RECENT) == str(
        float(round(statistics.fmean(values) - 50000))
    )


async def test_a_generator_is_told_from_the_grid(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A minute of the simulated generator turns the sensor on; a minute of grid, off."""
    generator = Generator(7)
    spacing = 0.25
    values = [measure(board, generator, index * spacing) for index in range(280)]
    await send_readings(
        init_integration, mfm_link, clock, board, values, spacing=spacing
    )
    await advance(hass, clock, 5.0)
    assert state(hass, ISLAND) == "on"

    grid = random_walk(7)
    values = [measure(board, grid, index * spacing) for index in range(280)]
    await send_readings(
        init_integration, mfm_link, clock, board, values, spacing=spacing
    )
    await advance(hass, clock, 5.0)
    assert state(hass, ISLAND) == "off"
