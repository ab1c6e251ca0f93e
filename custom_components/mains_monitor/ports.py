"""Finding serial ports and their stable names."""

from __future__ import annotations

import os
from pathlib import Path

import serialx

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import SelectOptionDict

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


def _port_options(ports: list[serialx.SerialPortInfo]) -> list[SelectOptionDict]:
    """Selector options naming each port by its stable name (blocking)."""
    names = _stable_names()
    options: list[SelectOptionDict] = []
    for port in ports:
        path = names.get(os.path.realpath(port.resolved_device), port.device)
        label = (
            path if port.description == port.device else f"{path} ({port.description})"
        )
        options.append(SelectOptionDict(value=path, label=label))
    return options


async def async_list_ports(hass: HomeAssistant) -> list[SelectOptionDict]:
    """The serial ports present, by their stable names, for a selector."""
    ports = await serialx.async_list_serial_ports()
    return await hass.async_add_executor_job(_port_options, ports)
