"""Tests for the ECM-1240 / ECM-1220 codec: models, packets, framing, counters, settings, commands."""

from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.protocol.ecm1240 import (
    ACK,
    ADDRESS,
    AUX_CHANNELS,
    CHANNELS,
    COUNTER_BITS,
    POLARIZED_CHANNELS,
    SECONDS_BITS,
    EcmPacket,
    EcmParser,
    EcmRejectReason,
    EcmSettings,
    counter_delta,
    decode_settings,
    has_dc_input,
    model_channels,
    poll_command,
    realtime_command,
    settings_request,
)
from tests.parsing import feed_pieces, split_points

# Thousands of examples in CI, a few seconds each: the parsers are fast.
BOUNDED = settings(max_examples=1000, deadline=None)

# The captures from a real ECM-1240 (unit 5, serial 434), as hex.
REAL_PACKET = bytes.fromhex(
    "feff03050861bf320000cfed070000418b2e00002e7e010000b2010500b201980515005418e425"
    "00460000003f000000410000003f00000041000000ff01fffe9e"
)
REAL_SETTINGS = bytes.fromhex(
    "a704a704f403010c040b0501b290000000008d8b8c8bce00ffffffff05803e006d"
)

UINT24_MAX = (1 << 24) - 1
UINT32_MAX = (1 << 32) - 1
UINT40_MAX = (1 << 40) - 1
SIZES = {0x03: 65, 0x01: 43}


