"""What the recorder holds of the energy totals: a floor after a start from an older save."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.recorder import history
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, UnitOfEnergy
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter


async def async_recorded_totals(
    hass: HomeAssistant, entry: ConfigEntry, identity: str, saved_at: datetime
) -> dict[str, float]:
    """The highest kWh each of the entry's energy sensors showed since `saved_at`, by key.

    After a crash or a power cut the ledger is up to a minute older than what
    the sensors last showed; the recorder holds those states. The sensors'
    unique ids are `identity`, an underscore and the key.
    """
    if "recorder" not in hass.config.components:
        return {}
    prefix = f"{identity}_"
    keys = {
        registered.entity_id: registered.unique_id.removeprefix(prefix)
        for registered in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if registered.original_device_class == SensorDeviceClass.ENERGY
    }
    if not keys:
        return {}
    recorded = await get_instance(hass).async_add_executor_job(
        _states_since, hass, saved_at, list(keys)
    )
    totals: dict[str, float] = {}
    for entity_id, states in recorded.items():
        values = [
            kwh
            for state in states
            if isinstance(state, State) and (kwh := _kwh(state)) is not None
        ]
        if values and entity_id in keys:
            totals[keys[entity_id]] = max(values)
    return totals


def _states_since(
    hass: HomeAssistant, start: datetime, entity_ids: list[str]
) -> dict[str, list[State | dict[str, object]]]:
    """Every recorded state of the entities since `start` (runs in the recorder's executor)."""
    return history.get_significant_states(
        hass,
        start,
        entity_ids=entity_ids,
        include_start_time_state=False,
        significant_changes_only=False,
    )


def _kwh(state: State) -> float | None:
    """A recorded energy state in kWh; None if it was no number."""
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    if unit not in EnergyConverter.VALID_UNITS:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return EnergyConverter.convert(value, unit, UnitOfEnergy.KILO_WATT_HOUR)
