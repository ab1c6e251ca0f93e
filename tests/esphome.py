"""ESPHome serial proxies as Home Assistant's usb integration registers them with serialx.

ESPHome itself cannot load here (no device, no aioesphomeapi), so `EspHome` stands in
for it once "loaded": like its real handler it takes precedence over usb's stub and
opens `esphome-hass://esphome/<entry id>?port_name=…` URLs, each on a pseudo-terminal
the test names; an entry id it does not know fails as the real one does for an
ESPHome entry that is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import os
from types import ModuleType
from typing import Any

import pytest
import serialx
from serialx.platforms.serial_posix import PosixSerial, PosixSerialTransport

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event


def proxy_url(entry_id: str, port_name: str = "uart") -> str:
    """The URL ESPHome gives a serial proxy of the device of config entry `entry_id`."""
    return f"esphome-hass://esphome/{entry_id}?port_name={port_name}"


class EspHome:
    """The ESPHome integration: not loaded until `load`; its proxies, each on a local port."""

    def __init__(self) -> None:
        """Not loaded, with no proxies."""
        self.proxies: dict[str, str] = {}
        self._unregister: list[Callable[[], None]] = []

    def load(self) -> None:
        """Register its handler with serialx, which outweighs usb's stub."""
        _ProxyTransport.esphome = self
        self._unregister.append(
            serialx.register_uri_handler(
                scheme="esphome-hass://",
                unique_scheme="esphome-hass-test://",
                sync_cls=PosixSerial,
                async_transport_cls=_ProxyTransport,
            )
        )

    def unload(self) -> None:
        """Unregister its handler."""
        while self._unregister:
            self._unregister.pop()()

    def path_of(self, url: str) -> str:
        """The local port behind a proxy URL; a gone entry fails as ESPHome's does."""
        if url not in self.proxies:
            msg = f"No ESPHome config entry for {url!r}"
            raise serialx.SerialException(msg)
        return self.proxies[url]


class _ProxyTransport(PosixSerialTransport):
    """Opens the port behind the proxy URL; cannot pause reading, as ESPHome's own transport."""

    esphome: EspHome

    # ESPHome's transport takes what the device's API connection brings and has no
    # pause_reading of its own: asyncio's raises NotImplementedError.
    pause_reading = asyncio.Transport.pause_reading
    resume_reading = asyncio.Transport.resume_reading

    async def _connect(  # type: ignore[override]  # as serialx's own PosixSerialTransport
        self, *, path: str | os.PathLike[str], **kwargs: Any
    ) -> None:
        """Connect to the proxy's local port."""
        await super()._connect(path=self.esphome.path_of(str(path)), **kwargs)


def usb_stub() -> ModuleType:
    """Home Assistant's own stand-in for the proxies until ESPHome loads."""
    stub: ModuleType = pytest.importorskip(
        "homeassistant.components.usb.serial_proxy_stub",
        reason="usb imports serialx's ESPHome platform here, which needs aioesphomeapi",
    )
    return stub


@pytest.fixture
def esphome() -> Iterator[EspHome]:
    """The usb integration's stub registered with serialx, as at Home Assistant's start; ESPHome not loaded."""
    unregister_stub = usb_stub().register_serialx_transport()
    esphome = EspHome()
    yield esphome
    esphome.unload()
    unregister_stub(Event(EVENT_HOMEASSISTANT_STOP))