@dataclass(frozen=True, kw_only=True)
class Wire:
    """The raw field values of one packet, as the spec's table lays them out."""

    code: int = 0x03
    volts_tenths: int = 1200
    ch1_abs: int = 1000
    ch2_abs: int = 2000
    ch1_pol: int = 10
    ch2_pol: int = 20
    reserved: bytes = bytes(4)
    serial: int = 434
    flag: int = 0x18
    unit_id: int = 5
    ch1_centiamps: int = 150
    ch2_centiamps: int = 275
    seconds: int = 9700
    aux: tuple[int, ...] = (1, 2, 3, 4, 5)
    dc_raw: int = 511

    def encode(self, *, footer: bytes = b"\xff\xfe", checksum_error: int = 0) -> bytes:
        """Lay the fields out at the spec's offsets; footer and checksum may be spoilt."""
        data = bytearray(b"\xfe\xff")
        data.append(self.code)
        data += self.volts_tenths.to_bytes(2, "big")
        for counter in (self.ch1_abs, self.ch2_abs, self.ch1_pol, self.ch2_pol):
            data += counter.to_bytes(5, "little")
        assert len(self.reserved) == 4
        data += self.reserved
        data += self.serial.to_bytes(2, "little")
        data += bytes((self.flag, self.unit_id))
        data += self.ch1_centiamps.to_bytes(2, "little")
        data += self.ch2_centiamps.to_bytes(2, "little")
        data += self.seconds.to_bytes(3, "little")
        assert len(data) == 40
        if self.code == 0x03:
            assert len(self.aux) == 5
            for counter in self.aux:
                data += counter.to_bytes(4, "little")
            data += self.dc_raw.to_bytes(2, "little")
        data += footer
        data.append((sum(data) + checksum_error) % 256)
        assert len(data) == SIZES[self.code]
        return bytes(data)

    def packet(self) -> EcmPacket:
        """Return the packet the parser must make of these fields."""
        is_1240 = self.code == 0x03
        return EcmPacket(
            model="ECM-1240" if is_1240 else "ECM-1220",
            voltage=self.volts_tenths / 10,
            ch1_amps=self.ch1_centiamps / 100,
            ch2_amps=self.ch2_centiamps / 100,
            ch1_abs_ws=self.ch1_abs,
            ch2_abs_ws=self.ch2_abs,
            ch1_pol_ws=self.ch1_pol,
            ch2_pol_ws=self.ch2_pol,
            aux_ws=self.aux if is_1240 else (),
            dc_voltage_raw=self.dc_raw if is_1240 else None,
            seconds=self.seconds,
            serial=self.serial,
            unit_id=self.unit_id,
            reset_counter=self.flag % 8,
            ch1_polarity=(self.flag // 8) % 2 == 1,
            ch2_polarity=(self.flag // 16) % 2 == 1,
        )

    @classmethod
    def of(cls, packet: EcmPacket) -> Wire:
        """Return the fields that encode a decoded packet again (reserved bytes zero)."""
        is_1240 = packet.model == "ECM-1240"
        return cls(
            code=0x03 if is_1240 else 0x01,
            volts_tenths=round(packet.voltage * 10),
            ch1_abs=packet.ch1_abs_ws,
            ch2_abs=packet.ch2_abs_ws,
            ch1_pol=packet.ch1_pol_ws,
            ch2_pol=packet.ch2_pol_ws,
            serial=packet.serial,
            flag=packet.reset_counter
            + 8 * packet.ch1_polarity
            + 16 * packet.ch2_polarity,
            unit_id=packet.unit_id,
            ch1_centiamps=round(packet.ch1_amps * 100),
            ch2_centiamps=round(packet.ch2_amps * 100),
            seconds=packet.seconds,
            aux=packet.aux_ws if is_1240 else (1, 2, 3, 4, 5),
            dc_raw=packet.dc_voltage_raw if packet.dc_voltage_raw is not None else 0,
        )


def state(parser: EcmParser) -> dict[str, object]:
    """Collect everything a caller can read from a parser."""
    return {
        "accepted": parser.accepted,
        "rejected": dict(parser.rejected),
        "rejected_total": parser.rejected_total,
        "discarded_bytes": parser.discarded_bytes,
        "buffered_bytes": parser.buffered_bytes,
    }


def parse_whole(data: bytes) -> tuple[list[EcmPacket], dict[str, object]]:
    """Feed data in one piece to a fresh parser; return the packets and the state."""
    parser = EcmParser()
    return list(parser.feed(data)), state(parser)


def reference_decode(candidate: bytes) -> EcmPacket:
    """Decode a checked candidate field by field, straight from the spec's table."""
    is_1240 = candidate[2] == 0x03
    flag = candidate[31]
    return EcmPacket(
        model="ECM-1240" if is_1240 else "ECM-1220",
        voltage=int.from_bytes(candidate[3:5], "big") / 10,
        ch1_abs_ws=int.from_bytes(candidate[5:10], "little"),
        ch2_abs_ws=int.from_bytes(candidate[10:15], "little"),
        ch1_pol_ws=int.from_bytes(candidate[15:20], "little"),
        ch2_pol_ws=int.from_bytes(candidate[20:25], "little"),
        serial=int.from_bytes(candidate[29:31], "little"),
        reset_counter=flag & 7,
        ch1_polarity=flag & 8 == 8,
        ch2_polarity=flag & 16 == 16,
        unit_id=candidate[32],
        ch1_amps=int.from_bytes(candidate[33:35], "little") / 100,
        ch2_amps=int.from_bytes(candidate[35:37], "little") / 100,
        seconds=int.from_bytes(candidate[37:40], "little"),
        aux_ws=tuple(
            int.from_bytes(candidate[offset : offset + 4], "little")
            for offset in range(40, 60, 4)
        )
        if is_1240
        else (),
        dc_voltage_raw=int.from_bytes(candidate[60:62], "little") if is_1240 else None,
    )


def reference_parse(data: bytes) -> tuple[list[EcmPacket], dict[str, object]]:
    """Frame data the slow, obvious way (one position at a time); return packets and state."""
    packets: list[EcmPacket] = []
    rejected: Counter[EcmRejectReason] = Counter()
    discarded = position = 0
    while position < len(data):
        rest = data[position:]
        if rest[:1] != b"\xfe" or (len(rest) > 1 and rest[1] != 0xFF):
            discarded += 1
            position += 1
            continue
        if len(rest) < 3:
            break
        size = SIZES.get(rest[2])
        if size is None:
            discarded += 1
            position += 1
            continue
        if len(rest) < size:
            break
        candidate = rest[:size]
        reason = None
        if candidate[-3:-1] != b"\xff\xfe":
            reason = EcmRejectReason.FOOTER
        elif sum(candidate[:-1]) % 256 != candidate[-1]:
            reason = EcmRejectReason.CHECKSUM
        if reason is not None:
            rejected[reason] += 1
            discarded += 1
            position += 1
            continue
        packets.append(reference_decode(candidate))
        position += size
    return packets, {
        "accepted": len(packets),
        "rejected": dict(rejected),
        "rejected_total": sum(rejected.values()),
        "discarded_bytes": discarded,
        "buffered_bytes": len(data) - position,
    }


# The real captures.


def test_real_packet_decodes_to_the_spec_values() -> None:
    """The captured packet gives exactly the values the spec lists for it."""
    packets, parsed = parse_whole(REAL_PACKET)
    assert packets == [
        EcmPacket(
            model="ECM-1240",
            voltage=128.8,
            ch1_amps=0.21,
            ch2_amps=62.28,
            ch1_abs_ws=3_325_793,
            ch2_abs_ws=519_631,
            ch1_pol_ws=3_050_305,
            ch2_pol_ws=97_838,
            aux_ws=(70, 63, 65, 63, 65),
            dc_voltage_raw=511,
            seconds=9700,
            serial=434,
            unit_id=5,
            reset_counter=0,
            ch1_polarity=True,
            ch2_polarity=True,
        )
    ]
    assert packets[0].device_id == "500434"
    assert parsed == {
        "accepted": 1,
        "rejected": {},
        "rejected_total": 0,
        "discarded_bytes": 0,
        "buffered_bytes": 0,
    }


def test_real_packet_checksum_and_flag() -> None:
    """The capture's checksum is 0x9E and its flag 0x98: bits 3, 4 and 7 set, reset counter 0."""
    assert sum(REAL_PACKET[:64]) % 256 == REAL_PACKET[64] == 0x9E
    assert REAL_PACKET[31] == 0x98


def test_test_encoder_reproduces_the_real_packet() -> None:
    """The test's own encoder, given the capture's fields, gives back the capture byte for byte."""
    wire = Wire(
        volts_tenths=1288,
        ch1_abs=3_325_793,
        ch2_abs=519_631,
        ch1_pol=3_050_305,
        ch2_pol=97_838,
        reserved=bytes.fromhex("b2010500"),
        serial=434,
        flag=0x98,
        unit_id=5,
        ch1_centiamps=21,
        ch2_centiamps=6228,
        seconds=9700,
        aux=(70, 63, 65, 63, 65),
        dc_raw=511,
    )
    assert wire.encode() == REAL_PACKET


def test_real_settings_reply_decodes() -> None:
    """The captured settings block: interval 1 s, firmware 1.035, unit 5, serial 434."""
    decoded = decode_settings(REAL_SETTINGS)
    assert decoded == EcmSettings(
        send_interval=1, firmware="1.035", unit_id=5, serial=434
    )
    assert decoded.device_id == "500434"
    assert sum(REAL_SETTINGS[:32]) % 256 == REAL_SETTINGS[32] == 0x6D


# Settings blocks.


def settings_block(interval: int, firmware: int, unit_id: int, serial: int) -> bytes:
    """Build a settings block on the capture's filler bytes, with a correct checksum."""
    block = bytearray(REAL_SETTINGS[:32])
    block[6] = interval
    block[8:10] = firmware.to_bytes(2, "big")
    block[10] = unit_id
    block[11:13] = serial.to_bytes(2, "big")
    return bytes(block) + bytes((sum(block) % 256,))


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            settings_block(255, 65535, 255, 65535),
            EcmSettings(
                send_interval=255, firmware="65.535", unit_id=255, serial=65535
            ),
        ),
        (
            settings_block(0, 0, 0, 0),
            EcmSettings(send_interval=0, firmware="0.000", unit_id=0, serial=0),
        ),
        (
            settings_block(10, 1002, 3, 0x0102),
            EcmSettings(send_interval=10, firmware="1.002", unit_id=3, serial=258),
        ),
        (
            settings_block(60, 2000, 7, 12345),
            EcmSettings(send_interval=60, firmware="2.000", unit_id=7, serial=12345),
        ),
    ],
)
def test_settings_fields(block: bytes, expected: EcmSettings) -> None:
    """Every settings field decodes exactly, the serial big-endian."""
    assert decode_settings(block) == expected


