"""The base every Mains Monitor entity shares, and the shapes of their descriptions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.button import ButtonEntityDescription
from homeassistant.components.event import EventEntityDescription
from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import MainsMonitorConfigEntry, MainsMonitorCoordinator, Snapshot


@dataclass(frozen=True, kw_only=True)
class MainsMonitorSensorEntityDescription[SnapshotT: Snapshot](SensorEntityDescription):
    """A sensor: how to read its value from its device's snapshot."""

    value_fn: Callable[[SnapshotT], StateType | datetime]
    exists_fn: Callable[[MainsMonitorConfigEntry], bool] = lambda _: True
    # Whether a snapshot has a value for it at all (beyond the device being available).
    available_fn: Callable[[SnapshotT], bool] = lambda _: True


@dataclass(frozen=True, kw_only=True)
class MainsMonitorBinarySensorEntityDescription[SnapshotT: Snapshot](
    BinarySensorEntityDescription
):
    """A binary sensor: how to read whether it is on from its device's snapshot."""

    is_on_fn: Callable[[SnapshotT], bool | None]


@dataclass(frozen=True, kw_only=True)
class MainsMonitorButtonEntityDescription[CoordinatorT: MainsMonitorCoordinator[Any]](
    ButtonEntityDescription
):
    """A button: what pressing it does to its device's coordinator."""

    press_fn: Callable[[CoordinatorT], None]


@dataclass(frozen=True, kw_only=True)
class MainsMonitorEventEntityDescription[SnapshotT: Snapshot](EventEntityDescription):
    """An event entity: the numbered events its device's snapshot carries.

    A snapshot carries its device's latest events again until newer ones push them
    out; the entity fires each number once.
    """

    events_fn: Callable[[SnapshotT], Sequence[tuple[int, str, dict[str, Any]]]]


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
        identity = coordinator.identity(coordinator.config_entry)
        self._attr_unique_id = f"{identity}_{description.key}"
        self._attr_device_info = coordinator.device_info

    @property
    def available(self) -> bool:
        """Measurements need live data; diagnostic and config entities do not."""
        if self.coordinator.data is None:
            return False
        return self.entity_category is not None or super().available
