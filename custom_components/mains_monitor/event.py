"""Event entities of every device kind: the board's frequency disturbances."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .coordinator import MainsMonitorConfigEntry, MainsMonitorCoordinator
from .entity import MainsMonitorEntity, MainsMonitorEventEntityDescription
from .kinds import device_kind

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the event entities of the entry's device."""
    kind = device_kind(entry)
    coordinator = kind.coordinator_of(entry)
    async_add_entities(
        MainsMonitorEvent(coordinator, description)
        for description in kind.events(coordinator)
    )


class MainsMonitorEvent(MainsMonitorEntity, EventEntity):
    """An event entity of either device kind."""

    entity_description: MainsMonitorEventEntityDescription[Any]

    def __init__(
        self,
        coordinator: MainsMonitorCoordinator[Any],
        description: MainsMonitorEventEntityDescription[Any],
    ) -> None:
        """Fire nothing the snapshot already carried when the entity was added."""
        super().__init__(coordinator, description)
        self._fired = max(
            (number for number, _, _ in self._events()),
            default=0,
        )

    def _events(self) -> list[tuple[int, str, dict[str, Any]]]:
        """The events the latest snapshot carries."""
        if self.coordinator.data is None:
            return []
        return list(self.entity_description.events_fn(self.coordinator.data))

    @property
    def available(self) -> bool:
        """An event entity keeps its last event through an outage."""
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        """Fire each event not fired yet, in order."""
        fresh = [event for event in self._events() if event[0] > self._fired]
        for number, event_type, attributes in fresh:
            self._trigger_event(event_type, attributes)
            self._fired = number
        if fresh:
            self.async_write_ha_state()