@pytest.mark.parametrize(
    "block",
    [
        REAL_SETTINGS[:32],
        REAL_SETTINGS + b"\x00",
        REAL_SETTINGS[:32] + b"\x6e",
        REAL_SETTINGS[:6] + b"\x02" + REAL_SETTINGS[7:],
        b"",
    ],
    ids=["short", "long", "checksum", "changed-byte", "empty"],
)
def test_bad_settings_blocks_give_none(block: bytes) -> None:
    """A block of the wrong length or with a wrong checksum decodes to None."""
    assert decode_settings(block) is None


# Single packets: every field at its extremes.


@pytest.mark.parametrize(
    "wire",
    [
        Wire(),
        Wire(
            volts_tenths=0xFFFF,
            ch1_abs=UINT40_MAX,
            ch2_abs=UINT40_MAX,
            ch1_pol=UINT40_MAX,
            ch2_pol=UINT40_MAX,
            reserved=b"\xff" * 4,
            serial=0xFFFF,
            flag=0xFF,
            unit_id=0xFF,
            ch1_centiamps=0xFFFF,
            ch2_centiamps=0xFFFF,
            seconds=UINT24_MAX,
            aux=(UINT32_MAX,) * 5,
            dc_raw=0xFFFF,
        ),
        Wire(
            volts_tenths=0,
            ch1_abs=0,
            ch2_abs=0,
            ch1_pol=0,
            ch2_pol=0,
            serial=0,
            flag=0,
            unit_id=0,
            ch1_centiamps=0,
            ch2_centiamps=0,
            seconds=0,
            aux=(0,) * 5,
            dc_raw=0,
        ),
        Wire(ch1_abs=1 << 32, ch2_abs=1 << 39, ch1_pol=0xFF_0000_0001, ch2_pol=1),
        Wire(seconds=1 << 16, aux=(1 << 31, 1 << 24, 1 << 16, 1 << 8, 1)),
        Wire(flag=0x07),
        Wire(flag=0x08),
        Wire(flag=0x10),
        Wire(flag=0xE5),
        Wire(code=0x01),
        Wire(code=0x01, ch1_abs=UINT40_MAX, seconds=UINT24_MAX, flag=0x1F),
    ],
    ids=[
        "defaults",
        "all-max",
        "all-zero",
        "uint40-bytes",
        "uint24-uint32-bytes",
        "reset-7",
        "ch1-polarity",
        "ch2-polarity",
        "high-flag-bits",
        "ecm1220",
        "ecm1220-max",
    ],
)
def test_fields_at_their_extremes(wire: Wire) -> None:
    """Each generated packet decodes to exactly the fields it was built from."""
    assert parse_whole(wire.encode()) == (
        [wire.packet()],
        {
            "accepted": 1,
            "rejected": {},
            "rejected_total": 0,
            "discarded_bytes": 0,
            "buffered_bytes": 0,
        },
    )


