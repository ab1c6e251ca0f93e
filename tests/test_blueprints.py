"""The alert blueprints, imported as a user imports them and driven through the board's entities.

Notifications are Home Assistant's persistent notifications; MQTT goes through Home Assistant's
own MQTT integration to a real Mosquitto, where plain clients read what a lamp would read.

An automation run that waits for the end of an excursion or an outage is never done, so
these tests never block until Home Assistant is done while one waits: they wait for what
they expect (a notification, a message, the port's state), and block once the run ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
import json
import logging
from pathlib import Path
import shutil
import statistics
from typing import Any
from urllib.parse import quote

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.mains_monitor.const import (
    CONF_SILENCE_TIMEOUT,
    ConnectionState,
)
from homeassistant.components import mqtt, persistent_notification as pn
from homeassistant.components.blueprint import models
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.daemon import free_port
from tests.helpers import (
    FREQUENCY,
    START,
    Clock,
    send,
    send_readings,
    set_up_connected,
    state,
    wait_for_connection,
    with_options,
)
from tests.mosquitto import Mosquitto, Received, Subscriber
from tests.test_repository import ROOT, project

BLUEPRINTS = ROOT / "blueprints" / "automation" / "mains_monitor"
EXCURSION = "frequency_excursion.yaml"
SILENT = "device_silent.yaml"
TOPIC = "mains_monitor/frequency_alarm"
AUTOMATION = "automation.alert"
STATISTICS_WINDOW = 12  # s, the max age of the Statistics helper a test makes
# The board's update interval (the entry's default): one reading a second, then the update.
INTERVAL = 5
UPPER, LOWER = 150, 180  # mHz, the thresholds the excursion tests choose
WINDOW = 10  # s a mean must stay beyond a threshold before the alarm
DELAY = 60  # s the measurement must be unavailable before the silent notification
# s without data before the board's measurements become unavailable. Long, so that the
# reader keeps its port open during the tests' outages: data can be sent at any time.
SILENCE = 600
# The loop clock runs real time on top of the ticks: a timer may fall due a little early.
MARGIN = 2

type Notification = tuple[str, str]


# --- what a user has: the blueprints, notifications, MQTT ------------------------------


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A configuration folder of the test's own, with the blueprints where an import puts them.

    Its configuration.yaml is empty: the MQTT integration reads it.
    """
    Path(hass_tmp_config_dir, "configuration.yaml").write_text("", encoding="utf-8")
    shutil.copytree(
        BLUEPRINTS,
        Path(hass_tmp_config_dir, "blueprints", "automation", "mains_monitor"),
    )
    return hass_tmp_config_dir


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The board's entry, with the tests' silence timeout."""
    return with_options(mock_config_entry, {CONF_SILENCE_TIMEOUT: SILENCE})


class Notifications:
    """Every persistent notification created from now on, in order."""

    def __init__(self) -> None:
        """Start with none."""
        self.created: list[pn.Notification] = []
        self._added = asyncio.Event()

    @property
    def texts(self) -> list[Notification]:
        """Title and message of each."""
        return [(item["title"] or "", item["message"]) for item in self.created]

    @property
    def moments(self) -> list[float]:
        """When each was created, in seconds after the tests' start."""
        start = datetime.fromisoformat(START)
        return [(item["created_at"] - start).total_seconds() for item in self.created]

    @callback
    def changed(
        self, update_type: pn.UpdateType, items: dict[str, pn.Notification]
    ) -> None:
        """Note the notifications just added."""
        if update_type is pn.UpdateType.ADDED:
            self.created.extend(items.values())
            self._added.set()

    async def wait_for(self, count: int) -> list[Notification]:
        """Title and message of each, once there are `count`."""
        async with asyncio.timeout(10):
            while len(self.created) < count:
                self._added.clear()
                await self._added.wait()
        return self.texts


@pytest.fixture
async def notifications(hass: HomeAssistant) -> AsyncIterator[Notifications]:
    """The persistent notifications the test's automation creates."""
    assert await async_setup_component(hass, pn.DOMAIN, {})
    created = Notifications()
    remove = pn.async_register_callback(hass, created.changed)
    yield created
    remove()


@pytest.fixture
async def broker(socket_enabled: None, tmp_path: Path) -> AsyncIterator[Mosquitto]:
    """A Mosquitto broker on a loopback port, stopped after the test."""
    daemon = Mosquitto(tmp_path, free_port())
    await daemon.start()
    yield daemon
    await daemon.stop()


