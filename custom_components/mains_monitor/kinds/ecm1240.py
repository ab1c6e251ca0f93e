"""The Brultech ECM-1240 / ECM-1220: a 7-channel energy monitor that sends binary packets."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
import json
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.helpers.typing import StateType

from ..const import (
    CONF_DEVICE_ID,
    CONF_DEVICE_KIND,
    CONF_INVERTED,
    CONF_MODE,
    CONF_MODEL,
    CONF_NAME,
    CONF_NOMINAL_VOLTAGE,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_ROLE,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DEFAULT_ECM_SILENCE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    NOMINAL_AUTO,
    ChannelMode,
    ChannelRole,
    DeviceKind,
)
from ..ecm_coordinator import (
    ChannelEnergy,
    ChannelSettings,
    EcmCoordinator,
    EcmSnapshot,
)
from ..energy import to_watt_seconds
from ..entity import MainsMonitorSensorEntityDescription
from ..probe import EcmProbeResult, async_probe_ecm
from ..protocol.ecm1240 import (
    CHANNELS,
    POLARIZED_CHANNELS,
    EcmPacket,
    has_dc_input,
    model_channels,
)
from ..roles import role_errors, role_sensors
from ..validation import vol
from ..voltage_quality import NOMINAL_VOLTAGES
from .base import (
    DeviceKindDefinition,
    NewEntry,
    OptionsForm,
    connection_state,
    counter,
    measurement,
    minutes_today,
    number_field,
)

type EcmSensorEntityDescription = MainsMonitorSensorEntityDescription[EcmSnapshot]


def _current(
    key: str, read: Callable[[EcmSnapshot], float | None]
) -> EcmSensorEntityDescription:
    """Describe a current in A."""
    return measurement(
        key,
        read,
        device_class=SensorDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
        precision=2,
    )


def _voltage(
    key: str, read: Callable[[EcmSnapshot], float | None]
) -> EcmSensorEntityDescription:
    """Describe a line voltage in V, to its 0.1 V resolution."""
    return measurement(
        key,
        read,
        device_class=SensorDeviceClass.VOLTAGE,
        unit=UnitOfElectricPotential.VOLT,
        precision=1,
    )


def _interval_voltage(
    key: str, read: Callable[[EcmSnapshot], float | None]
) -> EcmSensorEntityDescription:
    """Describe a voltage of the interval's packets: unavailable for an interval without one."""
    return replace(
        _voltage(key, read), available_fn=lambda snapshot: read(snapshot) is not None
    )


VOLTAGE_SENSORS: tuple[EcmSensorEntityDescription, ...] = (
    _voltage("voltage", lambda snapshot: snapshot.voltage),
    _interval_voltage("voltage_minimum", lambda snapshot: snapshot.voltage_minimum),
    _interval_voltage("voltage_maximum", lambda snapshot: snapshot.voltage_maximum),
    # Counted packet by packet (`voltage_quality`), not over EN 50160's 10-minute means.
    minutes_today(
        "voltage_measured_time",
        lambda snapshot: snapshot.voltage_day.measured,
        whole=True,
    ),
    minutes_today("voltage_time_over", lambda snapshot: snapshot.voltage_day.over),
    minutes_today("voltage_time_under", lambda snapshot: snapshot.voltage_day.under),
    MainsMonitorSensorEntityDescription(
        key="nominal_voltage",
        translation_key="nominal_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.voltage_day.nominal,
    ),
)

