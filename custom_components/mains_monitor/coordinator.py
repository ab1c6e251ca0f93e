"""The push coordinator every device kind builds on."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import (
    async_call_later,
    async_track_point_in_utc_time,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .connection import SerialConnection
from .const import (
    CONF_PORT,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    LOGGER,
    ConnectionState,
)
from .errors import FailureReason
from .repairs import OUTAGE_ISSUE_DELAY, async_raise_outage, outage_issue_id

if TYPE_CHECKING:
    from .mqtt_publish import MqttPublisher

STORE_VERSION = 1
# New data is saved at most a minute later, so a crash or a power cut loses at most
# a minute; a save is pending while there is unsaved data, and Home Assistant
# flushes pending saves when it stops, so a clean stop loses nothing.
SAVE_DELAY = 60
# Each local day's last figures are published this long before its midnight: a frame
# later than that is counted in the day but shown by no update.
DAY_END_LEAD = timedelta(milliseconds=1)

type MainsMonitorConfigEntry = ConfigEntry[DeviceCoordinator]


class StreamParser(Protocol):
    """What the coordinator needs of any device's parser."""

    def drop_partial(self) -> None:
        """Forget a half-received frame."""


class DeviceCoordinator(Protocol):
    """What code shared by every device kind may use of an entry's coordinator.

    A kind's own code gets the coordinator as its own type from its definition
    (`kinds.base.DeviceKindDefinition.coordinator_of`).
    """

    # Publishes the snapshots to MQTT, if the entry's options ask for it.
    publisher: MqttPublisher | None

    @property
    def data(self) -> Snapshot | None:
        """The latest snapshot."""

    @property
    def last_update_success(self) -> bool:
        """Whether the measurements are available."""

    @property
    def connection_state(self) -> ConnectionState:
        """The port's own state."""

    @property
    def connection(self) -> SerialConnection:
        """The reader of the port."""

    async def async_restore(self) -> None:
        """Load what was saved before the last shutdown."""

    def async_start(self) -> None:
        """Start reading and publishing."""

    async def async_stop(self) -> None:
        """Stop reading and save."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """What every device kind's snapshot shows of the link, and when it was taken."""

    connection_state: ConnectionState
    time: datetime  # the end of the update interval it aggregates
    # Whether the interval brought measurements; if not, it holds the last ones.
    fresh: bool


