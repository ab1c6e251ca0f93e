"""Publishing to MQTT end to end: Home Assistant's own MQTT integration, a real Mosquitto.

A simulated device on a pty feeds the entry; Home Assistant's MQTT integration,
configured for a Mosquitto broker on a free loopback port, publishes; a plain paho
client subscribed to the broker (`tests.mosquitto.Subscriber`) receives what a
Telegraf, Node-RED or openHAB consumer would. Every payload is checked byte for
byte against one written out here from the readings and packets the test sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import logging
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_MODE,
    CONF_MQTT,
    CONF_NAME,
    CONF_PUBLISH,
    CONF_TOPIC_PREFIX,
    DOMAIN,
    LOGGER,
    ConnectionState,
)
from custom_components.mains_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from simulator.ecm1240 import EcmModel, Loads
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.daemon import free_port
from tests.ecm_unit import Simulation
from tests.helpers import (
    FREQUENCY,
    Clock,
    advance,
    send_readings,
    set_up_connected,
    state,
    wait_for_connection,
)
from tests.mosquitto import Mosquitto, Received, Subscriber

INTERVAL = 5  # s, the update interval of both test entries
START_TS = (
    1795348800  # the frozen clock's start (2026-11-22 12:00:00 UTC) in unix seconds
)
OFFLINE = Received("MFM/availability", b"offline", 0, False)
ONLINE = Received("MFM/availability", b"online", 0, False)


def board_message(actual: str, low: str, high: str, mean: str) -> Received:
    """mfm2mqtt's message for one interval, its figures written as the test expects them."""
    payload = (
        f'{{"MFM": {{"FREQUENCY": {{"actual": {actual}, "min": {low}, "max": {high},'
        f' "mean": {mean}}}, "STATE": {{"flag": 1, "debug": "OK"}}}}}}'
    )
    return Received("MFM", payload.encode(), 0, False)


def ecm_message(topic: str, sensor: int, ts: int, watts: str, ws: int) -> Received:
    """The Go bridge's message for one channel at 120 V."""
    payload = (
        f'{{"sensorName":"power_{sensor}","ts":{ts},"powerW":{watts},'
        f'"energyWs":{ws},"voltageV":120.0}}'
    )
    return Received(topic, payload.encode(), 0, False)


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the integration's debug lines from the set-up on."""
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of the test's own, with the configuration.yaml MQTT reads."""
    (Path(hass_tmp_config_dir) / "configuration.yaml").write_text("{}\n")
    return hass_tmp_config_dir


