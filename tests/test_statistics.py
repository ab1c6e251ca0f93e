"""Long-term statistics of both devices, compiled by Home Assistant's recorder from what it recorded.

A board and an ECM-1240 run side by side for two update intervals (tests/house.py):
their snapshots fall at 12:01:00 and 12:02:00 and then hold, as the states of
devices whose values do not change again. The recorder compiles the 5-minute
period 12:00-12:05 and, with the period 12:55-13:00, the hour 12:00-13:00. The
expected statistics follow from the expected states by the recorder's own
definitions: a time-weighted mean from the first state to the period's end, the
extremes of the states, and the growth of a total since its first state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any, Literal

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from homeassistant.components.recorder import history, statistics
from homeassistant.components.recorder.core import Recorder
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import Simulation
from tests.helpers import Clock, entity_key
from tests.house import (
    BEGIN,
    BOARD_TOTALS,
    BOARD_UNITS,
    ECM_TOTALS,
    ECM_UNITS,
    ENERGIES,
    SNAPSHOTS,
    board_entry,
    board_figures,
    ecm_figures,
    entity_ids,
    play,
    unit_entry,
)

PERIOD = BEGIN
PERIOD_END = PERIOD + timedelta(minutes=5)
LAST_PERIOD = PERIOD + timedelta(minutes=55)

# The sensors with a state class, by key, with the unit of their statistics.
BOARD_MEASUREMENTS = BOARD_UNITS
ECM_MEASUREMENTS = {key: unit for key, unit in ECM_UNITS.items() if key not in ENERGIES}
ECM_ENERGIES = {key: ECM_UNITS[key] for key in ENERGIES}
ECM_SUMS = ECM_ENERGIES | ECM_TOTALS
# The diagnostic counters, off by default as they change at every update.
COUNTERS = {
    "readings_accepted",
    "lines_rejected",
    "board_restarts",
    "packets_accepted",
    "packets_rejected",
    "packets_foreign",
}
# The other sensors off by default: the raw DC input, the last packet's time and the
# board's Allan deviations, which change at every update too.
OTHERS_OFF = {
    "dc_voltage_raw",
    "last_packet",
    *(f"allan_deviation_{tau}" for tau in (1, 10, 100)),
}
# A measurement still unknown after two minutes: the correction in force needs an hour.
UNKNOWN = {"correction_inferred"}

# The recorder (`recorder_mock`) starts before Home Assistant.
pytestmark = pytest.mark.recorder_before_hass

type Rows = dict[str, list[dict[str, Any]]]
STATISTIC_TYPES: set[Literal["mean", "min", "max", "state", "sum"]] = {
    "mean",
    "min",
    "max",
    "state",
    "sum",
}


@pytest.fixture
def mock_config_entry(mfm_link: PtyLink) -> MockConfigEntry:
    """The board's entry, updated every minute."""
    return board_entry(mfm_link)


@pytest.fixture
def ecm_entry(ecm_link: PtyLink) -> MockConfigEntry:
    """The unit's entry, updated every minute."""
    return unit_entry(ecm_link)


@pytest.fixture
async def compiled(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    simulation: Simulation,
    clock: Clock,
) -> None:
    """Both devices through both intervals, recorded, with the statistics compiled."""
    await play(hass, mock_config_entry, mfm_link, board, simulation, clock)
    await async_wait_recording_done(hass)
    for start in (PERIOD, LAST_PERIOD):
        do_adhoc_statistics(hass, start=start)
        await async_wait_recording_done(hass)


def time_weighted(first: float, second: float) -> float:
    """The recorder's mean of the period: each state until the next, the last until the end."""
    first_held = (SNAPSHOTS[1] - SNAPSHOTS[0]).total_seconds()
    second_held = (PERIOD_END - SNAPSHOTS[1]).total_seconds()
    return (first * first_held + second * second_held) / (first_held + second_held)


def expected_rows(
    ids: dict[str, str],
    measurements: Iterable[str],
    totals: Iterable[str],
    snapshots: list[dict[str, float]],
) -> tuple[Rows, Rows]:
    """The 5-minute and hourly statistics of the sensors, by entity id."""
    first, second = snapshots
    five: Rows = {}
    hour: Rows = {}
    for key in measurements:
        mean = time_weighted(first[key], second[key])
        extremes = {
            "min": min(first[key], second[key]),
            "max": max(first[key], second[key]),
        }
        five[ids[key]] = [{"start": PERIOD, "mean": mean, **extremes}]
        # The period 12:55 holds the second value throughout; the hour averages the periods.
        five[ids[key]].append(
            {
                "start": LAST_PERIOD,
                "mean": second[key],
                "min": second[key],
                "max": second[key],
            }
        )
        hour[ids[key]] = [
            {"start": PERIOD, "mean": (mean + second[key]) / 2, **extremes}
        ]
    for key in totals:
        grown = {"state": second[key], "sum": second[key] - first[key]}
        five[ids[key]] = [{"start": PERIOD, **grown}, {"start": LAST_PERIOD, **grown}]
        hour[ids[key]] = [{"start": PERIOD, **grown}]
    return five, hour


def expected_statistics(
    hass: HomeAssistant, board: MockConfigEntry, ecm: MockConfigEntry
) -> tuple[Rows, Rows]:
    """The expected 5-minute and hourly statistics of both devices, by entity id."""
    board_five, board_hour = expected_rows(
        entity_ids(hass, board), BOARD_MEASUREMENTS, BOARD_TOTALS, board_figures()
    )
    ecm_five, ecm_hour = expected_rows(
        entity_ids(hass, ecm), ECM_MEASUREMENTS, ECM_SUMS, ecm_figures()
    )
    return board_five | ecm_five, board_hour | ecm_hour


