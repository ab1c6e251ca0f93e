"""Frequency alarms of the mfm board."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .coordinator import MainsMonitorConfigEntry
from .entity import MainsMonitorEntity
from .frequency import ALARM_THRESHOLDS_MHZ, SUMMARY_ALARM_BIT
from .mfm_coordinator import MfmCoordinator

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AlarmEntityDescription(BinarySensorEntityDescription):
    """An alarm: one bit of the board's alarm byte."""

    bit: int


ALARMS: tuple[AlarmEntityDescription, ...] = (
    *(
        AlarmEntityDescription(
            key=f"alarm_{threshold}",
            translation_key="alarm_threshold",
            translation_placeholders={"threshold": str(threshold)},
            device_class=BinarySensorDeviceClass.PROBLEM,
            bit=bit,
        )
        for bit, threshold in enumerate(ALARM_THRESHOLDS_MHZ)
    ),
    AlarmEntityDescription(
        key="alarm",
        translation_key="alarm",
        device_class=BinarySensorDeviceClass.PROBLEM,
        bit=SUMMARY_ALARM_BIT,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the board's alarms."""
    coordinator = entry.runtime_data
    if not isinstance(coordinator, MfmCoordinator):
        return
    async_add_entities(AlarmBinarySensor(coordinator, alarm) for alarm in ALARMS)


class AlarmBinarySensor(MainsMonitorEntity, BinarySensorEntity):
    """On while the frequency is, or was within the hold time, out of its band."""

    entity_description: AlarmEntityDescription
    coordinator: MfmCoordinator

    @property
    def is_on(self) -> bool | None:
        """Whether the alarm's bit is set in the interval."""
        stats = self.coordinator.data.stats
        if stats is None:
            return None
        return bool(stats.alarms >> self.entity_description.bit & 1)
