"""A network serial server failing: a real ser2net killed, refused, half-open, cut mid-frame.

The board (and one ECM unit) sit on a pty; a real ser2net from Debian serves the pty on
a loopback TCP port, and the entry opens `socket://127.0.0.1:<port>`. Where a fault
needs a server that misbehaves on purpose (half-open, cut after half a line), a
loopback asyncio server stands in for it.

What ser2net 4.3 does, as these tests observe it: it opens the device when a client
connects; when the device fails (pty closed) it closes the client at once; while the
device is gone it accepts every connection, sends `Device open failure: …` and closes
it; bytes written to the pty while no client is connected wait in the pty and are
delivered when the next client connects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    ConnectionState,
)
from custom_components.mains_monitor.ecm_coordinator import EcmCoordinator
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from custom_components.mains_monitor.protocol.mfm import RejectReason
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from simulator.ecm1240 import EcmModel
from simulator.links import PtyLink, TcpLink
from simulator.mfm import MfmBoard
from tests.daemon import free_port
from tests.ecm_unit import ENTRY_ID, Simulation, ch1, ecm_entry_for, kwh, new_unit
from tests.helpers import (
    CONNECTION,
    FREQUENCY,
    Clock,
    advance,
    coordinator_of,
    outage_issue,
    outage_logs,
    parsed,
    send,
    send_readings,
    set_up,
    set_up_connected,
    state,
    wait_for_connection,
)
from tests.ser2net import SER2NET, Ser2net

# The diagnostic counters are off by default; these tests read them. The outage and
# recovery lines are logged at INFO.
pytestmark = pytest.mark.usefixtures("all_entities_enabled", "info_logs")

MAXIMUM = "sensor.mains_frequency_board_maximum_frequency"
MINIMUM = "sensor.mains_frequency_board_minimum_frequency"
ACCEPTED = "sensor.mains_frequency_board_readings_accepted"
REJECTED = "sensor.mains_frequency_board_lines_rejected"

needs_ser2net = pytest.mark.skipif(
    SER2NET is None, reason="ser2net (Debian package) is not installed"
)


@pytest.fixture
async def ser2net(
    tmp_path: Path, mfm_link: PtyLink, socket_enabled: None
) -> AsyncIterator[Ser2net]:
    """A real ser2net for the board's pty on a free port, not started yet."""
    server = Ser2net(tmp_path, mfm_link.path, free_port())
    yield server
    await server.stop()


class CountingTcpLink(TcpLink):
    """A loopback server that accepts, counts the connections and sends only when told."""

    def __init__(self) -> None:
        """No connection accepted yet."""
        super().__init__()
        self.accepted = 0

    def _attach(self, client: Any) -> None:
        """Count every connection the server accepted (the link's hook for a new client)."""
        self.accepted += 1
        super()._attach(client)


@pytest.fixture
def tcp_link_class() -> type[TcpLink]:
    """The loopback server `tcp_link` starts: one that counts its connections."""
    return CountingTcpLink


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every logged line that carries a traceback."""
    return [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text]


def issue_events(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Record from now on what happens to the entry's outage issue (create, update, remove)."""
    actions: list[str] = []

    @callback
    def record(event: Event[ir.EventIssueRegistryUpdatedData]) -> None:
        """Keep the action of an event about the outage issue."""
        if event.data["issue_id"] == f"outage_{entry.entry_id}":
            actions.append(event.data["action"])

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, record)
    return actions


