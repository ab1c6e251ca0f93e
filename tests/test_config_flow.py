"""The set-up, reconfigure and options flows, reading a simulated board on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from itertools import cycle, islice, repeat
import os
from pathlib import Path
import random

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_CALIBRATION_OFFSET,
    CONF_DEVICE_KIND,
    CONF_LINE_FORMAT,
    CONF_MQTT,
    CONF_NOMINAL_FREQUENCY,
    CONF_OSCILLATION_THRESHOLD,
    CONF_PORT,
    CONF_PUBLISH,
    CONF_ROCOF_THRESHOLD,
    CONF_SILENCE_TIMEOUT,
    CONF_STEP_THRESHOLD,
    CONF_TOPIC_PREFIX,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
)
from custom_components.mains_monitor.disturbance import Thresholds
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from custom_components.mains_monitor.protocol.mfm import LineFormat
from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntryDisabler,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, section
from homeassistant.helpers.selector import SerialPortSelector
from simulator.links import PtyLink, TcpLink
from simulator.mfm import Firmware, MfmBoard, reboot_loop, steady, stream
from tests.daemon import free_port
from tests.esphome import EspHome, proxy_url
from tests.flows import (
    form_schema,
    open_options,
    start_port_step,
    submit_options,
    submit_port,
    suggested,
)
from tests.helpers import Clock, Devices, Link, unprivileged

type Scenario = Iterable[tuple[float, bytes]]

# A simulated board writes one chunk per step, a step apart in real time: its pace.
PACE = 0.05
# With the simulated clock, each step lasts this long for everyone (20x real time).
STEP = 1.0
# Steps a board is heard before it is unplugged; the probe opens the port within one.
HEARD_STEPS = 10

DEFAULTS = {
    CONF_UPDATE_INTERVAL: 5,
    CONF_NOMINAL_FREQUENCY: "auto",
    CONF_CALIBRATION_OFFSET: 0.0,
    CONF_SILENCE_TIMEOUT: 30,
    CONF_ROCOF_THRESHOLD: 50.0,
    CONF_STEP_THRESHOLD: 30.0,
    CONF_OSCILLATION_THRESHOLD: 10.0,
}
NMEA_LINES = [
    b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n",
    b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n",
]


class Boards(Devices):
    """Simulated boards streaming to their links until the test ends."""

    def play(
        self,
        link: Link,
        scenario: Scenario,
        *,
        clock: Clock | None = None,
        unplug: bool = False,
    ) -> None:
        """Send `scenario` to `link`; with `clock`, the board's time is the test's."""
        self.run(_play(link, scenario, clock, unplug))


async def _play(
    link: Link, scenario: Scenario, clock: Clock | None, unplug: bool
) -> None:
    """One chunk per step; with a clock, move time a step and send what fell due."""
    if clock is None:
        for _at, data in scenario:
            link.write(data)
            await asyncio.sleep(PACE)
    else:
        await _play_timed(link, iter(scenario), clock)
    if unplug:
        assert isinstance(link, PtyLink)
        link.close()


async def _play_timed(
    link: Link, chunks: Iterator[tuple[float, bytes]], clock: Clock
) -> None:
    """Send each chunk when simulated time reaches it; time runs on without chunks."""
    now = 0.0
    chunk = next(chunks, None)
    while True:
        while chunk is not None and chunk[0] <= now:
            link.write(chunk[1])
            chunk = next(chunks, None)
        await asyncio.sleep(PACE)
        clock.tick(STEP)
        now += STEP


@pytest.fixture
async def boards() -> AsyncIterator[Boards]:
    """Simulated devices, stopped when the test ends."""
    devices = Boards()
    yield devices
    await devices.stop()


@pytest.fixture
def mfm_device(mfm_link: PtyLink) -> str:
    """The board's port by its device path, /dev/pts/N."""
    return os.path.realpath(mfm_link.path)


def readings(board: MfmBoard) -> Scenario:
    """A board measuring a steady 50.012 Hz, as it streams long after power-up."""
    return stream(board, steady(50012), boot=False)