class MainsMonitorCoordinator[SnapshotT: Snapshot](DataUpdateCoordinator[SnapshotT]):
    """Turns what the connection delivers into one snapshot per update interval."""

    config_entry: MainsMonitorConfigEntry

    def __init__(self, hass: HomeAssistant, entry: MainsMonitorConfigEntry) -> None:
        """Set up the coordinator and its (not yet started) connection."""
        super().__init__(hass, LOGGER, config_entry=entry, name=entry.title)
        # Nothing is known until the device has sent a valid frame.
        self.last_update_success = False
        # The port's own state; the Connection sensor shows `shown_connection_state`.
        self.connection_state = ConnectionState.CONNECTING
        self._in_outage = False
        self.publish_interval = timedelta(
            seconds=entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL)
        )
        self.connection = SerialConnection(
            entry.data[CONF_PORT],
            self,
            entry.options.get(CONF_SILENCE_TIMEOUT, DEFAULT_SILENCE_TIMEOUT),
            self.read_spacing(),
        )
        self.store = entry_store(hass, entry)
        self._save_pending = False
        self._receiving = False
        self._cancel_outage_issue: CALLBACK_TYPE = _nothing
        self._unframed_at_frame: dict[FailureReason, int] = {}
        self.publisher: MqttPublisher | None = None
        # The local day the daily figures count in ends at this timestamp.
        self.day_ends = next_midnight(dt_util.utcnow())
        # When the day that ended last ended; None before the first midnight.
        self._day_ended: float | None = None
        self._cancel_day_end: CALLBACK_TYPE = _nothing

    parser: StreamParser

    @staticmethod
    def identity(entry: ConfigEntry) -> str:
        """What the device's registry identifier and its entities' unique ids start with.

        The entry, unless the device has an identity of its own.
        """
        return entry.entry_id

    def read_spacing(self) -> float:
        """Seconds the reader lets bytes gather after each read: none, unless the kind's frames are frequent."""
        return 0.0

    @property
    @abstractmethod
    def device_info(self) -> DeviceInfo:
        """Describe the device for the registry."""

    @abstractmethod
    def feed(self, data: bytes) -> bool:
        """Parse bytes; return True when they held at least one valid frame."""

    @abstractmethod
    def build_snapshot(self, now: datetime) -> SnapshotT:
        """Aggregate what arrived since the last snapshot."""

    @abstractmethod
    def stored_data(self) -> dict[str, Any]:
        """What must survive a restart."""

    @abstractmethod
    def restore(self, stored: dict[str, Any]) -> None:
        """Continue from what was saved before."""

    async def async_restore(self) -> None:
        """Load what was saved before the last shutdown."""
        if stored := await self.store.async_load():
            self.restore(stored)

    @callback
    def async_start(self) -> None:
        """Start reading and publishing."""
        self.connection.start(self.hass, self.config_entry)
        self.config_entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_publish,
                self.publish_interval,
                name=f"{self.name} snapshot",
                cancel_on_shutdown=True,
            )
        )
        self._schedule_day_end(dt_util.utcnow())
        # Like the interval's timer, cancelled when Home Assistant stops as well.
        self.config_entry.async_on_unload(
            self.hass.async_add_shutdown_job(HassJob(self._async_cancel_day_end))
        )
        self.config_entry.async_on_unload(self._async_cancel_day_end)

    @callback
    def _schedule_day_end(self, moment: datetime) -> None:
        """Publish the day's figures just before the local midnight after `moment`."""
        midnight = dt_util.utc_from_timestamp(next_midnight(moment))
        self._cancel_day_end = async_track_point_in_utc_time(
            self.hass, self._async_publish_day_end, midnight - DAY_END_LEAD
        )

    @callback
    def _async_publish_day_end(self, moment: datetime) -> None:
        """Publish the ending day's last figures, then wait for the next day's end."""
        self._async_publish(moment)
        self._schedule_day_end(moment + 2 * DAY_END_LEAD)

    @callback
    def _async_cancel_day_end(self) -> None:
        """Stop waiting for the day's end."""
        self._cancel_day_end()
        self._cancel_day_end = _nothing

    def roll_day(self, timestamp: float) -> None:
        """Start the daily figures afresh once `timestamp` is past the local day's midnight."""
        if timestamp >= self.day_ends:
            self._day_ended = self.day_ends
            self.start_day()
            self.day_ends = next_midnight(dt_util.utc_from_timestamp(timestamp))

    def start_day(self) -> None:
        """Keep the ended day's figures for a late snapshot and start the new day's."""

    def shows_ended_day(self, timestamp: float) -> bool:
        """Whether a snapshot at `timestamp` belongs to the day that ended last.

        A frame after midnight may be read before the ended day's last update runs.
        """
        return self._day_ended is not None and timestamp < self._day_ended

    async def async_stop(self) -> None:
        """Stop reading and save (the entry unloads); the port is closed when this returns."""
        self._cancel_outage_issue()
        await self.connection.stop()
        await self.store.async_save(self.stored_data())

    @callback
    def _async_publish(self, now: datetime) -> None:
        """Publish the snapshot of the interval that just ended."""
        # Not async_set_updated_data: it would also mark the data a success and
        # reschedule a refresh; this push coordinator decides availability itself.
        self.data = self.build_snapshot(now)
        # Available from the first snapshot built from data received since the
        # outage or the start, never with one that predates it: that one may
        # still hold totals restored from an older save.
        self.last_update_success = self._receiving
        self.async_update_listeners()

    def data_received(self, data: bytes) -> bool:
        """Feed the device's parser; a valid frame asks for a save within SAVE_DELAY."""
        valid = self.feed(data)
        if valid:
            self._unframed_at_frame = self.unframed()
            if not self._save_pending:
                self.async_save_within(SAVE_DELAY)
        return valid

    @callback
    def async_save_within(self, seconds: float) -> None:
        """Save the newest state at the latest `seconds` from now."""
        self._save_pending = True
        self.store.async_delay_save(self._data_to_save, seconds)

    def _data_to_save(self) -> dict[str, Any]:
        """What the store writes, taken when it writes: the newest state."""
        self._save_pending = False
        return self.stored_data()

    @property
    def shown_connection_state(self) -> ConnectionState:
        """What the Connection sensor shows: retrying is part of being disconnected."""
        if self._in_outage:
            return ConnectionState.DISCONNECTED
        return self.connection_state

    def connection_state_changed(self, state: ConnectionState) -> None:
        """Note the port's new state; show it at once unless an outage is retrying."""
        if state is ConnectionState.DISCONNECTED:
            self.parser.drop_partial()
        self.connection_state = state
        self._async_show_connection_state()

    def availability_changed(self, available: bool) -> None:
        """Make every measurement unavailable together at once, available with the next snapshot."""
        self._receiving = available
        self._in_outage = not available
        self._cancel_outage_issue()
        if available:
            ir.async_delete_issue(self.hass, DOMAIN, outage_issue_id(self.config_entry))
        else:
            self.last_update_success = False
            self._cancel_outage_issue = async_call_later(
                self.hass, OUTAGE_ISSUE_DELAY, self._async_raise_outage_issue
            )
        self._async_show_connection_state()

    @callback
    def _async_show_connection_state(self) -> None:
        """Put the shown connection state into the snapshot and tell the entities."""
        if self.data is not None:
            self.data = replace(self.data, connection_state=self.shown_connection_state)
        self.async_update_listeners()

    @callback
    def _async_raise_outage_issue(self, _now: datetime) -> None:
        """The outage outlasted a replug: tell the user why."""
        self._cancel_outage_issue = _nothing
        async_raise_outage(self.hass, self.config_entry, self.outage_reason())

    def outage_reason(self) -> FailureReason:
        """Why the device is unavailable: the port's fault, or what arrived since the last frame."""
        if (fault := self.connection.last_error) not in (None, FailureReason.NO_DATA):
            return fault
        unframed = self.unframed()
        for reason, count in unframed.items():
            if count > self._unframed_at_frame.get(reason, 0):
                return reason
        return FailureReason.NO_DATA

    @abstractmethod
    def unframed(self) -> dict[FailureReason, int]:
        """What the device sent that was no valid frame, counted by what it tells, first first.

        A count that grew since the last valid frame names the outage's reason.
        """


def _nothing() -> None:
    """Cancel nothing."""


def next_midnight(moment: datetime) -> float:
    """The timestamp of the local midnight after `moment`: where its day's figures end."""
    tomorrow = dt_util.as_local(moment).date() + timedelta(days=1)
    return dt_util.start_of_local_day(tomorrow).timestamp()


def rounded(value: float, digits: int) -> float:
    """`value` rounded to `digits` decimals, never a negative zero (-0.0 becomes 0.0)."""
    return round(value, digits) + 0.0


def entry_store(hass: HomeAssistant, entry: ConfigEntry) -> Store[dict[str, Any]]:
    """Where an entry keeps what must survive a restart (grid time, energy ledger)."""
    return Store(hass, STORE_VERSION, f"{DOMAIN}.{entry.entry_id}")
