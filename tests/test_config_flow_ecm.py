"""The ECM-1240 / ECM-1220 parts of the config, reconfigure and options flows, on real ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
import random
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_DEVICE_ID,
    CONF_DEVICE_KIND,
    CONF_ECM_MODE,
    CONF_FIRMWARE,
    CONF_INVERTED,
    CONF_MODE,
    CONF_MODEL,
    CONF_MQTT,
    CONF_NAME,
    CONF_NOMINAL_VOLTAGE,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_PUBLISH,
    CONF_READ_SETTINGS,
    CONF_ROLE,
    CONF_SILENCE_TIMEOUT,
    CONF_TOPIC_PREFIX,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    NOMINAL_AUTO,
    DeviceKind,
)
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, section
from homeassistant.helpers.selector import SelectSelector
from homeassistant.helpers.translation import async_get_translations
from simulator.ecm1240 import EcmCommandPort, EcmModel, EcmUnit, Loads
from simulator.links import PtyLink, TcpLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import ecm_entry_for
from tests.flows import (
    form_schema,
    open_options,
    start_port_step,
    submit,
    submit_options,
    submit_port,
    suggested,
)
from tests.helpers import Clock, Devices, Link

# A simulated unit does one thing per step, a step apart in real time: its pace.
PACE = 0.02
# With the simulated clock, each step lasts this long for everyone. The probe's
# 3 s for an answer start when it writes, at most one step before the unit reads.
STEP = 1.0

LOADS = Loads(ch1_watts=1200.0, ch2_watts=-450.0, aux_watts=(60.0, 25.0, 0.0, 0.0, 0.0))
POLL = b"\xfcSPK"
REALTIME_ON = b"\xfcTOGXTD"
ECM_DATA = {
    CONF_DEVICE_KIND: "ecm1240",
    CONF_DEVICE_ID: "500434",
    CONF_MODEL: "ECM-1240",
}
ECM_OPTIONS = {CONF_UPDATE_INTERVAL: 5, CONF_SILENCE_TIMEOUT: 60, CONF_POLL_INTERVAL: 0}
ALL_CHANNELS = ["ch1", "ch2", "aux1", "aux2", "aux3", "aux4", "aux5"]
# What an untouched channel section holds once validated.
# What a saved form stores for a nominal voltage left as it was.
AUTO_NOMINAL = {CONF_NOMINAL_VOLTAGE: NOMINAL_AUTO}
DEFAULT_CHANNELS = {
    "ch1": {CONF_MODE: "consumption", CONF_INVERTED: False, CONF_ROLE: "circuit"},
    "ch2": {CONF_MODE: "consumption", CONF_INVERTED: False, CONF_ROLE: "circuit"},
    **{
        channel: {CONF_MODE: "consumption", CONF_ROLE: "circuit"}
        for channel in ALL_CHANNELS[2:]
    },
}


def _take(link: Link) -> bytes:
    """What the host wrote to the link since the last look."""
    if isinstance(link, TcpLink):
        return link.received()
    return link.read_available()


@dataclass(kw_only=True)
class UnitOnLink:
    """An ECM unit on a link: it streams in real-time mode and answers the host."""

    link: Link
    unit: EcmUnit
    clock: Clock | None = None  # ticked each step while the unit waits for the host
    junk: bytes = b""  # sent every step instead of packets: another device
    glitch: bytes = b""  # a byte the line picks up as the unit starts to answer
    slow: bool = False  # the ack goes out at once, the rest of the answer a step later
    answering: bool = True  # False: powered off behind its adapter
    unplug: bool = False  # unplugged the moment the host writes
    received: bytearray = field(default_factory=bytearray)

    async def run(self) -> None:
        """Act once per step until cancelled."""
        port = EcmCommandPort(self.unit)
        while True:
            if self.link.is_open:
                await self._step(port)
            await asyncio.sleep(PACE)
            if self.clock is not None and (not self.received or not self.answering):
                self.clock.tick(STEP)

    async def taken(self, expected: bytes) -> bytes:
        """What the host wrote, once the unit has read as much as `expected` (100 steps at most).

        The host may close the port right after its last write, before the unit's next step.
        """
        for _ in range(100):
            if len(self.received) >= len(expected):
                break
            await asyncio.sleep(PACE)
        return bytes(self.received)

    async def _step(self, port: EcmCommandPort) -> None:
        """Take what the host wrote and answer it; otherwise stream, if streaming."""
        if data := _take(self.link):
            self.received += data
            if self.unplug:
                assert isinstance(self.link, PtyLink)
                self.link.close()
            elif self.answering and (answer := port.receive(data)):
                await self._answer(answer)
        elif self.junk:
            self.link.write(self.junk)
        elif self.unit.realtime:
            self.unit.advance(1, LOADS)
            self.link.write(self.unit.packet())

    async def _answer(self, answer: bytes) -> None:
        """Write an answer, after the line's glitch and split if the unit is slow."""
        if self.glitch:
            self.link.write(self.glitch)
            await asyncio.sleep(PACE)
        if self.slow and len(answer) > 1:
            self.link.write(answer[:1])
            await asyncio.sleep(PACE)
            answer = answer[1:]
        self.link.write(answer)


