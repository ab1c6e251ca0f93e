"""The button that restarts the grid-time integral."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorEntity
from .mfm_coordinator import MfmCoordinator

PARALLEL_UPDATES = 0

RESET_GRID_TIME = ButtonEntityDescription(
    key="reset_grid_time",
    translation_key="reset_grid_time",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the grid-time reset button."""
    coordinator = entry.runtime_data
    if not isinstance(coordinator, MfmCoordinator):
        return
    async_add_entities([ResetGridTimeButton(coordinator, RESET_GRID_TIME)])


class ResetGridTimeButton(MainsMonitorEntity, ButtonEntity):
    """Sets the grid time deviation to zero from now on."""

    coordinator: MfmCoordinator

    @property
    def available(self) -> bool:
        """A reset needs no live data."""
        return True

    async def async_press(self) -> None:
        """Reset the grid time."""
        self.coordinator.async_reset_grid_time()