def test_extreme_values_as_numbers() -> None:
    """The maxima, written out: 6553.5 V, 655.35 A, reset counter 7, both polarities."""
    wire = Wire(
        volts_tenths=0xFFFF,
        ch1_centiamps=0xFFFF,
        ch1_abs=UINT40_MAX,
        seconds=UINT24_MAX,
        aux=(UINT32_MAX, 0, 0, 0, 0),
        flag=0xFF,
    )
    (packet,) = EcmParser().feed(wire.encode())
    assert (packet.voltage, packet.ch1_amps, packet.ch2_amps) == (6553.5, 655.35, 2.75)
    assert (packet.ch1_abs_ws, packet.seconds, packet.aux_ws[0]) == (
        1_099_511_627_775,
        16_777_215,
        4_294_967_295,
    )
    assert (packet.reset_counter, packet.ch1_polarity, packet.ch2_polarity) == (
        7,
        True,
        True,
    )


@pytest.mark.parametrize(
    ("unit_id", "serial", "device_id"),
    [(5, 434, "500434"), (0, 0, "000000"), (255, 65535, "25565535"), (3, 7, "300007")],
)
def test_device_id_combines_unit_and_serial(
    unit_id: int, serial: int, device_id: str
) -> None:
    """Unit id then the serial padded to five digits, for packets and settings alike."""
    (packet,) = EcmParser().feed(Wire(unit_id=unit_id, serial=serial).encode())
    assert packet.device_id == device_id
    assert (
        EcmSettings(
            send_interval=1, firmware="1.035", unit_id=unit_id, serial=serial
        ).device_id
        == device_id
    )


def test_parsed_packets_are_ordinary_frozen_packets() -> None:
    """A parsed packet is an EcmPacket like any other: every field set, frozen, hashable."""
    (packet,) = EcmParser().feed(Wire().encode())
    expected = Wire().packet()
    assert type(packet) is EcmPacket
    assert packet == expected
    assert hash(packet) == hash(expected)
    assert [getattr(packet, name) for name in EcmPacket._fields] == [
        getattr(expected, name) for name in EcmPacket._fields
    ]
    assert repr(packet) == repr(expected)
    with pytest.raises(AttributeError):
        packet.seconds = 1  # type: ignore[misc]
    assert packet._replace(seconds=1) == expected._replace(seconds=1)


# Models and channels.


def test_channels_by_their_labels_on_the_unit() -> None:
    """Seven channels: CH1 and CH2 polarized, then the five AUX channels."""
    assert POLARIZED_CHANNELS == ("ch1", "ch2")
    assert AUX_CHANNELS == ("aux1", "aux2", "aux3", "aux4", "aux5")
    assert CHANNELS == ("ch1", "ch2", "aux1", "aux2", "aux3", "aux4", "aux5")


@pytest.mark.parametrize(
    ("model", "channels", "dc_input"),
    [
        ("ECM-1240", ("ch1", "ch2", "aux1", "aux2", "aux3", "aux4", "aux5"), True),
        ("ECM-1220", ("ch1", "ch2"), False),
    ],
)
def test_what_each_model_has(
    model: str, channels: tuple[str, ...], dc_input: bool
) -> None:
    """The ECM-1220 has neither the AUX channels nor the DC input."""
    assert (model_channels(model), has_dc_input(model)) == (channels, dc_input)


# Framing: corrupt candidates, junk, FE FF inside data.

# CH1's absolute counter 0x03FFFE is sent as FE FF 03 00 00: a fake ECM-1240 header at offset 5.
FAKE_HEADER_COUNTER = 0x03FFFE


