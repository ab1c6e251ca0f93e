"""The Mains Monitor integration: mains frequency and energy from serial devices."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .connection import async_ensure_proxy_ready
from .const import CONF_PORT, DOMAIN
from .coordinator import MainsMonitorConfigEntry, entry_store
from .kinds import device_kind
from .mqtt_publish import async_start_publishing
from .ports import async_follow_moved_port
from .repairs import async_clear

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.EVENT, Platform.SENSOR]


async def async_setup_entry(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> bool:
    """Start reading the entry's device."""
    await async_follow_moved_port(hass, entry)
    await async_ensure_proxy_ready(entry.data[CONF_PORT])
    kind = device_kind(entry)
    coordinator = kind.create_coordinator(hass, entry)
    await coordinator.async_restore()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start()
    async_start_publishing(hass, entry, kind)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> bool:
    """Stop reading and remove the entities."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> None:
    """Delete what the entry stored (grid time, energy ledger) and its issues."""
    await entry_store(hass, entry).async_remove()
    async_clear(hass, entry)


async def async_migrate_entry(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> bool:
    """Bring an entry from an older version up to date; a newer one is refused."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        identity = device_kind(entry).coordinator_type.identity(entry)
        await _async_identify_by(hass, entry, identity)
        hass.config_entries.async_update_entry(entry, minor_version=2)
    return True


async def _async_identify_by(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry, identity: str
) -> None:
    """Move the device's identifier and its entities' unique ids from the entry to `identity`.

    Entity ids, names and history stay; only what the registries match them by changes.
    """
    if identity == entry.entry_id:
        return
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        if (DOMAIN, entry.entry_id) in device.identifiers:
            devices.async_update_device(device.id, new_identifiers={(DOMAIN, identity)})
    old_prefix = f"{entry.entry_id}_"

    def renamed(registered: er.RegistryEntry) -> dict[str, str] | None:
        """The entity's new unique id, if it still has an old one."""
        if not registered.unique_id.startswith(old_prefix):
            return None
        key = registered.unique_id.removeprefix(old_prefix)
        return {"new_unique_id": f"{identity}_{key}"}

    await er.async_migrate_entries(hass, entry.entry_id, renamed)
