"""The shape of a device kind: everything that differs between the devices read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
import math
from typing import Any, ClassVar, Literal

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)
from homeassistant.helpers.typing import StateType

from ..const import (
    CONF_MQTT,
    CONF_PUBLISH,
    CONF_TOPIC_PREFIX,
    ConnectionState,
    DeviceKind,
)
from ..coordinator import (
    MainsMonitorConfigEntry,
    MainsMonitorCoordinator,
    Snapshot,
    rounded,
)
from ..entity import (
    MainsMonitorBinarySensorEntityDescription,
    MainsMonitorButtonEntityDescription,
    MainsMonitorEventEntityDescription,
    MainsMonitorSensorEntityDescription,
)
from ..mqtt_publish import mqtt_options_error
from ..validation import vol


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEntry:
    """The config entry a probed device becomes."""

    title: str
    data: Mapping[str, Any]
    options: Mapping[str, Any]
    unique_id: str | None = None
    # A unit that only answers polls: the flow asks how to read it (its `ecm_mode` step).
    asks_read_mode: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionsForm:
    """What the options form shows: its fields, their values, the texts' placeholders."""

    schema: vol.Schema
    values: Mapping[str, Any]
    placeholders: Mapping[str, str]


class DeviceKindDefinition[CoordinatorT: MainsMonitorCoordinator[Any], ProbeT](ABC):
    """One kind of device: its coordinator, probe, entities, diagnostics and options.

    The config flow and the platforms look a kind up (`kinds.device_kind`) instead
    of switching on it. `kind` is stored in the entry and ends the translation
    keys whose advice differs by kind.
    """

    kind: ClassVar[DeviceKind]
    coordinator_type: type[CoordinatorT]
    # The options form's step id, the key of its texts in the translations.
    options_step_id: ClassVar[str] = "init"
    # The options flow's menu (its steps), if the kind has more than its form.
    options_menu: ClassVar[tuple[str, ...]] = ()
    # The topic the device's old MQTT bridge published on: the default topic prefix.
    mqtt_topic: ClassVar[str]

    def create_coordinator(
        self, hass: HomeAssistant, entry: MainsMonitorConfigEntry
    ) -> CoordinatorT:
        """A new coordinator for the entry, not yet started."""
        return self.coordinator_type(hass, entry)

    def coordinator_of(self, entry: MainsMonitorConfigEntry) -> CoordinatorT:
        """The entry's coordinator, as this kind's own type."""
        coordinator = entry.runtime_data
        if not isinstance(coordinator, self.coordinator_type):
            msg = f"{entry.title} is no {self.kind} entry"
            raise TypeError(msg)
        return coordinator

    @abstractmethod
    def sensors(
        self, coordinator: CoordinatorT
    ) -> Iterable[MainsMonitorSensorEntityDescription[Any]]:
        """The device's sensors."""

    def binary_sensors(
        self, coordinator: CoordinatorT
    ) -> Iterable[MainsMonitorBinarySensorEntityDescription[Any]]:
        """The device's binary sensors: none unless the kind has some."""
        return ()

    def buttons(
        self, coordinator: CoordinatorT
    ) -> Iterable[MainsMonitorButtonEntityDescription[CoordinatorT]]:
        """The device's buttons: none unless the kind has some."""
        return ()

    def events(
        self, coordinator: CoordinatorT
    ) -> Iterable[MainsMonitorEventEntityDescription[Any]]:
        """The device's event entities: none unless the kind has some."""
        return ()

    @abstractmethod
    def diagnostics(self, coordinator: CoordinatorT) -> dict[str, Any]:
        """What the parser and the accounting know of the device."""

    def snapshot_diagnostics(self, snapshot: Any) -> dict[str, Any]:
        """The latest snapshot, as the diagnostics show it: every field."""
        return asdict(snapshot)

    @abstractmethod
    def mqtt_payloads(self, coordinator: CoordinatorT) -> list[str]:
        """The latest snapshot as the device's old MQTT bridge published it; none without a valid value."""

    @abstractmethod
    async def async_probe(self, port: str) -> ProbeT:
        """Read `port` until it shows this kind's device; raise what went wrong."""

    @abstractmethod
    def new_entry(self, probed: ProbeT, port: str) -> NewEntry:
        """The entry for the device found on `port`."""

    @abstractmethod
    def moved_entry_data(
        self, entry: ConfigEntry, probed: ProbeT
    ) -> Mapping[str, Any] | None:
        """What the entry's data should say now that it reads `probed`; None for another device."""

    @abstractmethod
    def options_form(
        self,
        entry: ConfigEntry,
        user_input: Mapping[str, Any] | None,
        errors: Mapping[str, str],
    ) -> OptionsForm:
        """The options form, showing `user_input` again after `errors`."""

    def options_errors(
        self, hass: HomeAssistant, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> dict[str, str]:
        """Errors beyond the fields' own ranges: NaN, which passes every range check, then MQTT's."""
        errors = {
            field: "not_a_number"
            for field, value in user_input.items()
            if isinstance(value, float) and math.isnan(value)
        }
        if error := mqtt_options_error(hass, user_input.get(CONF_MQTT, {})):
            errors[CONF_MQTT] = error
        return errors

    def mqtt_section(
        self, values: Mapping[str, Any], errors: Mapping[str, str]
    ) -> dict[vol.Marker, Any]:
        """The publishing fields, in a section that is open while publishing is on or wrong."""
        publishing = bool(values.get(CONF_MQTT, {}).get(CONF_PUBLISH))
        fields = vol.Schema(
            {
                vol.Required(CONF_PUBLISH, default=False): BooleanSelector(),
                vol.Required(
                    CONF_TOPIC_PREFIX, default=self.mqtt_topic
                ): TextSelector(),
            }
        )
        collapsed = not publishing and CONF_MQTT not in errors
        # Optional: a client that leaves the section out publishes nothing.
        return {vol.Optional(CONF_MQTT): section(fields, {"collapsed": collapsed})}


# Descriptions every kind has, or builds its own from.


def measurement[SnapshotT: Snapshot](
    key: str,
    value_fn: Callable[[SnapshotT], StateType],
    *,
    device_class: SensorDeviceClass | None = None,
    unit: str,
    precision: int,
) -> MainsMonitorSensorEntityDescription[SnapshotT]:
    """Describe a measured quantity, named by its key."""
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=precision,
        value_fn=value_fn,
    )


def counter[SnapshotT: Snapshot](
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


def connection_state[SnapshotT: Snapshot]() -> MainsMonitorSensorEntityDescription[
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


def minutes_today[SnapshotT: Snapshot](
    key: str,
    seconds: Callable[[SnapshotT], float],
    *,
    whole: bool = False,
    translation_key: str | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> MainsMonitorSensorEntityDescription[SnapshotT]:
    """Describe a time of the local day in minutes; it starts again at midnight.

    To 0.1 (6 s), or `whole` for one that grows all day: a state changes, and is
    recorded, only that often. Its fall to 0 at midnight is a new cycle to the
    recorder's statistics.
    """
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=translation_key or key,
        translation_placeholders=placeholders,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=0 if whole else 1,
        value_fn=lambda snapshot: (
            round(seconds(snapshot) / 60)
            if whole
            else rounded(seconds(snapshot) / 60, 1)
        ),
    )


def number_field(
    minimum: float, maximum: float, step: float | Literal["any"], unit: str
) -> NumberSelector:
    """A number typed into a box, bounded and with its unit."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=unit,
        )
    )