def test_packet_whose_data_holds_fe_ff_is_read_whole() -> None:
    """FE FF 03 inside a packet's counters and serial does not disturb a packet read whole."""
    wire = Wire(ch1_abs=FAKE_HEADER_COUNTER, serial=0xFFFE, flag=0x03)
    data = wire.encode()
    assert data[5:8] == data[29:32] == b"\xfe\xff\x03"
    assert parse_whole(data) == (
        [wire.packet()],
        {
            "accepted": 1,
            "rejected": {},
            "rejected_total": 0,
            "discarded_bytes": 0,
            "buffered_bytes": 0,
        },
    )


def test_corrupt_packet_with_a_fake_header_then_a_good_one() -> None:
    """Bad checksum, then its inner FE FF 03 fails on the footer; the next packet is found."""
    corrupt = Wire(ch1_abs=FAKE_HEADER_COUNTER).encode(checksum_error=1)
    good = Wire(seconds=9701)
    assert parse_whole(corrupt + good.encode()) == (
        [good.packet()],
        {
            "accepted": 1,
            "rejected": {EcmRejectReason.CHECKSUM: 1, EcmRejectReason.FOOTER: 1},
            "rejected_total": 2,
            "discarded_bytes": 65,
            "buffered_bytes": 0,
        },
    )


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (Wire().encode(checksum_error=1), EcmRejectReason.CHECKSUM),
        (Wire().encode(checksum_error=255), EcmRejectReason.CHECKSUM),
        (Wire().encode(footer=b"\xff\xff"), EcmRejectReason.FOOTER),
        (Wire().encode(footer=b"\xfe\xff"), EcmRejectReason.FOOTER),
        (Wire(code=0x01).encode(checksum_error=128), EcmRejectReason.CHECKSUM),
        (Wire(code=0x01).encode(footer=b"\x00\x00"), EcmRejectReason.FOOTER),
    ],
    ids=[
        "checksum+1",
        "checksum-1",
        "footer-ffff",
        "footer-swapped",
        "1220-checksum",
        "1220-footer",
    ],
)
def test_corrupt_packet_immediately_followed_by_a_good_one(
    bad: bytes, reason: EcmRejectReason
) -> None:
    """One rejection of the right kind, the whole bad packet discarded, the good one read."""
    good = Wire(seconds=9701)
    assert parse_whole(bad + good.encode()) == (
        [good.packet()],
        {
            "accepted": 1,
            "rejected": {reason: 1},
            "rejected_total": 1,
            "discarded_bytes": len(bad),
            "buffered_bytes": 0,
        },
    )


def test_footer_is_checked_before_the_checksum() -> None:
    """A candidate wrong in both counts once, as FOOTER."""
    bad = Wire().encode(footer=b"\x00\x00", checksum_error=1)
    parser = EcmParser()
    assert parser.feed(bad + Wire().encode()) == (Wire().packet(),)
    assert parser.rejected == {EcmRejectReason.FOOTER: 1}


FOOTER_ONCE = {EcmRejectReason.FOOTER: 1}


@pytest.mark.parametrize(
    ("length", "rejected"),
    [
        (1, {}),
        (2, {}),
        (3, FOOTER_ONCE),
        (30, FOOTER_ONCE),
        (42, FOOTER_ONCE),
        # Its footer is whole: the next packet's FE lands where the checksum belongs.
        (64, {EcmRejectReason.CHECKSUM: 1}),
    ],
)
def test_truncated_packet_followed_by_a_good_one(
    length: int, rejected: dict[EcmRejectReason, int]
) -> None:
    """A packet cut short is rejected once the next packet fills its length; that one is read."""
    truncated = Wire().encode()[:length]
    good = Wire(seconds=9701)
    assert parse_whole(truncated + good.encode()) == (
        [good.packet()],
        {
            "accepted": 1,
            "rejected": rejected,
            "rejected_total": len(rejected),
            "discarded_bytes": length,
            "buffered_bytes": 0,
        },
    )


@pytest.mark.parametrize(
    ("junk", "rejected"),
    [
        (b"\x00", {}),
        (b"\xfc\xfc\xfc", {}),
        (b"\xff\xfe\xff\xfe", {}),
        (b"\xfe", {}),
        (b"\xfe\xfe", {}),
        (b"\xfe\xff", {}),
        (b"\xfe\xff\x02", {}),
        (b"\xfe\xff\x04\x05", {}),
        (b"\xfe\xff\x03", {EcmRejectReason.FOOTER: 1}),
        (b"\xfe\xff\x01", {EcmRejectReason.FOOTER: 1}),
        (b"\xfe\xff\x01\xfe\xff\x03", {EcmRejectReason.FOOTER: 2}),
        (bytes(range(0xFE)), {}),
    ],
)
def test_junk_before_a_packet_is_counted_and_skipped(
    junk: bytes, rejected: dict[EcmRejectReason, int]
) -> None:
    """Junk, including header fragments and headers of unknown formats, is discarded byte by byte."""
    good = Wire()
    assert parse_whole(junk + good.encode()) == (
        [good.packet()],
        {
            "accepted": 1,
            "rejected": rejected,
            "rejected_total": sum(rejected.values()),
            "discarded_bytes": len(junk),
            "buffered_bytes": 0,
        },
    )