@pytest.fixture
async def broker(socket_enabled: None, tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """A Mosquitto broker on a free loopback port."""
    daemon = Mosquitto(tmp_path, free_port())
    await daemon.start()
    yield daemon
    await daemon.stop()


async def connection_is(hass: HomeAssistant, connected: bool) -> None:
    """Return once Home Assistant's MQTT client is connected to its broker, or not."""
    if mqtt.is_connected(hass) is connected:
        return
    reached = asyncio.Event()

    @callback
    def changed(state: bool) -> None:
        """Note that the client reached the state waited for."""
        if state is connected:
            reached.set()

    unsubscribe = mqtt.async_subscribe_connection_status(hass, changed)
    try:
        async with asyncio.timeout(30):
            await reached.wait()
    finally:
        unsubscribe()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, broker: Mosquitto
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's MQTT integration, set up for the broker and connected."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={"broker": "127.0.0.1", "port": broker.port},
        # No birth message: Home Assistant sends it at a time of its own after each
        # connection, which would race a test that stops the broker.
        options={"birth_message": {}},
        version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await connection_is(hass, True)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


async def subscribe(
    hass: HomeAssistant, broker: Mosquitto, topic: str
) -> AsyncIterator[Subscriber]:
    """A consumer of `topic` on the broker until the test ends."""
    client = await hass.async_add_executor_job(Subscriber, broker.port, topic)
    yield client
    await hass.async_add_executor_job(client.close)


@pytest.fixture
async def board_topics(
    hass: HomeAssistant, broker: Mosquitto
) -> AsyncIterator[Subscriber]:
    """A consumer of everything under the board's default topic (MFM, MFM/availability)."""
    async for client in subscribe(hass, broker, "MFM/#"):
        yield client


async def received(
    hass: HomeAssistant, subscriber: Subscriber, count: int
) -> list[Received]:
    """The first `count` messages the subscriber got, once they are all there."""
    return await hass.async_add_executor_job(subscriber.wait_for, count)


def publish_option(
    hass: HomeAssistant, entry: MockConfigEntry, **mqtt_options: Any
) -> None:
    """Add the entry with publishing on (and `mqtt_options`)."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry,
        options={**entry.options, CONF_MQTT: {CONF_PUBLISH: True, **mqtt_options}},
    )


@pytest.fixture
async def publishing_board(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    mock_config_entry: MockConfigEntry,
    clock: Clock,
    board_topics: Subscriber,
) -> MockConfigEntry:
    """The board's entry, publishing to MQTT, set up and reading its pty.

    `board_topics` listens from before the start: it sees every message as it is sent.
    """
    publish_option(hass, mock_config_entry)
    await set_up_connected(hass, mock_config_entry)
    return mock_config_entry


async def handed_over() -> None:
    """Return once every message the integration started to publish is with the MQTT client."""
    await asyncio.gather(
        *(
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith(f"{DOMAIN} MQTT")
        )
    )


async def next_interval(hass: HomeAssistant, clock: Clock) -> None:
    """Let time run to the end of the current update interval."""
    await advance(hass, clock, INTERVAL - clock.elapsed % INTERVAL)


# --- the board ---------------------------------------------------------------------------


async def test_the_board_publishes_mfm2mqtt_json(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """Each interval: its last reading as `actual`, its extremes and its mean, in Hz."""
    readings = [50010, 49990, 50020, 49998]
    await send_readings(publishing_board, mfm_link, clock, board, readings, spacing=1)
    await next_interval(hass, clock)
    await send_readings(
        publishing_board, mfm_link, clock, board, [50030, 50000], spacing=2
    )
    await next_interval(hass, clock)

    # (50.010 + 49.990 + 50.020 + 49.998) / 4 and (50.030 + 50.000) / 2
    assert await received(hass, board_topics, 4) == [
        OFFLINE,
        ONLINE,
        board_message("49.998", "49.99", "50.02", "50.0045"),
        board_message("50.0", "50.0", "50.03", "50.015"),
    ]


async def test_a_consumer_that_connects_later_learns_the_availability(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    broker: Mosquitto,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """The availability is retained; the readings are not."""
    await send_readings(publishing_board, mfm_link, clock, board, [50000], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)

    async for late in subscribe(hass, broker, "MFM/#"):
        assert await received(hass, late, 1) == [
            Received("MFM/availability", b"online", 0, True)
        ]


async def test_the_availability_follows_the_board(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """Silent past its timeout: offline, and no reading; sending again: online, then readings."""
    await send_readings(publishing_board, mfm_link, clock, board, [50010], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)

    # Silent: the board's default silence timeout is 30 s. The intervals in between
    # brought no reading: nothing is published for them.
    await advance(hass, clock, 30)
    await wait_for_connection(publishing_board, ConnectionState.DISCONNECTED)
    # The reader reopens the port after its backoff, and readings flow again.
    await advance(hass, clock, 1)
    await wait_for_connection(publishing_board, ConnectionState.CONNECTED)
    await send_readings(
        publishing_board, mfm_link, clock, board, [49980, 49990], spacing=1
    )
    await next_interval(hass, clock)

    assert await received(hass, board_topics, 6) == [
        OFFLINE,
        ONLINE,
        board_message("50.01", "50.01", "50.01", "50.01"),
        OFFLINE,
        ONLINE,
        board_message("49.99", "49.98", "49.99", "49.985"),
    ]


async def test_publishing_off_publishes_nothing(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """The option off: no availability and no reading, though MQTT is there."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_MQTT: {CONF_PUBLISH: False}},
    )
    await set_up_connected(hass, mock_config_entry)
    await send_readings(mock_config_entry, mfm_link, clock, board, [50010], spacing=1)
    await next_interval(hass, clock)

    # Messages of one client arrive in order: a marker sent last arrives first.
    await mqtt.async_publish(hass, "MFM/marker", "end", qos=0, retain=False)
    assert await received(hass, board_topics, 1) == [
        Received("MFM/marker", b"end", 0, False)
    ]
    assert state(hass, FREQUENCY) == "50.01"


