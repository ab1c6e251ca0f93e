"""The Mains Monitor integration: mains frequency and energy from serial devices."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .connection import async_ensure_proxy_ready
from .const import CONF_PORT
from .coordinator import MainsMonitorConfigEntry, entry_store
from .kinds import device_kind
from .ports import async_follow_moved_port
from .repairs import async_clear

PLATFORMS = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]


async def async_setup_entry(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> bool:
    """Start reading the entry's device."""
    await async_follow_moved_port(hass, entry)
    await async_ensure_proxy_ready(entry.data[CONF_PORT])
    coordinator = device_kind(entry).create_coordinator(hass, entry)
    await coordinator.async_restore()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start()
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
