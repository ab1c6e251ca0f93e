"""Home Assistant's own InfluxDB integration exports both devices to a real InfluxDB 1.x server.

The integration is added as a user adds it in 2026 (Settings -> Devices & services:
InfluxDB 1.x, its URL and database), with the README's options in
configuration.yaml, which Home Assistant reads when it sets the entry up. The board
and the ECM-1240 then play two update intervals (tests/house.py); the test reads
back every point the server holds with InfluxQL and compares it with the points
worked out from what the simulators sent: a point for each state that changed, at
the time of its snapshot, measured in its unit (or named by its entity id if it has
none), tagged with its domain, entity id, device class and the configured tag.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
import logging
from pathlib import Path
import re

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.components.influxdb.const import (
    CONF_DB_NAME,
    DOMAIN as INFLUXDB,
    WROTE_MESSAGE,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_URL,
    CONF_VERIFY_SSL,
    STATE_OFF,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import Simulation
from tests.helpers import Clock
from tests.house import (
    BEGIN,
    BOARD_TOTALS,
    BOARD_UNITS,
    ECM_TOTALS,
    ECM_UNITS,
    SNAPSHOTS,
    board_entry,
    board_figures,
    ecm_figures,
    entity_ids,
    play,
    unit_entry,
)
from tests.influxdb import Influxd, Point

DATABASE = "home_assistant"
README = Path(__file__).parent.parent / "README.md"
TAGS = {"source": "home_assistant"}
OUTSIDE = "sensor.outdoor_temperature"
# A healthy server takes a batch within a second; a loaded machine gets 30 s.
WRITE_TIMEOUT = 30

# Each sensor's device class, by key; None: it has none.
BOARD_CLASSES = {
    "frequency": "frequency",
    "frequency_minimum": "frequency",
    "frequency_maximum": "frequency",
    "deviation": None,
    "rate_of_change": None,
    "grid_time_deviation": None,
    "load_difference": "power",
    "deviation_spread": None,
    **dict.fromkeys((f"deviation_p{p}" for p in (1, 5, 10, 90, 95, 99)), None),
    "correction_expected": None,
    "mean_deviation_recent": None,
    "measured_time": "duration",
    **dict.fromkeys(
        (
            f"time_{side}_{band}"
            for band in (50, 100, 200)
            for side in ("over", "under")
        ),
        "duration",
    ),
    "excursions": None,
    "excursions_not_restored": None,
    "band": "enum",
    "grid_time_since": "timestamp",
    "connection_state": "enum",
    **dict.fromkeys(
        ("alarm_70", "alarm_100", "alarm_200", "alarm_1000", "alarm"), "problem"
    ),
}
ECM_CLASSES = {
    "voltage": "voltage",
    "voltage_minimum": "voltage",
    "voltage_maximum": "voltage",
    **dict.fromkeys(ECM_TOTALS, "duration"),
    "nominal_voltage": "voltage",
    "ch1_current": "current",
    "ch2_current": "current",
    "connection_state": "enum",
    **{key: "power" for key in ECM_UNITS if key.endswith("_power")},
    **{key: "energy" for key in ECM_UNITS if ECM_UNITS[key] == "kWh"},
}


class Writes(logging.Handler):
    """Wakes the test whenever Home Assistant's InfluxDB integration reports a batch written, or an error."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Report to tasks on `loop`."""
        super().__init__(logging.DEBUG)
        self._loop = loop
        self._wrote = asyncio.Event()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Note an error; wake the waiting task (the integration logs from its own thread)."""
        if record.levelno >= logging.ERROR:
            self.errors.append(record.getMessage())
        elif record.msg != WROTE_MESSAGE:
            return
        self._loop.call_soon_threadsafe(self._wrote.set)

    async def next(self) -> None:
        """Return after the next write or error, or at once if one came since the last call."""
        await self._wrote.wait()
        self._wrote.clear()


def readme_block(language: str, start: str) -> str:
    """The README's one code block in `language` that starts with `start`."""
    text = README.read_text(encoding="utf-8")
    blocks: list[str] = re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)
    (block,) = (block for block in blocks if block.startswith(start))
    return block