@pytest.mark.parametrize(
    ("tail", "buffered", "discarded"),
    [
        (b"", 0, 0),
        (b"\x00", 0, 1),
        (b"\xfe", 1, 0),
        (b"\x00\xfe", 1, 1),
        (b"\xfe\xff", 2, 0),
        (b"\xfe\xff\x05", 0, 3),
        (b"\xfe\xff\x03", 3, 0),
        (Wire().encode()[:64], 64, 0),
        (Wire(code=0x01).encode()[:42], 42, 0),
    ],
)
def test_an_unfinished_tail_waits_in_the_buffer(
    tail: bytes, buffered: int, discarded: int
) -> None:
    """What may still become a packet is kept; everything else is discarded at once."""
    parser = EcmParser()
    assert parser.feed(Wire().encode() + tail) == (Wire().packet(),)
    assert (parser.buffered_bytes, parser.discarded_bytes, parser.rejected_total) == (
        buffered,
        discarded,
        0,
    )


def test_a_packet_completes_across_calls() -> None:
    """The header and the 61 bytes after it give nothing; the last byte gives the packet."""
    data = Wire().encode()
    parser = EcmParser()
    assert parser.feed(data[:3]) == ()
    # The parser knows the packet's length now: these reads only wait for it.
    assert parser.feed(data[3:30]) == ()
    assert parser.feed(data[30:64]) == ()
    assert parser.feed(data[64:]) == (Wire().packet(),)
    assert parser.feed(b"") == ()
    assert state(parser)["buffered_bytes"] == 0


@pytest.mark.parametrize("index", range(65))
def test_every_single_bit_error_loses_only_its_own_packet(index: int) -> None:
    """A real packet with any one bit flipped is never read; the good packet after it always is."""
    good = Wire(seconds=9701)
    for bit in range(8):
        spoilt = bytearray(REAL_PACKET)
        spoilt[index] ^= 1 << bit
        parser = EcmParser()
        assert parser.feed(bytes(spoilt) + good.encode()) == (good.packet(),), bit
        assert parser.discarded_bytes == 65, bit


# A realistic stream with exact expectations, fed in every way.


def realistic() -> tuple[bytes, list[EcmPacket]]:
    """Build a stream of good, corrupt, cut and mixed-model packets among junk."""
    goods = [Wire(seconds=9700 + n, ch1_abs=1000 + 7 * n) for n in range(8)]
    ecm1220 = [Wire(code=0x01, seconds=500 + n, unit_id=1, serial=77) for n in range(2)]
    inner = Wire(ch1_abs=FAKE_HEADER_COUNTER, serial=0xFFFE, flag=0x03, seconds=9999)
    pieces = [
        b"\x00\x13junk\xfc",  # 7 bytes of junk
        goods[0].encode(),
        Wire(ch1_abs=FAKE_HEADER_COUNTER).encode(
            checksum_error=1
        ),  # CHECKSUM, inner FOOTER
        goods[1].encode(),
        b"\xfe\xff\x03",  # FOOTER
        goods[2].encode(),
        ecm1220[0].encode(),
        goods[7].encode()[:30],  # FOOTER
        goods[3].encode(),
        inner.encode(),
        b"\xfe\xff\x02",
        b"\xfe\xff",
        goods[4].encode(),
        Wire().encode(footer=b"\xff\xff"),  # FOOTER
        ecm1220[1].encode(),
        b"\xfe",
        goods[5].encode(),
        goods[6].encode()[:23],  # waits in the buffer
    ]
    packets = [
        goods[0].packet(),
        goods[1].packet(),
        goods[2].packet(),
        ecm1220[0].packet(),
        goods[3].packet(),
        inner.packet(),
        goods[4].packet(),
        ecm1220[1].packet(),
        goods[5].packet(),
    ]
    return b"".join(pieces), packets


REALISTIC_STREAM, REALISTIC_PACKETS = realistic()
REALISTIC_STATE = {
    "accepted": 9,
    "rejected": {EcmRejectReason.CHECKSUM: 1, EcmRejectReason.FOOTER: 4},
    "rejected_total": 5,
    # 7 junk + 65 + 3 + 30 + 3 + 2 + 65 + 1
    "discarded_bytes": 176,
    "buffered_bytes": 23,
}


