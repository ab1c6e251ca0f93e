"""Entries of older versions brought up to date; an energy monitor's entities named by the unit."""

from __future__ import annotations

from pathlib import Path

from custom_components.mains_monitor.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from tests.ecm_unit import DEVICE_ID as UNIT, ecm_entry_for
from tests.helpers import set_up


def port(tmp_path: Path) -> str:
    """A port with no device on it: the entities exist all the same."""
    return str(tmp_path / "ttyECM")


async def test_an_entry_of_version_1_1_moves_to_the_units_ids(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The device and the entities keep their ids and names; their unique ids become the unit's."""
    entry = ecm_entry_for(port(tmp_path), version=(1, 1))
    entry.add_to_hass(hass)
    devices = dr.async_get(hass)
    device = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, entry.entry_id)}
    )
    entities = er.async_get(hass)
    entities.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.entry_id}_ch1_energy",
        config_entry=entry,
        device_id=device.id,
        suggested_object_id="house_energy",
    )

    assert await set_up(hass, entry)
    assert (entry.version, entry.minor_version) == (1, 2)
    migrated = entities.async_get("sensor.house_energy")
    assert migrated is not None
    assert migrated.unique_id == f"{UNIT}_ch1_energy"
    moved = devices.async_get(device.id)
    assert moved is not None
    assert moved.identifiers == {(DOMAIN, UNIT)}
    registered = er.async_entries_for_config_entry(entities, entry.entry_id)
    # Voltage, its minimum, maximum, 3 day figures and nominal, 2 currents, DC input,
    # 3 counters, last packet, connection; 7 channels' power and energy.
    assert len(registered) == 15 + 7 * 2
    assert {entity.unique_id.partition("_")[0] for entity in registered} == {UNIT}
    assert {entity.device_id for entity in registered} == {device.id}


async def test_a_unit_added_again_gets_its_entities_back(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """Deleted and added again, the unit's entities have the ids they had, history included."""
    first = ecm_entry_for(port(tmp_path), version=(1, 2))
    assert await set_up(hass, first)
    entities = er.async_get(hass)
    energy = entities.async_get_entity_id("sensor", DOMAIN, f"{UNIT}_ch1_energy")
    assert energy is not None
    entities.async_update_entity(energy, new_entity_id="sensor.house_energy")
    await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()

    again = ecm_entry_for(port(tmp_path), version=(1, 2))
    assert await set_up(hass, again)

    assert again.entry_id != first.entry_id
    restored = entities.async_get("sensor.house_energy")
    assert restored is not None
    assert restored.config_entry_id == again.entry_id


async def test_an_entry_of_a_newer_version_is_refused(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """After a downgrade, an entry a later release wrote is not guessed at."""
    entry = ecm_entry_for(port(tmp_path), version=(2, 1))

    assert not await set_up(hass, entry)

    assert entry.state is ConfigEntryState.MIGRATION_ERROR