def lines(*chunks: bytes) -> Scenario:
    """Chunks sent over and over, one per step."""
    return zip(repeat(0.0), cycle(chunks), strict=False)


# --- adding a board ----------------------------------------------------------


async def test_the_first_step_asks_for_the_device_kind(hass: HomeAssistant) -> None:
    """The flow starts by asking which device is attached, the mfm board by default."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert form_schema(result)({}) == {CONF_DEVICE_KIND: "mfm"}


async def test_the_port_step_asks_for_the_port(hass: HomeAssistant) -> None:
    """Choosing the board leads to the port form, without errors and without a guess."""
    result = await start_port_step(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "port"
    assert result["errors"] == {}
    assert suggested(result) == {}


@pytest.mark.parametrize(
    ("firmware", "output_format", "line_format"),
    [
        (Firmware.V1, 4, LineFormat.PLAIN),
        (Firmware.V2, 1, LineFormat.PLAIN),
        (Firmware.V2, 2, LineFormat.P2),
        (Firmware.V2, 3, LineFormat.P3),
        (Firmware.V2, 4, LineFormat.P4),
    ],
    ids=["V1", "P1", "P2", "P3", "P4"],
)
async def test_the_board_is_added_with_the_format_it_sends(
    hass: HomeAssistant,
    mfm_link: PtyLink,
    boards: Boards,
    firmware: Firmware,
    output_format: int,
    line_format: LineFormat,
) -> None:
    """A reading on the port creates the entry, with the line format it came in."""
    board = MfmBoard(firmware=firmware, output_format=output_format)
    boards.play(mfm_link, readings(board))
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Mains frequency board"
    assert result["data"] == {
        CONF_DEVICE_KIND: "mfm",
        CONF_PORT: str(mfm_link.path),
        CONF_LINE_FORMAT: line_format,
    }
    assert result["options"] == DEFAULTS


@pytest.mark.parametrize(
    ("port", "error"),
    [
        ("", "invalid_port"),
        ("   ", "invalid_port"),
        ("foo://bar", "invalid_port"),
        ("socket://nohostport", "invalid_port"),
        ("{tmp}/ttyUSB9", "port_not_found"),
    ],
    ids=["empty", "blank", "unknown-scheme", "url-without-port", "missing-path"],
)
async def test_a_port_that_cannot_be_opened_is_explained(
    hass: HomeAssistant, tmp_path: Path, port: str, error: str
) -> None:
    """A port that cannot name a device shows why, and the form keeps what was typed."""
    port = port.format(tmp=tmp_path)
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, port)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "port"
    assert result["errors"] == {CONF_PORT: error}
    assert suggested(result) == {CONF_PORT: port}


async def test_a_network_port_nobody_listens_on_cannot_connect(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """A network serial server that refuses the connection shows cannot_connect."""
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, f"socket://127.0.0.1:{free_port()}")

    assert result["errors"] == {CONF_PORT: "cannot_connect"}


async def test_a_port_without_access_rights_is_denied(
    hass: HomeAssistant, mfm_device: str
) -> None:
    """A device whose mode shuts Home Assistant's user out shows permission_denied."""
    os.chmod(mfm_device, 0)
    flow = await start_port_step(hass)

    with unprivileged():
        result = await submit_port(hass, flow, mfm_device)

    assert result["errors"] == {CONF_PORT: "permission_denied"}


async def test_a_silent_port_shows_no_data(
    hass: HomeAssistant, mfm_link: PtyLink, boards: Boards, clock: Clock
) -> None:
    """A port that stays silent for the probe's 10 s shows no_data."""
    boards.play(mfm_link, (), clock=clock)
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))

    assert result["errors"] == {CONF_PORT: "no_data_mfm"}


@pytest.mark.parametrize("firmware", [Firmware.V1, Firmware.V2])
async def test_a_board_without_mains_shows_no_signal(
    hass: HomeAssistant,
    mfm_link: PtyLink,
    boards: Boards,
    clock: Clock,
    firmware: Firmware,
) -> None:
    """A board rebooting for lack of a mains signal shows no_signal, not wrong_device."""
    boards.play(mfm_link, reboot_loop(MfmBoard(firmware=firmware)), clock=clock)
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))

    assert result["errors"] == {CONF_PORT: "no_signal"}


