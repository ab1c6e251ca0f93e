"""The long-lived reader: open the port, hand bytes on, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import DOMAIN, LOGGER, ConnectionState
from .errors import (
    ConnectionLostError,
    FailureReason,
    MainsMonitorError,
    NoDataError,
    ProxyNotReadyError,
)
from .port_session import PortSession, open_port, open_session, redacted

# Doubling from 1 s reaches the 60 s cap after six failures: quick after a blip,
# gentle on a port that is gone for hours.
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
# At 19200 baud a unit acknowledges a command chunk within milliseconds.
ACK_TIMEOUT = 1.0
# ESPHome serial proxies; Home Assistant's usb integration registers a stand-in
# for them with serialx that refuses to open until ESPHome has loaded.
PROXY_SCHEME = "esphome-hass://"


class ConnectionListener(Protocol):
    """What the connection reports to (the device's coordinator)."""

    def data_received(self, data: bytes) -> bool:
        """Consume bytes; return True when they held at least one valid frame."""

    def connection_state_changed(self, state: ConnectionState) -> None:
        """Take note of the port's new state."""

    def availability_changed(self, available: bool) -> None:
        """Take note that valid data started or stopped flowing."""


async def async_ensure_proxy_ready(port: str) -> None:
    """Retry the entry's set-up later while its ESPHome proxy cannot open yet.

    Other faults are left to the reader, which retries them in the background.
    """
    if not port.startswith(PROXY_SCHEME):
        return
    try:
        serial = await open_port(port)
    except ProxyNotReadyError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="proxy_not_ready",
            translation_placeholders={"port": redacted(port)},
        ) from err
    except MainsMonitorError:
        return
    await serial.close()


class SerialConnection:
    """Keeps one port open for as long as its config entry is loaded."""

    def __init__(
        self,
        port: str,
        listener: ConnectionListener,
        silence_timeout: float,
        read_spacing: float = 0.0,
    ) -> None:
        """Prepare a connection; nothing is opened before `start`.

        `read_spacing`: seconds to let bytes gather after each read (0: none).
        """
        self.port = port
        self.last_error: FailureReason | None = None
        self._listener = listener
        self._silence_timeout = silence_timeout
        self.read_spacing = read_spacing
        self._backoff = BACKOFF_START
        self._available: bool | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: PortSession | None = None

    def start(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Start the reader task; unloading the entry cancels it."""
        self._task = entry.async_create_background_task(
            hass, self._run(), f"{DOMAIN} reader for {redacted(self.port)}"
        )

    async def stop(self) -> None:
        """Stop reading and close the port."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        """Read until cancelled, reconnecting after every failure."""
        while True:
            try:
                await self._read_session()
            except MainsMonitorError as err:
                self._mark_unavailable(err)
            self._listener.connection_state_changed(ConnectionState.DISCONNECTED)
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)

    async def _read_session(self) -> None:
        """Open the port once and read from it until it fails."""
        self._listener.connection_state_changed(ConnectionState.CONNECTING)
        async with open_session(self.port) as session:
            self._listener.connection_state_changed(ConnectionState.CONNECTED)
            self._session = session
            try:
                await self._read(session)
            finally:
                self._session = None

    async def async_send_command(self, chunks: tuple[bytes, ...], ack: bytes) -> None:
        """Send a command chunk by chunk, each after the device acknowledged the last."""
        if (session := self._session) is None:
            msg = "the port is not open"
            raise ConnectionLostError(msg)
        await session.write_acknowledged(chunks, ack, ack_timeout=ACK_TIMEOUT)

    async def _read(self, session: PortSession) -> None:
        """Pass bytes on until the port fails; fail when no valid data comes for too long."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._silence_timeout) as watchdog:
                while True:
                    data = await session.read()
                    if self._listener.data_received(data):
                        self._mark_available()
                        watchdog.reschedule(loop.time() + self._silence_timeout)
                    if self.read_spacing:
                        await session.rest(self.read_spacing)
        except TimeoutError as err:
            msg = f"no valid data for {self._silence_timeout:g} s"
            raise NoDataError(msg) from err

    def _mark_available(self) -> None:
        """Note valid data; log the recovery once per outage."""
        self._backoff = BACKOFF_START
        if self._available:
            return
        if self._available is False:
            LOGGER.info("%s is sending valid data again", self._redacted_port)
        self._available = True
        self.last_error = None
        self._listener.availability_changed(True)

    def _mark_unavailable(self, err: MainsMonitorError) -> None:
        """Note a failure; log it once per outage, not once per retry."""
        self.last_error = err.reason
        if self._available is False:
            return
        LOGGER.info("%s is unavailable: %s", self._redacted_port, err)
        self._available = False
        self._listener.availability_changed(False)

    @property
    def _redacted_port(self) -> str:
        """The port as it may appear in a log."""
        return redacted(self.port)
