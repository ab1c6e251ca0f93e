"""The calibration offset worked out from a reference, through the options flow, with a board on a real pty.

The simulated board reads 7 mHz high (its crystal). The expected offsets are worked out
here from the values sent: the grid time as trapezoids between readings, the official
change as the same integral of the true frequency, the board's mean as the mean of
its readings in the period's seconds.
"""

from __future__ import annotations

from fractions import Fraction
import itertools
from statistics import fmean

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.calibration import offset_from_reference
from custom_components.mains_monitor.const import (
    CONF_CALIBRATION_OFFSET,
    ConnectionState,
)
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from simulator.links import PtyLink
from simulator.mfm import MfmBoard, random_walk
from tests.helpers import (
    Clock,
    coordinator_of,
    send_readings,
    set_up_connected,
    silent_for,
    wait_for_connection,
)

CRYSTAL_MHZ = 7
NOMINAL_MHZ = 50000
# Readings 5 s apart, the most the grid time counts across: 5500 s counted, past
# the 5000 s after which 0.1 s of grid time makes 1 mHz on a 50 Hz grid.
GRID_TIME_SPACING = 5.0
GRID_TIME_READINGS = 1101
OFFICIAL_THEN = 12.3  # s, the official deviation when the count began


@pytest.fixture
def board() -> MfmBoard:
    """A board whose crystal makes it read 7 mHz high."""
    return MfmBoard(calibration_mhz=CRYSTAL_MHZ)


def true_values(count: int, seed: int = 3) -> list[int]:
    """The grid's true frequency (mHz) at each reading: a seeded random walk."""
    grid = random_walk(seed)
    return [grid(float(index)) for index in range(count)]


def trapezoids(values: list[int], spacing: float) -> Fraction:
    """The grid time (s) the values (mHz), `spacing` s apart, make: trapezoids between them."""
    return (
        sum(
            (Fraction(a + b, 2) - NOMINAL_MHZ for a, b in itertools.pairwise(values)),
            Fraction(0),
        )
        * Fraction(spacing)
        / NOMINAL_MHZ
    )


async def open_step(
    hass: HomeAssistant, entry: MockConfigEntry, step: str
) -> ConfigFlowResult:
    """Open the options flow and choose `step` from its menu."""
    menu = await hass.config_entries.options.async_init(entry.entry_id)
    assert menu["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        menu["flow_id"], {"next_step_id": step}
    )


async def submit(
    hass: HomeAssistant, flow: ConfigFlowResult, user_input: dict[str, float]
) -> ConfigFlowResult:
    """Submit a step of the options flow."""
    return await hass.config_entries.options.async_configure(
        flow["flow_id"], user_input
    )


