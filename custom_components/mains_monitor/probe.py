"""Checking that a port carries the chosen device's data before an entry exists."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import serialx

from .connection import READ_SIZE, open_port
from .errors import ConnectionLostError, NoDataError, NoSignalError, WrongDeviceError
from .protocol.mfm import LineFormat, MfmParser, RejectReason

# The board sends 3-7 lines a second and a full boot banner within a few seconds.
PROBE_TIMEOUT = 10.0
# So many bad lines and not one reading: this is not an mfm board at 19200 baud.
MAX_BAD_LINES = 10


@dataclass(frozen=True, slots=True)
class MfmProbeResult:
    """What a board revealed while it was probed."""

    line_format: LineFormat
    nominal_frequency: int


async def async_probe_mfm(port: str) -> MfmProbeResult:
    """Read from `port` until a valid board reading arrives; raise what went wrong."""
    serial = await open_port(port)
    parser = MfmParser()
    received = False
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            while True:
                if not (data := await serial.read(READ_SIZE)):
                    msg = "the port was closed"
                    raise ConnectionLostError(msg)
                received = True
                if readings := parser.feed(data):
                    nominal = parser.nominal_frequency
                    assert nominal is not None  # known once a reading is accepted
                    return MfmProbeResult(readings[-1].line_format, nominal)
                if parser.rejected_total >= MAX_BAD_LINES and not _board_alive(parser):
                    break
    except TimeoutError:
        pass
    except (OSError, serialx.SerialException) as err:
        raise ConnectionLostError(str(err)) from err
    finally:
        await serial.close()
    raise _failure(parser, received=received)


def _board_alive(parser: MfmParser) -> bool:
    """Whether the board itself spoke: a banner, missing-signal or error lines."""
    rejected = parser.rejected
    return bool(
        parser.banner_lines
        or rejected[RejectReason.SIGNAL_MISSING]
        or rejected[RejectReason.ERROR_LINE]
    )


def _failure(parser: MfmParser, *, received: bool) -> Exception:
    """The error that explains why no reading arrived."""
    if _board_alive(parser):
        return NoSignalError("the board runs but measures no mains signal")
    if received:
        return WrongDeviceError("data arrived, but not in the mfm board's format")
    return NoDataError("nothing arrived")