def test_realistic_stream_accounts_for_every_byte() -> None:
    """Accepted packets, discarded and buffered bytes add up to the stream's 740 bytes."""
    assert len(REALISTIC_STREAM) == 740 == 7 * 65 + 2 * 43 + 176 + 23


def test_realistic_stream_fed_whole() -> None:
    """Fed in one piece: exactly the expected packets and counters."""
    assert parse_whole(REALISTIC_STREAM) == (REALISTIC_PACKETS, REALISTIC_STATE)


def test_realistic_stream_fed_one_byte_at_a_time() -> None:
    """One byte per call changes nothing, and the buffer never holds a whole packet."""
    parser = EcmParser()
    packets: list[EcmPacket] = []
    for index in range(len(REALISTIC_STREAM)):
        packets += parser.feed(REALISTIC_STREAM[index : index + 1])
        assert parser.buffered_bytes < 65
    assert packets == REALISTIC_PACKETS
    assert state(parser) == REALISTIC_STATE


def test_realistic_stream_split_at_every_point() -> None:
    """Splitting the stream in two at any offset changes nothing."""
    for cut in range(len(REALISTIC_STREAM) + 1):
        parser = EcmParser()
        assert feed_pieces(parser, REALISTIC_STREAM, [cut]) == REALISTIC_PACKETS, cut
        assert state(parser) == REALISTIC_STATE, cut


def test_realistic_stream_finishes_its_last_packet() -> None:
    """The rest of the buffered packet completes it."""
    parser = EcmParser()
    parser.feed(REALISTIC_STREAM)
    last = Wire(seconds=9706, ch1_abs=1042)
    assert parser.feed(last.encode()[23:]) == (last.packet(),)
    assert (parser.accepted, parser.buffered_bytes) == (10, 0)


def test_reference_framer_agrees_with_the_hand_counts() -> None:
    """The tests' slow reference framer gives the same answer as the hand-made expectations."""
    assert reference_parse(REALISTIC_STREAM) == (REALISTIC_PACKETS, REALISTIC_STATE)


# Counters.


def test_counter_widths() -> None:
    """Seconds wrap at 2^24, CH1 and CH2 watt-seconds at 2^40, AUX watt-seconds at 2^32."""
    assert SECONDS_BITS == 24
    assert COUNTER_BITS == {
        "ch1": 40,
        "ch2": 40,
        "aux1": 32,
        "aux2": 32,
        "aux3": 32,
        "aux4": 32,
        "aux5": 32,
    }


@pytest.mark.parametrize(
    ("previous", "current", "bits", "delta"),
    [
        (3, 5, 24, 2),
        (5, 3, 24, UINT24_MAX - 1),
        (0, 0, 40, 0),
        (UINT40_MAX, 0, 40, 1),
        (UINT32_MAX, UINT32_MAX - 1, 32, UINT32_MAX),
        (1, 0, 8, 255),
    ],
)
def test_counter_delta(previous: int, current: int, bits: int, delta: int) -> None:
    """The advance of a counter of the given width, across one wrap."""
    assert counter_delta(previous, current, bits) == delta


# Commands.


def test_command_constants() -> None:
    """The default address and the acknowledgement byte are FC."""
    assert (ADDRESS, ACK) == (0xFC, b"\xfc")


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (poll_command(), (b"\xfc", b"SPK")),
        (poll_command(0xFF), (b"\xff", b"SPK")),
        (realtime_command(True), (b"\xfc", b"TOG", b"XTD")),
        (realtime_command(False), (b"\xfc", b"TOG", b"OFF")),
        (realtime_command(True, address=0xFD), (b"\xfd", b"TOG", b"XTD")),
        (settings_request(), (b"\xfc", b"SET", b"RCV")),
        (settings_request(0xFE), (b"\xfe", b"SET", b"RCV")),
    ],
)
def test_command_bytes(chunks: tuple[bytes, ...], expected: tuple[bytes, ...]) -> None:
    """Each command is its address chunk then the spec's ASCII chunks."""
    assert chunks == expected


@pytest.mark.parametrize("address", [0xFB, 0x100, 0, -1])
def test_address_out_of_range(address: int) -> None:
    """Units answer to FC, FD, FE or FF only."""
    with pytest.raises(ValueError, match="address"):
        poll_command(address)


# Hypothesis: generated packets and streams.

WIRES = st.builds(
    Wire,
    code=st.sampled_from([0x01, 0x03]),
    volts_tenths=st.integers(0, 0xFFFF),
    ch1_abs=st.integers(0, UINT40_MAX),
    ch2_abs=st.integers(0, UINT40_MAX),
    ch1_pol=st.integers(0, UINT40_MAX),
    ch2_pol=st.integers(0, UINT40_MAX),
    reserved=st.binary(min_size=4, max_size=4),
    serial=st.integers(0, 0xFFFF),
    flag=st.integers(0, 0xFF),
    unit_id=st.integers(0, 0xFF),
    ch1_centiamps=st.integers(0, 0xFFFF),
    ch2_centiamps=st.integers(0, 0xFFFF),
    seconds=st.integers(0, UINT24_MAX),
    aux=st.tuples(*[st.integers(0, UINT32_MAX)] * 5),
    dc_raw=st.integers(0, 0xFFFF),
)
NO_FE_JUNK = st.binary(max_size=80).map(lambda data: data.replace(b"\xfe", b""))