@pytest.fixture
async def mqtt_entry(hass: HomeAssistant, broker: Mosquitto) -> MockConfigEntry:
    """Home Assistant's MQTT integration, connected to the broker."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN, data={"broker": "127.0.0.1", "port": broker.port}
    )
    entry.add_to_hass(hass)
    connected = asyncio.Event()

    @callback
    def status(up: bool) -> None:
        """Note that the client has connected."""
        if up:
            connected.set()

    remove = mqtt.async_subscribe_connection_status(hass, status)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        async with asyncio.timeout(30):
            await connected.wait()
    finally:
        remove()
    return entry


class Lamps:
    """Clients of the broker subscribed to the alarm topic, as lamps are; closed at the end."""

    def __init__(self, hass: HomeAssistant, port: int) -> None:
        """No lamp yet."""
        self._hass = hass
        self._port = port
        self._clients: list[Subscriber] = []

    async def connect(self) -> Subscriber:
        """A lamp that connects now."""
        client = await self._hass.async_add_executor_job(Subscriber, self._port, TOPIC)
        self._clients.append(client)
        return client

    async def received(self, lamp: Subscriber, count: int) -> list[Received]:
        """The lamp's first `count` messages, once they are there."""
        return await self._hass.async_add_executor_job(lamp.wait_for, count)

    async def retained(self) -> list[Received]:
        """What a lamp that connects now learns at once: the retained message."""
        return await self.received(await self.connect(), 1)

    async def everything(self, lamp: Subscriber, count: int) -> list[Received]:
        """Exactly what the lamp got so far: `count` messages, then a marker.

        Home Assistant publishes the marker after everything it published before,
        on the same connection: nothing published earlier can arrive after it.
        """
        await mqtt.async_publish(self._hass, TOPIC, "marker", qos=1, retain=False)
        messages = await self.received(lamp, count + 1)
        assert messages[count] == Received(TOPIC, b"marker", 1, False)
        return messages[:count]

    async def close(self) -> None:
        """Disconnect every lamp."""
        for client in self._clients:
            await self._hass.async_add_executor_job(client.close)


@pytest.fixture
async def lamps(hass: HomeAssistant, broker: Mosquitto) -> AsyncIterator[Lamps]:
    """Lamps on the broker, disconnected after the test."""
    connected = Lamps(hass, broker.port)
    yield connected
    await connected.close()


type UseBlueprint = Callable[[str, dict[str, Any]], Awaitable[None]]


@pytest.fixture
async def use_blueprint(hass: HomeAssistant) -> AsyncIterator[UseBlueprint]:
    """Create the automation `automation.alert` from a blueprint and its inputs.

    It is turned off at the end, before the entry unloads: the unload makes the
    measurements unavailable, which would start the silent alert's delay.
    """

    async def create(blueprint: str, inputs: dict[str, Any]) -> None:
        """Set the automation up; it must be on."""
        assert await async_setup_component(
            hass,
            "automation",
            {
                "automation": {
                    "alias": "Alert",
                    "use_blueprint": {
                        "path": f"mains_monitor/{blueprint}",
                        "input": inputs,
                    },
                }
            },
        )
        assert state(hass, AUTOMATION) == "on"

    yield create
    if hass.states.get(AUTOMATION) is not None:
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": AUTOMATION}, blocking=True
        )


# --- the board --------------------------------------------------------------------------