async def test_the_options_menu_offers_settings_and_both_calibrations(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The board's options open on a menu: its settings, or a calibration from a reference."""
    menu = await hass.config_entries.options.async_init(init_integration.entry_id)

    assert menu["type"] is FlowResultType.MENU
    assert menu["menu_options"] == [
        "settings",
        "calibrate_grid_time",
        "calibrate_reference",
    ]


async def test_the_official_grid_time_gives_the_crystals_error(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """5500 s of readings, official figures to 0.1 s: the offset found is saved and in force."""
    true = true_values(GRID_TIME_READINGS)
    await send_readings(
        init_integration,
        mfm_link,
        clock,
        board,
        true,
        spacing=GRID_TIME_SPACING,
    )
    counted = trapezoids([value + CRYSTAL_MHZ for value in true], GRID_TIME_SPACING)
    official_now = round(OFFICIAL_THEN + float(trapezoids(true, GRID_TIME_SPACING)), 1)
    covered = GRID_TIME_SPACING * (GRID_TIME_READINGS - 1)
    error = (
        (counted - Fraction(official_now) + Fraction(OFFICIAL_THEN))
        * 50
        / Fraction(covered)
        * 1000
    )
    expected = round(float(-error), 1)
    # The official figures' 0.1 s over 5500 s: within 0.45 mHz of the crystal's error.
    assert abs(expected + CRYSTAL_MHZ) <= 0.45

    form = await open_step(hass, init_integration, "calibrate_grid_time")
    assert form["description_placeholders"] == {
        "device": init_integration.title,
        "since": "2026-11-22 04:00:00",  # the count began at set-up, 12:00 UTC
        "elapsed": "1 h 31 min",
        "counted": f"{float(counted):+.3f}",
        "minimum": "1 h 23 min",
    }
    confirm = await submit(
        hass, form, {"official_then": OFFICIAL_THEN, "official_now": official_now}
    )
    assert confirm["step_id"] == "calibrate_confirm"
    assert confirm["description_placeholders"] == {
        "device": init_integration.title,
        "offset": f"{expected:+.1f}",
        "previous": "+0.0",
    }
    done = await submit(hass, confirm, {})
    await hass.async_block_till_done()

    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options[CONF_CALIBRATION_OFFSET] == expected
    assert init_integration.state is ConfigEntryState.LOADED
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    coordinator = coordinator_of(init_integration)
    assert isinstance(coordinator, MfmCoordinator)
    assert coordinator.calibration == expected
    # The count went on with the old offset: it cannot calibrate the new one.
    again = await open_step(hass, init_integration, "calibrate_grid_time")
    refused = await submit(
        hass, again, {"official_then": OFFICIAL_THEN, "official_now": official_now}
    )
    assert refused["errors"] == {"base": "count_unknown"}


async def test_a_count_too_short_for_the_official_figures_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """500 s of counting resolves 10 mHz from figures read to 0.1 s: the form says how long to wait."""
    true = true_values(101)
    await send_readings(
        init_integration, mfm_link, clock, board, true, spacing=GRID_TIME_SPACING
    )

    form = await open_step(hass, init_integration, "calibrate_grid_time")
    refused = await submit(hass, form, {"official_then": 0.0, "official_now": 0.1})

    assert refused["step_id"] == "calibrate_grid_time"
    assert refused["errors"] == {"base": "period_too_short"}
    assert refused["description_placeholders"] is not None
    assert {
        key: refused["description_placeholders"][key]
        for key in ("counted_for", "minimum")
    } == {"counted_for": "0 h 08 min", "minimum": "1 h 23 min"}
    assert init_integration.options[CONF_CALIBRATION_OFFSET] == 0.0


async def test_a_count_with_gaps_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A link down for 2 minutes in 94: what the grid did then is unknown, more than 1 % of the time."""
    true = true_values(GRID_TIME_READINGS)
    half = GRID_TIME_READINGS // 2
    await send_readings(
        init_integration,
        mfm_link,
        clock,
        board,
        true[:half],
        spacing=GRID_TIME_SPACING,
    )
    # Silent for 120 s: the link is found down after 30 s, the port reopened at once.
    await silent_for(hass, clock, init_integration, 120)
    await send_readings(
        init_integration,
        mfm_link,
        clock,
        board,
        true[half:],
        spacing=GRID_TIME_SPACING,
    )

    form = await open_step(hass, init_integration, "calibrate_grid_time")
    refused = await submit(hass, form, {"official_then": 0.0, "official_now": 0.0})

    assert refused["errors"] == {"base": "count_has_gaps"}
    assert refused["description_placeholders"] is not None
    # 120 s between two readings: none of it counted.
    assert refused["description_placeholders"]["missed"] == "0 h 02 min"


async def test_official_figures_far_off_are_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A sign mistaken in the official figures makes hundreds of mHz: refused, with the figure."""
    true = true_values(GRID_TIME_READINGS)
    await send_readings(
        init_integration, mfm_link, clock, board, true, spacing=GRID_TIME_SPACING
    )
    counted = trapezoids([value + CRYSTAL_MHZ for value in true], GRID_TIME_SPACING)
    official_change = -float(counted) - 20  # the sign mistaken, and more
    error = (counted - Fraction(official_change)) * 50 / 5500 * 1000

    form = await open_step(hass, init_integration, "calibrate_grid_time")
    refused = await submit(
        hass, form, {"official_then": 0.0, "official_now": official_change}
    )

    assert refused["errors"] == {"base": "offset_out_of_range"}
    assert refused["description_placeholders"] is not None
    assert refused["description_placeholders"]["offset"] == f"{float(-error):+.1f}"


@pytest.mark.parametrize("offset_in_force", [-2.0])
async def test_a_reference_reading_gives_the_crystals_error(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    offset_in_force: float,
) -> None:
    """The reference's mean of the last 10 minutes less the board's uncalibrated mean of them."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_CALIBRATION_OFFSET: offset_in_force},
    )
    await set_up_connected(hass, mock_config_entry)
    true = true_values(611, seed=5)
    await send_readings(mock_config_entry, mfm_link, clock, board, true, spacing=1.0)
    # Now is the last reading's second; the period is the 600 s ending with it.
    period = true[-600:]
    reference = round(fmean(period) / 1000, 4)
    uncalibrated = Fraction(sum(period) + 600 * CRYSTAL_MHZ, 600 * 1000)
    expected = round(float((Fraction(reference) - uncalibrated) * 1000), 1)
    assert abs(expected + CRYSTAL_MHZ) <= 0.05

    form = await open_step(hass, mock_config_entry, "calibrate_reference")
    confirm = await submit(hass, form, {"reference_frequency": reference, "period": 10})
    assert confirm["step_id"] == "calibrate_confirm"
    assert confirm["description_placeholders"] == {
        "device": mock_config_entry.title,
        "offset": f"{expected:+.1f}",
        "previous": f"{offset_in_force:+.1f}",
    }
    await submit(hass, confirm, {})
    await hass.async_block_till_done()

    assert mock_config_entry.options[CONF_CALIBRATION_OFFSET] == expected
    # Reloaded: the board's next reading is calibrated with it.
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    coordinator = coordinator_of(mock_config_entry)
    assert isinstance(coordinator, MfmCoordinator)
    assert coordinator.calibration == expected


async def test_a_reference_period_longer_than_the_readings_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Ten minutes of readings cannot stand for the last hour."""
    await send_readings(
        init_integration, mfm_link, clock, board, true_values(600), spacing=1.0
    )

    form = await open_step(hass, init_integration, "calibrate_reference")
    refused = await submit(hass, form, {"reference_frequency": 50.0, "period": 60})

    assert refused["errors"] == {"base": "too_few_readings"}
    assert refused["description_placeholders"] is not None
    assert {
        key: refused["description_placeholders"][key] for key in ("seconds", "period")
    } == {"seconds": "600", "period": "3600"}


async def test_calibrating_needs_the_entry_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Without readings there is nothing to compare: the flow says so."""
    mock_config_entry.add_to_hass(hass)

    result = await open_step(hass, mock_config_entry, "calibrate_reference")

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "calibration_needs_readings"


def test_the_offset_in_force_is_taken_out_of_the_boards_mean() -> None:
    """A board 7 mHz high, calibrated -2 mHz, against a reference at nominal: -7 mHz."""
    means = [7.0 - 2.0] * 60

    found = offset_from_reference(
        offset=-2.0, nominal=50, reference=50.0, means=means, period=60
    )

    assert found == -7.0
