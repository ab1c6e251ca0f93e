"""Buttons of every device kind: the board's grid-time reset."""

from __future__ import annotations

from typing import Any

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorButtonEntityDescription, MainsMonitorEntity
from .kinds import device_kind

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the buttons of the entry's device."""
    kind = device_kind(entry)
    coordinator = kind.coordinator_of(entry)
    async_add_entities(
        MainsMonitorButton(coordinator, description)
        for description in kind.buttons(coordinator)
    )


class MainsMonitorButton(MainsMonitorEntity, ButtonEntity):
    """A button of either device kind."""

    entity_description: MainsMonitorButtonEntityDescription[Any]

    @property
    def available(self) -> bool:
        """A button acts on what the coordinator keeps: it needs no live data."""
        return True

    async def async_press(self) -> None:
        """Do what the button is for."""
        self.entity_description.press_fn(self.coordinator)
