"""Binary sensors of every device kind: the board's frequency alarms."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorBinarySensorEntityDescription, MainsMonitorEntity
from .kinds import device_kind

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the binary sensors of the entry's device."""
    kind = device_kind(entry)
    coordinator = kind.coordinator_of(entry)
    async_add_entities(
        MainsMonitorBinarySensor(coordinator, description)
        for description in kind.binary_sensors(coordinator)
    )


class MainsMonitorBinarySensor(MainsMonitorEntity, BinarySensorEntity):
    """A binary sensor of either device kind."""

    entity_description: MainsMonitorBinarySensorEntityDescription[Any]

    @property
    def is_on(self) -> bool | None:
        """The state from the latest snapshot."""
        return self.entity_description.is_on_fn(self.coordinator.data)
