"""Sans-I/O codec for the Brultech ECM-1240 / ECM-1220: models, channels, packets, settings, commands."""

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from struct import Struct
from typing import Final, NamedTuple

MODEL_ECM_1240: Final = "ECM-1240"
MODEL_ECM_1220: Final = "ECM-1220"

# The channels by their labels on the unit. CH1 and CH2 count watt-seconds twice, all that
# passed (absolute) and what passed backwards (polarized); the AUX channels count one way only.
POLARIZED_CHANNELS: Final = ("ch1", "ch2")
AUX_CHANNELS: Final = ("aux1", "aux2", "aux3", "aux4", "aux5")
CHANNELS: Final = (*POLARIZED_CHANNELS, *AUX_CHANNELS)

# Counter widths: every counter wraps to 0 at 2 ** bits.
SECONDS_BITS: Final = 24
POLARIZED_BITS: Final = 40  # CH1 and CH2, absolute and polarized
AUX_BITS: Final = 32
COUNTER_BITS: Final = dict.fromkeys(POLARIZED_CHANNELS, POLARIZED_BITS) | dict.fromkeys(
    AUX_CHANNELS, AUX_BITS
)

ADDRESS: Final = 0xFC
ACK: Final = b"\xfc"
# A bus carries up to four units, addressed FC to FF.
_ADDRESSES: Final = range(0xFC, 0x100)

HEADER: Final = b"\xfe\xff"
_HEADER_FIRST: Final = 0xFE
_FOOTER: Final = 0xFEFF  # FF FE read little-endian
_CODE_1240: Final = 0x03
_CODE_1220: Final = 0x01
SIZE_ECM_1240: Final = 65
SIZE_ECM_1220: Final = 43

# One little-endian struct per model covering every byte after the header. A uint40 is read as
# uint32 + uint8 and a uint24 as uint16 + uint8; the big-endian voltage is byte-swapped after.
_COMMON: Final = "<2xBH" + "IB" * 4 + "4xHBBHHHB"
_ECM_1240: Final = Struct(_COMMON + "5IHHB")
_ECM_1220: Final = Struct(_COMMON + "HB")

_SETTINGS: Final = Struct(">6xBxHBH19xB")
SETTINGS_SIZE: Final = _SETTINGS.size

_RESET_COUNTER_MASK: Final = 0x07
_CH1_POLARITY: Final = 0x08
_CH2_POLARITY: Final = 0x10


def model_channels(model: str) -> tuple[str, ...]:
    """The channels a model has: all seven on the ECM-1240, CH1 and CH2 on the ECM-1220."""
    return POLARIZED_CHANNELS if model == MODEL_ECM_1220 else CHANNELS


def has_dc_input(model: str) -> bool:
    """Whether the model has the DC input (AUX5's), which the ECM-1220 lacks."""
    return model != MODEL_ECM_1220


class EcmRejectReason(StrEnum):
    """Why a candidate packet (FE FF, a known code, its full length) was not accepted."""

    CHECKSUM = "checksum"
    FOOTER = "footer"


class EcmPacket(NamedTuple):
    """One accepted packet, decoded as the unit sent it.

    A named tuple rather than a frozen dataclass: it is built in half the time (a frozen
    dataclass sets each of its sixteen fields through object.__setattr__), and building it
    is most of a packet's decoding.
    """

    model: str
    voltage: float
    ch1_amps: float
    ch2_amps: float
    ch1_abs_ws: int
    ch2_abs_ws: int
    ch1_pol_ws: int
    ch2_pol_ws: int
    aux_ws: tuple[int, ...]
    dc_voltage_raw: int | None
    seconds: int
    serial: int
    unit_id: int
    reset_counter: int
    ch1_polarity: bool
    ch2_polarity: bool

    @property
    def device_id(self) -> str:
        """Unit id and serial combined, as Brultech shows them: 5 and 434 give 500434."""
        return _device_id(self.unit_id, self.serial)


