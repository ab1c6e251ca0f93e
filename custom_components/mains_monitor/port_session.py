"""One open port: opened with our errors, read until it ends, written chunk by acknowledged chunk.

The probe and the long-lived connection both talk to a device through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
import termios
from urllib.parse import unquote_plus

import serialx

from homeassistant.exceptions import ConfigEntryNotReady

from .const import BAUDRATE
from .errors import (
    CannotConnectError,
    ConnectionLostError,
    InvalidPortError,
    NoDataError,
    PermissionDeniedError,
    PortNotFoundError,
    ProxyNotReadyError,
)

# A network serial server that accepts but never completes a handshake must not hang us.
OPEN_TIMEOUT = 10.0
READ_SIZE = 4096
# Query parameters of serialx's network URLs that carry secrets (ESPHome's API keys).
SECRET_PARAMETERS = frozenset({"key", "password", "noise_psk"})


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


@contextmanager
def _lost_on_failure() -> Iterator[None]:
    """A failing read or write of an open port: the connection is lost."""
    try:
        yield
    except (OSError, serialx.SerialException) as err:
        raise ConnectionLostError(str(err)) from err


class PortSession:
    """An open port at the devices' line settings."""

    def __init__(self, serial: serialx.AsyncSerial) -> None:
        """Wrap a port that is open; `open_session` opens one."""
        self._serial = serial
        self._ack: tuple[bytes, asyncio.Future[bytes]] | None = None

    async def read(self) -> bytes:
        """Some bytes; the end of the stream is a lost connection.

        Bytes holding the acknowledgement a write waits for let that write go on.
        """
        with _lost_on_failure():
            data = await self._serial.read(READ_SIZE)
        if not data:
            msg = "the port was closed"
            raise ConnectionLostError(msg)
        if self._ack is not None and not self._ack[1].done():
            ack, acknowledged = self._ack
            if (at := data.find(ack)) >= 0:
                acknowledged.set_result(data[at + len(ack) :])
        return data

    async def rest(self, seconds: float) -> None:
        """Leave what arrives in the OS's buffer for `seconds`: the next read takes it at once.

        A transport that cannot pause (an ESPHome serial proxy's) buffers it itself.
        One that closed meanwhile is left alone: the next read reports it.
        """
        transport = self._serial.transport
        if transport.is_closing():
            return
        try:
            transport.pause_reading()
        except NotImplementedError:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.sleep(seconds)
        finally:
            # serialx's network transports refuse to resume once their socket is gone.
            if not transport.is_closing():
                transport.resume_reading()

    async def write(self, data: bytes) -> None:
        """Send bytes to the device."""
        with _lost_on_failure():
            await write(self._serial, data)

    async def write_acknowledged(
        self,
        chunks: tuple[bytes, ...],
        ack: bytes,
        *,
        ack_timeout: float | None = None,
        on_data: Callable[[bytes], object] | None = None,
    ) -> bytes:
        """Send chunks, each once the device acknowledged the last; what followed the last `ack`.

        With `on_data`, this reads the port itself and hands it every byte read;
        without, another task reads it. Each acknowledgement must come within
        `ack_timeout` seconds (None: no limit of its own).
        """
        after_ack = b""
        loop = asyncio.get_running_loop()
        for chunk in chunks:
            acknowledged: asyncio.Future[bytes] = loop.create_future()
            self._ack = (ack, acknowledged)
            try:
                await self.write(chunk)
                async with asyncio.timeout(ack_timeout):
                    while on_data is not None and not acknowledged.done():
                        on_data(await self.read())
                    after_ack = await acknowledged
            except TimeoutError as err:
                msg = f"no acknowledgement of {chunk!r}"
                raise NoDataError(msg) from err
            finally:
                self._ack = None
        return after_ack

    async def close(self) -> None:
        """Close the port."""
        await self._serial.close()


@asynccontextmanager
async def open_session(port: str) -> AsyncIterator[PortSession]:
    """The port open for the block; closed after it, whatever happens."""
    session = PortSession(await open_port(port))
    try:
        yield session
    finally:
        await session.close()


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