async def test_a_broker_that_goes_away_costs_a_debug_line(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    broker: Mosquitto,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Broker killed: the entities go on, one debug line each way, and online again when back."""
    await send_readings(publishing_board, mfm_link, clock, board, [50010], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)
    await hass.async_add_executor_job(board_topics.close)

    await broker.kill()
    await connection_is(hass, False)
    for value in (50020, 50030):
        await send_readings(
            publishing_board, mfm_link, clock, board, [value], spacing=1
        )
        await next_interval(hass, clock)
        assert state(hass, FREQUENCY) == str(value / 1000)

    # Back (empty: it keeps nothing), the broker hears the availability again first.
    await broker.start()
    async for again in subscribe(hass, broker, "MFM/#"):
        await advance(hass, clock, 10)  # Home Assistant's reconnection interval
        await connection_is(hass, True)
        await send_readings(
            publishing_board, mfm_link, clock, board, [49990], spacing=1
        )
        await next_interval(hass, clock)
        assert await received(hass, again, 2) == [
            ONLINE,
            board_message("49.99", "49.99", "49.99", "49.99"),
        ]
    assert publishing_board.state is ConfigEntryState.LOADED
    ours = [record for record in caplog.records if record.name == LOGGER.name]
    assert [(record.levelno, record.getMessage()) for record in ours] == [
        (
            logging.DEBUG,
            "Mains frequency board: not publishing to MQTT until its broker is connected",
        ),
        (logging.DEBUG, "Mains frequency board: publishing to MQTT under MFM"),
    ]


async def test_unloading_says_offline(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """The entry unloads (removed, disabled, reloaded): its device is offline."""
    await send_readings(publishing_board, mfm_link, clock, board, [50000], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)

    assert await hass.config_entries.async_unload(publishing_board.entry_id)

    assert (await received(hass, board_topics, 4))[3] == OFFLINE


async def test_stopping_home_assistant_says_offline(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """Home Assistant stops without unloading the entry: its device is offline all the same."""
    await send_readings(publishing_board, mfm_link, clock, board, [50000], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)

    await hass.async_stop()

    assert (await received(hass, board_topics, 4))[3] == OFFLINE


async def test_diagnostics_show_the_publishing(
    hass: HomeAssistant,
    publishing_board: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    board_topics: Subscriber,
) -> None:
    """Whether it is on, the prefix, the broker and the messages handed over."""
    await send_readings(publishing_board, mfm_link, clock, board, [50000], spacing=1)
    await next_interval(hass, clock)
    await received(hass, board_topics, 3)
    await handed_over()

    diagnostics = await async_get_config_entry_diagnostics(hass, publishing_board)

    assert diagnostics["mqtt"] == {
        "enabled": True,
        "topic_prefix": "MFM",
        "broker_connected": True,
        "published": 3,
    }


async def test_without_the_mqtt_integration_nothing_is_published(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Publishing on, MQTT removed since: the board is read as ever, one debug line says why."""
    publish_option(hass, mock_config_entry)
    await set_up_connected(hass, mock_config_entry)
    await send_readings(mock_config_entry, mfm_link, clock, board, [50010], spacing=1)
    await next_interval(hass, clock)

    assert state(hass, FREQUENCY) == "50.01"
    ours = [record for record in caplog.records if record.name == LOGGER.name]
    assert [(record.levelno, record.getMessage()) for record in ours] == [
        (
            logging.DEBUG,
            "Mains frequency board: not publishing to MQTT until its broker is connected",
        )
    ]


# --- the energy monitor --------------------------------------------------------------------


ECM_CHANNELS = {
    "ch2": {CONF_NAME: "Solar", CONF_MODE: "net"},
    "aux2": {CONF_MODE: "off"},
}


@pytest.fixture
async def power_topics(
    hass: HomeAssistant, broker: Mosquitto
) -> AsyncIterator[Subscriber]:
    """A consumer of everything under the energy monitor's default topic."""
    async for client in subscribe(hass, broker, "power/#"):
        yield client


@pytest.mark.parametrize("channels", [ECM_CHANNELS])
@pytest.mark.usefixtures("mqtt_entry")
async def test_the_energy_monitor_publishes_a_message_per_channel(
    hass: HomeAssistant, simulation: Simulation, power_topics: Subscriber
) -> None:
    """power_1 to power_7 in the unit's order, the one that is off left out; exact figures."""
    publish_option(hass, simulation.entry)
    await simulation.set_up()
    loads = Loads(ch1_watts=1200, ch2_watts=-450, aux_watts=(60, 25, 0, 10, 1500))
    await simulation.start()
    await simulation.steps(loads, 4)  # 4 s of loads: the interval that ends at 5 s
    await simulation.steps(loads, 5)

    messages = await received(hass, power_topics, 14)

    assert messages[:2] == [
        Received("power/availability", b"offline", 0, False),
        Received("power/availability", b"online", 0, False),
    ]
    # Watts as measured (CH2 net-metered: exporting is negative), watt-seconds of all
    # that passed since the first packet: 4 s, then 9 s. AUX2 (power_4) is off.
    for ts, seconds, batch in (
        (START_TS + 5, 4, messages[2:8]),
        (START_TS + 10, 9, messages[8:]),
    ):
        assert batch == [
            ecm_message("power", 1, ts, "1200.0", 1200 * seconds),
            ecm_message("power", 2, ts, "-450.0", 450 * seconds),
            ecm_message("power", 3, ts, "60.0", 60 * seconds),
            ecm_message("power", 5, ts, "0.0", 0),
            ecm_message("power", 6, ts, "10.0", 10 * seconds),
            ecm_message("power", 7, ts, "1500.0", 1500 * seconds),
        ]


@pytest.mark.parametrize("model", [EcmModel.ECM_1220])
@pytest.mark.usefixtures("mqtt_entry")
async def test_an_ecm_1220_publishes_its_two_channels_under_its_prefix(
    hass: HomeAssistant, broker: Mosquitto, simulation: Simulation
) -> None:
    """CH1 and CH2 only, as power_1 and power_2, on the topic the user chose."""
    publish_option(hass, simulation.entry, **{CONF_TOPIC_PREFIX: "home/garage/power"})
    async for consumer in subscribe(hass, broker, "home/garage/power/#"):
        await simulation.set_up()
        await simulation.start()
        await simulation.steps(Loads(ch1_watts=300, ch2_watts=75), 4)

        assert await received(hass, consumer, 4) == [
            Received("home/garage/power/availability", b"offline", 0, False),
            Received("home/garage/power/availability", b"online", 0, False),
            ecm_message("home/garage/power", 1, START_TS + 5, "300.0", 1200),
            ecm_message("home/garage/power", 2, START_TS + 5, "75.0", 300),
        ]
