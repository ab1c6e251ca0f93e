"""Checking that a port carries the chosen device's data before an entry exists."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from .errors import NoDataError, NoSignalError, WrongDeviceError
from .port_session import PortSession, open_session
from .protocol.ecm1240 import (
    ACK,
    SETTINGS_SIZE,
    EcmPacket,
    EcmParser,
    EcmSettings,
    decode_settings,
    poll_command,
    settings_request,
)
from .protocol.mfm import LineFormat, MfmParser, RejectReason

# The board sends 3-7 lines a second and a full boot banner within a few seconds.
PROBE_TIMEOUT = 10.0
# A silent ECM unit gets one poll; its answer takes well under a second.
POLL_ANSWER_TIMEOUT = 3.0
# So many bad lines and not one reading: this is not an mfm board at 19200 baud.
MAX_BAD_LINES = 10


@dataclass(frozen=True, slots=True)
class MfmProbeResult:
    """What a board revealed while it was probed."""

    line_format: LineFormat
    nominal_frequency: int


async def async_probe_mfm(port: str) -> MfmProbeResult:
    """Read from `port` until a valid board reading arrives; raise what went wrong."""
    parser = MfmParser()
    received = False
    async with open_session(port) as session:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                while True:
                    data = await session.read()
                    received = True
                    if readings := parser.feed(data):
                        nominal = parser.nominal_frequency
                        assert nominal is not None  # known once a reading is accepted
                        return MfmProbeResult(readings[-1].line_format, nominal)
                    if parser.rejected_total >= MAX_BAD_LINES and not _board_alive(
                        parser
                    ):
                        break
        except TimeoutError:
            pass
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


@dataclass(frozen=True, slots=True)
class EcmProbeResult:
    """What a unit revealed while it was probed."""

    packet: EcmPacket
    realtime: bool  # it sent by itself; False when it answered only a poll


async def async_probe_ecm(port: str) -> EcmProbeResult:
    """Wait for a packet; a silent unit is polled once (the spec's SPK) before giving up."""
    parser = EcmParser()
    async with open_session(port) as session:
        if packet := await _within(PROBE_TIMEOUT, _read_packet(session, parser)):
            return EcmProbeResult(packet, realtime=True)
        if not _heard(parser) and (
            packet := await _within(POLL_ANSWER_TIMEOUT, _poll(session, parser))
        ):
            return EcmProbeResult(packet, realtime=False)
    if _heard(parser):
        raise WrongDeviceError("data arrived, but no ECM-1240 packet")
    raise NoDataError("the unit neither sent nor answered a poll")


def _heard(parser: EcmParser) -> bool:
    """Whether any byte arrived at all."""
    return bool(
        parser.discarded_bytes or parser.rejected_total or parser.buffered_bytes
    )


async def _within[T](seconds: float, reading: Coroutine[Any, Any, T]) -> T | None:
    """The result of `reading`, or None if it takes longer than `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            return await reading
    except TimeoutError:
        return None


async def _poll(session: PortSession, parser: EcmParser) -> EcmPacket:
    """Ask for one packet, chunk by chunk as the unit acknowledges them."""
    packets: list[EcmPacket] = []
    await session.write_acknowledged(
        poll_command(), ACK, on_data=lambda data: packets.extend(parser.feed(data))
    )
    return packets[0] if packets else await _read_packet(session, parser)


async def _read_packet(session: PortSession, parser: EcmParser) -> EcmPacket:
    """Read until the parser completes a packet."""
    while not (packets := parser.feed(await session.read())):
        pass
    return packets[0]


async def async_send_ecm_command(port: str, chunks: tuple[bytes, ...]) -> bool:
    """Send one command the user chose, chunk by chunk as the unit acknowledges."""
    async with open_session(port) as session:
        try:
            async with asyncio.timeout(POLL_ANSWER_TIMEOUT):
                await session.write_acknowledged(chunks, ACK, on_data=_ignore)
        except TimeoutError as err:
            msg = "the unit did not acknowledge the command"
            raise NoDataError(msg) from err
    return True


async def async_read_ecm_settings(port: str) -> EcmSettings:
    """Ask a silent unit for its settings block (SET RCV); the user allowed it."""
    async with open_session(port) as session:
        try:
            async with asyncio.timeout(POLL_ANSWER_TIMEOUT):
                block = await session.write_acknowledged(
                    settings_request(), ACK, on_data=_ignore
                )
                while len(block) < SETTINGS_SIZE:
                    block += await session.read()
                await session.write(ACK)  # the spec's FC after the reply
        except TimeoutError as err:
            msg = "the unit did not send its settings"
            raise NoDataError(msg) from err
    if (settings := decode_settings(block[:SETTINGS_SIZE])) is None:
        msg = "the settings block failed its checksum"
        raise WrongDeviceError(msg)
    return settings


def _ignore(data: bytes) -> None:
    """Drop what arrives before an acknowledgement: the reply follows it."""
