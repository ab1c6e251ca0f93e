"""Helpers the integration's tests share: set entries up, drive the pty and the frozen clock, read the states."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
import math
import os
from pathlib import Path
import pwd
import time
from typing import Any, cast
from unittest.mock import patch
from weakref import WeakKeyDictionary

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.mains_monitor import PLATFORMS
from custom_components.mains_monitor.const import (
    CONF_PORT,
    DOMAIN,
    LOGGER,
    ConnectionState,
)
from custom_components.mains_monitor.ecm_coordinator import EcmCoordinator
from custom_components.mains_monitor.kinds import device_kind
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from homeassistant import loader
from homeassistant.const import Platform
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from simulator.links import PtyLink, TcpLink
from simulator.mfm import MfmBoard

type Link = PtyLink | TcpLink

# The frozen clock's start: readings are stamped with it on arrival.
START = "2026-11-22 12:00:00+00:00"

# The board's entities, as Home Assistant names those of the tests' entry.
BOARD = "sensor.mains_frequency_board"
FREQUENCY = f"{BOARD}_frequency"
GRID_TIME = f"{BOARD}_grid_time_deviation"
GRID_TIME_SINCE = f"{BOARD}_grid_time_deviation_since"
CONNECTION = f"{BOARD}_connection"
# A port found down is opened again after the first back-off (1 s): by this long after.
REOPEN = 1.1  # s


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    entity = hass.states.get(entity_id)
    assert entity is not None, entity_id
    return entity.state


def track_states(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Every state `entity_id` changes to from now on, in order."""
    shown, _stop = _follow_states(hass, [entity_id])
    return shown[entity_id]


@contextmanager
def shown_states(
    hass: HomeAssistant, entity_ids: list[str]
) -> Iterator[dict[str, list[str]]]:
    """Every state the entities change to while the block runs, in order, per entity."""
    shown, stop = _follow_states(hass, entity_ids)
    try:
        yield shown
    finally:
        stop()


def _follow_states(
    hass: HomeAssistant, entity_ids: list[str]
) -> tuple[dict[str, list[str]], CALLBACK_TYPE]:
    """The states the entities change to from now on, and the call that stops noting them."""
    shown: dict[str, list[str]] = {entity_id: [] for entity_id in entity_ids}

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        """Note the new state."""
        if (new := event.data["new_state"]) is not None:
            shown[event.data["entity_id"]].append(new.state)

    return shown, async_track_state_change_event(hass, entity_ids, changed)


def disabled_by_default(hass: HomeAssistant, entry_id: str) -> set[str]:
    """The description keys of the entry's entities that the integration disabled.

    Fails if any other entity is disabled in another way.
    """
    entries = er.async_entries_for_config_entry(er.async_get(hass), entry_id)
    disabled = [entry for entry in entries if entry.disabled_by is not None]
    assert {entry.disabled_by for entry in disabled} <= {
        er.RegistryEntryDisabler.INTEGRATION
    }
    return {entity_key(hass, entry) for entry in disabled}


def entity_key(hass: HomeAssistant, registered: er.RegistryEntry) -> str:
    """The description key of an entity: its unique id after its device's identity."""
    entry = hass.config_entries.async_get_entry(registered.config_entry_id or "")
    assert entry is not None
    identity = device_kind(entry).coordinator_type.identity(entry)
    return registered.unique_id.removeprefix(f"{identity}_")


