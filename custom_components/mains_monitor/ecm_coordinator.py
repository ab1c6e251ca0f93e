"""The ECM-1240 / ECM-1220 coordinator: packets in, power and energy out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .const import (
    CONF_DEVICE_ID,
    CONF_FIRMWARE,
    CONF_INVERTED,
    CONF_MODE,
    CONF_MODEL,
    CONF_NAME,
    CONF_NOMINAL_VOLTAGE,
    CONF_POLL_INTERVAL,
    CONF_ROLE,
    CONF_SILENCE_TIMEOUT,
    DEFAULT_ECM_SILENCE_TIMEOUT,
    DOMAIN,
    LOGGER,
    NOMINAL_AUTO,
    ChannelMode,
    ChannelRole,
)
from .coordinator import (
    MainsMonitorConfigEntry,
    MainsMonitorCoordinator,
    Snapshot,
    rounded,
)
from .energy import EnergyLedger, Interval, to_kwh, to_watt_seconds
from .errors import FailureReason, MainsMonitorError
from .protocol.ecm1240 import (
    ACK,
    CHANNELS,
    POLARIZED_CHANNELS,
    EcmPacket,
    EcmParser,
    model_channels,
    poll_command,
)
from .recorded import async_recorded_totals
from .repairs import async_raise_foreign
from .roles import RolePower, RoleReadings, Roles, role_power, role_readings
from .voltage_quality import VoltageDay, VoltageSummary

# The ledger's totals by the key suffix of the energy sensor that shows them.
SHOWN_TOTALS = {
    "absolute": "energy",
    "imported": "energy_imported",
    "exported": "energy_exported",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSettings:
    """How the user set a channel up, with the model's defaults filled in."""

    name: str  # the user's, or the channel's label on the unit
    mode: ChannelMode
    inverted: bool  # the CT sits the other way round (CH1 and CH2 only)
    role: ChannelRole

    @classmethod
    def from_options(
        cls, channel: str, options: Mapping[str, Any], model: str
    ) -> ChannelSettings:
        """A channel's settings as the entry stores them; a channel the model lacks is off."""
        default = (
            ChannelMode.CONSUMPTION
            if channel in model_channels(model)
            else ChannelMode.OFF
        )
        return cls(
            name=str(options.get(CONF_NAME) or channel.upper()),
            mode=ChannelMode(options.get(CONF_MODE, default)),
            inverted=channel in POLARIZED_CHANNELS
            and bool(options.get(CONF_INVERTED, False)),
            role=ChannelRole(options.get(CONF_ROLE, ChannelRole.CIRCUIT)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEnergy:
    """One channel's readings as its entities show them."""

    power: float | None  # W over the interval; net channels signed, export negative
    energy: float  # kWh, everything that passed (consumption channels)
    imported: float  # kWh (net channels)
    exported: float  # kWh (net channels)


@dataclass(frozen=True, slots=True, kw_only=True)
class EcmSnapshot(Snapshot):
    """Everything the monitor's entities show."""

    voltage: float | None
    # V, the lowest and highest of the interval's packets; None without a packet.
    voltage_minimum: float | None
    voltage_maximum: float | None
    voltage_day: VoltageSummary  # the local day so far
    ch1_current: float | None
    ch2_current: float | None
    dc_voltage_raw: int | None
    channels: dict[str, ChannelEnergy]
    roles: RoleReadings
    packets_accepted: int
    packets_rejected: int
    packets_foreign: int
    last_packet: datetime | None  # when this unit's latest packet arrived


@dataclass(slots=True)
class _Window:
    """What arrived during the current update interval."""

    energy: Interval = field(default_factory=Interval)
    voltages: list[float] = field(default_factory=list)
    ch1_currents: list[float] = field(default_factory=list)
    ch2_currents: list[float] = field(default_factory=list)


def _mean(values: list[float], digits: int) -> float | None:
    """The rounded mean, None for no values."""
    return rounded(math.fsum(values) / len(values), digits) if values else None


class EcmCoordinator(MainsMonitorCoordinator[EcmSnapshot]):
    """Keeps an ECM unit's energy ledger and aggregates its packets."""

    parser: EcmParser

    def __init__(self, hass: HomeAssistant, entry: MainsMonitorConfigEntry) -> None:
        """Set up the parser and the ledger."""
        super().__init__(hass, entry)
        self.parser = EcmParser()
        self.device_id: str = entry.data[CONF_DEVICE_ID]
        self.channel_settings = {
            channel: ChannelSettings.from_options(
                channel, entry.options.get(channel, {}), entry.data[CONF_MODEL]
            )
            for channel in CHANNELS
        }
        self.roles = Roles.of(self.channel_settings)
        self.ledger = EnergyLedger(self._inverted_channels())
        self.packets_foreign = 0
        self._across_gap = True
        self._window = _Window()
        self._power: dict[str, float | None] = dict.fromkeys(CHANNELS)
        self._role_power: RolePower | None = None
        self._electrical: tuple[float | None, ...] = (None, None, None)
        self._dc_voltage_raw: int | None = None
        self._last_packet: datetime | None = None
        self._saved_at: datetime | None = None
        # kWh by sensor key, shown after the last save and held by the recorder.
        self._recorded: dict[str, float] = {}
        self.voltage_day = VoltageDay(
            _nominal_option(entry.options),
            entry.options.get(CONF_SILENCE_TIMEOUT, DEFAULT_ECM_SILENCE_TIMEOUT),
        )
        self._ended_voltage = (
            self.voltage_day.summary()
        )  # the last day's, for a late snapshot

    @staticmethod
    def identity(entry: ConfigEntry) -> str:
        """The unit's id and serial (its port if it reports none): a unit added again keeps its entities."""
        return entry.unique_id or entry.entry_id

    @property
    def device_info(self) -> DeviceInfo:
        """The unit, by the serial it reports."""
        data = self.config_entry.data
        return DeviceInfo(
            identifiers={(DOMAIN, self.identity(self.config_entry))},
            name=self.config_entry.title,
            manufacturer="Brultech Research",
            model=data[CONF_MODEL],
            serial_number=self.device_id,
            sw_version=data.get(CONF_FIRMWARE),
        )

    async def async_restore(self) -> None:
        """Continue the saved ledger; note what the sensors showed after it was saved."""
        await super().async_restore()
        if self._saved_at is not None:
            self._recorded = await async_recorded_totals(
                self.hass,
                self.config_entry,
                self.identity(self.config_entry),
                self._saved_at,
            )

    def restore(self, stored: dict[str, Any]) -> None:
        """Continue the ledger saved before."""
        self.ledger = EnergyLedger.from_dict(stored, self._inverted_channels())
        self._saved_at = dt_util.parse_datetime(stored.get("saved_at", ""))
        self._restore_voltage_day(stored.get("voltage_day"))

    def _restore_voltage_day(self, stored: dict[str, Any] | None) -> None:
        """Continue the day's voltage figures on the same local day and nominal voltage."""
        if stored is None or stored["day_ends"] != self.day_ends:
            return
        nominal = _nominal_option(self.config_entry.options)
        if nominal in (None, stored["nominal"]):
            self.voltage_day = VoltageDay.from_dict(stored, self.voltage_day.max_gap)

    def stored_data(self) -> dict[str, Any]:
        """The ledger: totals and the baseline they were counted from, together.

        Saved together, a crash between saves loses nothing: the next packet's
        step from the saved baseline covers the gap once.
        """
        day = self.voltage_day.as_dict()
        return self.ledger.as_dict() | {
            "saved_at": dt_util.utcnow().isoformat(),
            "voltage_day": None if day is None else day | {"day_ends": self.day_ends},
        }

    @callback
    def async_start(self) -> None:
        """Start reading, and polling if the unit does not push by itself."""
        super().async_start()
        if poll_interval := self.config_entry.options.get(CONF_POLL_INTERVAL):
            self.config_entry.async_on_unload(
                async_track_time_interval(
                    self.hass,
                    self._async_poll,
                    timedelta(seconds=poll_interval),
                    name=f"{self.name} poll",
                    cancel_on_shutdown=True,
                )
            )

    async def _async_poll(self, _now: datetime) -> None:
        """Ask the unit for one packet."""
        try:
            await self.connection.async_send_command(poll_command(), ACK)
        except MainsMonitorError as err:
            # The silence watchdog reports an outage; a missed poll is not one.
            LOGGER.debug("Poll of %s failed: %s", self.connection.port, err)

    def feed(self, data: bytes) -> bool:
        """Parse bytes; account every packet of the configured unit."""
        valid = False
        for packet in self.parser.feed(data):
            if packet.device_id != self.device_id:
                self._foreign(packet)
                continue
            valid = True
            self._add(packet)
        return valid

    def unframed(self) -> dict[FailureReason, int]:
        """Bytes and packets that were no packet of this unit."""
        parser = self.parser
        return {
            FailureReason.WRONG_DEVICE: parser.discarded_bytes
            + parser.rejected_total
            + self.packets_foreign
        }

    def _add(self, packet: EcmPacket) -> None:
        """Count one packet in the day's voltage figures, the ledger and the window."""
        self._last_packet = dt_util.utcnow()
        timestamp = self._last_packet.timestamp()
        self.roll_day(timestamp)
        self.voltage_day.add(packet.voltage, timestamp)
        interval = self.ledger.add(packet)
        if self._recorded:
            self._raise_to_recorded()
        # The first pair after a start or an outage spans the gap: its energy
        # counts, but its average is not the power of this interval.
        if interval is not None and not self._across_gap:
            self._window.energy.add(interval)
        self._across_gap = False
        self._window.voltages.append(packet.voltage)
        self._window.ch1_currents.append(packet.ch1_amps)
        self._window.ch2_currents.append(packet.ch2_amps)
        self._dc_voltage_raw = packet.dc_voltage_raw

    def start_day(self) -> None:
        """Keep the ended day's voltage figures for a late snapshot; count the new day's."""
        self._ended_voltage = self.voltage_day.summary()
        self.voltage_day = self.voltage_day.next_day()

    def _raise_to_recorded(self) -> None:
        """After the first packet: no total below what its sensor showed before.

        The first packet covers the time since the save from the unit's counters;
        only if the unit was reset meanwhile does a total stay below its last state.
        """
        recorded, self._recorded = self._recorded, {}
        raised = [
            channel
            for channel in CHANNELS
            if self.ledger.raise_to(
                channel,
                **{
                    kind: to_watt_seconds(recorded.get(f"{channel}_{key}", 0.0))
                    for kind, key in SHOWN_TOTALS.items()
                },
            )
        ]
        if raised:
            LOGGER.info(
                "%s: totals of %s continue from their last recorded states; the unit "
                "was reset after the last save",
                self.name,
                ", ".join(raised),
            )

    def _foreign(self, packet: EcmPacket) -> None:
        """Count a packet of another unit; tell the user once."""
        self.packets_foreign += 1
        if self.packets_foreign == 1:
            async_raise_foreign(
                self.hass, self.config_entry, self.device_id, packet.device_id
            )

    def build_snapshot(self, now: datetime) -> EcmSnapshot:
        """Aggregate the interval's packets and start a new window."""
        self.roll_day(now.timestamp())
        window = self._window
        # Power needs a pair of packets in the interval; without one it is held.
        fresh = bool(window.energy.seconds)
        if fresh:
            self._power = {
                channel: self._watts(channel, window.energy) for channel in CHANNELS
            }
            self._role_power = role_power(self.roles, window.energy)
        if window.voltages:  # a polled unit may send less often than we publish
            self._electrical = (
                _mean(window.voltages, 1),
                _mean(window.ch1_currents, 2),
                _mean(window.ch2_currents, 2),
            )
        self._window = _Window()
        voltage, ch1_current, ch2_current = self._electrical
        return EcmSnapshot(
            connection_state=self.shown_connection_state,
            time=now,
            fresh=fresh,
            voltage=voltage,
            voltage_minimum=min(window.voltages, default=None),
            voltage_maximum=max(window.voltages, default=None),
            voltage_day=(
                self._ended_voltage
                if self.shows_ended_day(now.timestamp())
                else self.voltage_day.summary()
            ),
            ch1_current=ch1_current,
            ch2_current=ch2_current,
            dc_voltage_raw=self._dc_voltage_raw,
            channels={channel: self._channel(channel) for channel in CHANNELS},
            roles=role_readings(self.roles, self._role_power, self.ledger.totals),
            packets_accepted=self.parser.accepted - self.packets_foreign,
            packets_rejected=self.parser.rejected_total,
            packets_foreign=self.packets_foreign,
            last_packet=self._last_packet,
        )

    def _inverted_channels(self) -> frozenset[str]:
        """The channels whose CT the user turned round."""
        return frozenset(
            channel
            for channel, settings in self.channel_settings.items()
            if settings.inverted
        )

    def _watts(self, channel: str, interval: Interval) -> float:
        """Mean power over the interval: absolute, or signed for net channels."""
        net = self.channel_settings[channel].mode is ChannelMode.NET
        return rounded(
            interval.channels[channel].mean_watts(interval.seconds, net=net), 1
        )

    def _channel(self, channel: str) -> ChannelEnergy:
        """A channel's power and totals."""
        totals = self.ledger.totals.channels[channel]
        return ChannelEnergy(
            power=self._power[channel],
            energy=to_kwh(totals.absolute),
            imported=to_kwh(totals.imported),
            exported=to_kwh(totals.polarized),
        )

    def availability_changed(self, available: bool) -> None:
        """Drop the interval's packets when data stops: the next pair spans the gap."""
        if not available:
            self._window = _Window()
            self._power = dict.fromkeys(CHANNELS)
            self._role_power = None
            self._electrical = (None, None, None)
            self._across_gap = True
            self.voltage_day.gap()
        super().availability_changed(available)


def _nominal_option(options: Mapping[str, Any]) -> int | None:
    """The nominal voltage the user chose; None for automatic."""
    nominal = options.get(CONF_NOMINAL_VOLTAGE, NOMINAL_AUTO)
    return None if nominal == NOMINAL_AUTO else int(nominal)
