"""Fixtures shared by the integration's tests: each device on a pty, its entry, the set-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from enum import StrEnum
import logging
from pathlib import Path
from typing import Any, cast
from unittest.mock import PropertyMock, patch

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.mains_monitor import PLATFORMS
from custom_components.mains_monitor.const import (
    CONF_DEVICE_KIND,
    CONF_LINE_FORMAT,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    DOMAIN,
    DeviceKind,
)
from custom_components.mains_monitor.kinds.mfm import DEFAULT_OPTIONS, TITLE
from custom_components.mains_monitor.protocol.mfm import LineFormat
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from simulator.ecm1240 import EcmModel, EcmUnit
from simulator.links import PtyLink, TcpLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import ENTRY_ID, Simulation, ecm_entry_for, new_unit
from tests.helpers import START, Clock, set_up_connected

# The ESPHome serial proxy fixtures.
pytest_plugins = ["tests.esphome"]
# How Home Assistant's frame helper words a report of an integration's outdated use of its API.
REPORT_WORDS = ("Detected that custom integration", "will stop working", "deprecated")
OURS = (f"'{DOMAIN}'", f"custom_components/{DOMAIN}", f"custom_components.{DOMAIN}")


class DeprecationReports(logging.Handler):
    """Keeps every log line in which Home Assistant reports this integration's outdated use of its API."""

    def __init__(self) -> None:
        """Collect warnings and worse."""
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record if it is such a report."""
        message = record.getMessage()
        if any(name in message for name in OURS) and any(
            words in message for words in REPORT_WORDS
        ):
            self.messages.append(message)


@pytest.fixture(autouse=True)
def no_deprecation_reports() -> Iterator[None]:
    """Fail a test in which Home Assistant reports this integration (set-up and teardown included)."""
    reports = DeprecationReports()
    root = logging.getLogger()
    root.addHandler(reports)
    yield
    root.removeHandler(reports)
    assert reports.messages == []


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers that choose how a test's Home Assistant starts, if at all."""
    config.addinivalue_line(
        "markers", "without_hass: the tests read files and need no Home Assistant"
    )
    config.addinivalue_line(
        "markers",
        "recorder_before_hass: the tests start the recorder (recorder_mock)",
    )


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load the integration from custom_components (unless marked without_hass)."""
    if request.node.get_closest_marker("without_hass") is None:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def mock_recorder_before_hass(request: pytest.FixtureRequest) -> None:
    """Let a test marked recorder_before_hass start the recorder before its Home Assistant."""
    if request.node.get_closest_marker("recorder_before_hass") is not None:
        request.getfixturevalue("async_setup_recorder_instance")


@pytest.fixture
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the integration's outage and recovery lines (INFO)."""
    caplog.set_level(logging.INFO)


def _core_enum(key: object) -> bool:
    """Whether a dict key is one of Home Assistant's own string enums."""
    return isinstance(key, StrEnum) and type(key).__module__.startswith(
        "homeassistant."
    )


class StableSnapshotSerializer(HomeAssistantSnapshotSerializer):
    """Home Assistant's serializer, with its own enum dict keys written as their strings.

    From 2026.10, state attributes and capabilities are keyed by StrEnum members that
    equal the strings earlier releases use; written as strings, one snapshot holds for both.
    """

    @classmethod
    def _serialize(cls, data: Any, **kwargs: Any) -> str:
        """Turn Home Assistant's enum keys into plain strings, then serialize as it does."""
        if isinstance(data, dict) and any(_core_enum(key) for key in data):
            data = type(data)(
                {
                    str(key) if _core_enum(key) else key: value
                    for key, value in data.items()
                }
            )
        return super()._serialize(data, **kwargs)


class StableSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshots, the same on every release tested."""

    serializer_class = StableSnapshotSerializer


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots without random ids, alike on every release tested."""
    return snapshot.use_extension(StableSnapshotExtension)


@pytest.fixture
def all_entities_enabled() -> Iterator[None]:
    """Create every entity enabled, also those off by default (the diagnostic counters)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def board() -> MfmBoard:
    """A firmware V2 board sending format P4 on a 50 Hz grid."""
    return MfmBoard()


def _open_pty(path: Path) -> Iterator[PtyLink]:
    """A pseudo-terminal behind `path`, open until the test ends."""
    link = PtyLink(path)
    link.open()
    yield link
    link.close()


@pytest.fixture
def mfm_link(tmp_path: Path) -> Iterator[PtyLink]:
    """The board's port: a pseudo-terminal behind a stable path."""
    yield from _open_pty(tmp_path / "ttyMFM")