@dataclass(frozen=True, slots=True, kw_only=True)
class EcmSettings:
    """The unit's reply to a settings request."""

    send_interval: int
    firmware: str
    unit_id: int
    serial: int

    @property
    def device_id(self) -> str:
        """Unit id and serial combined, the same rule as for packets."""
        return _device_id(self.unit_id, self.serial)


def _device_id(unit_id: int, serial: int) -> str:
    """Combine a unit id and a serial number into the device id."""
    return f"{unit_id}{serial:05d}"


def _packet(
    model: str,
    fields: tuple[int, ...],
    aux_ws: tuple[int, ...],
    dc_voltage_raw: int | None,
) -> EcmPacket:
    """Build a packet from the fields every model shares (struct order, see _COMMON) and its own."""
    voltage = fields[1]
    flag = fields[11]
    # Positional, in field order: keywords would make the call the slowest step of decoding.
    return EcmPacket(
        model,
        ((voltage & 0xFF) << 8 | voltage >> 8) / 10,  # voltage
        fields[13] / 100,  # ch1_amps
        fields[14] / 100,  # ch2_amps
        fields[2] | fields[3] << 32,  # ch1_abs_ws
        fields[4] | fields[5] << 32,  # ch2_abs_ws
        fields[6] | fields[7] << 32,  # ch1_pol_ws
        fields[8] | fields[9] << 32,  # ch2_pol_ws
        aux_ws,
        dc_voltage_raw,
        fields[15] | fields[16] << 16,  # seconds
        fields[10],  # serial
        fields[12],  # unit_id
        flag & _RESET_COUNTER_MASK,  # reset_counter
        flag & _CH1_POLARITY != 0,  # ch1_polarity
        flag & _CH2_POLARITY != 0,  # ch2_polarity
    )


def _decode_1240(buffer: bytearray, start: int) -> EcmPacket | EcmRejectReason:
    """Check and decode the 65 bytes at start as an ECM-1240 packet."""
    fields = _ECM_1240.unpack_from(buffer, start)
    if fields[23] != _FOOTER:
        return EcmRejectReason.FOOTER
    if sum(buffer[start : start + SIZE_ECM_1240 - 1]) & 0xFF != fields[24]:
        return EcmRejectReason.CHECKSUM
    return _packet(MODEL_ECM_1240, fields, fields[17:22], fields[22])


def _decode_1220(buffer: bytearray, start: int) -> EcmPacket | EcmRejectReason:
    """Check and decode the 43 bytes at start as an ECM-1220 packet."""
    fields = _ECM_1220.unpack_from(buffer, start)
    if fields[17] != _FOOTER:
        return EcmRejectReason.FOOTER
    if sum(buffer[start : start + SIZE_ECM_1220 - 1]) & 0xFF != fields[18]:
        return EcmRejectReason.CHECKSUM
    return _packet(MODEL_ECM_1220, fields, (), None)


# Format code -> packet size and decoder.
_FORMATS: Final = {
    _CODE_1240: (SIZE_ECM_1240, _decode_1240),
    _CODE_1220: (SIZE_ECM_1220, _decode_1220),
}