def outage_issue(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    """The translation key of the entry's outage issue, if there is one."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"outage_{entry.entry_id}")
    return None if issue is None else issue.translation_key


def outage_logs(
    caplog: pytest.LogCaptureFixture, port: Path | None = None
) -> tuple[int, int]:
    """How many outage and recovery lines the integration logged (for `port` only, if given)."""
    messages = [
        r.getMessage() for r in caplog.records if r.name.startswith(LOGGER.name)
    ]
    if port is not None:
        messages = [message for message in messages if str(port) in message]
    lost = sum("is unavailable" in message for message in messages)
    back = sum("sending valid data again" in message for message in messages)
    return lost, back


@contextmanager
def unprivileged() -> Iterator[None]:
    """Act as a user without rights to root's files.

    Root ignores file modes, so as root the test takes the effective user id of
    `nobody` for a moment: the kernel then denies the open as it would deny
    Home Assistant running as a user outside the port's group.
    """
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(pwd.getpwnam("nobody").pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)


class Devices:
    """Simulated devices, each a task running until the test stops them all."""

    def __init__(self) -> None:
        """Start with no device running."""
        self._tasks: list[asyncio.Task[None]] = []

    def run(self, device: Coroutine[Any, Any, None]) -> None:
        """Run a device until `stop`."""
        self._tasks.append(asyncio.create_task(device))

    async def stop(self) -> None:
        """Stop every device."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task


class Clock:
    """Simulated time: the frozen wall clock and the event loop move together.

    Readings are stamped with the wall clock on arrival, so tests control their
    timing exactly; the loop's clock is real time plus every tick, so timers fall
    due as simulated time passes while the serial library's short waits run.
    """

    def __init__(self, frozen: FrozenDateTimeFactory) -> None:
        """Start at the frozen wall clock's time."""
        self._frozen = frozen
        self._offset = 0.0
        self._loop_ahead = 0.0

    def loop_time(self) -> float:
        """The event loop's clock."""
        monotonic = time.clock_gettime(time.CLOCK_MONOTONIC)
        return monotonic + self._offset + self._loop_ahead

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the test started."""
        return self._offset

    def tick(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self._frozen.tick(seconds)
        self._offset += seconds

    def run_loop(self, seconds: float) -> None:
        """Let `seconds` pass on the loop's clock alone, as real time does under the frozen wall clock.

        What waiting that long would do, without the wait: a reader's rest ends.
        """
        self._loop_ahead += seconds


def coordinator_of(entry: MockConfigEntry) -> MfmCoordinator | EcmCoordinator:
    """The entry's coordinator (a new one after every set-up)."""
    return cast(MfmCoordinator | EcmCoordinator, entry.runtime_data)


async def set_up(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: str | None = None,
    *,
    platforms: list[Platform] = PLATFORMS,
) -> bool:
    """Add the entry (reading `port`, if given) and set it up as Home Assistant does at its start.

    Whether it loaded; `platforms` are the ones set up.
    """
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    if port is not None:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_PORT: port}
        )
    with patch("custom_components.mains_monitor.PLATFORMS", platforms):
        loaded = await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return loaded


async def set_up_connected(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    port: str | None = None,
    *,
    platforms: list[Platform] = PLATFORMS,
) -> None:
    """Set the entry up (reading `port`, if given) and wait until its port is open."""
    assert await set_up(hass, entry, port, platforms=platforms)
    await wait_for_connection(entry, ConnectionState.CONNECTED)


# What each coordinator calls after a chunk, while a test waits in `after_each_chunk`.
_CHUNK_CALLBACKS: WeakKeyDictionary[
    MfmCoordinator | EcmCoordinator, list[Callable[[], None]]
] = WeakKeyDictionary()


@contextmanager
def after_each_chunk(
    entry: MockConfigEntry, callback: Callable[[], None]
) -> Iterator[None]:
    """Call `callback` after each chunk of bytes the entry's coordinator has parsed.

    The first block wraps the coordinator's own `data_received` on this instance,
    the last one to end unwraps it: the connection calls it for every chunk read,
    and nothing else changes. Blocks may overlap in any order (tasks wait in them).
    """
    coordinator = coordinator_of(entry)
    callbacks = _CHUNK_CALLBACKS.setdefault(coordinator, [])
    if not callbacks:
        parse = coordinator.data_received

        def parse_then_call(data: bytes) -> bool:
            """Parse as the coordinator does, then tell the waiting tests."""
            valid = parse(data)
            for waiting in list(callbacks):
                waiting()
            return valid

        coordinator.data_received = parse_then_call  # type: ignore[method-assign]
    callbacks.append(callback)
    try:
        yield
    finally:
        callbacks.remove(callback)
        if not callbacks:
            del coordinator.data_received


async def until(entry: MockConfigEntry, condition: Callable[[], bool]) -> None:
    """Return once `condition` holds, checked whenever the coordinator reports anything."""
    coordinator = coordinator_of(entry)
    reached = asyncio.Event()

    def check() -> None:
        """Note that the condition holds."""
        if condition():
            reached.set()

    check()
    unsubscribe = coordinator.async_add_listener(check)
    try:
        with after_each_chunk(entry, check):
            async with asyncio.timeout(10):
                await reached.wait()
    finally:
        unsubscribe()