@pytest.fixture
def ecm_link(tmp_path: Path) -> Iterator[PtyLink]:
    """The unit's port: a pseudo-terminal behind a stable path."""
    yield from _open_pty(tmp_path / "ttyECM")


@pytest.fixture
def new_link(tmp_path: Path) -> Iterator[PtyLink]:
    """A second port, where a device may be moved to."""
    yield from _open_pty(tmp_path / "ttyNEW")


@pytest.fixture
def tcp_link_class() -> type[TcpLink]:
    """The network serial server `tcp_link` starts; a test module may count more."""
    return TcpLink


@pytest.fixture
async def tcp_link(
    socket_enabled: None, tcp_link_class: type[TcpLink]
) -> AsyncIterator[TcpLink]:
    """A network serial server on the loopback interface, stopped after the test."""
    link = tcp_link_class()
    await link.start()
    yield link
    await link.stop()


@pytest.fixture
def by_id(tmp_path: Path) -> Iterator[Path]:
    """The by-id directory of udev, where the test may add links."""
    directory = tmp_path / "by-id"
    directory.mkdir()
    with patch("custom_components.mains_monitor.ports.BY_ID_DIR", directory):
        yield directory


@pytest.fixture
def mock_config_entry(mfm_link: PtyLink) -> MockConfigEntry:
    """An entry for the board on the pty."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        data={
            CONF_DEVICE_KIND: DeviceKind.MFM,
            CONF_PORT: str(mfm_link.path),
            CONF_LINE_FORMAT: LineFormat.P4,
        },
        options=DEFAULT_OPTIONS,
        entry_id="01JMAINSMONITORTESTENTRY01",
    )


@pytest.fixture
def clock(hass: HomeAssistant) -> Iterator[Clock]:
    """One simulated clock for Home Assistant's wall time and its event loop."""
    with freeze_time(START) as frozen:
        simulated = Clock(cast(FrozenDateTimeFactory, frozen))
        # Home Assistant binds time.monotonic as loop.time; give the loop ours.
        with patch.object(hass.loop, "time", simulated.loop_time):
            yield simulated


@pytest.fixture
def platforms() -> list[Platform]:
    """The platforms to set up; a test may narrow them."""
    return PLATFORMS


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    clock: Clock,
    platforms: list[Platform],
) -> MockConfigEntry:
    """The integration set up and reading the pty."""
    await set_up_connected(hass, mock_config_entry, platforms=platforms)
    return mock_config_entry


@pytest.fixture
def model() -> EcmModel:
    """The unit's model; a test may choose the ECM-1220."""
    return EcmModel.ECM_1240


@pytest.fixture
def channels() -> dict[str, dict[str, Any]]:
    """The channel sections of the options; none: every channel measures consumption."""
    return {}


@pytest.fixture
def poll_interval() -> int:
    """Seconds between polls; 0: the unit pushes its packets."""
    return 0


@pytest.fixture
def ecm_entry(
    ecm_link: PtyLink,
    model: EcmModel,
    channels: dict[str, dict[str, Any]],
    poll_interval: int,
) -> MockConfigEntry:
    """An entry for unit 5, serial 434 on the unit's pty."""
    return ecm_entry_for(
        str(ecm_link.path),
        model,
        options={CONF_POLL_INTERVAL: poll_interval, **channels},
        entry_id=ENTRY_ID,
    )


@pytest.fixture
def unit(model: EcmModel) -> EcmUnit:
    """Unit 5, serial 434, at 120 V with every counter at zero."""
    return new_unit(model)


@pytest.fixture
def simulation(
    hass: HomeAssistant,
    ecm_entry: MockConfigEntry,
    ecm_link: PtyLink,
    clock: Clock,
    unit: EcmUnit,
    platforms: list[Platform],
) -> Simulation:
    """The unit and the entry, not yet set up."""
    ecm_entry.add_to_hass(hass)
    return Simulation(hass, ecm_entry, ecm_link, clock, unit, platforms)


@pytest.fixture
async def ecm(simulation: Simulation) -> Simulation:
    """The unit and the entry, set up and reading the pty."""
    await simulation.set_up()
    return simulation