SENSORS: tuple[EcmSensorEntityDescription, ...] = (
    *VOLTAGE_SENSORS,
    _current("ch1_current", lambda snapshot: snapshot.ch1_current),
    _current("ch2_current", lambda snapshot: snapshot.ch2_current),
    MainsMonitorSensorEntityDescription(
        key="dc_voltage_raw",
        translation_key="dc_voltage_raw",
        exists_fn=lambda entry: has_dc_input(entry.data[CONF_MODEL]),
        entity_category=EntityCategory.DIAGNOSTIC,
        # A raw value of undocumented scale: for those who wire the DC input.
        entity_registry_enabled_default=False,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda snapshot: snapshot.dc_voltage_raw,
    ),
    counter("packets_accepted", lambda snapshot: snapshot.packets_accepted),
    counter("packets_rejected", lambda snapshot: snapshot.packets_rejected),
    counter("packets_foreign", lambda snapshot: snapshot.packets_foreign),
    MainsMonitorSensorEntityDescription(
        key="last_packet",
        translation_key="last_packet",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A unit sending every second moves it at every update, like a counter.
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.last_packet,
    ),
    connection_state(),
)


def _energy(
    channel: str, name: str, kind: str, read: Callable[[ChannelEnergy], float]
) -> EcmSensorEntityDescription:
    """Describe one of a channel's energy totals in kWh, for the Energy dashboard."""
    return MainsMonitorSensorEntityDescription(
        key=f"{channel}_{kind}",
        translation_key=f"channel_{kind}",
        translation_placeholders={"channel": name},
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=lambda snapshot: read(snapshot.channels[channel]),
    )


def _channel_power(channel: str) -> Callable[[EcmSnapshot], StateType]:
    """Read a channel's power from the snapshot."""
    return lambda snapshot: snapshot.channels[channel].power


def channel_sensors(coordinator: EcmCoordinator) -> list[EcmSensorEntityDescription]:
    """Power and energy of every channel the user enabled, as its mode asks."""
    descriptions: list[EcmSensorEntityDescription] = []
    for channel, settings in coordinator.channel_settings.items():
        mode, name = settings.mode, settings.name
        if mode is ChannelMode.OFF:
            continue
        descriptions.append(
            MainsMonitorSensorEntityDescription(
                key=f"{channel}_power",
                translation_key="channel_power",
                translation_placeholders={"channel": name},
                device_class=SensorDeviceClass.POWER,
                native_unit_of_measurement=UnitOfPower.WATT,
                state_class=SensorStateClass.MEASUREMENT,
                suggested_display_precision=0,
                value_fn=_channel_power(channel),
            )
        )
        if mode is ChannelMode.NET:
            descriptions.append(
                _energy(channel, name, "energy_imported", lambda c: c.imported)
            )
            descriptions.append(
                _energy(channel, name, "energy_exported", lambda c: c.exported)
            )
        else:
            descriptions.append(_energy(channel, name, "energy", lambda c: c.energy))
    return descriptions


def entry_options(poll_interval: int) -> dict[str, Any]:
    """A new entry's options: polled every `poll_interval` s, or 0 for a unit that sends by itself."""
    return {
        CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
        CONF_POLL_INTERVAL: poll_interval,
        # A poll every few minutes must not count as an outage in between.
        CONF_SILENCE_TIMEOUT: max(DEFAULT_ECM_SILENCE_TIMEOUT, 3 * poll_interval),
    }


def _unique_id(packet: EcmPacket, port: str) -> str:
    """The unit's unit id and serial; the port for units that report 0 and 0."""
    return port if packet.unit_id == packet.serial == 0 else packet.device_id


def _channel_schemas(model: str) -> dict[str, vol.Schema]:
    """The fields of each channel the model has: name, mode, polarity."""
    return {channel: _channel_schema(channel) for channel in model_channels(model)}


def _channel_schema(channel: str) -> vol.Schema:
    """A channel's name, mode and role; CH1 and CH2 also net metering and polarity."""
    polarized = channel in POLARIZED_CHANNELS
    modes = (
        list(ChannelMode) if polarized else [ChannelMode.CONSUMPTION, ChannelMode.OFF]
    )
    fields: dict[vol.Marker, Any] = {
        vol.Optional(CONF_NAME): TextSelector(),
        vol.Required(CONF_MODE, default=ChannelMode.CONSUMPTION): SelectSelector(
            SelectSelectorConfig(options=modes, translation_key="channel_mode")
        ),
    }
    if polarized:
        fields[vol.Required(CONF_INVERTED, default=False)] = BooleanSelector()
    fields[vol.Required(CONF_ROLE, default=ChannelRole.CIRCUIT)] = SelectSelector(
        SelectSelectorConfig(options=list(ChannelRole), translation_key="channel_role")
    )
    return vol.Schema(fields)