@pytest.mark.parametrize(
    "garbage",
    [
        lines(*NMEA_LINES),
        lines(random.Random(19200).randbytes(64)),
    ],
    ids=["gps-receiver", "wrong-baud-rate"],
)
async def test_another_device_shows_wrong_device(
    hass: HomeAssistant, mfm_link: PtyLink, boards: Boards, garbage: Scenario
) -> None:
    """Lines that are not the board's (a GPS receiver; noise) show wrong_device."""
    boards.play(mfm_link, garbage)
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))

    assert result["errors"] == {CONF_PORT: "wrong_device"}


async def test_unplugging_the_board_while_probing_shows_connection_lost(
    hass: HomeAssistant, mfm_link: PtyLink, boards: Boards
) -> None:
    """A board unplugged while its start-up text is being read shows connection_lost."""
    board = MfmBoard()
    boards.play(mfm_link, islice(lines(board.banner()), HEARD_STEPS), unplug=True)
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))

    assert result["errors"] == {CONF_PORT: "connection_lost"}


async def test_a_network_server_dropping_the_probe_shows_connection_lost(
    hass: HomeAssistant, tcp_link: TcpLink
) -> None:
    """A network serial server closing the connection while probing shows connection_lost."""
    flow = await start_port_step(hass)
    probing = asyncio.create_task(submit_port(hass, flow, tcp_link.url))
    await tcp_link.wait_for_clients()

    await tcp_link.drop_clients()

    assert (await probing)["errors"] == {CONF_PORT: "connection_lost"}


async def test_the_flow_adds_the_board_after_an_error(
    hass: HomeAssistant, mfm_link: PtyLink, boards: Boards, tmp_path: Path
) -> None:
    """After a wrong port, the same flow takes the right one and adds the board."""
    boards.play(mfm_link, readings(MfmBoard()))
    flow = await start_port_step(hass)
    failed = await submit_port(hass, flow, str(tmp_path / "ttyUSB9"))

    result = await submit_port(hass, failed, str(mfm_link.path))

    assert failed["errors"] == {CONF_PORT: "port_not_found"}
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Mains frequency board"
    assert result["data"] == {
        CONF_DEVICE_KIND: "mfm",
        CONF_PORT: str(mfm_link.path),
        CONF_LINE_FORMAT: LineFormat.P4,
    }
    assert result["options"] == DEFAULTS
    assert result["result"].state is ConfigEntryState.LOADED


async def test_a_port_already_set_up_is_refused_on_the_port_step(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    new_link: PtyLink,
    boards: Boards,
) -> None:
    """A port that has an entry is a form error on the port step; another port then adds the board."""
    mock_config_entry.add_to_hass(hass)
    boards.play(new_link, readings(MfmBoard()))
    flow = await start_port_step(hass)

    refused = await submit_port(hass, flow, str(mfm_link.path))
    result = await submit_port(hass, refused, str(new_link.path))

    assert refused["type"] is FlowResultType.FORM
    assert refused["step_id"] == "port"
    assert refused["errors"] == {CONF_PORT: "port_in_use"}
    assert suggested(refused) == {CONF_PORT: str(mfm_link.path)}
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PORT] == str(new_link.path)
    assert result["result"].state is ConfigEntryState.LOADED


# --- stable port names ---------------------------------------------------------


async def test_a_typed_device_path_is_stored_by_its_stable_name(
    hass: HomeAssistant,
    mfm_link: PtyLink,
    mfm_device: str,
    boards: Boards,
    by_id: Path,
) -> None:
    """Typing /dev/pts/N of a device with a by-id link stores the link."""
    link = by_id / "usb-Arduino_LLC_Arduino_Nano_85735313-if00"
    link.symlink_to(mfm_device)
    boards.play(mfm_link, readings(MfmBoard()))
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, mfm_device)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PORT] == str(link)


