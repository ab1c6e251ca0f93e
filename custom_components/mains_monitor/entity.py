"""The base every Mains Monitor entity shares."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import MainsMonitorCoordinator


class MainsMonitorEntity(CoordinatorEntity[MainsMonitorCoordinator[Any]]):
    """An entity of one monitored device, named by its translation key."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: MainsMonitorCoordinator[Any],
        description: EntityDescription,
    ) -> None:
        """Tie the entity to its device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{description.key}"
        self._attr_device_info = coordinator.device_info

    @property
    def available(self) -> bool:
        """Measurements need live data; diagnostic and config entities do not."""
        if self.coordinator.data is None:
            return False
        return self.entity_category is not None or super().available