def step(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass and fire every timer that fell due (nothing waits for the rest)."""
    clock.tick(seconds)
    async_fire_time_changed(hass)


async def means(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    millihertz: list[int],
) -> None:
    """One update interval for each value: four readings at it, one each rest of the reader, then the update.

    The board moves at most 100 mHz a line: values that follow each other differ less.
    """
    # The reader's rest (MfmCoordinator.read_spacing): none is ended early.
    rest = INTERVAL / 4
    for value in millihertz:
        await send_readings(entry, link, clock, board, [value] * 4, spacing=rest)
        step(hass, clock, rest)


def frequency(hass: HomeAssistant, entity_id: str = FREQUENCY) -> State:
    """A frequency sensor as it is now (the board's, unless another is named)."""
    shown = hass.states.get(entity_id)
    assert shown is not None
    return shown


def excursion_inputs(topic: str = TOPIC) -> dict[str, Any]:
    """The excursion blueprint's inputs: the board's frequency, the tests' thresholds."""
    return {
        "frequency_entity": FREQUENCY,
        "upper_threshold": UPPER,
        "lower_threshold": LOWER,
        "duration": {"hours": 0, "minutes": 0, "seconds": WINDOW},
        "mqtt_topic": topic,
    }


def excursion_message(
    hass: HomeAssistant, hertz: float, *, alarm: bool, entity_id: str = FREQUENCY
) -> Notification:
    """The default notification for a mean of `hertz` on a 50 Hz grid, read from `entity_id`."""
    name = frequency(hass, entity_id).attributes["friendly_name"]
    values = f"{name}: {hertz:.3f} Hz, {(hertz - 50) * 1000:+.0f} mHz from 50 Hz"
    if alarm:
        return (
            "Mains frequency excursion",
            f"{values}, beyond +{UPPER} / -{LOWER} mHz.",
        )
    return (
        "Mains frequency back to normal",
        f"{values}, within +{UPPER} / -{LOWER} mHz again.",
    )


# --- the blueprint files ----------------------------------------------------------------


def blueprint_files() -> list[Path]:
    """Every blueprint in the repository."""
    return sorted(BLUEPRINTS.glob("*"))


@pytest.mark.parametrize("path", blueprint_files(), ids=lambda path: path.name)
def test_every_blueprint_is_valid(path: Path) -> None:
    """Home Assistant's blueprint schema takes it as an automation blueprint."""
    assert path.suffix == ".yaml"
    blueprint = models.Blueprint(
        yaml_util.load_yaml_dict(path),
        expected_domain="automation",
        schema=BLUEPRINT_SCHEMA,
    )
    assert blueprint.domain == "automation"


@pytest.mark.parametrize("path", blueprint_files(), ids=lambda path: path.name)
def test_every_blueprint_is_importable_from_the_readme(path: Path) -> None:
    """Its source URL is its place in the repository; the README links the import dialog to it."""
    metadata = yaml_util.load_yaml_dict(path)["blueprint"]
    source_url = (
        f"{project()['repository']}/blob/main/blueprints/automation/mains_monitor/"
        f"{path.name}"
    )
    assert metadata["source_url"] == source_url
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        "(https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url="
        f"{quote(source_url, safe='')})"
    ) in readme
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert metadata["homeassistant"]["min_version"] == hacs["homeassistant"]


def test_the_blueprints_are_the_two_alerts() -> None:
    """The README describes these two; a new file needs its section too."""
    assert [path.name for path in blueprint_files()] == [SILENT, EXCURSION]


# --- frequency excursion ----------------------------------------------------------------


@pytest.mark.parametrize(("sign", "threshold"), [(1, UPPER), (-1, LOWER)])
async def test_an_excursion_alarms_once_and_ends_once(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    lamps: Lamps,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
    sign: int,
    threshold: int,
) -> None:
    """Beyond for the window: one notification and one retained alarm; within: one normal."""
    lamp = await lamps.connect()
    await use_blueprint(EXCURSION, excursion_inputs())

    def at(*deviations: int) -> list[int]:
        """Readings at these deviations from 50 Hz, in the excursion's direction."""
        return [50000 + sign * deviation for deviation in deviations]

    # Within: -170 mHz is within the lower threshold (180); exactly on the threshold is
    # within. Beyond for one interval only: no alarm.
    await means(
        hass, init_integration, mfm_link, clock, board, [49900, 49830, 49900, 50000]
    )
    await means(hass, init_integration, mfm_link, clock, board, at(100, threshold, 200))
    await means(hass, init_integration, mfm_link, clock, board, at(threshold))
    # Beyond for the window: the alarm.
    await means(hass, init_integration, mfm_link, clock, board, at(200, 200, 200))
    alarm = excursion_message(hass, at(200)[0] / 1000, alarm=True)
    assert await notifications.wait_for(1) == [alarm]
    assert await lamps.retained() == [Received(TOPIC, b"alarm", 1, True)]

    # Further beyond: the same excursion. Within again: back to normal, once.
    await means(hass, init_integration, mfm_link, clock, board, at(250, threshold))
    normal = excursion_message(hass, at(threshold)[0] / 1000, alarm=False)
    assert await notifications.wait_for(2) == [alarm, normal]
    assert await lamps.retained() == [Received(TOPIC, b"normal", 1, True)]

    # Within, and beyond for one interval: nothing more.
    await means(hass, init_integration, mfm_link, clock, board, at(100, 200, 100))
    await hass.async_block_till_done()
    assert notifications.texts == [alarm, normal]
    # The 9th update is the first of the excursion, the 11th comes the window later;
    # the 13th is within.
    assert notifications.moments == [INTERVAL * 11, INTERVAL * 13]
    assert await lamps.everything(lamp, 2) == [
        Received(TOPIC, b"alarm", 1, False),
        Received(TOPIC, b"normal", 1, False),
    ]


async def test_a_retained_alarm_gets_its_end_after_a_restart(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    lamps: Lamps,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
) -> None:
    """An alarm a restart left on the broker: one normal once the mean is within."""
    await mqtt.async_publish(hass, TOPIC, "alarm", qos=1, retain=True)
    lamp = await lamps.connect()
    await use_blueprint(EXCURSION, excursion_inputs())

    await means(hass, init_integration, mfm_link, clock, board, [49900])
    normal = excursion_message(hass, 49.9, alarm=False)
    assert await notifications.wait_for(1) == [normal]
    await means(hass, init_integration, mfm_link, clock, board, [50000])
    await hass.async_block_till_done()
    assert notifications.texts == [normal]
    assert await lamps.everything(lamp, 2) == [
        Received(TOPIC, b"alarm", 1, True),
        Received(TOPIC, b"normal", 1, False),
    ]
    assert await lamps.retained() == [Received(TOPIC, b"normal", 1, True)]


async def test_without_a_topic_only_the_notifications(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No topic: the blueprint needs no MQTT integration and publishes nothing."""
    await use_blueprint(EXCURSION, excursion_inputs(topic=""))

    await means(
        hass,
        init_integration,
        mfm_link,
        clock,
        board,
        [50100, 50200, 50200, 50200, 50100],
    )
    assert await notifications.wait_for(2) == [
        excursion_message(hass, 50.2, alarm=True),
        excursion_message(hass, 50.1, alarm=False),
    ]
    await hass.async_block_till_done()
    assert mqtt.DOMAIN not in hass.config.components
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.fixture
async def mean_entity(
    hass: HomeAssistant, init_integration: MockConfigEntry, clock: Clock
) -> AsyncIterator[str]:
    """A Statistics helper over the board's frequency, made as a user makes it; its entity id.

    Characteristic mean, max age the tests' window, precision 4 (0.1 mHz).
    """
    flow = hass.config_entries.flow
    result = await flow.async_init("statistics", context={"source": "user"})
    for answer in (
        {"name": "Frequency mean", "entity_id": FREQUENCY},
        {"state_characteristic": "mean"},
        {
            "sampling_size": 100,
            "max_age": {"hours": 0, "minutes": 0, "seconds": STATISTICS_WINDOW},
            "precision": 4,
        },
    ):
        result = await flow.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (helper,) = er.async_entries_for_config_entry(
        er.async_get(hass), result["result"].entry_id
    )
    yield helper.entity_id
    # Home Assistant 2026.5's helper keeps the timer that purges its oldest sample when
    # it is removed: the board goes first, then every sample ages out.
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    step(hass, clock, STATISTICS_WINDOW + 1)
    await hass.async_block_till_done()


async def test_a_statistics_helper_gives_the_mean_over_a_window(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
    mean_entity: str,
) -> None:
    """Home Assistant's Statistics helper (mean, max age): the mean of the last updates."""
    inputs = excursion_inputs(topic="")
    inputs["frequency_entity"] = mean_entity
    del inputs["duration"]  # the default: alarm at the first mean beyond
    await use_blueprint(EXCURSION, inputs)

    # Updates every 5 s, a window of 12 s: the mean of the last three (two between
    # an update and the next, once the oldest has left the window).
    await means(
        hass, init_integration, mfm_link, clock, board, [50000] * 3 + [50100, 50200]
    )
    assert frequency(hass, FREQUENCY).state == "50.2"
    # It takes the frequency's device class: the blueprint's picker offers it.
    assert frequency(hass, mean_entity).attributes["device_class"] == "frequency"
    assert notifications.texts == []
    await means(hass, init_integration, mfm_link, clock, board, [50200])
    mean = round(statistics.fmean([50.1, 50.2, 50.2]), 4)
    alarm = excursion_message(hass, mean, alarm=True, entity_id=mean_entity)
    assert await notifications.wait_for(1) == [alarm]
    assert notifications.moments == [6 * INTERVAL]

    # The next update's readings go from 50.2 Hz down to 50 Hz, 100 mHz a line.
    await means(hass, init_integration, mfm_link, clock, board, [50000])
    last = statistics.fmean([50100, 50000, 50000, 50000]) / 1000
    mean = round(statistics.fmean([50.2, 50.2, last]), 4)
    normal = excursion_message(hass, mean, alarm=False, entity_id=mean_entity)
    assert await notifications.wait_for(2) == [alarm, normal]
    await hass.async_block_till_done()
    assert notifications.texts == [alarm, normal]


# --- device silent ----------------------------------------------------------------------


def silent_inputs() -> dict[str, Any]:
    """The silent blueprint's inputs: the board's frequency, the tests' delay."""
    return {
        "watched_entity": FREQUENCY,
        "delay": {"hours": 0, "minutes": 0, "seconds": DELAY},
    }


def silent_messages(gone: State, back: State) -> list[Notification]:
    """The default notifications for an outage from `gone` (unavailable) to `back`."""
    seconds = round((back.last_changed - gone.last_changed).total_seconds())
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    device, name = "Mains frequency board", "Frequency"
    since = dt_util.as_local(gone.last_changed).strftime("%Y-%m-%d %H:%M:%S")
    value = f"{back.state} {back.attributes['unit_of_measurement']}"
    return [
        (
            "Mains Monitor device silent",
            f"{device} is silent: {name} unavailable since {since}.",
        ),
        (
            "Mains Monitor device back",
            f"{device} sends data again after {hours}:{minute:02d}:{second:02d}: "
            f"{name} {value}.",
        ),
    ]


async def data_again(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    link: PtyLink,
    clock: Clock,
    board: MfmBoard,
) -> State:
    """Send a reading a second until the next update shows it; the frequency's state then."""
    while frequency(hass).state == STATE_UNAVAILABLE:
        await send(entry, link, board.line(50000, clock.elapsed), 1)
        step(hass, clock, 1)
    return frequency(hass)


async def test_a_silent_device_is_told_once_and_its_return_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
) -> None:
    """Unavailable past the delay: one notification, none more while it lasts; data: one more."""
    entry = init_integration
    await means(hass, entry, mfm_link, clock, board, [50000])
    await use_blueprint(SILENT, silent_inputs())

    # The last reading came at 4 s.
    step(hass, clock, SILENCE)
    await wait_for_connection(entry, ConnectionState.DISCONNECTED)
    gone = frequency(hass)
    assert gone.state == STATE_UNAVAILABLE
    # The port reopens after a second and stays open, silent.
    step(hass, clock, 1)
    await wait_for_connection(entry, ConnectionState.CONNECTED)
    step(hass, clock, DELAY - 1 - MARGIN)
    step(hass, clock, MARGIN)
    assert await notifications.wait_for(1) == silent_messages(gone, gone)[:1]
    assert notifications.created[0]["created_at"] == gone.last_changed + timedelta(
        seconds=DELAY
    )
    # Minutes of silence.
    for _ in range(5):
        step(hass, clock, 60)

    back = await data_again(hass, entry, mfm_link, clock, board)
    assert await notifications.wait_for(2) == silent_messages(gone, back)
    await hass.async_block_till_done()
    assert notifications.texts == silent_messages(gone, back)


@pytest.mark.parametrize("first_data", [None, DELAY // 2])
async def test_a_device_silent_since_the_start(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    notifications: Notifications,
    use_blueprint: UseBlueprint,
    first_data: int | None,
) -> None:
    """Unavailable from Home Assistant's start: told after the delay, unless data came before."""
    hass.set_state(CoreState.not_running)
    await set_up_connected(hass, mock_config_entry)
    await use_blueprint(SILENT, silent_inputs())
    await hass.async_start()
    gone = frequency(hass)
    assert gone.state == STATE_UNAVAILABLE
    started: datetime = dt_util.utcnow()

    if first_data is not None:
        step(hass, clock, first_data)
        await data_again(hass, mock_config_entry, mfm_link, clock, board)
        step(hass, clock, DELAY)
        await hass.async_block_till_done()
        assert notifications.texts == []
        return

    step(hass, clock, DELAY - MARGIN)
    step(hass, clock, MARGIN)
    assert await notifications.wait_for(1) == silent_messages(gone, gone)[:1]
    assert notifications.created[0]["created_at"] == started + timedelta(seconds=DELAY)
    step(hass, clock, 120)
    back = await data_again(hass, mock_config_entry, mfm_link, clock, board)
    assert await notifications.wait_for(2) == silent_messages(gone, back)
    await hass.async_block_till_done()
    assert notifications.texts == silent_messages(gone, back)
