"""Sensors of the mfm board."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfFrequency, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import CONF_LINE_FORMAT, ConnectionState
from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorEntity
from .frequency import FrequencyBand
from .mfm_coordinator import FrequencyStats, MfmCoordinator, MfmSnapshot
from .protocol.mfm import LineFormat

PARALLEL_UPDATES = 0

MILLIHERTZ = "mHz"
MILLIHERTZ_PER_SECOND = "mHz/s"
FORMATS_WITH_LOAD_DIFFERENCE = {LineFormat.P2, LineFormat.P3, LineFormat.P4}


@dataclass(frozen=True, kw_only=True)
class MfmSensorEntityDescription(SensorEntityDescription):
    """A board sensor: how to read its value from the snapshot."""

    value_fn: Callable[[MfmSnapshot], StateType | datetime]
    exists_fn: Callable[[MainsMonitorConfigEntry], bool] = lambda _: True


def _stat(
    read: Callable[[FrequencyStats], StateType],
) -> Callable[[MfmSnapshot], StateType]:
    """Read a statistic of the interval, None before the first one."""
    return lambda snapshot: None if snapshot.stats is None else read(snapshot.stats)


def _frequency(
    key: str, read: Callable[[FrequencyStats], float]
) -> MfmSensorEntityDescription:
    """Describe a frequency statistic in Hz."""
    return MfmSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=3,
        value_fn=_stat(read),
    )


def _counter(
    key: str, read: Callable[[MfmSnapshot], int]
) -> MfmSensorEntityDescription:
    """Describe a diagnostic counter."""
    return MfmSensorEntityDescription(
        key=key,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=read,
    )


MFM_SENSORS: tuple[MfmSensorEntityDescription, ...] = (
    _frequency("frequency", lambda stats: stats.mean),
    _frequency("frequency_minimum", lambda stats: stats.minimum),
    _frequency("frequency_maximum", lambda stats: stats.maximum),
    MfmSensorEntityDescription(
        key="deviation",
        translation_key="deviation",
        native_unit_of_measurement=MILLIHERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_stat(lambda stats: stats.deviation),
    ),
    MfmSensorEntityDescription(
        key="rate_of_change",
        translation_key="rate_of_change",
        native_unit_of_measurement=MILLIHERTZ_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_stat(lambda stats: stats.rate_of_change),
    ),
    MfmSensorEntityDescription(
        key="grid_time_deviation",
        translation_key="grid_time_deviation",
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda snapshot: snapshot.grid_time_deviation,
    ),
    MfmSensorEntityDescription(
        key="grid_time_since",
        translation_key="grid_time_since",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.grid_time_since,
    ),
    MfmSensorEntityDescription(
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
    MfmSensorEntityDescription(
        key="band",
        translation_key="band",
        device_class=SensorDeviceClass.ENUM,
        options=[band.value for band in FrequencyBand],
        value_fn=_stat(lambda stats: stats.band.value),
    ),
    _counter("readings_accepted", lambda snapshot: snapshot.readings_accepted),
    _counter("lines_rejected", lambda snapshot: snapshot.lines_rejected),
    _counter("board_restarts", lambda snapshot: snapshot.board_restarts),
    MfmSensorEntityDescription(
        key="connection_state",
        translation_key="connection_state",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=[state.value for state in ConnectionState],
        value_fn=lambda snapshot: snapshot.connection_state.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the sensors of the entry's device."""
    coordinator = entry.runtime_data
    assert isinstance(coordinator, MfmCoordinator)
    async_add_entities(
        MfmSensor(coordinator, description)
        for description in MFM_SENSORS
        if description.exists_fn(entry)
    )


class MfmSensor(MainsMonitorEntity, SensorEntity):
    """A sensor of the mfm board."""

    entity_description: MfmSensorEntityDescription
    coordinator: MfmCoordinator

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)