@asynccontextmanager
async def parsed(
    entry: MockConfigEntry, condition: Callable[[], bool] = lambda: True
) -> AsyncIterator[None]:
    """Return from the block once a chunk arrived in it after which `condition` holds."""
    reached = asyncio.Event()

    def check() -> None:
        """Note that the parser got what the test waits for."""
        if condition():
            reached.set()

    with after_each_chunk(entry, check):
        yield
        async with asyncio.timeout(10):
            await reached.wait()


async def send(
    entry: MockConfigEntry,
    link: Link,
    data: bytes,
    readings: int,
    *,
    rejected: int = 0,
) -> None:
    """Write to the port; return once the board's parser has taken it all in.

    That is, once it has accepted `readings` more readings and rejected `rejected`
    more lines.
    """
    parser = coordinator_of(entry).parser
    target = (parser.accepted + readings, parser.rejected_total + rejected)
    async with parsed(
        entry, lambda: (parser.accepted, parser.rejected_total) >= target
    ):
        link.write(data)


async def send_readings(
    entry: MockConfigEntry,
    link: PtyLink,
    clock: Clock,
    board: MfmBoard,
    millihertz: list[int],
    *,
    spacing: float,
) -> None:
    """Send one board line per value, `spacing` simulated seconds apart, each read alone.

    The reader rests after each read (`MfmCoordinator.read_spacing`); a rest longer
    than the spacing is ended on the loop's clock, so each reading keeps its own time.
    """
    rest = coordinator_of(entry).connection.read_spacing
    for index, value in enumerate(millihertz):
        if index:
            clock.run_loop(max(rest - spacing, 0))
            clock.tick(spacing)
        await send(entry, link, board.line(value, clock.elapsed), 1)


async def wait_for_connection(entry: MockConfigEntry, state: ConnectionState) -> None:
    """Return once the entry's port is in `state` (bytes sent before opening are flushed)."""
    coordinator = coordinator_of(entry)
    await until(entry, lambda: coordinator.connection_state is state)


async def settled(entry: MockConfigEntry) -> None:
    """Return once the reader has opened the port or given up on it."""
    coordinator = coordinator_of(entry)
    await until(
        entry, lambda: coordinator.connection_state is not ConnectionState.CONNECTING
    )


async def advance(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass and run every timer that fell due."""
    clock.tick(seconds)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def silent_for(
    hass: HomeAssistant, clock: Clock, entry: MockConfigEntry, seconds: float
) -> None:
    """Let `seconds` pass without data: the link is found down, the port open again at their end."""
    await advance(hass, clock, seconds - REOPEN)
    await wait_for_connection(entry, ConnectionState.DISCONNECTED)
    await advance(hass, clock, REOPEN)
    await wait_for_connection(entry, ConnectionState.CONNECTED)


@asynccontextmanager
async def restarted(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    left_behind: dict[str, Any] | None = None,
) -> AsyncIterator[HomeAssistant]:
    """Stop `hass` as Home Assistant stops, then start a new one on its storage.

    `left_behind`: the storage a crash left, which the stop's final write replaces.
    """
    await hass.async_stop()
    if left_behind is not None:
        hass_storage.clear()
        hass_storage.update(left_behind)
    async with async_test_home_assistant(config_dir=hass.config.config_dir) as new:
        # What the enable_custom_integrations fixture did for the first one.
        new.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        try:
            yield new
        finally:
            await new.async_stop(force=True)


def with_options(entry: MockConfigEntry, options: Mapping[str, Any]) -> MockConfigEntry:
    """The entry, not added yet, with `options` over its own."""
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, **options},
        entry_id=entry.entry_id,
    )


def same_entry(
    entry: MockConfigEntry, *, port: str | None = None, entry_id: str | None = None
) -> MockConfigEntry:
    """The entry as the next start loads it from the config entries' storage.

    With `port`, as moved to another port; with `entry_id`, as added again.
    """
    data = dict(entry.data) if port is None else {**entry.data, CONF_PORT: port}
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=data,
        options=dict(entry.options),
        entry_id=entry.entry_id if entry_id is None else entry_id,
    )


def load_difference(millihertz: int) -> int:
    """The spec's load difference for a 50 Hz grid, in MW."""
    offset = millihertz - 50000
    magnitude = min(math.floor(max(abs(offset) - 10, 0) * 46 / 3), 9999)
    return int(math.copysign(magnitude, offset)) if magnitude else 0