@pytest.fixture
def hass_config_dir(tmp_path: Path) -> str:
    """A configuration folder whose configuration.yaml holds the README's InfluxDB options."""
    config = tmp_path / "config"
    config.mkdir()
    options = readme_block("yaml", "influxdb:")
    (config / "configuration.yaml").write_text(options, encoding="utf-8")
    return str(config)


@pytest.fixture
async def influxd(socket_enabled: None, tmp_path: Path) -> AsyncIterator[Influxd]:
    """An InfluxDB 1.x server with an empty database, stopped after the test."""
    directory = tmp_path / "influxdb"
    directory.mkdir()
    server = Influxd.on_free_ports(directory)
    await server.start()
    try:
        await server.create_database(DATABASE)
        yield server
    finally:
        await server.stop()


@pytest.fixture
def writes(hass: HomeAssistant) -> Iterator[Writes]:
    """What the InfluxDB integration logs about its writes, while the test runs."""
    handler = Writes(hass.loop)
    logger = logging.getLogger(f"homeassistant.components.{INFLUXDB}")
    level = logger.level
    # It reports each batch written at debug level.
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
async def exporting(
    hass: HomeAssistant, influxd: Influxd, writes: Writes
) -> AsyncIterator[ConfigEntry]:
    """The InfluxDB integration added through its config flow; unloaded after the test, which ends its thread."""
    flow = hass.config_entries.flow
    result = await flow.async_init(INFLUXDB, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await flow.async_configure(
        result["flow_id"], {"next_step_id": "configure_v1"}
    )
    assert result["type"] is FlowResultType.FORM
    result = await flow.async_configure(
        result["flow_id"],
        {CONF_URL: influxd.url, CONF_VERIFY_SSL: False, CONF_DB_NAME: DATABASE},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    await hass.async_block_till_done()
    yield entry
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def mock_config_entry(mfm_link: PtyLink) -> MockConfigEntry:
    """The board's entry, updated every minute."""
    return board_entry(mfm_link)


@pytest.fixture
def ecm_entry(ecm_link: PtyLink) -> MockConfigEntry:
    """The unit's entry, updated every minute."""
    return unit_entry(ecm_link)


@pytest.fixture
async def exported(
    hass: HomeAssistant,
    exporting: ConfigEntry,
    writes: Writes,
    influxd: Influxd,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    simulation: Simulation,
    clock: Clock,
) -> set[Point]:
    """Every point in the database once both devices played and their points arrived."""
    # Another integration's sensor, which the filter leaves out.
    hass.states.async_set(
        OUTSIDE, "12.5", {ATTR_UNIT_OF_MEASUREMENT: UnitOfTemperature.CELSIUS}
    )
    await play(hass, mock_config_entry, mfm_link, board, simulation, clock)
    count = len(expected_board(hass, mock_config_entry)) + len(
        expected_unit(hass, simulation.entry)
    )
    async with asyncio.timeout(WRITE_TIMEOUT):
        while len(points := await influxd.points(DATABASE)) < count:
            assert writes.errors == []
            await writes.next()
    assert writes.errors == []
    return points


def milliseconds(moment: datetime) -> int:
    """A time as InfluxDB returns it: ms since the epoch."""
    return round(moment.timestamp() * 1000)


def points_of(
    entity_id: str, unit: str | None, device_class: str | None, shown: Sequence[object]
) -> set[Point]:
    """The points of an entity that showed `shown` at the snapshots: one for each change."""
    domain, object_id = entity_id.split(".")
    tags = {"domain": domain, "entity_id": object_id, **TAGS}
    if device_class is not None:
        tags["device_class"] = device_class
    points = set()
    for index, (moment, value) in enumerate(zip(SNAPSHOTS, shown, strict=True)):
        if index and value == shown[index - 1]:
            continue
        if isinstance(value, float | int):
            fields: dict[str, object] = {"value": value}
        elif domain == "binary_sensor":
            fields = {"state": value, "value": int(value != STATE_OFF)}
        else:
            fields = {"state": value}
        points.add(
            Point(
                unit or entity_id,
                tuple(sorted(tags.items())),
                milliseconds(moment),
                tuple(sorted(fields.items())),
            )
        )
    return points


def expected_points(
    ids: Mapping[str, str],
    units: Mapping[str, str | None],
    classes: Mapping[str, str | None],
    figures: Sequence[Mapping[str, object]],
) -> set[Point]:
    """Every point of a device's exported entities, by the figures at its snapshots."""
    return {
        point
        for key, device_class in classes.items()
        for point in points_of(
            ids[key],
            units.get(key),
            device_class,
            [snapshot[key] for snapshot in figures],
        )
    }


def expected_board(hass: HomeAssistant, entry: MockConfigEntry) -> set[Point]:
    """The board's points: its measurements, band, grid time start, connection and alarms."""
    steady = {
        "band": "standard",
        "grid_time_since": BEGIN.isoformat(),
        "connection_state": "connected",
        **dict.fromkeys(
            ("alarm_70", "alarm_100", "alarm_200", "alarm_1000", "alarm"), STATE_OFF
        ),
    }
    figures = [{**snapshot, **steady} for snapshot in board_figures()]
    return expected_points(
        entity_ids(hass, entry), BOARD_UNITS | BOARD_TOTALS, BOARD_CLASSES, figures
    )


def expected_unit(hass: HomeAssistant, entry: MockConfigEntry) -> set[Point]:
    """The unit's points: line voltage, currents, power and energy of each channel, connection."""
    figures = [
        {**snapshot, "connection_state": "connected"} for snapshot in ecm_figures()
    ]
    units = ECM_UNITS | ECM_TOTALS | {"nominal_voltage": "V"}
    return expected_points(entity_ids(hass, entry), units, ECM_CLASSES, figures)


def of_entry(
    points: set[Point], hass: HomeAssistant, entry: MockConfigEntry
) -> set[Point]:
    """The points of the entry's entities."""
    object_ids = {
        entity_id.split(".")[1] for entity_id in entity_ids(hass, entry).values()
    }
    return {point for point in points if dict(point.tags)["entity_id"] in object_ids}


async def test_the_boards_points(
    hass: HomeAssistant, exported: set[Point], mock_config_entry: MockConfigEntry
) -> None:
    """Frequencies in Hz, deviation in mHz, grid time in s; states of the band, connection and alarms."""
    assert of_entry(exported, hass, mock_config_entry) == expected_board(
        hass, mock_config_entry
    )


async def test_the_units_points(
    hass: HomeAssistant, exported: set[Point], ecm_entry: MockConfigEntry
) -> None:
    """Line voltage in V, currents in A, power in W and energy in kWh, each as its sensor showed it."""
    assert of_entry(exported, hass, ecm_entry) == expected_unit(hass, ecm_entry)


async def test_only_the_included_entities_are_exported(
    hass: HomeAssistant,
    exported: set[Point],
    mock_config_entry: MockConfigEntry,
    ecm_entry: MockConfigEntry,
) -> None:
    """The filter keeps other sensors out; the disabled counters and the button send nothing."""
    assert hass.states.get(OUTSIDE) is not None
    assert exported == expected_board(hass, mock_config_entry) | expected_unit(
        hass, ecm_entry
    )


async def test_the_readmes_grafana_query(
    exported: set[Point], influxd: Influxd
) -> None:
    """The README's InfluxQL query, as Grafana fills it in for 12:00-12:03 by the minute: each minute's mean frequency."""
    end = BEGIN + timedelta(minutes=3)
    query = (
        readme_block("sql", "SELECT")
        .replace("$timeFilter", f"time >= '{BEGIN:%FT%TZ}' AND time < '{end:%FT%TZ}'")
        .replace("$__interval", "1m")
    )
    first, second = board_figures()

    (series,) = await influxd.query(query, DATABASE)

    # Nothing came before 12:01 to fill the first minute with.
    assert series["values"] == [
        [milliseconds(BEGIN), None],
        [milliseconds(SNAPSHOTS[0]), first["frequency"]],
        [milliseconds(SNAPSHOTS[1]), second["frequency"]],
    ]