def _options_schema(model: str, expanded: set[str]) -> vol.Schema:
    """Intervals, then one section per channel, collapsed unless `expanded`."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_UPDATE_INTERVAL): number_field(1, 60, 1, "s"),
        vol.Required(CONF_POLL_INTERVAL): number_field(0, 3600, 1, "s"),
        # Up to three polls of the longest polling interval.
        vol.Required(CONF_SILENCE_TIMEOUT): number_field(5, 10800, 1, "s"),
        vol.Required(CONF_NOMINAL_VOLTAGE, default=NOMINAL_AUTO): SelectSelector(
            SelectSelectorConfig(
                options=[NOMINAL_AUTO, *map(str, NOMINAL_VOLTAGES)],
                translation_key=CONF_NOMINAL_VOLTAGE,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
    for channel, schema in _channel_schemas(model).items():
        fields[vol.Required(channel)] = section(
            schema, {"collapsed": channel not in expanded}
        )
    return vol.Schema(fields)


def _duplicate_names(model: str, user_input: Mapping[str, Any]) -> dict[str, str]:
    """An error on each channel whose entities would be named like an earlier one's."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for channel in _channel_schemas(model):
        settings = ChannelSettings.from_options(
            channel, user_input.get(channel, {}), model
        )
        if settings.mode is ChannelMode.OFF:
            continue
        name = settings.name.strip().casefold()
        if name in seen:
            errors[channel] = "duplicate_name"
        seen.add(name)
    return errors


def _role_errors(model: str, user_input: Mapping[str, Any]) -> dict[str, str]:
    """An error on each channel whose role cannot be, as the form sends them."""
    return role_errors(
        {
            channel: ChannelSettings.from_options(
                channel, user_input.get(channel, {}), model
            )
            for channel in _channel_schemas(model)
        }
    )


def _section_titles(model: str, options: Mapping[str, Any]) -> dict[str, str]:
    """Each channel section's title: the user's name and the unit's label."""
    titles: dict[str, str] = {}
    for channel in _channel_schemas(model):
        label = channel.upper()
        name = ChannelSettings.from_options(
            channel, options.get(channel, {}), model
        ).name
        titles[channel] = label if name == label else f"{name} ({label})"
    return titles


def _edited_sections(
    model: str, stored: Mapping[str, Any], user_input: Mapping[str, Any]
) -> set[str]:
    """The channels whose fields the user changed from what the form showed."""
    return {
        channel
        for channel, schema in _channel_schemas(model).items()
        if user_input.get(channel) != schema(stored.get(channel, {}))
    }


def bridge_payloads(coordinator: EcmCoordinator) -> list[str]:
    """The interval as the Go bridge published a packet: one message per channel that is on.

    Channels are numbered in the unit's order (CH1, CH2, AUX1-AUX5 are power_1 to
    power_7); a channel without a power yet, or a unit without a voltage, sends none.
    """
    snapshot = coordinator.data
    if snapshot.voltage is None:
        return []
    timestamp = int(snapshot.time.timestamp())
    payloads: list[str] = []
    for number, channel in enumerate(CHANNELS, start=1):
        readings = snapshot.channels[channel]
        mode = coordinator.channel_settings[channel].mode
        if mode is ChannelMode.OFF or readings.power is None:
            continue
        message = {
            "sensorName": f"power_{number}",
            "ts": timestamp,
            "powerW": readings.power,
            # The ledger's total of all that passed: it never goes back, unlike the counter.
            "energyWs": to_watt_seconds(readings.energy),
            "voltageV": snapshot.voltage,
        }
        # Written as Go writes JSON, without spaces.
        payloads.append(json.dumps(message, separators=(",", ":")))
    return payloads