class Units(Devices):
    """Simulated units running until the test ends."""

    def start(
        self, link: Link, unit: EcmUnit | None = None, **kwargs: Any
    ) -> UnitOnLink:
        """Put `unit` (the default unit 5, serial 434) on `link` and run it."""
        device = UnitOnLink(link=link, unit=unit or EcmUnit(), **kwargs)
        self.run(device.run())
        return device


@pytest.fixture
async def units() -> AsyncIterator[Units]:
    """Simulated units, stopped when the test ends."""
    running = Units()
    yield running
    await running.stop()


def error_keys(result: ConfigFlowResult) -> list[str]:
    """The translation keys of a form's errors, whatever field they are shown on."""
    errors = result["errors"]
    assert errors is not None
    return list(errors.values())


async def probe_port(hass: HomeAssistant, port: str) -> ConfigFlowResult:
    """Choose the ECM-1240 and submit `port`."""
    return await submit_port(
        hass, await start_port_step(hass, DeviceKind.ECM1240), port
    )


def created_options(poll_interval: int, silence_timeout: int) -> dict[str, int]:
    """The options a new entry starts with."""
    return {
        CONF_UPDATE_INTERVAL: 5,
        CONF_SILENCE_TIMEOUT: silence_timeout,
        CONF_POLL_INTERVAL: poll_interval,
    }


# --- adding a unit in real-time mode ---------------------------------------------


@pytest.mark.parametrize("model", [EcmModel.ECM_1240, EcmModel.ECM_1220])
async def test_a_unit_in_real_time_mode_is_added(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, model: EcmModel
) -> None:
    """A packet on the port creates the entry at once, named by model and serial."""
    device = units.start(ecm_link, EcmUnit(model=model))

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"{model} 500434"
    assert result["data"] == {
        CONF_DEVICE_KIND: "ecm1240",
        CONF_PORT: str(ecm_link.path),
        CONF_DEVICE_ID: "500434",
        CONF_MODEL: str(model),
    }
    assert result["options"] == created_options(0, 60)
    entry = result["result"]
    assert entry.unique_id == "500434"
    assert entry.state is ConfigEntryState.LOADED
    assert device.received == b""
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_unit_behind_a_network_serial_server_is_added(
    hass: HomeAssistant, tcp_link: TcpLink, units: Units
) -> None:
    """A unit streaming through ser2net is added under the server's URL."""
    units.start(tcp_link)

    result = await probe_port(hass, tcp_link.url)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**ECM_DATA, CONF_PORT: tcp_link.url}
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_a_unit_reporting_no_serial_is_known_by_its_port(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units
) -> None:
    """Unit 0 with serial 0 is not unique: the port is the entry's unique id."""
    units.start(ecm_link, EcmUnit(unit_id=0, serial=0))

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ECM-1240 000000"
    assert result["data"][CONF_DEVICE_ID] == "000000"
    assert result["result"].unique_id == str(ecm_link.path)
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_a_unit_already_set_up_on_another_port_aborts_and_moves(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, tmp_path: Path
) -> None:
    """The same unit found on a new port aborts, and its entry follows it there."""
    entry = ecm_entry_for(str(tmp_path / "ttyOLD"))
    entry.add_to_hass(hass)
    units.start(ecm_link)

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == {**ECM_DATA, CONF_PORT: str(ecm_link.path)}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_a_unit_already_set_up_on_the_same_port_is_a_port_error(
    hass: HomeAssistant, ecm_entry: MockConfigEntry, ecm_link: PtyLink, units: Units
) -> None:
    """A port that an entry reads is a form error on the port step; nothing is sent."""
    ecm_entry.add_to_hass(hass)
    device = units.start(ecm_link, EcmUnit(realtime=False))

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "port"
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert device.received == b""


# --- a silent unit: polled once, then the user's choice --------------------------


async def test_a_silent_unit_is_polled_once_and_the_user_asked(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """After 10 s of silence the unit gets one poll; its answer leads to the choice."""
    flow = await start_port_step(hass, DeviceKind.ECM1240)
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)

    result = await submit(hass, flow, {CONF_PORT: str(ecm_link.path)})

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ecm_mode"
    assert result["errors"] == {}
    assert form_schema(result)({}) == {
        CONF_ECM_MODE: "poll",
        CONF_POLL_INTERVAL: 10,
        CONF_READ_SETTINGS: False,
    }
    assert device.received == POLL
    # Silence for 10 s, then the poll within a step or two (not the answer's 3 s).
    assert 10 <= clock.elapsed < 10 + 3