# --- reconfigure ----------------------------------------------------------------


async def test_reconfigure_suggests_the_current_port(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mfm_link: PtyLink
) -> None:
    """The reconfigure form starts with the port the board is on."""
    mock_config_entry.add_to_hass(hass)

    result = await mock_config_entry.start_reconfigure_flow(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result) == {CONF_PORT: str(mfm_link.path)}


async def test_reconfigure_to_a_port_without_a_board_is_explained(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """A port that does not exist shows port_not_found, the entry stays as it was."""
    mock_config_entry.add_to_hass(hass)
    data = dict(mock_config_entry.data)
    flow = await mock_config_entry.start_reconfigure_flow(hass)
    missing = str(tmp_path / "ttyUSB9")

    result = await submit_port(hass, flow, missing)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_PORT: "port_not_found"}
    assert suggested(result) == {CONF_PORT: missing}
    assert mock_config_entry.data == data


async def test_reconfigure_moves_the_board_to_a_new_port(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    new_link: PtyLink,
    boards: Boards,
) -> None:
    """The board on a new port: data updated, format re-detected, entry reloaded."""
    before = init_integration.runtime_data
    boards.play(new_link, readings(MfmBoard(firmware=Firmware.V1)))
    flow = await init_integration.start_reconfigure_flow(hass)

    result = await submit_port(hass, flow, str(new_link.path))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data == {
        CONF_DEVICE_KIND: "mfm",
        CONF_PORT: str(new_link.path),
        CONF_LINE_FORMAT: LineFormat.PLAIN,
    }
    assert init_integration.state is ConfigEntryState.LOADED
    coordinator = init_integration.runtime_data
    assert isinstance(coordinator, MfmCoordinator)
    assert coordinator is not before
    assert coordinator.connection.port == str(new_link.path)
    assert await hass.config_entries.async_unload(init_integration.entry_id)


async def test_reconfigure_to_another_entrys_port_is_a_form_error(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, new_link: PtyLink
) -> None:
    """A port that another entry reads is refused."""
    mock_config_entry.add_to_hass(hass)
    other = MockConfigEntry(
        domain=DOMAIN, data={**mock_config_entry.data, CONF_PORT: str(new_link.path)}
    )
    other.add_to_hass(hass)
    flow = await mock_config_entry.start_reconfigure_flow(hass)

    result = await submit_port(hass, flow, str(new_link.path))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert mock_config_entry.data[CONF_PORT] != str(new_link.path)


