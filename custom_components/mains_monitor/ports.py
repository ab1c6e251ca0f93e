"""Serial ports' stable names, and following an adapter that moved."""

from __future__ import annotations

from inspect import isawaitable
import os
from pathlib import Path
import sys

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import CONF_PORT, LOGGER

# udev's names here survive re-plugging and reboots; /dev/ttyUSB0 does not.
BY_ID_DIR = Path("/dev/serial/by-id")


def _stable_names() -> dict[str, str]:
    """Map each device node to its /dev/serial/by-id link (blocking)."""
    if not BY_ID_DIR.is_dir():
        return {}
    return {os.path.realpath(link): str(link) for link in sorted(BY_ID_DIR.iterdir())}


def stable_port(port: str) -> str:
    """The by-id name of a device path, or the port as given (blocking)."""
    if "://" in port or "\x00" in port:
        return port  # a URL, or no path at all (opening it says so)
    return _stable_names().get(os.path.realpath(port), port)


def _vanished_by_id(port: str) -> bool:
    """Whether `port` is a by-id link that no longer exists (blocking)."""
    return Path(port).parent == BY_ID_DIR and not os.path.exists(port)


async def async_follow_moved_port(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Point the entry at where its vanished by-id adapter is now, if Home Assistant knows.

    `usb.async_find_moved_serial_port` is new in Home Assistant 2026.11; before it,
    or without the usb integration (set up before this one when it is set up at
    all), the port stays as it is and the reader reports it missing.
    """
    port: str = entry.data[CONF_PORT]
    usb = sys.modules.get("homeassistant.components.usb")
    find = getattr(usb, "async_find_moved_serial_port", None)
    if find is None or not await hass.async_add_executor_job(_vanished_by_id, port):
        return
    moved = find(hass, port)
    if isawaitable(moved):  # a coroutine or a callback: either is fine
        moved = await moved
    if isinstance(moved, str) and moved != port:
        LOGGER.info("The adapter of %s moved from %s to %s", entry.title, port, moved)
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_PORT: moved}
        )
