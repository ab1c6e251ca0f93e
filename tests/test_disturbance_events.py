"""A frequency step through a real pty becomes one event, and its readings a CSV download."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.mains_monitor.disturbance import Thresholds
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.frequency_reference import brute_force_triggers, rocof_peak
from tests.helpers import Clock, advance, send_readings, state

EVENT = "event.mains_frequency_board_frequency_disturbance"
SPACING = 0.3  # s: 3 readings in every second, the fewest a rate of change needs


async def test_a_step_fires_one_event(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """20 s at nominal, then 80 mHz lower: one event once 60 s passed quietly after it."""
    started = dt_util.utcnow().timestamp()
    values = [50000] * 67 + [49920] * 240
    await send_readings(
        init_integration, mfm_link, clock, board, values, spacing=SPACING
    )
    await advance(hass, clock, 5.0)

    readings = [
        (started + index * SPACING, value - 50000.0)
        for index, value in enumerate(values)
    ]
    triggers = brute_force_triggers(readings, Thresholds())
    start, end = triggers[0], triggers[-1]
    assert start == pytest.approx(started + 67 * SPACING)
    event = hass.states.get(EVENT)
    assert event is not None
    assert event.state != STATE_UNKNOWN
    assert event.attributes["event_type"] == "rocof"
    assert {
        key: event.attributes[key]
        for key in (
            "kinds",
            "start",
            "duration",
            "peak_deviation",
            "peak_rocof",
            "oscillation_frequency",
        )
    } == {
        "kinds": ["rocof", "step"],
        "start": dt_util.utc_from_timestamp(start).isoformat(),
        "duration": round(end - start, 1),
        "peak_deviation": -80.0,
        "peak_rocof": round(rocof_peak(readings, start, end), 1),
        "oscillation_frequency": None,
    }

    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    [download] = diagnostics["device"]["disturbances"]
    rows = download["readings_csv"].splitlines()
    kept = [(t, d) for t, d in readings if start - 60 <= t <= end + 60]
    assert rows[0] == "time,deviation_mhz"
    assert rows[1:] == [f"{t:.3f},{d:.1f}" for t, d in kept]


async def test_a_steady_frequency_fires_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Readings within a few mHz of each other for 80 s: no event."""
    values = [50000 + (index % 5) for index in range(267)]
    await send_readings(
        init_integration, mfm_link, clock, board, values, spacing=SPACING
    )
    await advance(hass, clock, 5.0)
    assert state(hass, EVENT) == STATE_UNKNOWN