async def test_reconfigure_to_the_same_port_is_allowed(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    boards: Boards,
) -> None:
    """Keeping the port of a stopped entry re-reads it: the format follows the jumpers."""
    mock_config_entry.add_to_hass(hass)
    boards.play(mfm_link, readings(MfmBoard(output_format=2)))
    flow = await mock_config_entry.start_reconfigure_flow(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_LINE_FORMAT] == LineFormat.P2
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_reconfigure_to_the_same_port_while_it_is_read_is_allowed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    boards: Boards,
) -> None:
    """Keeping the port of a running entry re-reads it too."""
    boards.play(mfm_link, readings(MfmBoard(output_format=2)))
    flow = await init_integration.start_reconfigure_flow(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data[CONF_LINE_FORMAT] == LineFormat.P2


async def test_a_failed_reconfigure_of_a_running_entry_resumes_reading(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    boards: Boards,
    clock: Clock,
) -> None:
    """Probing the entry's own port pauses its reader; a failed probe restarts it."""
    boards.play(mfm_link, (), clock=clock)
    flow = await init_integration.start_reconfigure_flow(hass)

    result = await submit_port(hass, flow, str(mfm_link.path))
    await hass.async_block_till_done()

    assert result["errors"] == {CONF_PORT: "no_data_mfm"}
    assert init_integration.state is ConfigEntryState.LOADED


# --- options -------------------------------------------------------------------


async def test_the_options_form_shows_the_defaults(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A new entry's options form shows the default options."""
    mock_config_entry.add_to_hass(hass)

    result = await open_options(hass, mock_config_entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "settings"
    assert suggested(result) == DEFAULTS


async def test_the_options_form_fills_missing_options_with_defaults(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """An entry's own options show, the defaults stand in for those it lacks."""
    entry = MockConfigEntry(
        domain=DOMAIN, data=mock_config_entry.data, options={CONF_UPDATE_INTERVAL: 10}
    )
    entry.add_to_hass(hass)

    result = await open_options(hass, entry.entry_id)

    assert suggested(result) == {**DEFAULTS, CONF_UPDATE_INTERVAL: 10}


async def test_new_options_are_stored_and_applied(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Submitted options become the entry's and reload it with them."""
    options = {
        CONF_UPDATE_INTERVAL: 10,
        CONF_NOMINAL_FREQUENCY: "60",
        CONF_CALIBRATION_OFFSET: -1.5,
        CONF_SILENCE_TIMEOUT: 120,
        CONF_ROCOF_THRESHOLD: 80.0,
        CONF_STEP_THRESHOLD: 40.0,
        CONF_OSCILLATION_THRESHOLD: 5.5,
    }
    before = init_integration.runtime_data
    flow = await open_options(hass, init_integration.entry_id)

    result = await hass.config_entries.options.async_configure(flow["flow_id"], options)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options == options
    coordinator = init_integration.runtime_data
    assert coordinator is not before
    assert coordinator.parser.nominal_frequency == 60
    assert coordinator.disturbance_thresholds == Thresholds(
        rocof=80.0, step=40.0, oscillation=5.5
    )
    assert await hass.config_entries.async_unload(init_integration.entry_id)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CONF_UPDATE_INTERVAL, 0),
        (CONF_UPDATE_INTERVAL, 61),
        (CONF_SILENCE_TIMEOUT, 4),
        (CONF_SILENCE_TIMEOUT, 601),
        (CONF_CALIBRATION_OFFSET, 101),
        (CONF_CALIBRATION_OFFSET, -101),
        (CONF_NOMINAL_FREQUENCY, "55"),
        (CONF_ROCOF_THRESHOLD, 4),
        (CONF_STEP_THRESHOLD, 1001),
        (CONF_OSCILLATION_THRESHOLD, 0.5),
    ],
)
async def test_options_out_of_range_are_refused(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, key: str, value: object
) -> None:
    """A value outside its field's range is refused and nothing is stored."""
    mock_config_entry.add_to_hass(hass)
    flow = await open_options(hass, mock_config_entry.entry_id)

    with pytest.raises(InvalidData) as refused:
        await hass.config_entries.options.async_configure(
            flow["flow_id"], {**DEFAULTS, key: value}
        )

    assert refused.value.path == [key]
    assert mock_config_entry.options == DEFAULTS


# --- publishing to MQTT ----------------------------------------------------------


def mqtt_section(result: ConfigFlowResult) -> section:
    """The options form's section of the publishing fields."""
    fields = form_schema(result).schema[CONF_MQTT]
    assert isinstance(fields, section)
    return fields


def set_up_mqtt(
    hass: HomeAssistant, disabled_by: ConfigEntryDisabler | None = None
) -> None:
    """Add an entry of Home Assistant's MQTT integration, as the user sets it up."""
    MockConfigEntry(
        domain="mqtt",
        data={"broker": "192.0.2.20", "port": 1883},
        version=2,
        disabled_by=disabled_by,
    ).add_to_hass(hass)


async def test_publishing_to_mqtt_is_off_under_mfm2mqtts_topic(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A shut section: publishing off, the topic prefix MFM as mfm2mqtt's."""
    mock_config_entry.add_to_hass(hass)

    result = await open_options(hass, mock_config_entry.entry_id)

    assert mqtt_section(result).options == {"collapsed": True}
    assert mqtt_section(result).schema({}) == {
        CONF_PUBLISH: False,
        CONF_TOPIC_PREFIX: "MFM",
    }


@pytest.mark.parametrize("mqtt_entry", ["none", "disabled"])
async def test_publishing_without_the_mqtt_integration_is_refused(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mqtt_entry: str
) -> None:
    """Not set up (or disabled), MQTT cannot publish: the form says to set it up first."""
    if mqtt_entry == "disabled":
        set_up_mqtt(hass, ConfigEntryDisabler.USER)
    mock_config_entry.add_to_hass(hass)
    flow = await open_options(hass, mock_config_entry.entry_id)

    result = await submit_options(
        hass, flow, {**DEFAULTS, CONF_MQTT: {CONF_PUBLISH: True}}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MQTT: "mqtt_not_set_up"}
    assert mqtt_section(result).options == {"collapsed": False}
    assert mock_config_entry.options == DEFAULTS


async def test_publishing_is_stored_once_mqtt_is_set_up(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """The option and the prefix are stored, and shown again in an open section."""
    set_up_mqtt(hass)
    mock_config_entry.add_to_hass(hass)
    flow = await open_options(hass, mock_config_entry.entry_id)
    publishing = {CONF_PUBLISH: True, CONF_TOPIC_PREFIX: "home/mains/MFM"}

    result = await submit_options(hass, flow, {**DEFAULTS, CONF_MQTT: publishing})
    again = await open_options(hass, mock_config_entry.entry_id)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {**DEFAULTS, CONF_MQTT: publishing}
    assert suggested(again) == {**DEFAULTS, CONF_MQTT: publishing}
    assert mqtt_section(again).options == {"collapsed": False}


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "MFM/",
        "/MFM",
        "home//MFM",
        "MFM/+",
        "+",
        "MFM/#",
        "$SYS/MFM",
        "MF\x00M",
        "MF\nM",
    ],
)
async def test_a_topic_prefix_that_cannot_be_published_to_is_refused(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, prefix: str
) -> None:
    """No empty level, no wildcard, no $ topic, no control character: even with publishing off."""
    set_up_mqtt(hass)
    mock_config_entry.add_to_hass(hass)
    flow = await open_options(hass, mock_config_entry.entry_id)

    result = await submit_options(
        hass, flow, {**DEFAULTS, CONF_MQTT: {CONF_TOPIC_PREFIX: prefix}}
    )

    assert result["errors"] == {CONF_MQTT: "invalid_topic_prefix"}
    assert mqtt_section(result).options == {"collapsed": False}
    assert mock_config_entry.options == DEFAULTS


# --- the port picker and ESPHome serial proxies ----------------------------------


async def test_the_port_picker_is_home_assistants(hass: HomeAssistant) -> None:
    """Home Assistant's serial port picker, recommending ports for this integration."""
    result = await start_port_step(hass)

    selector = form_schema(result).schema[CONF_PORT]
    assert isinstance(selector, SerialPortSelector)
    assert selector.config == {"extra_recommended_domains": [DOMAIN]}


async def test_a_proxy_of_a_loaded_esphome_is_read_like_a_port(
    hass: HomeAssistant, mfm_link: PtyLink, boards: Boards, esphome: EspHome
) -> None:
    """The proxy's URL is opened through serialx and stored as it is."""
    url = proxy_url("01JESPHOMEENTRY")
    esphome.proxies[url] = str(mfm_link.path)
    esphome.load()
    boards.play(mfm_link, readings(MfmBoard()))
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, url)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_DEVICE_KIND: "mfm",
        CONF_PORT: url,
        CONF_LINE_FORMAT: LineFormat.P4,
    }
    assert result["result"].state is ConfigEntryState.LOADED


async def test_a_proxy_before_esphome_has_loaded_is_a_form_error(
    hass: HomeAssistant, esphome: EspHome
) -> None:
    """The usb integration's stub refuses to open until ESPHome loads: the form says so."""
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, proxy_url("01JESPHOMEENTRY"))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "proxy_not_ready"}


async def test_a_proxy_that_is_gone_cannot_connect(
    hass: HomeAssistant, esphome: EspHome
) -> None:
    """A proxy whose ESPHome device is no longer set up cannot be opened."""
    esphome.load()
    flow = await start_port_step(hass)

    result = await submit_port(hass, flow, proxy_url("01JREMOVEDENTRY"))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "cannot_connect"}