@needs_ser2net
async def test_readings_arrive_through_ser2net(
    hass: HomeAssistant,
    ser2net: Ser2net,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Three lines through a real ser2net: mean, minimum and maximum to the millihertz."""
    await ser2net.start()
    await set_up_connected(hass, mock_config_entry, ser2net.url)
    await send_readings(
        mock_config_entry, mfm_link, clock, board, [50010, 49990, 50030], spacing=1.0
    )
    await advance(hass, clock, 3.0)
    assert state(hass, FREQUENCY) == "50.01"  # (50.010 + 49.990 + 50.030) / 3
    assert state(hass, MINIMUM) == "49.99"
    assert state(hass, MAXIMUM) == "50.03"
    assert state(hass, ACCEPTED) == "3"
    assert state(hass, REJECTED) == "0"


@needs_ser2net
async def test_ser2net_killed_and_restarted(
    hass: HomeAssistant,
    ser2net: Ser2net,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGKILL: unavailable; ser2net back on the same port: data back, one line each."""
    await ser2net.start()
    await set_up_connected(hass, mock_config_entry, ser2net.url)
    await send_readings(mock_config_entry, mfm_link, clock, board, [50010], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.01"

    await ser2net.kill()
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    assert state(hass, CONNECTION) == "disconnected"
    await advance(hass, clock, 1.1)  # the first retry finds nothing listening
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert coordinator_of(mock_config_entry).connection.last_error == "cannot_connect"

    await ser2net.start()
    await advance(hass, clock, 2.1)
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    await send_readings(mock_config_entry, mfm_link, clock, board, [49990], spacing=0)
    await advance(hass, clock, 1.8)  # the next snapshot, 10 s after set-up
    assert state(hass, FREQUENCY) == "49.99"
    assert outage_issue(hass, mock_config_entry) is None  # back within the minute
    assert outage_logs(caplog) == (1, 1)
    assert tracebacks(caplog) == []


@needs_ser2net
async def test_connection_refused_until_a_server_appears(
    hass: HomeAssistant,
    ser2net: Ser2net,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens: unavailable, one issue after 60 s; ser2net starts: back, issue gone."""
    assert await set_up(hass, mock_config_entry, ser2net.url)
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    for backoff in (1, 2, 4, 8, 16):  # every retry is refused
        await advance(hass, clock, backoff + 0.1)
        await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    await advance(hass, clock, 59.0 - clock.elapsed)
    assert outage_issue(hass, mock_config_entry) is None
    await advance(hass, clock, 2.0)
    assert outage_issue(hass, mock_config_entry) == "outage_cannot_connect_network"
    assert len(ir.async_get(hass).issues) == 1

    await ser2net.start()
    await advance(hass, clock, 2.6)  # the retry 32 s after the fifth, at 63.5 s
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    await send_readings(mock_config_entry, mfm_link, clock, board, [50020], spacing=0)
    assert outage_issue(hass, mock_config_entry) is None
    await advance(hass, clock, 5.0)  # a snapshot falls due within any 5 s
    assert state(hass, FREQUENCY) == "50.02"
    assert outage_logs(caplog) == (1, 1)
    assert tracebacks(caplog) == []


async def test_half_open_connection_is_dropped_and_retried_with_backoff(
    hass: HomeAssistant,
    tcp_link: CountingTcpLink,
    mock_config_entry: MockConfigEntry,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A server that accepts and then says nothing: one connection per retry, one issue."""
    await set_up_connected(hass, mock_config_entry, tcp_link.url)
    await tcp_link.wait_for_clients()
    await send(mock_config_entry, tcp_link, board.line(50010, 0), 1)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.01"
    issues = issue_events(hass, mock_config_entry)

    await advance(hass, clock, 25.1)  # 30 s without a reading: the silence watchdog
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    coordinator = coordinator_of(mock_config_entry)
    for connections, backoff in enumerate((1, 2, 4, 8), start=2):
        # advance() also runs what falls due within the next 0.5 s (the harness's
        # allowance for jittered timers): stop 0.6 s short to see nothing yet.
        await advance(hass, clock, backoff - 0.6)
        assert coordinator.connection_state is ConnectionState.DISCONNECTED
        await advance(hass, clock, 0.7)
        await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
        await tcp_link.wait_for_clients()
        assert tcp_link.accepted == connections
        if backoff == 8:
            break
        await advance(hass, clock, 30.1)  # silent again
        await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    # The outage began at 30 s; its issue came at 90 s, during the third connection.
    assert issues == ["create"]
    assert outage_issue(hass, mock_config_entry) == "outage_no_data_mfm"

    await send(mock_config_entry, tcp_link, board.line(50020, 0), 1)
    assert issues == ["create", "remove"]
    assert tcp_link.accepted == 5
    assert outage_logs(caplog) == (1, 1)
    assert tracebacks(caplog) == []


async def test_connection_cut_mid_line(
    hass: HomeAssistant,
    tcp_link: CountingTcpLink,
    mock_config_entry: MockConfigEntry,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Half a line, then the server drops us: that half is rejected once, never glued on."""
    await set_up_connected(hass, mock_config_entry, tcp_link.url)
    await tcp_link.wait_for_clients()
    await send(mock_config_entry, tcp_link, board.line(50010, 0), 1)
    parser = cast(MfmCoordinator, coordinator_of(mock_config_entry)).parser
    line = board.line(50020, 1.0)
    assert line == b"50020;+0153;0;0;0;0;0;0;0;0\r\n"
    async with parsed(mock_config_entry):
        tcp_link.write(line[:14])
    assert (parser.accepted, parser.rejected_total) == (1, 0)  # waiting for the rest

    await tcp_link.drop_clients()
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert (parser.accepted, parser.rejected_total) == (1, 1)
    await advance(hass, clock, 1.1)
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    await tcp_link.wait_for_clients()
    await send(mock_config_entry, tcp_link, line, 1)
    await advance(hass, clock, 3.9)
    assert state(hass, FREQUENCY) == "50.02"
    assert state(hass, ACCEPTED) == "2"
    assert state(hass, REJECTED) == "1"
    assert tcp_link.accepted == 2


@needs_ser2net
async def test_device_unplugged_behind_ser2net(
    hass: HomeAssistant,
    ser2net: Ser2net,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The pty behind ser2net goes: ser2net closes us and refuses to serve until it is back."""
    await ser2net.start()
    await set_up_connected(hass, mock_config_entry, ser2net.url)
    await send_readings(mock_config_entry, mfm_link, clock, board, [50010], spacing=0)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.01"

    mfm_link.close()
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    coordinator = coordinator_of(mock_config_entry)
    assert coordinator.connection.last_error == "connection_lost"
    assert ser2net.running
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE

    parser = cast(MfmCoordinator, coordinator).parser
    # A retry is accepted, told "Device open failure: …" (one rejected line), closed.
    async with parsed(mock_config_entry, lambda: parser.rejected_total == 1):
        await advance(hass, clock, 1.1)
    await wait_for_connection(mock_config_entry, ConnectionState.DISCONNECTED)
    assert parser.rejected == Counter({RejectReason.MALFORMED: 1})
    assert coordinator.connection.last_error == "connection_lost"

    mfm_link.open()
    await advance(hass, clock, 2.1)
    await wait_for_connection(mock_config_entry, ConnectionState.CONNECTED)
    await send_readings(mock_config_entry, mfm_link, clock, board, [49990], spacing=0)
    await advance(hass, clock, 1.8)  # the next snapshot, 10 s after set-up
    assert state(hass, FREQUENCY) == "49.99"
    assert state(hass, REJECTED) == "1"
    assert outage_logs(caplog) == (1, 1)
    assert tracebacks(caplog) == []


@needs_ser2net
async def test_ecm_behind_ser2net_killed_mid_packet(
    hass: HomeAssistant, tmp_path: Path, socket_enabled: None, clock: Clock
) -> None:
    """ser2net dies after half a packet: the half is discarded, the energy is all there."""
    model = EcmModel.ECM_1240
    link = PtyLink(tmp_path / "ttyECM")
    link.open()
    server = Ser2net(tmp_path, link.path, free_port())
    try:
        await server.start()
        entry = ecm_entry_for(server.url, model, entry_id=ENTRY_ID)
        entry.add_to_hass(hass)
        unit = new_unit(model)
        ecm = Simulation(hass, entry, link, clock, unit, [Platform.SENSOR])
        await ecm.set_up()
        await ecm.start()
        await ecm.steps(ch1(1000), 4)
        assert ecm.state("ch1_energy") == kwh(4 * 1000)

        unit.advance(1, ch1(1000))
        parser = cast(EcmCoordinator, entry.runtime_data).parser
        async with parsed(entry, lambda: parser.buffered_bytes == 32):
            link.write(unit.packet()[:32])
        await server.kill()
        await wait_for_connection(entry, ConnectionState.DISCONNECTED)
        assert (parser.buffered_bytes, parser.discarded_bytes) == (0, 32)
        await server.start()
        await ecm.tick()  # the half packet's second; the retry
        await wait_for_connection(entry, ConnectionState.CONNECTED)
        await ecm.idle(ch1(1000), 4)
        await ecm.steps(ch1(400), 5)
        assert ecm.state("ch1_energy") == kwh(9 * 1000 + 5 * 400)
        assert ecm.state("ch1_power") == "400.0"
        assert ecm.state("packets_accepted") == "10"
        assert ecm.state("packets_rejected") == "0"
        await ecm.unload()
    finally:
        await server.stop()
        link.close()