@pytest.mark.parametrize(
    ("poll_interval", "silence_timeout"),
    [(10, 60), (30, 90), (3600, 10800)],
)
async def test_choosing_to_poll_adds_a_polled_unit(
    hass: HomeAssistant,
    ecm_link: PtyLink,
    units: Units,
    clock: Clock,
    poll_interval: int,
    silence_timeout: int,
) -> None:
    """Polling: the entry polls at the chosen interval, silence allowing three misses."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))

    result = await submit(
        hass, asked, {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: poll_interval}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ECM-1240 500434"
    assert result["data"] == {**ECM_DATA, CONF_PORT: str(ecm_link.path)}
    assert result["options"] == created_options(poll_interval, silence_timeout)
    assert result["result"].unique_id == "500434"
    assert device.received == POLL
    assert device.unit.realtime is False
    assert await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize("poll_interval", [0, 3601])
async def test_a_polling_interval_out_of_range_is_refused(
    hass: HomeAssistant,
    ecm_link: PtyLink,
    units: Units,
    clock: Clock,
    poll_interval: int,
) -> None:
    """The polling interval is 1 s to an hour."""
    units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))

    with pytest.raises(InvalidData) as refused:
        await submit(
            hass, asked, {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: poll_interval}
        )

    assert refused.value.path == [CONF_POLL_INTERVAL]


async def test_choosing_real_time_switches_it_on_and_nothing_else(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """Real-time: the unit receives exactly TOG XTD after the poll, and streams."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))

    result = await submit(
        hass, asked, {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ECM-1240 500434"
    assert result["data"] == {**ECM_DATA, CONF_PORT: str(ecm_link.path)}
    assert result["options"] == created_options(0, 60)
    assert device.unit.realtime is True
    assert device.received == POLL + REALTIME_ON
    assert await hass.config_entries.async_unload(result["result"].entry_id)
    assert device.received == POLL + REALTIME_ON


async def test_a_silent_unit_already_set_up_aborts_after_the_poll(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock, tmp_path: Path
) -> None:
    """A silent unit that has an entry is recognised by its answer, not asked about."""
    entry = ecm_entry_for(str(tmp_path / "ttyOLD"))
    entry.add_to_hass(hass)
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_PORT] == str(ecm_link.path)
    assert device.received == POLL


async def test_a_unit_answering_slowly_through_a_glitching_line_is_understood(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """A stray byte before each answer and a packet a moment after its ack are fine."""
    device = units.start(
        ecm_link, EcmUnit(realtime=False), clock=clock, glitch=b"\x00", slow=True
    )
    asked = await probe_port(hass, str(ecm_link.path))

    result = await submit(
        hass, asked, {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    )

    assert asked["step_id"] == "ecm_mode"
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == created_options(0, 60)
    assert device.received == POLL + REALTIME_ON
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_switching_real_time_on_recovers_after_the_unit_was_unplugged(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """Unplugged before the choice: the form says why; plugged in again, it works."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    choice = {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    ecm_link.close()

    failed = await submit(hass, asked, choice)
    ecm_link.open()
    result = await submit(hass, failed, choice)

    assert failed["type"] is FlowResultType.FORM
    assert failed["step_id"] == "ecm_mode"
    assert error_keys(failed) == ["port_not_found"]
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"] == created_options(0, 60)
    assert device.received == POLL + REALTIME_ON
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_an_error_of_the_choice_is_shown_on_its_form(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """A failed switch is reported under a field of the form or as a base error."""
    units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    ecm_link.close()

    failed = await submit(
        hass, asked, {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    )

    fields = {str(key) for key in form_schema(failed).schema}
    assert failed["errors"]
    assert set(failed["errors"]) <= fields | {"base"}


async def test_a_unit_that_stops_answering_before_the_switch_shows_no_data(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """No ack within 3 s: no_data; once it answers again, real-time goes on."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    choice = {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    device.answering = False

    failed = await submit(hass, asked, choice)
    device.answering = True
    result = await submit(hass, failed, choice)

    assert error_keys(failed) == ["no_data_ecm1240"]
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The unanswered address byte, then the whole command.
    assert device.received == POLL + b"\xfc" + REALTIME_ON
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_unplugging_the_unit_during_the_switch_shows_connection_lost(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """The port failing while the command waits for its ack shows connection_lost."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    device.unplug = True

    failed = await submit(
        hass, asked, {CONF_ECM_MODE: "realtime", CONF_POLL_INTERVAL: 10}
    )

    assert failed["step_id"] == "ecm_mode"
    assert error_keys(failed) == ["connection_lost"]
    assert device.received == POLL + b"\xfc"
    assert device.unit.realtime is False


# --- errors while probing ----------------------------------------------------------


async def test_a_silent_unit_that_does_not_answer_shows_no_data(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """Nothing in 10 s and no ack to the poll's address byte: no_data."""
    device = units.start(
        ecm_link, EcmUnit(realtime=False), clock=clock, answering=False
    )

    result = await probe_port(hass, str(ecm_link.path))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "port"
    assert result["errors"] == {CONF_PORT: "no_data_ecm1240"}
    assert device.received == b"\xfc"
    assert clock.elapsed >= 10 + 3


@pytest.mark.parametrize(
    "junk",
    [
        MfmBoard().line(50012, 0.0),
        random.Random(1240).randbytes(64),
    ],
    ids=["mfm-board", "wrong-baud-rate"],
)
async def test_another_device_shows_wrong_device(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock, junk: bytes
) -> None:
    """Bytes without a packet for 10 s: wrong_device, and the talker is never polled."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock, junk=junk)

    result = await probe_port(hass, str(ecm_link.path))

    assert result["errors"] == {CONF_PORT: "wrong_device"}
    assert device.received == b""


async def test_unplugging_the_unit_while_it_is_polled_shows_connection_lost(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """The port failing while the poll waits for its ack shows connection_lost."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock, unplug=True)

    result = await probe_port(hass, str(ecm_link.path))

    assert result["errors"] == {CONF_PORT: "connection_lost"}
    assert device.received == b"\xfc"


async def test_a_network_server_dropping_the_probe_shows_connection_lost(
    hass: HomeAssistant, tcp_link: TcpLink, units: Units
) -> None:
    """A network serial server closing the connection while probing: connection_lost."""
    units.start(tcp_link, EcmUnit(realtime=False))
    flow = await start_port_step(hass, DeviceKind.ECM1240)
    probing = asyncio.create_task(submit(hass, flow, {CONF_PORT: tcp_link.url}))
    await tcp_link.wait_for_clients()

    await tcp_link.drop_clients()

    assert (await probing)["errors"] == {CONF_PORT: "connection_lost"}


async def test_the_flow_adds_the_unit_after_an_error(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, tmp_path: Path
) -> None:
    """After a wrong port, the same flow takes the right one."""
    units.start(ecm_link)
    failed = await probe_port(hass, str(tmp_path / "ttyUSB9"))

    result = await submit(hass, failed, {CONF_PORT: str(ecm_link.path)})

    assert failed["errors"] == {CONF_PORT: "port_not_found"}
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {**ECM_DATA, CONF_PORT: str(ecm_link.path)}
    assert await hass.config_entries.async_unload(result["result"].entry_id)


# --- reconfigure -------------------------------------------------------------------


async def test_reconfigure_moves_the_unit_to_a_new_port(
    hass: HomeAssistant,
    ecm_entry: MockConfigEntry,
    new_link: PtyLink,
    units: Units,
) -> None:
    """The same unit on a new port: the entry's port follows, nothing else changes."""
    ecm_entry.add_to_hass(hass)
    old_port = ecm_entry.data[CONF_PORT]
    device = units.start(new_link)
    flow = await ecm_entry.start_reconfigure_flow(hass)

    result = await submit(hass, flow, {CONF_PORT: str(new_link.path)})
    await hass.async_block_till_done()

    assert flow["step_id"] == "reconfigure"
    assert suggested(flow) == {CONF_PORT: old_port}
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert ecm_entry.data == {**ECM_DATA, CONF_PORT: str(new_link.path)}
    assert ecm_entry.options == ECM_OPTIONS
    assert ecm_entry.unique_id == "500434"
    assert device.received == b""
    assert await hass.config_entries.async_unload(ecm_entry.entry_id)


async def test_reconfigure_to_a_port_with_another_unit_is_refused(
    hass: HomeAssistant,
    ecm_entry: MockConfigEntry,
    new_link: PtyLink,
    units: Units,
) -> None:
    """Another unit (6, serial 1) on the new port shows another_unit; nothing moves."""
    ecm_entry.add_to_hass(hass)
    data = dict(ecm_entry.data)
    units.start(new_link, EcmUnit(unit_id=6, serial=1))
    flow = await ecm_entry.start_reconfigure_flow(hass)

    result = await submit(hass, flow, {CONF_PORT: str(new_link.path)})

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {CONF_PORT: "another_unit"}
    assert suggested(result) == {CONF_PORT: str(new_link.path)}
    assert ecm_entry.data == data


async def test_reconfigure_to_a_missing_port_is_explained(
    hass: HomeAssistant, ecm_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """A port that does not exist shows port_not_found; nothing moves."""
    ecm_entry.add_to_hass(hass)
    data = dict(ecm_entry.data)
    flow = await ecm_entry.start_reconfigure_flow(hass)

    result = await submit(hass, flow, {CONF_PORT: str(tmp_path / "ttyUSB9")})

    assert result["errors"] == {CONF_PORT: "port_not_found"}
    assert ecm_entry.data == data


async def test_reconfigure_finds_a_silent_unit_by_polling_it(
    hass: HomeAssistant,
    ecm_entry: MockConfigEntry,
    new_link: PtyLink,
    units: Units,
    clock: Clock,
) -> None:
    """A polled unit moved to a new port is recognised by its answer to one poll."""
    entry = ecm_entry_for(ecm_entry.data[CONF_PORT], options=created_options(30, 90))
    entry.add_to_hass(hass)
    device = units.start(new_link, EcmUnit(realtime=False), clock=clock)
    flow = await entry.start_reconfigure_flow(hass)

    result = await submit(hass, flow, {CONF_PORT: str(new_link.path)})
    await hass.async_block_till_done()

    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == str(new_link.path)
    assert entry.options == created_options(30, 90)
    assert device.received == POLL
    assert await hass.config_entries.async_unload(entry.entry_id)


# --- options -------------------------------------------------------------------------


def channel_options(model_channels: list[str]) -> dict[str, dict[str, Any]]:
    """A name, mode, role and polarity for every channel of a model."""
    net: dict[str, Any] = {CONF_MODE: "net"}
    consumption: dict[str, Any] = {CONF_MODE: "consumption", CONF_ROLE: "circuit"}
    off: dict[str, Any] = {CONF_MODE: "off", CONF_ROLE: "circuit"}
    chosen: dict[str, dict[str, Any]] = {
        "ch1": {CONF_NAME: "Grid", **net, CONF_INVERTED: True, CONF_ROLE: "main"},
        "ch2": {CONF_NAME: "Solar", **net, CONF_INVERTED: False, CONF_ROLE: "solar"},
        "aux1": {CONF_NAME: "Heat pump", **consumption},
        "aux2": off,
        "aux3": {CONF_NAME: "Oven", **consumption},
        "aux4": consumption,
        "aux5": {CONF_NAME: "Pump", **off},
    }
    return {channel: chosen[channel] for channel in model_channels}


async def start_options(
    hass: HomeAssistant, entry: MockConfigEntry
) -> ConfigFlowResult:
    """Add the entry and open its options."""
    entry.add_to_hass(hass)
    return await hass.config_entries.options.async_init(entry.entry_id)


def section_fields(result: ConfigFlowResult, channel: str) -> dict[str, list[str]]:
    """A channel section's fields, each with the options of its selector."""
    channel_section = form_schema(result).schema[channel]
    assert isinstance(channel_section, section)
    assert channel_section.options == {"collapsed": True}
    fields: dict[str, list[str]] = {}
    for key, selector in channel_section.schema.schema.items():
        options = (
            selector.config["options"] if isinstance(selector, SelectSelector) else []
        )
        fields[str(key)] = [str(option) for option in options]
    return fields


@pytest.mark.parametrize(
    ("model", "channels"),
    [("ECM-1240", ALL_CHANNELS), ("ECM-1220", ["ch1", "ch2"])],
)
async def test_the_options_form_has_a_section_per_channel(
    hass: HomeAssistant, model: str, channels: list[str]
) -> None:
    """The ECM form: the intervals, one collapsed section per channel of the model, MQTT."""
    result = await start_options(hass, ecm_entry_for("/dev/ttyUSB0", model))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ecm"
    assert result["errors"] == {}
    assert [str(key) for key in form_schema(result).schema] == [
        CONF_UPDATE_INTERVAL,
        CONF_POLL_INTERVAL,
        CONF_SILENCE_TIMEOUT,
        CONF_NOMINAL_VOLTAGE,
        *channels,
        CONF_MQTT,
    ]
    assert suggested(result) == ECM_OPTIONS
    for channel in channels:
        if channel in {"ch1", "ch2"}:
            expected = {
                CONF_NAME: [],
                CONF_MODE: ["consumption", "net", "off"],
                CONF_INVERTED: [],
                CONF_ROLE: ["main", "solar", "circuit"],
            }
        else:
            expected = {
                CONF_NAME: [],
                CONF_MODE: ["consumption", "off"],
                CONF_ROLE: ["main", "solar", "circuit"],
            }
        assert section_fields(result, channel) == expected


@pytest.mark.parametrize(
    ("model", "channels"),
    [("ECM-1240", ALL_CHANNELS), ("ECM-1220", ["ch1", "ch2"])],
)
async def test_channel_options_are_stored_as_given(
    hass: HomeAssistant, model: str, channels: list[str]
) -> None:
    """Names, modes and polarities are stored exactly, and shown again next time."""
    entry = ecm_entry_for("/dev/ttyUSB0", model)
    flow = await start_options(hass, entry)
    options = {
        CONF_UPDATE_INTERVAL: 10,
        CONF_POLL_INTERVAL: 0,
        CONF_SILENCE_TIMEOUT: 120,
        CONF_NOMINAL_VOLTAGE: "230",
        **channel_options(channels),
    }

    result = await submit_options(hass, flow, options)
    again = await hass.config_entries.options.async_init(entry.entry_id)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == options
    assert suggested(again) == options


async def test_channel_sections_left_alone_take_their_defaults(
    hass: HomeAssistant,
) -> None:
    """An untouched section stores consumption and, for CH1/CH2, normal polarity."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)

    await submit_options(
        hass, flow, {**ECM_OPTIONS, **{channel: {} for channel in ALL_CHANNELS}}
    )

    assert entry.options == {**ECM_OPTIONS, **AUTO_NOMINAL, **DEFAULT_CHANNELS}


def polled(poll_interval: int, silence_timeout: int) -> dict[str, Any]:
    """Options with the given intervals and every channel left alone."""
    return {
        CONF_UPDATE_INTERVAL: 5,
        CONF_POLL_INTERVAL: poll_interval,
        CONF_SILENCE_TIMEOUT: silence_timeout,
        **{channel: {} for channel in ALL_CHANNELS},
    }


@pytest.mark.parametrize(
    ("poll_interval", "silence_timeout"), [(30, 30), (30, 29), (60, 5)]
)
async def test_a_silence_timeout_not_longer_than_the_poll_is_refused(
    hass: HomeAssistant, poll_interval: int, silence_timeout: int
) -> None:
    """Polling every N s, silence of N s or less would be an outage between polls."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)
    user_input = polled(poll_interval, silence_timeout)

    result = await submit_options(hass, flow, user_input)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ecm"
    assert result["errors"] == {CONF_SILENCE_TIMEOUT: "silence_shorter_than_poll"}
    assert suggested(result) == {
        CONF_UPDATE_INTERVAL: 5,
        CONF_POLL_INTERVAL: poll_interval,
        CONF_SILENCE_TIMEOUT: silence_timeout,
        **AUTO_NOMINAL,
        **DEFAULT_CHANNELS,
    }
    assert entry.options == ECM_OPTIONS


@pytest.mark.parametrize(
    ("poll_interval", "silence_timeout"), [(30, 31), (0, 5), (1199, 3600)]
)
async def test_a_silence_timeout_longer_than_the_poll_is_stored(
    hass: HomeAssistant, poll_interval: int, silence_timeout: int
) -> None:
    """Silence longer than the poll, or any silence without polling, is fine."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)

    result = await submit_options(hass, flow, polled(poll_interval, silence_timeout))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_POLL_INTERVAL] == poll_interval
    assert entry.options[CONF_SILENCE_TIMEOUT] == silence_timeout


async def test_the_options_are_taken_after_a_refusal(hass: HomeAssistant) -> None:
    """The same form, corrected, stores the options."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)
    refused = await submit_options(hass, flow, polled(30, 30))

    result = await submit_options(hass, refused, polled(30, 90))

    assert refused["errors"] == {CONF_SILENCE_TIMEOUT: "silence_shorter_than_poll"}
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SILENCE_TIMEOUT] == 90


async def rendered(hass: HomeAssistant, result: ConfigFlowResult, key: str) -> str:
    """An options form's text as the frontend shows it: translated, placeholders filled."""
    strings = await async_get_translations(hass, "en", "options", [DOMAIN])
    text = strings[f"component.{DOMAIN}.options.step.{result['step_id']}.{key}"]
    return text.format(**(result["description_placeholders"] or {}))


def collapsed(result: ConfigFlowResult) -> dict[str, bool]:
    """Each channel section of a form, and whether it is shown collapsed."""
    return {
        str(key): value.options["collapsed"]
        for key, value in form_schema(result).schema.items()
        if isinstance(value, section) and key in ALL_CHANNELS
    }


async def test_the_options_dialogs_are_titled_alike(hass: HomeAssistant) -> None:
    """The energy monitor's options and the board's settings are both titled by their device."""
    ecm = await start_options(hass, ecm_entry_for("/dev/ttyUSB0"))
    board = MockConfigEntry(
        domain=DOMAIN,
        title="Mains frequency board",
        data={CONF_DEVICE_KIND: "mfm", CONF_PORT: "/dev/ttyAMA0"},
    )
    board.add_to_hass(hass)
    mfm = await open_options(hass, board.entry_id)

    assert await rendered(hass, ecm, "title") == "ECM-1240 500434 options"
    assert await rendered(hass, mfm, "title") == "Mains frequency board options"


async def test_channel_sections_are_titled_by_the_channels_names(
    hass: HomeAssistant,
) -> None:
    """A section shows the user's name and the unit's label; an unnamed one the label."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={**ECM_OPTIONS, **channel_options(ALL_CHANNELS)}
    )
    flow = await hass.config_entries.options.async_init(entry.entry_id)

    titles = [
        await rendered(hass, flow, f"sections.{channel}.name")
        for channel in ALL_CHANNELS
    ]

    assert titles == [
        "Grid (CH1)",
        "Solar (CH2)",
        "Heat pump (AUX1)",
        "AUX2",
        "Oven (AUX3)",
        "AUX4",
        "Pump (AUX5)",
    ]


async def test_sections_worked_in_stay_open_after_an_error(
    hass: HomeAssistant,
) -> None:
    """Refused, the form opens the sections the user changed, titled as typed."""
    flow = await start_options(hass, ecm_entry_for("/dev/ttyUSB0"))
    user_input = polled(30, 30) | {"ch2": {CONF_NAME: "Solar", CONF_MODE: "net"}}

    refused = await submit_options(hass, flow, user_input)

    assert collapsed(flow) == dict.fromkeys(ALL_CHANNELS, True)
    assert refused["errors"] == {CONF_SILENCE_TIMEOUT: "silence_shorter_than_poll"}
    assert collapsed(refused) == dict.fromkeys(ALL_CHANNELS, True) | {"ch2": False}
    assert await rendered(hass, refused, "sections.ch2.name") == "Solar (CH2)"


async def test_two_channels_of_one_name_are_refused_in_the_second_section(
    hass: HomeAssistant,
) -> None:
    """Entities named alike would be told apart by a suffix: the later section says so."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)
    same = polled(0, 60) | {
        "aux1": {CONF_NAME: "Garage"},
        "aux2": {CONF_NAME: "Off one", CONF_MODE: "off"},
        "aux3": {CONF_NAME: " garage "},
        "aux4": {CONF_NAME: "off one"},
        "aux5": {CONF_NAME: "ch1"},
    }

    refused = await submit_options(hass, flow, same)
    fixed = same | {"aux3": {CONF_NAME: "Garden"}, "aux5": {CONF_NAME: "Pump"}}
    result = await submit_options(hass, refused, fixed)

    assert refused["errors"] == {"aux3": "duplicate_name", "aux5": "duplicate_name"}
    assert collapsed(refused) == dict.fromkeys(ALL_CHANNELS, True) | {
        "aux1": False,
        "aux2": False,
        "aux3": False,
        "aux4": False,
        "aux5": False,
    }
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["aux3"] == {
        CONF_NAME: "Garden",
        CONF_MODE: "consumption",
        CONF_ROLE: "circuit",
    }


@pytest.mark.parametrize(
    ("sections", "errors"),
    [
        (
            {"ch1": {CONF_MODE: "off", CONF_ROLE: "main"}},
            {"ch1": "main_off"},
        ),
        (
            {"aux2": {CONF_MODE: "off", CONF_ROLE: "solar"}},
            {"aux2": "solar_off"},
        ),
        (
            {
                "ch1": {CONF_MODE: "net", CONF_ROLE: "main"},
                "aux1": {CONF_ROLE: "main"},
                "aux4": {CONF_ROLE: "main"},
            },
            {"aux1": "second_main", "aux4": "second_main"},
        ),
        (
            {
                "ch2": {CONF_MODE: "off", CONF_ROLE: "main"},
                "aux3": {CONF_ROLE: "main"},
            },
            {"ch2": "main_off"},
        ),
    ],
    ids=["main-off", "solar-off", "three-mains", "off-main-and-a-main"],
)
async def test_roles_a_channel_cannot_have_are_refused_in_its_section(
    hass: HomeAssistant, sections: dict[str, Any], errors: dict[str, str]
) -> None:
    """A main or solar channel that is off, a main after the first: its section says so."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)

    refused = await submit_options(hass, flow, polled(0, 60) | sections)

    assert refused["errors"] == errors
    assert entry.options == ECM_OPTIONS


async def test_a_net_metered_main_with_solar_and_circuits_is_stored(
    hass: HomeAssistant,
) -> None:
    """One main, two solar channels, the rest circuits: stored as given."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)
    sections = {
        "ch1": {CONF_MODE: "net", CONF_INVERTED: False, CONF_ROLE: "main"},
        "ch2": {CONF_MODE: "net", CONF_INVERTED: True, CONF_ROLE: "solar"},
        "aux1": {CONF_MODE: "consumption", CONF_ROLE: "solar"},
    }

    result = await submit_options(hass, flow, polled(0, 60) | sections)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == polled(0, 60) | AUTO_NOMINAL | DEFAULT_CHANNELS | sections


async def test_an_hourly_polled_entry_keeps_its_options_when_saved_unchanged(
    hass: HomeAssistant,
) -> None:
    """The options the flow gave an hourly poll (silence 3 h) pass the options form."""
    entry = ecm_entry_for("/dev/ttyUSB0", options=created_options(3600, 10800))
    flow = await start_options(hass, entry)
    shown = suggested(flow)

    result = await submit_options(
        hass, flow, {**shown, **{channel: {} for channel in ALL_CHANNELS}}
    )

    assert shown == created_options(3600, 10800)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        **created_options(3600, 10800),
        **AUTO_NOMINAL,
        **DEFAULT_CHANNELS,
    }


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({CONF_UPDATE_INTERVAL: 0}, [CONF_UPDATE_INTERVAL]),
        ({CONF_UPDATE_INTERVAL: 61}, [CONF_UPDATE_INTERVAL]),
        ({CONF_POLL_INTERVAL: -1}, [CONF_POLL_INTERVAL]),
        ({CONF_POLL_INTERVAL: 3601}, [CONF_POLL_INTERVAL]),
        ({CONF_SILENCE_TIMEOUT: 4}, [CONF_SILENCE_TIMEOUT]),
        ({CONF_SILENCE_TIMEOUT: 10801}, [CONF_SILENCE_TIMEOUT]),
        ({CONF_NOMINAL_VOLTAGE: "240"}, [CONF_NOMINAL_VOLTAGE]),
        ({"ch1": {CONF_MODE: "generation"}}, ["ch1", CONF_MODE]),
        ({"aux1": {CONF_MODE: "net"}}, ["aux1", CONF_MODE]),
        ({"aux1": {CONF_INVERTED: True}}, ["aux1", CONF_INVERTED]),
    ],
    ids=[
        "update-0",
        "update-61",
        "poll-negative",
        "poll-3601",
        "silence-4",
        "silence-10801",
        "nominal-240",
        "unknown-mode",
        "aux-net",
        "aux-inverted",
    ],
)
async def test_options_out_of_range_are_refused(
    hass: HomeAssistant, change: dict[str, Any], path: list[str]
) -> None:
    """A value outside its field's range or choices is refused; nothing is stored."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)

    with pytest.raises(InvalidData) as refused:
        await submit_options(hass, flow, {**polled(0, 60), **change})

    assert refused.value.path == path
    assert entry.options == ECM_OPTIONS


async def test_publishing_to_mqtt_is_off_under_the_go_bridges_topic(
    hass: HomeAssistant,
) -> None:
    """The energy monitor's section: publishing off, the topic prefix power."""
    result = await start_options(hass, ecm_entry_for("/dev/ttyUSB0"))

    mqtt = form_schema(result).schema[CONF_MQTT]
    assert isinstance(mqtt, section)
    assert mqtt.options == {"collapsed": True}
    assert mqtt.schema({}) == {CONF_PUBLISH: False, CONF_TOPIC_PREFIX: "power"}


async def test_publishing_without_the_mqtt_integration_is_refused_with_other_errors(
    hass: HomeAssistant,
) -> None:
    """MQTT not set up is said beside a channel's own error; nothing is stored."""
    entry = ecm_entry_for("/dev/ttyUSB0")
    flow = await start_options(hass, entry)
    user_input = polled(0, 60) | {
        "aux1": {CONF_NAME: "Pump"},
        "aux2": {CONF_NAME: "pump"},
        CONF_MQTT: {CONF_PUBLISH: True, CONF_TOPIC_PREFIX: "home/power"},
    }

    result = await submit_options(hass, flow, user_input)

    assert result["errors"] == {"aux2": "duplicate_name", CONF_MQTT: "mqtt_not_set_up"}
    assert entry.options == ECM_OPTIONS


async def test_an_ecm_1220_has_no_aux_channel_options(hass: HomeAssistant) -> None:
    """AUX options for a model without AUX channels are refused."""
    entry = ecm_entry_for("/dev/ttyUSB0", "ECM-1220")
    flow = await start_options(hass, entry)

    with pytest.raises(InvalidData) as refused:
        await submit_options(
            hass, flow, {**ECM_OPTIONS, "ch1": {}, "ch2": {}, "aux1": {}}
        )

    assert refused.value.path == ["aux1"]
    assert entry.options == ECM_OPTIONS


# --- the settings query, only when the user allows it ----------------------------

SETTINGS_QUERY = b"\xfcSETRCV\xfc"


async def test_reading_the_settings_stores_the_firmware(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """Allowed, the query (FC SET RCV, then FC after the block) brings the firmware."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))

    result = await submit(
        hass,
        asked,
        {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10, CONF_READ_SETTINGS: True},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        **ECM_DATA,
        CONF_PORT: str(ecm_link.path),
        CONF_FIRMWARE: "1.035",
    }
    assert await device.taken(POLL + SETTINGS_QUERY) == POLL + SETTINGS_QUERY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_settings_that_cannot_be_read_are_explained(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """A unit that stops answering before its settings: a form error, then recovery."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    device.answering = False

    result = await submit(
        hass,
        asked,
        {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10, CONF_READ_SETTINGS: True},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_data_ecm1240"}

    device.answering = True
    result = await submit(hass, result, {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_FIRMWARE not in result["data"]
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_settings_arriving_after_their_ack_are_read_whole(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """The block may follow the ack in a later read."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock, slow=True)
    asked = await probe_port(hass, str(ecm_link.path))

    result = await submit(
        hass,
        asked,
        {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10, CONF_READ_SETTINGS: True},
    )

    assert result["data"][CONF_FIRMWARE] == "1.035"
    assert await device.taken(POLL + SETTINGS_QUERY) == POLL + SETTINGS_QUERY
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def test_a_corrupt_settings_block_is_a_wrong_device(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """A block whose checksum fails is not taken for settings."""
    unit = EcmUnit(realtime=False)
    units.start(ecm_link, unit, clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    await units.stop()
    good = unit.settings_block()
    corrupt = good[:6] + bytes([good[6] ^ 0xFF]) + good[7:]

    async def answer_with_a_corrupt_block() -> None:
        """Acknowledge FC, SET and RCV; then send the damaged block."""
        received = b""
        while len(received) < len(SETTINGS_QUERY) - 1:
            received += await ecm_link.receive()
            ecm_link.write(b"\xfc")
        ecm_link.write(corrupt)

    responder = asyncio.create_task(answer_with_a_corrupt_block())
    result = await submit(
        hass,
        asked,
        {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10, CONF_READ_SETTINGS: True},
    )
    await responder

    assert result["errors"] == {"base": "wrong_device"}


async def test_unplugging_the_unit_during_the_settings_query_is_explained(
    hass: HomeAssistant, ecm_link: PtyLink, units: Units, clock: Clock
) -> None:
    """The port closing mid-query shows connection_lost."""
    device = units.start(ecm_link, EcmUnit(realtime=False), clock=clock)
    asked = await probe_port(hass, str(ecm_link.path))
    device.unplug = True

    result = await submit(
        hass,
        asked,
        {CONF_ECM_MODE: "poll", CONF_POLL_INTERVAL: 10, CONF_READ_SETTINGS: True},
    )

    assert result["errors"] == {"base": "connection_lost"}
