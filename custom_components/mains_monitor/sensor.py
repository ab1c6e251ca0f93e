"""Sensors of the mfm board and the energy monitor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import CONF_LINE_FORMAT, CONF_MODEL, DOMAIN, ChannelMode, ConnectionState
from .coordinator import MainsMonitorConfigEntry, Snapshot
from .ecm_coordinator import ChannelEnergy, EcmCoordinator, EcmSnapshot
from .entity import MainsMonitorEntity
from .frequency import FrequencyBand
from .mfm_coordinator import FrequencyStats, MfmCoordinator, MfmSnapshot
from .protocol.ecm1240 import CHANNELS, has_dc_input
from .protocol.mfm import LineFormat

PARALLEL_UPDATES = 0

MILLIHERTZ = "mHz"
MILLIHERTZ_PER_SECOND = "mHz/s"
FORMATS_WITH_LOAD_DIFFERENCE = {LineFormat.P2, LineFormat.P3, LineFormat.P4}
# Keys of sensors no longer provided: "seconds_since_packet" became "last_packet".
REPLACED_SENSORS = ("seconds_since_packet",)


@dataclass(frozen=True, kw_only=True)
class MainsMonitorSensorEntityDescription[SnapshotT: Snapshot](SensorEntityDescription):
    """A sensor: how to read its value from its device's snapshot."""

    value_fn: Callable[[SnapshotT], StateType | datetime]
    exists_fn: Callable[[MainsMonitorConfigEntry], bool] = lambda _: True


type MfmSensorEntityDescription = MainsMonitorSensorEntityDescription[MfmSnapshot]
type EcmSensorEntityDescription = MainsMonitorSensorEntityDescription[EcmSnapshot]


def _counter[SnapshotT: Snapshot](
    key: str, read: Callable[[SnapshotT], int]
) -> MainsMonitorSensorEntityDescription[SnapshotT]:
    """Describe a diagnostic counter; off by default, as it changes at every update.

    No state class: the counters start from zero whenever the entry loads, which
    long-term statistics would take for a new meter cycle each time.
    """
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=read,
    )


def _connection_state[SnapshotT: Snapshot]() -> MainsMonitorSensorEntityDescription[
    SnapshotT
]:
    """Describe the port's state, which every device kind has."""
    return MainsMonitorSensorEntityDescription(
        key="connection_state",
        translation_key="connection_state",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=[state.value for state in ConnectionState],
        value_fn=lambda snapshot: snapshot.connection_state.value,
    )


def _stat(
    read: Callable[[FrequencyStats], StateType],
) -> Callable[[MfmSnapshot], StateType]:
    """Read a statistic of the interval, None before the first one."""
    return lambda snapshot: None if snapshot.stats is None else read(snapshot.stats)


def _frequency(
    key: str, read: Callable[[FrequencyStats], float]
) -> MfmSensorEntityDescription:
    """Describe a frequency statistic in Hz."""
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_stat(read),
    )


MFM_SENSORS: tuple[MfmSensorEntityDescription, ...] = (
    _frequency("frequency", lambda stats: stats.mean),
    _frequency("frequency_minimum", lambda stats: stats.minimum),
    _frequency("frequency_maximum", lambda stats: stats.maximum),
    MainsMonitorSensorEntityDescription(
        key="deviation",
        translation_key="deviation",
        native_unit_of_measurement=MILLIHERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_stat(lambda stats: stats.deviation),
    ),
    MainsMonitorSensorEntityDescription(
        key="rate_of_change",
        translation_key="rate_of_change",
        native_unit_of_measurement=MILLIHERTZ_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_stat(lambda stats: stats.rate_of_change),
    ),
    MainsMonitorSensorEntityDescription(
        key="grid_time_deviation",
        translation_key="grid_time_deviation",
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda snapshot: snapshot.grid_time_deviation,
    ),
    MainsMonitorSensorEntityDescription(
        key="grid_time_since",
        translation_key="grid_time_since",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.grid_time_since,
    ),
    MainsMonitorSensorEntityDescription(
        key="load_difference",
        translation_key="load_difference",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.MEGA_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_stat(lambda stats: stats.load_difference),
        exists_fn=lambda entry: (
            entry.data.get(CONF_LINE_FORMAT) in FORMATS_WITH_LOAD_DIFFERENCE
        ),
    ),
    MainsMonitorSensorEntityDescription(
        key="band",
        translation_key="band",
        device_class=SensorDeviceClass.ENUM,
        options=[band.value for band in FrequencyBand],
        value_fn=_stat(lambda stats: stats.band.value),
    ),
    _counter("readings_accepted", lambda snapshot: snapshot.readings_accepted),
    _counter("lines_rejected", lambda snapshot: snapshot.lines_rejected),
    _counter("board_restarts", lambda snapshot: snapshot.board_restarts),
    _connection_state(),
)


def _ecm_current(
    key: str, read: Callable[[EcmSnapshot], float | None]
) -> EcmSensorEntityDescription:
    """Describe a current in A."""
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=read,
    )


ECM_SENSORS: tuple[EcmSensorEntityDescription, ...] = (
    MainsMonitorSensorEntityDescription(
        key="voltage",
        translation_key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda snapshot: snapshot.voltage,
    ),
    _ecm_current("ch1_current", lambda snapshot: snapshot.ch1_current),
    _ecm_current("ch2_current", lambda snapshot: snapshot.ch2_current),
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
    _counter("packets_accepted", lambda snapshot: snapshot.packets_accepted),
    _counter("packets_rejected", lambda snapshot: snapshot.packets_rejected),
    _counter("packets_foreign", lambda snapshot: snapshot.packets_foreign),
    MainsMonitorSensorEntityDescription(
        key="last_packet",
        translation_key="last_packet",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A unit sending every second moves it at every update, like a counter.
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.last_packet,
    ),
    _connection_state(),
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


def ecm_channel_sensors(
    coordinator: EcmCoordinator,
) -> list[EcmSensorEntityDescription]:
    """Power and energy of every channel the user enabled, as its mode asks."""
    descriptions: list[EcmSensorEntityDescription] = []
    for channel in CHANNELS:
        mode = coordinator.channel_mode(channel)
        if mode is ChannelMode.OFF:
            continue
        name = coordinator.channel_name(channel)
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the sensors of the entry's device."""
    coordinator = entry.runtime_data
    if isinstance(coordinator, EcmCoordinator):
        _remove_replaced(hass, entry)
        async_add_entities(
            MainsMonitorSensor(coordinator, description)
            for description in (*ECM_SENSORS, *ecm_channel_sensors(coordinator))
            if description.exists_fn(entry)
        )
        return
    assert isinstance(coordinator, MfmCoordinator)
    async_add_entities(
        MainsMonitorSensor(coordinator, description)
        for description in MFM_SENSORS
        if description.exists_fn(entry)
    )


def _remove_replaced(hass: HomeAssistant, entry: MainsMonitorConfigEntry) -> None:
    """Drop the registry entries of sensors that a later version replaced."""
    registry = er.async_get(hass)
    for key in REPLACED_SENSORS:
        unique_id = f"{entry.entry_id}_{key}"
        if entity_id := registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, unique_id):
            registry.async_remove(entity_id)


class MainsMonitorSensor(MainsMonitorEntity, SensorEntity):
    """A sensor of either device kind."""

    entity_description: MainsMonitorSensorEntityDescription[Any]

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)
