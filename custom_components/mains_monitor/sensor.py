"""Sensors of every device kind: each kind describes its own (kinds/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import DOMAIN
from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorEntity, MainsMonitorSensorEntityDescription
from .kinds import device_kind

PARALLEL_UPDATES = 0

# Keys of sensors no longer provided: "seconds_since_packet" became "last_packet".
REPLACED_SENSORS = ("seconds_since_packet",)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the sensors of the entry's device."""
    kind = device_kind(entry)
    coordinator = kind.coordinator_of(entry)
    _remove_replaced(hass, coordinator.identity(entry))
    async_add_entities(
        MainsMonitorSensor(coordinator, description)
        for description in kind.sensors(coordinator)
        if description.exists_fn(entry)
    )


def _remove_replaced(hass: HomeAssistant, identity: str) -> None:
    """Drop the registry entries of sensors that a later version replaced."""
    registry = er.async_get(hass)
    for key in REPLACED_SENSORS:
        unique_id = f"{identity}_{key}"
        if entity_id := registry.async_get_entity_id(SENSOR_DOMAIN, DOMAIN, unique_id):
            registry.async_remove(entity_id)


class MainsMonitorSensor(MainsMonitorEntity, SensorEntity):
    """A sensor of either device kind."""

    entity_description: MainsMonitorSensorEntityDescription[Any]

    @property
    def available(self) -> bool:
        """Available as every entity of its device, if the snapshot has its value."""
        return super().available and self.entity_description.available_fn(
            self.coordinator.data
        )

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)