async def compiled_rows(hass: HomeAssistant, period: str) -> Rows:
    """Every statistic compiled for `period`s from 12:00 on, by id, without its end."""
    rows = await get_instance(hass).async_add_executor_job(
        statistics.statistics_during_period,
        hass,
        PERIOD,
        None,
        None,
        period,
        None,
        STATISTIC_TYPES,
    )
    return {
        statistic_id: [
            {
                "start": dt_util.utc_from_timestamp(row["start"]),
                **{
                    key: value
                    for key, value in row.items()
                    if key in STATISTIC_TYPES and value is not None
                },
            }
            for row in found
        ]
        for statistic_id, found in rows.items()
    }


async def recorded_states(
    hass: HomeAssistant, entity_ids: Iterable[str]
) -> dict[str, list[str]]:
    """Every state the recorder wrote for the entities, in order."""
    found = await get_instance(hass).async_add_executor_job(
        partial(
            history.get_significant_states,
            hass,
            PERIOD - timedelta(hours=1),
            entity_ids=list(entity_ids),
            significant_changes_only=False,
        )
    )
    return {
        entity_id: [state.state for state in states if isinstance(state, State)]
        for entity_id, states in found.items()
    }


def as_number(state: str) -> float | str:
    """A recorded state as a number, unless it is none."""
    return state if state == STATE_UNAVAILABLE else float(state)


@pytest.mark.usefixtures("compiled")
async def test_every_sensor_with_a_state_class_has_statistics(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ecm_entry: MockConfigEntry
) -> None:
    """Statistics exist for the measurements and totals of both devices, in their units, and nothing else."""
    board, ecm = entity_ids(hass, mock_config_entry), entity_ids(hass, ecm_entry)
    expected = {
        **{board[key]: (unit, False) for key, unit in BOARD_MEASUREMENTS.items()},
        **{board[key]: (unit, True) for key, unit in BOARD_TOTALS.items()},
        **{ecm[key]: (unit, False) for key, unit in ECM_MEASUREMENTS.items()},
        **{ecm[key]: (unit, True) for key, unit in ECM_SUMS.items()},
    }
    with_state_class = {
        registered.entity_id
        for entry in (mock_config_entry, ecm_entry)
        for registered in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if registered.disabled_by is None
        and "state_class" in (registered.capabilities or {})
    }
    metadata = await get_instance(hass).async_add_executor_job(
        statistics.get_metadata, hass
    )

    assert with_state_class == expected.keys() | {board[key] for key in UNKNOWN}
    assert {
        statistic_id: (meta["unit_of_measurement"], meta["has_sum"])
        for statistic_id, (_, meta) in metadata.items()
    } == expected


@pytest.mark.usefixtures("compiled")
async def test_five_minute_statistics(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ecm_entry: MockConfigEntry
) -> None:
    """Mean, minimum and maximum of each measurement, state and growth of each total, per 5 minutes."""
    five_minutes, _ = expected_statistics(hass, mock_config_entry, ecm_entry)

    assert await compiled_rows(hass, "5minute") == five_minutes


@pytest.mark.usefixtures("compiled")
async def test_hourly_statistics(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ecm_entry: MockConfigEntry
) -> None:
    """The hour 12:00-13:00 from its 5-minute periods: the mean of their means, their extremes, the last total."""
    _, hourly = expected_statistics(hass, mock_config_entry, ecm_entry)

    assert await compiled_rows(hass, "hour") == hourly


@pytest.mark.usefixtures("compiled")
async def test_one_state_row_per_update(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ecm_entry: MockConfigEntry
) -> None:
    """A measurement writes one row at set-up and one for each update that changed it."""
    board, ecm = entity_ids(hass, mock_config_entry), entity_ids(hass, ecm_entry)
    (first_board, second_board), (first_ecm, second_ecm) = (
        board_figures(),
        ecm_figures(),
    )

    recorded = await recorded_states(
        hass, [board["frequency"], ecm["ch1_energy"], ecm["aux1_power"]]
    )

    assert {
        entity_id: [as_number(state) for state in states]
        for entity_id, states in recorded.items()
    } == {
        board["frequency"]: [
            STATE_UNAVAILABLE,
            first_board["frequency"],
            second_board["frequency"],
        ],
        ecm["ch1_energy"]: [
            STATE_UNAVAILABLE,
            first_ecm["ch1_energy"],
            second_ecm["ch1_energy"],
        ],
        # 60 W in both intervals: one row for both updates.
        ecm["aux1_power"]: [STATE_UNAVAILABLE, first_ecm["aux1_power"]],
    }


@pytest.mark.usefixtures("compiled")
async def test_the_counters_leave_nothing_in_the_recorder(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, ecm_entry: MockConfigEntry
) -> None:
    """Left disabled, the diagnostic counters write no state row and have no statistics."""
    off = {
        entity_key(hass, registered): registered
        for entry in (mock_config_entry, ecm_entry)
        for registered in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if registered.disabled_by is not None
    }
    off_ids = [registered.entity_id for registered in off.values()]

    assert off.keys() == COUNTERS | OTHERS_OFF
    # No state class even when enabled: a counter starts from zero whenever the
    # entry loads, which statistics would take for a new meter cycle.
    assert {key: off[key].capabilities for key in COUNTERS} == dict.fromkeys(COUNTERS)
    assert await recorded_states(hass, off_ids) == {}
    assert set(off_ids).isdisjoint(await compiled_rows(hass, "5minute"))