class EcmParser:
    """Turn the unit's byte stream into packets; count what is rejected or skipped.

    Framing: find FE FF; the next byte is the format code (03: 65 bytes, 01: 43 bytes); wait for
    the whole packet, then check its footer (first) and checksum. A failed candidate is counted in
    `rejected` and only its FE is skipped, so a packet starting inside it is still found. FE FF
    followed by any other code is no header: it is skipped like any byte between packets. That is
    not counted as a rejection because after a failed candidate the search runs through packet
    data, where FE FF and any code byte occur by chance. Every byte fed ends up in exactly one
    place: an accepted packet, `discarded_bytes` (junk and the FE of each failed candidate), or
    the buffer (at most one packet less a byte), whatever the chunking.
    """

    __slots__ = ("_buffer", "_need", "accepted", "discarded_bytes", "rejected")

    def __init__(self) -> None:
        """Start with an empty buffer and zero counters."""
        self.accepted = 0
        self.rejected: Counter[EcmRejectReason] = Counter()
        self.discarded_bytes = 0
        # Bytes of a possible packet that is not complete yet, kept in place between reads.
        self._buffer = bytearray()
        # How long the buffer must grow before anything new can be decided.
        self._need = 0

    @property
    def rejected_total(self) -> int:
        """The number of rejected candidate packets, all reasons together."""
        return self.rejected.total()

    @property
    def buffered_bytes(self) -> int:
        """How many bytes wait for the rest of a possible packet."""
        return len(self._buffer)

    def drop_partial(self) -> None:
        """Forget a half-received packet: the stream broke and it can never complete."""
        self.discarded_bytes += len(self._buffer)
        self._buffer.clear()
        self._need = 0

    def feed(self, data: bytes) -> tuple[EcmPacket, ...]:
        """Consume bytes; return every packet they complete, in stream order."""
        buffer = self._buffer
        buffer += data
        end = len(buffer)
        if end < self._need:
            # Most reads of a slow line end here: a packet arrives in up to 65 of them.
            return ()
        packets: list[EcmPacket] = []
        find = buffer.find
        position = skipped = 0
        while True:
            start = find(HEADER, position)
            if start < 0:
                # A final FE may be the first half of a header.
                if end > position and buffer[-1] == _HEADER_FIRST:
                    start, need = end - 1, 2
                else:
                    start, need = end, 0
                skipped += start - position
                break
            skipped += start - position
            if start + 2 >= end:
                need = 3
                break
            known = _FORMATS.get(buffer[start + 2])
            if known is None:
                skipped += 1
                position = start + 1
                continue
            need, decode = known
            if start + need > end:
                break
            decoded = decode(buffer, start)
            if isinstance(decoded, EcmRejectReason):
                self.rejected[decoded] += 1
                skipped += 1
                position = start + 1
                continue
            packets.append(decoded)
            position = start + need
        # Keep what cannot be decided yet and how long it must grow before it can be.
        del buffer[:start]
        self._need = need
        if skipped:
            self.discarded_bytes += skipped
        if packets:
            self.accepted += len(packets)
        return tuple(packets)


def counter_delta(previous: int, current: int, bits: int) -> int:
    """How far a counter of the given width advanced, across one wrap at most."""
    return (current - previous) % (1 << bits)


def _address(address: int) -> bytes:
    """The address chunk that starts every command."""
    if address not in _ADDRESSES:
        msg = f"address must be 0xFC to 0xFF, not {address!r}"
        raise ValueError(msg)
    return bytes((address,))


def poll_command(address: int = ADDRESS) -> tuple[bytes, ...]:
    """The chunks that ask the unit for one packet."""
    return _address(address), b"SPK"


def realtime_command(on: bool, address: int = ADDRESS) -> tuple[bytes, ...]:
    """The chunks that switch real-time mode on or off."""
    return _address(address), b"TOG", b"XTD" if on else b"OFF"


def settings_request(address: int = ADDRESS) -> tuple[bytes, ...]:
    """The chunks that ask for the 33-byte settings block."""
    return _address(address), b"SET", b"RCV"


def decode_settings(block: bytes) -> EcmSettings | None:
    """Decode a settings block; None unless it is 33 bytes with a matching checksum."""
    if len(block) != SETTINGS_SIZE:
        return None
    interval, firmware, unit_id, serial, checksum = _SETTINGS.unpack(block)
    if sum(block[:-1]) & 0xFF != checksum:
        return None
    return EcmSettings(
        send_interval=interval,
        firmware=f"{firmware // 1000}.{firmware % 1000:03d}",
        unit_id=unit_id,
        serial=serial,
    )