class EcmKind(DeviceKindDefinition[EcmCoordinator, EcmProbeResult]):
    """The energy monitor: power and energy per channel, voltage and currents."""

    kind = DeviceKind.ECM1240
    coordinator_type = EcmCoordinator
    options_step_id = "ecm"
    mqtt_topic = "power"

    def sensors(
        self, coordinator: EcmCoordinator
    ) -> Iterable[EcmSensorEntityDescription]:
        """The unit's own sensors, those of its channels, then those of their roles."""
        return (
            *SENSORS,
            *channel_sensors(coordinator),
            *role_sensors(coordinator.roles),
        )

    def diagnostics(self, coordinator: EcmCoordinator) -> dict[str, Any]:
        """What the parser and the ledger know of the unit."""
        packets = coordinator.parser
        return {
            "accepted": packets.accepted,
            "rejected": dict(packets.rejected),
            "discarded_bytes": packets.discarded_bytes,
            "foreign_packets": coordinator.packets_foreign,
            "ledger": coordinator.ledger.as_dict(),
            "roles": coordinator.roles.as_dict(),
            "resyncs": coordinator.ledger.resyncs,
            "nominal_voltage": coordinator.voltage_day.nominal,
        }

    def mqtt_payloads(self, coordinator: EcmCoordinator) -> list[str]:
        """One message per channel, as the Go bridge published them."""
        return bridge_payloads(coordinator)

    async def async_probe(self, port: str) -> EcmProbeResult:
        """Wait for a packet, polling a silent unit once."""
        return await async_probe_ecm(port)

    def new_entry(self, probed: EcmProbeResult, port: str) -> NewEntry:
        """The unit's entry, one per unit; a unit that only answers polls is asked about."""
        packet = probed.packet
        return NewEntry(
            title=f"{packet.model} {packet.device_id}",
            data={
                CONF_DEVICE_KIND: self.kind,
                CONF_PORT: port,
                CONF_DEVICE_ID: packet.device_id,
                CONF_MODEL: packet.model,
            },
            options=entry_options(poll_interval=0),
            unique_id=_unique_id(packet, port),
            asks_read_mode=not probed.realtime,
        )

    def moved_entry_data(
        self, entry: ConfigEntry, probed: EcmProbeResult
    ) -> Mapping[str, Any] | None:
        """Nothing changes for the same unit; another unit is not this entry's."""
        return {} if probed.packet.device_id == entry.data[CONF_DEVICE_ID] else None

    def options_form(
        self,
        entry: ConfigEntry,
        user_input: Mapping[str, Any] | None,
        errors: Mapping[str, str],
    ) -> OptionsForm:
        """Intervals, channels and MQTT; after an error the sections worked in stay open."""
        model = entry.data[CONF_MODEL]
        expanded: set[str] = set()
        if user_input is not None:
            expanded = _edited_sections(model, entry.options, user_input) | set(errors)
        values = user_input or entry.options
        return OptionsForm(
            schema=_options_schema(model, expanded).extend(
                self.mqtt_section(values, errors)
            ),
            values=values,
            placeholders=_section_titles(model, values),
        )

    def options_errors(
        self, hass: HomeAssistant, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> dict[str, str]:
        """NaN, MQTT, channels named alike or in roles they cannot have, then a silence timeout no longer than the polling interval."""
        model = entry.data[CONF_MODEL]
        errors = (
            super().options_errors(hass, entry, user_input)
            | _role_errors(model, user_input)
            | _duplicate_names(model, user_input)
        )
        poll = user_input[CONF_POLL_INTERVAL]
        if not errors and poll and user_input[CONF_SILENCE_TIMEOUT] <= poll:
            errors[CONF_SILENCE_TIMEOUT] = "silence_shorter_than_poll"
        return errors


ECM1240 = EcmKind()