@st.composite
def spoilt(draw: st.DrawFn) -> bytes:
    """Draw a packet cut short, or with one byte changed."""
    data = bytearray(draw(WIRES).encode())
    if draw(st.booleans()):
        return bytes(data[: draw(st.integers(1, len(data) - 1))])
    index = draw(st.integers(0, len(data) - 1))
    data[index] ^= draw(st.integers(1, 255))
    return bytes(data)


TOKENS = st.sampled_from(
    [
        b"\xfe",
        b"\xff",
        b"\xfe\xff",
        b"\xfe\xff\x03",
        b"\xfe\xff\x01",
        b"\xff\xfe",
        b"\x00",
        b"\xfc",
    ]
)
ANY_STREAM = st.lists(
    st.one_of(st.binary(max_size=40), TOKENS, WIRES.map(Wire.encode), spoilt()),
    max_size=25,
).map(b"".join)


@BOUNDED
@given(wire=WIRES)
def test_any_packet_round_trips(wire: Wire) -> None:
    """Any field values, on either model, come back exactly."""
    parser = EcmParser()
    assert parser.feed(wire.encode()) == (wire.packet(),)
    assert (parser.accepted, parser.rejected_total, parser.discarded_bytes) == (1, 0, 0)


@BOUNDED
@given(data=st.one_of(st.binary(max_size=600), ANY_STREAM), draw=st.data())
def test_arbitrary_bytes_match_the_reference_framer(
    data: bytes, draw: st.DataObject
) -> None:
    """Any bytes, cut anywhere: no exception, and the slow reference framer's packets and counts."""
    expected = reference_parse(data)
    assert parse_whole(data) == expected
    parser = EcmParser()
    assert (
        feed_pieces(parser, data, draw.draw(split_points(data, most=30))) == expected[0]
    )
    assert state(parser) == expected[1]


@BOUNDED
@given(data=ANY_STREAM)
def test_every_returned_packet_survives_re_encoding(data: bytes) -> None:
    """Each packet found in any stream, encoded again with its checksum, decodes to itself."""
    for packet in EcmParser().feed(data):
        assert EcmParser().feed(Wire.of(packet).encode()) == (packet,)


@BOUNDED
@given(
    items=st.lists(st.tuples(NO_FE_JUNK, WIRES), max_size=20),
    trailing=NO_FE_JUNK,
    draw=st.data(),
)
def test_packets_among_junk_are_all_recovered(
    items: list[tuple[bytes, Wire]], trailing: bytes, draw: st.DataObject
) -> None:
    """Junk without FE between packets: every packet back, every junk byte discarded, nothing rejected."""
    data = b"".join(junk + wire.encode() for junk, wire in items) + trailing
    junk_bytes = sum(len(junk) for junk, _ in items) + len(trailing)
    parser = EcmParser()
    packets = feed_pieces(parser, data, draw.draw(split_points(data, most=30)))
    assert packets == [wire.packet() for _, wire in items]
    assert state(parser) == {
        "accepted": len(items),
        "rejected": {},
        "rejected_total": 0,
        "discarded_bytes": junk_bytes,
        "buffered_bytes": 0,
    }


@BOUNDED
@given(data=ANY_STREAM, draw=st.data())
def test_buffer_stays_bounded_and_bytes_add_up(
    data: bytes, draw: st.DataObject
) -> None:
    """After every call the buffer is under one packet; packets, discards and buffer sum to the input."""
    parser = EcmParser()
    bounds = [0, *sorted(draw.draw(split_points(data, most=30))), len(data)]
    packet_bytes = 0
    for start, end in pairwise(bounds):
        for packet in parser.feed(data[start:end]):
            packet_bytes += 65 if packet.model == "ECM-1240" else 43
        assert parser.buffered_bytes < 65
        assert packet_bytes + parser.discarded_bytes + parser.buffered_bytes == end


def test_drop_partial_discards_a_half_packet() -> None:
    """A packet cut by a reconnect is discarded, and the next whole one is found."""
    packet = REAL_PACKET
    parser = EcmParser()
    assert parser.feed(packet[:30]) == ()
    parser.drop_partial()
    assert parser.discarded_bytes == 30
    assert len(parser.feed(packet)) == 1
    assert parser.buffered_bytes == 0
