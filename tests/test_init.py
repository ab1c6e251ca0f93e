"""The integration's life: set-up, outages, recovery, restarts, unload."""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any, cast

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import serialx

from custom_components.mains_monitor.const import (
    CONF_CALIBRATION_OFFSET,
    CONF_PORT,
    DOMAIN,
    ConnectionState,
)
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from homeassistant.components.button.const import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from simulator.links import PtyLink, TcpLink
from simulator.mfm import MfmBoard
from tests.helpers import (
    CONNECTION,
    FREQUENCY,
    GRID_TIME,
    GRID_TIME_SINCE,
    START,
    Clock,
    advance,
    outage_issue,
    outage_logs,
    send,
    send_readings,
    state,
    track_states,
    wait_for_connection,
)

# The diagnostic counters are off by default; these tests read them.
pytestmark = pytest.mark.usefixtures("all_entities_enabled")


async def test_unavailable_until_the_first_reading(
    hass: HomeAssistant, init_integration: MockConfigEntry, clock: Clock
) -> None:
    """Before the board has said anything there is nothing to show."""
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    assert state(hass, CONNECTION) == "connected"


async def test_unplugged_then_plugged_back_in(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The port vanishes for three retries, returns, and the same entities come back."""
    caplog.set_level(logging.INFO)
    await send_readings(init_integration, mfm_link, clock, board, [50010], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.01"

    mfm_link.close()
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    assert state(hass, CONNECTION) == "disconnected"
    for backoff in (1, 2, 4):  # each retry finds no port
        await advance(hass, clock, backoff + 0.1)
        await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)

    mfm_link.open()
    await advance(hass, clock, 8.1)
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    await send_readings(init_integration, mfm_link, clock, board, [49990], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "49.99"
    assert outage_logs(caplog) == (1, 1)


async def test_silence_means_unavailable_and_a_fresh_connection(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No valid reading for the silence timeout: unavailable, reopen, recover."""
    caplog.set_level(logging.INFO)
    await send_readings(init_integration, mfm_link, clock, board, [50020], spacing=0)
    await advance(hass, clock, 29.0)
    assert state(hass, FREQUENCY) == "50.02"

    await advance(hass, clock, 1.5)
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE

    await advance(hass, clock, 1.1)
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    await send_readings(init_integration, mfm_link, clock, board, [50030], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.03"
    assert outage_logs(caplog) == (1, 1)


def port_states(entry: MockConfigEntry) -> list[ConnectionState]:
    """Every state the reader's port goes through from now on (each retry's, too)."""
    coordinator = cast(MfmCoordinator, entry.runtime_data)
    states: list[ConnectionState] = []

    def changed() -> None:
        """Note a new port state."""
        if not states or states[-1] is not coordinator.connection_state:
            states.append(coordinator.connection_state)

    entry.async_on_unload(coordinator.async_add_listener(changed))
    return states


async def test_an_outage_with_retries_is_two_connection_changes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Unplugged through five retries: Disconnected once, Connected once, nothing between."""
    await send_readings(init_integration, mfm_link, clock, board, [50010], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, CONNECTION) == "connected"
    shown = track_states(hass, CONNECTION)
    port = port_states(init_integration)

    mfm_link.close()
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    for backoff in (1, 2, 4, 8, 16):  # each retry finds no port
        await advance(hass, clock, backoff + 0.1)
        await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
        assert state(hass, CONNECTION) == "disconnected"
    mfm_link.open()
    await advance(hass, clock, 32.1)
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    assert state(hass, CONNECTION) == "disconnected"  # the port is open, no data yet
    await send_readings(init_integration, mfm_link, clock, board, [49990], spacing=0)
    await hass.async_block_till_done()

    assert shown == ["disconnected", "connected"]
    assert port == [
        ConnectionState.CONNECTED,  # the outage is noted before the port is closed
        ConnectionState.DISCONNECTED,
        *[ConnectionState.CONNECTING, ConnectionState.DISCONNECTED] * 5,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
    ]


async def test_a_silent_board_reopened_again_and_again_is_two_connection_changes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """The port opens at every retry but stays silent: still one outage to the sensor."""
    await send_readings(init_integration, mfm_link, clock, board, [50020], spacing=0)
    await advance(hass, clock, 5.0)
    shown = track_states(hass, CONNECTION)
    port = port_states(init_integration)

    await advance(hass, clock, 25.5)  # 30 s of silence
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    for backoff in (1, 2, 4):  # reopened, silent for 30 s, closed again
        await advance(hass, clock, backoff + 0.1)
        await wait_for_connection(init_integration, ConnectionState.CONNECTED)
        await advance(hass, clock, 30.1)
        await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
        assert state(hass, CONNECTION) == "disconnected"
    await advance(hass, clock, 8.1)
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    await send_readings(init_integration, mfm_link, clock, board, [50030], spacing=0)
    await advance(hass, clock, 5.0)

    assert shown == ["disconnected", "connected"]
    assert port == [
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
        *[
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.DISCONNECTED,
        ]
        * 3,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
    ]
    assert state(hass, FREQUENCY) == "50.03"


async def test_garbage_does_not_keep_the_entities_alive(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Only valid readings feed the silence watchdog."""
    await send_readings(init_integration, mfm_link, clock, board, [50020], spacing=0)
    for _ in range(6):
        await send(init_integration, mfm_link, b"XXXXX\r\n", 0, rejected=1)
        await advance(hass, clock, 5.0)
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE


async def test_grid_time_survives_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """The saved grid time is restored, continues, and is saved again at a stop."""
    key = f"{DOMAIN}.{mock_config_entry.entry_id}"
    since = "2026-11-01T00:00:00+00:00"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"grid_time_deviation": 12.5, "since": since},
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)

    await send_readings(
        mock_config_entry, mfm_link, clock, board, [50100, 50100, 50100], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    # 4 s at +100 mHz on a 50 Hz grid: 4 x 0.1 / 50 = 0.008 s.
    assert state(hass, GRID_TIME) == "12.508"
    assert state(hass, GRID_TIME_SINCE) == since

    await hass.async_stop()
    assert hass_storage[key]["data"]["grid_time_deviation"] == pytest.approx(12.508)
    assert hass_storage[key]["data"]["since"] == since


async def test_reset_button_restarts_grid_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Pressing the button sets the deviation to zero from that moment."""
    await send_readings(
        init_integration, mfm_link, clock, board, [49900, 49900], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    assert state(hass, GRID_TIME) == "-0.004"

    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: "button.mains_frequency_board_reset_grid_time_deviation"},
        blocking=True,
    )
    assert state(hass, GRID_TIME) == "0.0"
    assert datetime.fromisoformat(
        state(hass, GRID_TIME_SINCE)
    ) == datetime.fromisoformat(START).replace(second=7)


async def test_calibration_offset_is_added_to_every_reading(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A +1.5 mHz offset moves mean, extremes and deviation alike."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_CALIBRATION_OFFSET: 1.5},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    await send_readings(
        mock_config_entry, mfm_link, clock, board, [50000, 50010], spacing=1.0
    )
    await advance(hass, clock, 4.0)
    assert state(hass, FREQUENCY) == "50.0065"
    assert state(hass, "sensor.mains_frequency_board_maximum_frequency") == "50.0115"
    assert state(hass, "sensor.mains_frequency_board_deviation_from_nominal") == "6.5"


async def test_sixty_hertz_grid(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
) -> None:
    """A 60 Hz board's banner sets the nominal frequency the deviation is taken from."""
    board = MfmBoard(nominal=60)
    await send(init_integration, mfm_link, board.banner() + board.line(59950, 0), 1)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "59.95"
    assert state(hass, "sensor.mains_frequency_board_deviation_from_nominal") == "-50.0"
    assert state(hass, "sensor.mains_frequency_board_board_restarts") == "1"


async def test_network_serial_server(
    hass: HomeAssistant,
    socket_enabled: None,
    mock_config_entry: MockConfigEntry,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A socket:// port (ser2net) works like a local one, and its drop is an outage."""
    server = TcpLink()
    await server.start()
    try:
        mock_config_entry.add_to_hass(hass)
        hass.config_entries.async_update_entry(
            mock_config_entry, data={**mock_config_entry.data, CONF_PORT: server.url}
        )
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await server.wait_for_clients()
        await send(mock_config_entry, server, board.line(50005, 0), 1)
        await advance(hass, clock, 5.0)
        assert state(hass, FREQUENCY) == "50.005"

        await server.drop_clients()
        await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
        assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
        await advance(hass, clock, 1.1)
        await server.wait_for_clients()
        await send(mock_config_entry, server, board.line(50006, 0), 1)
        await advance(hass, clock, 5.0)
        assert state(hass, FREQUENCY) == "50.006"
        assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    finally:
        await server.stop()


async def test_unload_closes_the_port(
    hass: HomeAssistant, init_integration: MockConfigEntry, mfm_link: PtyLink
) -> None:
    """After unloading the entities are unavailable and another program may take the port."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    # The reader held the port exclusively; now an exclusive open succeeds.
    port = serialx.async_serial_for_url(
        str(mfm_link.path), baudrate=19200, exclusive=True
    )
    await port.open()
    await port.close()


async def test_home_assistant_stop_closes_the_port_and_saves(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Stopping Home Assistant ends the reader, frees the port and writes the grid time."""
    await send_readings(
        init_integration, mfm_link, clock, board, [50050, 50050], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    await hass.async_stop()

    port = serialx.async_serial_for_url(
        str(mfm_link.path), baudrate=19200, exclusive=True
    )
    await port.open()
    await port.close()
    stored = hass_storage[f"{DOMAIN}.{init_integration.entry_id}"]["data"]
    # 2 s at +50 mHz on 50 Hz: 2 x 0.05 / 50 = 0.002 s.
    assert stored["grid_time_deviation"] == pytest.approx(0.002)


async def test_removing_the_entry_deletes_its_grid_time(
    hass: HomeAssistant, hass_storage: dict[str, Any], init_integration: MockConfigEntry
) -> None:
    """Nothing of a removed device stays behind in storage."""
    key = f"{DOMAIN}.{init_integration.entry_id}"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert key in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    assert key not in hass_storage


async def test_a_lasting_outage_raises_one_repair_issue_that_clears_itself(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Port gone for minutes: one issue naming the cause; data back: the issue is gone."""
    await send_readings(init_integration, mfm_link, clock, board, [50010], spacing=0)
    mfm_link.close()
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    await advance(hass, clock, 30.0)
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    assert outage_issue(hass, init_integration) is None  # a replug takes seconds
    for _ in range(6):  # retries at the backoff's 60 s cap
        await advance(hass, clock, 30.0)
        await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    assert outage_issue(hass, init_integration) == "outage_port_not_found"
    assert len(ir.async_get(hass).issues) == 1

    mfm_link.open()
    await advance(hass, clock, 60.0)
    await wait_for_connection(init_integration, ConnectionState.CONNECTED)
    await send_readings(init_integration, mfm_link, clock, board, [50010], spacing=0)
    assert outage_issue(hass, init_integration) is None


@pytest.mark.parametrize(
    ("noise", "rejected", "reason"),
    [
        (
            b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n",
            1,
            "outage_wrong_device",
        ),
        (b"NFA-RPi 2.0 extendend mfm (@Arduino)\r\nXXXXX\r\n", 1, "outage_no_signal"),
        (b"", 0, "outage_no_data_mfm"),
    ],
    ids=["wrong_device", "no_signal", "silent"],
)
async def test_the_outage_issue_names_what_the_port_carries(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    noise: bytes,
    rejected: int,
    reason: str,
) -> None:
    """Silence, a board without mains and another device each get their own advice."""
    await send_readings(init_integration, mfm_link, clock, board, [50010], spacing=0)
    if noise:
        await send(init_integration, mfm_link, noise, 0, rejected=rejected)
    await advance(hass, clock, 31.0)
    await wait_for_connection(init_integration, ConnectionState.DISCONNECTED)
    await advance(hass, clock, 61.0)
    assert outage_issue(hass, init_integration) == reason


async def test_grid_time_is_saved_within_a_minute_and_at_a_stop(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A crash loses at most a minute; a Home Assistant stop writes the newest value."""
    key = f"{DOMAIN}.{init_integration.entry_id}"
    await send_readings(
        init_integration, mfm_link, clock, board, [50050, 50050], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    # The first reading (t = 0 s) asked for a save a minute later.
    assert key not in hass_storage
    for _ in range(12):
        await send_readings(
            init_integration, mfm_link, clock, board, [50050], spacing=0
        )
        await advance(hass, clock, 5.0)
    # Readings at 0, 2, 7, ..., 62 s. The save fell due at 60 s, after the reading at
    # 57 s: 57 s at +50 mHz on 50 Hz is 57 x 0.05 / 50 = 0.057 s.
    assert hass_storage[key]["data"]["grid_time_deviation"] == pytest.approx(0.057)

    await hass.async_stop()
    # The reading at 62 s asked for the next save; the stop wrote it: 0.062 s.
    assert hass_storage[key]["data"]["grid_time_deviation"] == pytest.approx(0.062)
