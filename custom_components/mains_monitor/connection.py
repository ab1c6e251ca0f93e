"""The long-lived reader: open the port, hand bytes on, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import termios
from typing import Protocol
from urllib.parse import unquote_plus

import serialx

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import BAUDRATE, DOMAIN, LOGGER, ConnectionState
from .errors import (
    CannotConnectError,
    ConnectionLostError,
    FailureReason,
    InvalidPortError,
    MainsMonitorError,
    NoDataError,
    PermissionDeniedError,
    PortNotFoundError,
    ProxyNotReadyError,
)

# Doubling from 1 s reaches the 60 s cap after six failures: quick after a blip,
# gentle on a port that is gone for hours.
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
# A network serial server that accepts but never completes a handshake must not hang us.
OPEN_TIMEOUT = 10.0
READ_SIZE = 4096
# At 19200 baud a unit acknowledges a command chunk within milliseconds.
ACK_TIMEOUT = 1.0
# ESPHome serial proxies; Home Assistant's usb integration registers a stand-in
# for them with serialx that refuses to open until ESPHome has loaded.
PROXY_SCHEME = "esphome-hass://"
# Query parameters of serialx's network URLs that carry secrets (ESPHome's API keys).
SECRET_PARAMETERS = frozenset({"key", "password", "noise_psk"})


class ConnectionListener(Protocol):
    """What the connection reports to (the device's coordinator)."""

    def data_received(self, data: bytes) -> bool:
        """Consume bytes; return True when they held at least one valid frame."""

    def connection_state_changed(self, state: ConnectionState) -> None:
        """Take note of the port's new state."""

    def availability_changed(self, available: bool) -> None:
        """Take note that valid data started or stopped flowing."""


def redacted(port: str) -> str:
    """`port` as it may appear in a log or in diagnostics: secret parameters hidden."""
    rest, hash_sign, fragment = port.partition("#")
    base, question_mark, query = rest.partition("?")
    if not question_mark:
        return port
    pairs = [
        f"{name}=REDACTED" if unquote_plus(name) in SECRET_PARAMETERS else pair
        for pair in query.split("&")
        for name in (pair.partition("=")[0],)
    ]
    return f"{base}?{'&'.join(pairs)}{hash_sign}{fragment}"


async def write(serial: serialx.AsyncSerial, data: bytes) -> None:
    """Write `data` and wait until it has left the buffer, whichever serialx is installed.

    Home Assistant pins serialx: its releases up to 1.14 queue with `write()` and
    `drain()`; 1.15 made `write()` the coroutine and named the queuing `write_nowait()`.
    """
    queue = getattr(serial, "write_nowait", serial.write)
    queue(data)
    await serial.drain()


async def open_port(port: str) -> serialx.AsyncSerial:
    """Open `port` at the devices' line settings; failures become our errors."""
    if not port.strip():
        msg = "no port given"
        raise InvalidPortError(msg)
    serial = serialx.async_serial_for_url(port, baudrate=BAUDRATE)
    try:
        await _open(serial, port)
    except (ValueError, serialx.common.UnknownUriScheme) as err:
        raise InvalidPortError(str(err)) from err
    except ConfigEntryNotReady as err:
        raise ProxyNotReadyError(str(err)) from err
    except FileNotFoundError as err:
        raise PortNotFoundError(str(err)) from err
    except PermissionError as err:
        raise PermissionDeniedError(str(err)) from err
    except TimeoutError as err:
        msg = f"no answer within {OPEN_TIMEOUT:.0f} s"
        raise CannotConnectError(msg) from err
    except (OSError, serialx.SerialException) as err:
        raise CannotConnectError(str(err)) from err
    except termios.error as err:  # serialx before 1.11 on a path that is not a terminal
        raise CannotConnectError(str(err)) from err
    return serial


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


async def _open(serial: serialx.AsyncSerial, port: str) -> None:
    """Open the port; cancelled meanwhile, let the open end (within OPEN_TIMEOUT), then close the port.

    Cancelling serialx while the OS opens a device makes Python 3.14 log the open's
    failure as an unhandled error ("exception in shielded future"). The OS answers
    a local device's open at once, so only a network port's open is cut short.
    """
    opening = asyncio.ensure_future(serial.open())
    try:
        await asyncio.wait((opening,), timeout=OPEN_TIMEOUT if "://" in port else None)
    except asyncio.CancelledError:
        await asyncio.wait((opening,), timeout=OPEN_TIMEOUT)
        if opening.done() and not opening.cancelled() and opening.exception() is None:
            await serial.close()
        opening.cancel()
        raise
    if not opening.done():
        opening.cancel()
        await asyncio.wait((opening,))
        raise TimeoutError
    opening.result()


class SerialConnection:
    """Keeps one port open for as long as its config entry is loaded."""

    def __init__(
        self, port: str, listener: ConnectionListener, silence_timeout: float
    ) -> None:
        """Prepare a connection; nothing is opened before `start`."""
        self.port = port
        self.last_error: FailureReason | None = None
        self._listener = listener
        self._silence_timeout = silence_timeout
        self._backoff = BACKOFF_START
        self._available: bool | None = None
        self._task: asyncio.Task[None] | None = None
        self._serial: serialx.AsyncSerial | None = None
        self._ack: tuple[bytes, asyncio.Future[None]] | None = None

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
        serial = await open_port(self.port)
        self._listener.connection_state_changed(ConnectionState.CONNECTED)
        self._serial = serial
        try:
            await self._read(serial)
        finally:
            self._serial = None
            await serial.close()

    async def async_send_command(self, chunks: tuple[bytes, ...], ack: bytes) -> None:
        """Send a command chunk by chunk, each after the device acknowledged the last."""
        for chunk in chunks:
            if (serial := self._serial) is None:
                msg = "the port is not open"
                raise ConnectionLostError(msg)
            acknowledged = asyncio.get_running_loop().create_future()
            self._ack = (ack, acknowledged)
            try:
                await write(serial, chunk)
                async with asyncio.timeout(ACK_TIMEOUT):
                    await acknowledged
            except TimeoutError as err:
                msg = f"no acknowledgement of {chunk!r}"
                raise NoDataError(msg) from err
            except (OSError, serialx.SerialException) as err:
                raise ConnectionLostError(str(err)) from err
            finally:
                self._ack = None

    async def _read(self, serial: serialx.AsyncSerial) -> None:
        """Pass bytes on; fail when the port closes or stays silent too long."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._silence_timeout) as watchdog:
                while data := await serial.read(READ_SIZE):
                    self._resolve_ack(data)
                    if self._listener.data_received(data):
                        self._mark_available()
                        watchdog.reschedule(loop.time() + self._silence_timeout)
        except TimeoutError as err:
            msg = f"no valid data for {self._silence_timeout:g} s"
            raise NoDataError(msg) from err
        except (OSError, serialx.SerialException) as err:
            raise ConnectionLostError(str(err)) from err
        msg = "the port was closed"
        raise ConnectionLostError(msg)

    def _resolve_ack(self, data: bytes) -> None:
        """Let a waiting command go on once its acknowledgement arrived."""
        if self._ack is not None and self._ack[0] in data and not self._ack[1].done():
            self._ack[1].set_result(None)

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
