"""The ECM-1240 model against its spec and the real captures; its command line.

Packets are read back with the small decoder below (offsets straight from the spec's
table), never with the integration's parser. Expected numbers are worked out by hand.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from itertools import islice, pairwise
from pathlib import Path

import pytest
import serialx

from custom_components.mains_monitor.port_session import write
from simulator.__main__ import main
from simulator.ecm1240 import (
    EcmCommandPort,
    EcmModel,
    EcmPacer,
    EcmUnit,
    Loads,
    demo_loads,
    household,
    main_loads,
    pulses,
    run,
    sags_and_swells,
    solar,
    start_near_wraps,
    steady_loads,
    steady_voltage,
)
from tests.simulator_cli import (
    TIMEOUT,
    read_exactly,
    serial_reader,
    simulator_process,
    stop_process,
)

REAL_PACKET = bytes.fromhex(
    "feff03050861bf320000cfed070000418b2e00002e7e010000b2010500b201980515005418"
    "e42500460000003f000000410000003f00000041000000ff01fffe9e"
)
REAL_SETTINGS = bytes.fromhex(
    "a704a704f403010c040b0501b290000000008d8b8c8bce00ffffffff05803e006d"
)
FC = b"\xfc"
TWO_40 = 1 << 40
TWO_32 = 1 << 32
TWO_24 = 1 << 24
HOUR = 3600
DAY = 24 * HOUR


# --- a test-local decoder, from the spec's packet table -------------------------------


@dataclass(frozen=True)
class Packet:
    """Every field of one packet, raw."""

    code: int
    voltage_tenths: int
    ch1_abs: int
    ch2_abs: int
    ch1_pol: int
    ch2_pol: int
    reserved: bytes
    serial: int
    flag: int
    unit_id: int
    ch1_centiamps: int
    ch2_centiamps: int
    seconds: int
    aux: tuple[int, ...]
    dc_raw: int | None


def le(data: bytes, offset: int, size: int) -> int:
    """A little-endian unsigned integer at `offset`."""
    return int.from_bytes(data[offset : offset + size], "little")


def decode(data: bytes) -> Packet:
    """Decode one whole packet, checking header, length, footer and checksum."""
    assert data[:2] == b"\xfe\xff"
    size = {0x03: 65, 0x01: 43}[data[2]]
    assert len(data) == size
    assert data[size - 3 : size - 1] == b"\xff\xfe"
    assert data[-1] == sum(data[:-1]) % 256
    full = data[2] == 0x03
    return Packet(
        code=data[2],
        voltage_tenths=int.from_bytes(data[3:5], "big"),
        ch1_abs=le(data, 5, 5),
        ch2_abs=le(data, 10, 5),
        ch1_pol=le(data, 15, 5),
        ch2_pol=le(data, 20, 5),
        reserved=data[25:29],
        serial=le(data, 29, 2),
        flag=data[31],
        unit_id=data[32],
        ch1_centiamps=le(data, 33, 2),
        ch2_centiamps=le(data, 35, 2),
        seconds=le(data, 37, 3),
        aux=tuple(le(data, 40 + 4 * k, 4) for k in range(5)) if full else (),
        dc_raw=le(data, 60, 2) if full else None,
    )


def frames(stream: bytes) -> list[bytes]:
    """The valid packets in a byte stream (a partial one at either end is skipped)."""
    found = []
    at = stream.find(b"\xfe\xff")
    while at >= 0 and at + 3 <= len(stream):
        size = {0x03: 65, 0x01: 43}.get(stream[at + 2], 0)
        candidate = stream[at : at + size]
        if (
            size
            and len(candidate) == size
            and candidate[-3:-1] == b"\xff\xfe"
            and candidate[-1] == sum(candidate[:-1]) % 256
        ):
            found.append(candidate)
            at = stream.find(b"\xfe\xff", at + size)
        else:
            at = stream.find(b"\xfe\xff", at + 1)
    return found


def captured_unit() -> EcmUnit:
    """A unit holding the values the real packet decodes to (spec, "real capture")."""
    return EcmUnit(
        voltage=128.8,
        ch1_abs_ws=3_325_793,
        ch1_pol_ws=3_050_305,
        ch2_abs_ws=519_631,
        ch2_pol_ws=97_838,
        serial=434,
        unit_id=5,
        ch1_amps=0.21,
        ch2_amps=62.28,
        seconds=9700,
        aux_ws=[70, 63, 65, 63, 65],
    )


# --- the packet -----------------------------------------------------------------------


def test_decoder_reads_the_capture_as_the_spec_says() -> None:
    """The test's own decoder gives the spec's values for the real packet."""
    packet = decode(REAL_PACKET)
    assert packet.voltage_tenths == 1288
    assert (packet.ch1_abs, packet.ch1_pol) == (3_325_793, 3_050_305)
    assert (packet.ch2_abs, packet.ch2_pol) == (519_631, 97_838)
    assert (packet.serial, packet.unit_id, packet.flag) == (434, 5, 0x98)
    assert (packet.ch1_centiamps, packet.ch2_centiamps) == (21, 6228)
    assert packet.seconds == 9700
    assert packet.aux == (70, 63, 65, 63, 65)
    assert packet.dc_raw == 511
    assert REAL_PACKET[-1] == 0x9E


def test_real_packet_reproduced_byte_for_byte() -> None:
    """From its decoded values the unit sends exactly the captured 65 bytes."""
    assert captured_unit().packet() == REAL_PACKET


def test_reserved_bytes_are_carried_as_captured() -> None:
    """The captured "reserved" bytes are not zeros: serial (LE), unit id, 0."""
    assert REAL_PACKET[25:29] == bytes([0xB2, 0x01, 0x05, 0x00])
    unit = EcmUnit(unit_id=9, serial=0x1234)
    assert decode(unit.packet()).reserved == bytes([0x34, 0x12, 0x09, 0x00])
    unit.reserved = bytes(4)
    assert decode(unit.packet()).reserved == bytes(4)


def test_flag_byte() -> None:
    """Bits 0-2 reset counter, bit 3 CH1 and bit 4 CH2 polarity, bits 5-7 spare."""
    unit = EcmUnit(reset_counter=5, ch1_polarity=False, flag_spare=0)
    assert decode(unit.packet()).flag == 0b0001_0101
    unit.ch1_polarity, unit.ch2_polarity, unit.flag_spare = True, False, 0b1110_0000
    assert decode(unit.packet()).flag == 0b1110_1101


def test_ecm1220_packet() -> None:
    """43 bytes: code 01, bytes 3-39 as the 1240's, then footer and checksum."""
    full = captured_unit().packet()
    unit = captured_unit()
    unit.model = EcmModel.ECM_1220
    short = unit.packet()
    assert len(short) == 43
    assert short[:3] == b"\xfe\xff\x01"
    assert short[3:40] == full[3:40]
    assert short[40:42] == b"\xff\xfe"
    assert short[42] == sum(short[:42]) % 256
    assert decode(short).seconds == 9700


def test_voltage_is_big_endian_tenths() -> None:
    """240.5 V is 2405 = 0x0965, sent 09 65."""
    assert EcmUnit(voltage=240.5).packet()[3:5] == b"\x09\x65"


def test_current_is_pinned_to_two_bytes() -> None:
    """A current beyond 655.35 A is sent as 0xFFFF, not wrapped."""
    unit = EcmUnit(ch1_amps=1000.0)
    assert decode(unit.packet()).ch1_centiamps == 0xFFFF


# --- the settings block ---------------------------------------------------------------


def test_settings_capture_reproduced_byte_for_byte() -> None:
    """Unit 5, serial 434, firmware 1.035, interval 1: the captured 33 bytes."""
    block = EcmUnit().settings_block()
    assert block == REAL_SETTINGS
    assert block[6] == 1
    assert block[8:10] == (1035).to_bytes(2, "big")
    assert block[10] == 5
    assert block[11:13] == (434).to_bytes(2, "big")
    assert block[32] == 0x6D


def test_settings_fields() -> None:
    """The named fields move; every other byte stays as captured; the checksum follows."""
    unit = EcmUnit(send_interval=60, firmware="2.1", unit_id=0x11, serial=0x1234)
    block = unit.settings_block()
    expected = bytearray(REAL_SETTINGS)
    expected[6] = 60
    expected[8:10] = b"\x08\x34"  # 2100
    expected[10] = 0x11
    expected[11:13] = b"\x12\x34"  # big-endian here
    expected[32] = sum(expected[:32]) % 256
    assert block == bytes(expected)


# --- counting -------------------------------------------------------------------------


def test_import_integrates_power() -> None:
    """1000 W for 10 s: CH1 absolute +10 000 Ws, polarized +0, net 1000 W, 8.33 A."""
    unit = EcmUnit(ch1_abs_ws=500, ch1_pol_ws=7)
    unit.advance(10, Loads(ch1_watts=1000))
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.ch1_pol, packet.seconds) == (10_500, 7, 10)
    assert ((packet.ch1_abs - 500) - 2 * (packet.ch1_pol - 7)) / 10 == 1000
    assert packet.ch1_centiamps == 833  # 1000 / 120 = 8.333 A
    assert packet.flag & 0b0001_1000 == 0b0001_1000


def test_export_counts_both_counters() -> None:
    """-1500 W for 4 s on CH2: absolute and polarized +6000 Ws each, net -1500 W."""
    unit = EcmUnit()
    unit.advance(4, Loads(ch2_watts=-1500))
    packet = decode(unit.packet())
    assert (packet.ch2_abs, packet.ch2_pol) == (6000, 6000)
    assert (packet.ch2_abs - 2 * packet.ch2_pol) / 4 == -1500
    assert packet.ch2_centiamps == 1250  # 1500 / 120 = 12.5 A
    assert packet.flag & 0b0001_1000 == 0b0000_1000  # CH2 polarity bit cleared
    assert (packet.ch1_abs, packet.ch1_pol) == (0, 0)


def test_aux_channels_integrate() -> None:
    """Each AUX counter adds its own watts times seconds."""
    unit = EcmUnit(aux_ws=[1, 2, 3, 4, 5])
    unit.advance(3, Loads(aux_watts=(10, 20, 0, 400, 2.5)))
    assert decode(unit.packet()).aux == (31, 62, 3, 1204, 13)  # 7.5 rounds to 8


def test_advance_by_zero_changes_only_currents() -> None:
    """Zero seconds add nothing; the currents follow the loads."""
    unit = EcmUnit(seconds=40)
    unit.advance(0, Loads(ch1_watts=240))
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.seconds, packet.ch1_centiamps) == (0, 40, 200)
    with pytest.raises(ValueError, match="forward"):
        unit.advance(-1, Loads())


def test_counters_wrap() -> None:
    """Across 2^40, 2^32 and 2^24 every counter restarts from zero."""
    unit = EcmUnit(
        ch1_abs_ws=TWO_40 - 100,
        ch1_pol_ws=TWO_40 - 1,
        ch2_abs_ws=TWO_40 - 3000,
        ch2_pol_ws=TWO_40 - 3000,
        aux_ws=[TWO_32 - 1, TWO_32 - 10, 0, 0, TWO_32 - 2000],
        seconds=TWO_24 - 2,
    )
    unit.advance(3, Loads(ch1_watts=-50, ch2_watts=1000, aux_watts=(1, 5, 0, 0, 700)))
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.ch1_pol) == (50, 149)
    assert (packet.ch2_abs, packet.ch2_pol) == (0, TWO_40 - 3000)
    assert packet.aux == (2, 5, 0, 0, 100)
    assert packet.seconds == 1


def test_reset() -> None:
    """Counters and seconds restart at 0; the reset counter steps and rolls over after 7."""
    unit = captured_unit()
    unit.reset_counter = 6
    unit.reset()
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.ch2_abs, packet.ch1_pol, packet.ch2_pol) == (0,) * 4
    assert packet.aux == (0,) * 5
    assert packet.seconds == 0
    assert packet.flag & 7 == 7
    unit.reset()
    assert decode(unit.packet()).flag & 7 == 0
    assert (packet.serial, packet.unit_id, packet.voltage_tenths) == (434, 5, 1288)


def test_start_near_wraps() -> None:
    """Every counter starts just below its wrap; the seconds 30 s before theirs."""
    unit = EcmUnit()
    start_near_wraps(unit)
    packet = decode(unit.packet())
    assert packet.ch1_abs == packet.ch2_pol == TWO_40 - 20_000
    assert packet.aux == (TWO_32 - 2000,) * 5
    assert packet.seconds == TWO_24 - 30


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"unit_id": 256}, "unit_id"),
        ({"serial": -1}, "serial"),
        ({"serial": 65536}, "serial"),
        ({"send_interval": 0}, "send_interval"),
        ({"send_interval": 256}, "send_interval"),
        ({"reset_counter": 8}, "reset_counter"),
        ({"seconds": TWO_24}, "seconds"),
        ({"ch1_abs_ws": TWO_40}, "ch1_abs_ws"),
        ({"ch2_pol_ws": -1}, "ch2_pol_ws"),
        ({"aux_ws": [0] * 4}, "aux_ws"),
        ({"aux_ws": [0, 0, 0, 0, TWO_32]}, "aux_ws"),
        ({"dc_voltage_raw": 65536}, "dc_voltage_raw"),
        ({"flag_spare": 0x08}, "flag_spare"),
        ({"reserved": b"\x00"}, "reserved"),
        ({"firmware": "one"}, "firmware"),
        ({"firmware": "1.0355"}, "firmware"),
        ({"firmware": "66"}, "firmware"),
        ({"model": "ECM-1250"}, "ECM-1250"),
    ],
)
def test_impossible_settings_are_refused(
    settings: dict[str, object], message: str
) -> None:
    """A unit cannot be built with a value its packet could not carry."""
    with pytest.raises(ValueError, match=message):
        EcmUnit(**settings)  # type: ignore[arg-type]


def test_loads_need_five_aux_values() -> None:
    """Loads name all five AUX channels."""
    with pytest.raises(ValueError, match="aux_watts"):
        Loads(aux_watts=(1.0, 2.0))
    assert (
        Loads(ch1_watts=-10, ch2_watts=5, aux_watts=(1, 0, 0, 0, -2)).total_watts == 18
    )


# --- the command port -----------------------------------------------------------------


def one_byte_at_a_time(port: EcmCommandPort, data: bytes) -> bytes:
    """Feed `data` byte by byte; everything the unit answered."""
    return b"".join(port.receive(bytes([byte])) for byte in data)


def test_poll() -> None:
    """FC is acked, SPK is acked and followed by one packet."""
    unit = captured_unit()
    port = EcmCommandPort(unit)
    assert port.receive(FC) == FC
    assert port.receive(b"SPK") == FC + REAL_PACKET
    assert port.idle


def test_poll_one_byte_at_a_time() -> None:
    """The answer does not depend on how the bytes are chunked."""
    port = EcmCommandPort(captured_unit())
    assert one_byte_at_a_time(port, b"\xfcSPK") == FC + FC + REAL_PACKET
    assert port.receive(b"\xfcS") == FC
    assert port.receive(b"PK\xfcSP") == FC + REAL_PACKET + FC
    assert port.receive(b"K") == FC + REAL_PACKET


@pytest.mark.parametrize("chunked", [False, True])
def test_realtime_on_and_off(chunked: bool) -> None:
    """TOG OFF silences the unit, TOG XTD turns it back on; each chunk acked."""
    unit = EcmUnit()
    port = EcmCommandPort(unit)
    send = (lambda data: one_byte_at_a_time(port, data)) if chunked else port.receive
    assert send(b"\xfcTOGOFF") == FC * 3
    assert not unit.realtime
    assert send(b"\xfcTOGXTD") == FC * 3
    assert unit.realtime


@pytest.mark.parametrize("chunked", [False, True])
def test_settings_request(chunked: bool) -> None:
    """SET RCV: two acks then the block; the host's FC after it is not a new command."""
    port = EcmCommandPort(EcmUnit())
    send = (lambda data: one_byte_at_a_time(port, data)) if chunked else port.receive
    assert send(b"\xfcSETRCV") == FC + FC + FC + REAL_SETTINGS
    assert not port.idle
    assert send(FC) == b""
    assert send(b"\xfcTOGOFF") == FC * 3


def test_settings_request_without_the_host_ack() -> None:
    """A host that skips the FC after the block starts its next command normally."""
    port = EcmCommandPort(EcmUnit())
    port.receive(b"\xfcSETRCV")
    assert port.receive(b"\x00") == b""
    assert port.receive(b"\xfcTOGOFF") == FC * 3


def test_set_interval() -> None:
    """SET IV2 <n>: four acks, the new interval in the next settings block."""
    unit = EcmUnit()
    port = EcmCommandPort(unit)
    assert one_byte_at_a_time(port, b"\xfcSETIV2\x3c") == FC * 4
    assert unit.send_interval == 60
    assert port.receive(b"\xfcSETRCV")[3 + 6] == 60


def test_set_interval_zero_is_refused() -> None:
    """Interval 0 is out of range: no ack for it, the interval is kept."""
    unit = EcmUnit(send_interval=7)
    port = EcmCommandPort(unit)
    assert port.receive(b"\xfcSETIV2\x00") == FC * 3
    assert unit.send_interval == 7
    assert port.idle


def test_reset_commands() -> None:
    """RKW zeroes the energy counters, RKS the seconds, RLP both; each steps the flag."""
    unit = captured_unit()
    port = EcmCommandPort(unit)
    assert port.receive(b"\xfcRQSRKW") == FC * 3
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.ch2_pol, packet.aux, packet.seconds) == (
        0,
        0,
        (0,) * 5,
        9700,
    )
    assert packet.flag & 7 == 1
    unit.ch1_abs_ws = 99
    assert one_byte_at_a_time(port, b"\xfcRQSRKS") == FC * 3
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.seconds, packet.flag & 7) == (99, 0, 2)
    unit.seconds = 12
    assert port.receive(b"\xfcRQSRLP") == FC * 3
    packet = decode(unit.packet())
    assert (packet.ch1_abs, packet.seconds, packet.flag & 7) == (0, 0, 3)


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        (b"\xfcXYZ", FC),  # unknown first chunk
        (b"\xfcspk", FC),  # commands are upper case
        (b"\xfcTOGXYZ", FC + FC),  # unknown second chunk
        (b"\xfcSETSPK", FC + FC),
        (b"\xfcRQSOFF", FC + FC),
        (b"\xfdSPK", b""),  # another unit's address
        (b"SPK", b""),  # not addressed
        (b"\x00\x01\xfe\xff", b""),  # noise
    ],
)
def test_unknown_input_gets_no_answer(data: bytes, answer: bytes) -> None:
    """Beyond the acks already given, nothing; the unit waits for its address again."""
    unit = EcmUnit()
    port = EcmCommandPort(unit)
    assert port.receive(data) == answer
    assert port.idle
    assert unit.realtime
    assert port.receive(b"\xfcSPK") == FC + FC + unit.packet()


def test_a_second_unit_on_the_bus() -> None:
    """A unit at FD answers FD commands (still acking with FC) and ignores FC ones."""
    unit = captured_unit()
    port = EcmCommandPort(unit, address=0xFD)
    assert port.receive(b"\xfcSPK") == b""
    assert port.receive(b"\xfdSPK") == FC + FC + REAL_PACKET
    with pytest.raises(ValueError, match="address"):
        EcmCommandPort(unit, address=0xFB)


# --- timing ---------------------------------------------------------------------------


def test_run_sends_one_packet_per_second() -> None:
    """Interval 1, 1000 W: packets at 1..10 s, each 1000 Ws and one second further."""
    chunks = list(run(EcmUnit(), steady_loads(Loads(ch1_watts=1000)), duration=10))
    assert [t for t, _ in chunks] == [float(t) for t in range(1, 11)]
    packets = [decode(data) for _, data in chunks]
    assert [p.ch1_abs for p in packets] == [1000 * t for t in range(1, 11)]
    assert [p.seconds for p in packets] == list(range(1, 11))
    assert all(p.ch1_centiamps == 833 for p in packets)


def test_run_honours_the_send_interval_and_start() -> None:
    """Interval 5 from t = 100 for 20 s: packets at 105, 110, 115, 120."""
    unit = EcmUnit(send_interval=5)
    chunks = list(run(unit, steady_loads(Loads()), duration=20, start=100))
    assert [t for t, _ in chunks] == [105.0, 110.0, 115.0, 120.0]
    assert [decode(data).seconds for _, data in chunks] == [5, 10, 15, 20]


def test_run_is_silent_with_realtime_off() -> None:
    """Real-time off: no packet, but the unit keeps counting."""
    unit = EcmUnit(realtime=False)
    assert list(run(unit, steady_loads(Loads(ch2_watts=-200)), duration=30)) == []
    assert (unit.seconds, unit.ch2_abs_ws, unit.ch2_pol_ws) == (30, 6000, 6000)


def test_power_trigger_sends_extra_packets() -> None:
    """Interval 10, trigger 500 W: 100 W, then 1000 W during seconds 3-5, then 100 W.

    The change shows in the packets at 4 (900 W up) and 7 (900 W down), then the
    regular one at 10.
    """

    def profile(t: int) -> Loads:
        """1000 W during seconds 3, 4 and 5; 100 W otherwise."""
        return Loads(ch1_watts=1000 if 3 <= t <= 5 else 100)

    unit = EcmUnit(send_interval=10, trigger_watts=500)
    chunks = list(run(unit, profile, duration=10))
    assert [t for t, _ in chunks] == [4.0, 7.0, 10.0]
    assert [decode(data).ch1_abs for _, data in chunks] == [1300, 3400, 3700]


def test_small_changes_do_not_trigger() -> None:
    """A change below the trigger value sends nothing extra."""

    def profile(t: int) -> Loads:
        """300 W, 700 W from second 2."""
        return Loads(ch1_watts=700 if t >= 2 else 300)

    unit = EcmUnit(send_interval=10, trigger_watts=500)
    assert [t for t, _ in run(unit, profile, duration=10)] == [10.0]


def test_scripted_reset() -> None:
    """A reset at 4 s: that packet and the next restart from zero, reset counter 1."""
    chunks = list(
        run(EcmUnit(), steady_loads(Loads(ch1_watts=500)), duration=6, resets=[4])
    )
    packets = [decode(data) for _, data in chunks]
    assert [p.ch1_abs for p in packets] == [500, 1000, 1500, 0, 500, 1000]
    assert [p.seconds for p in packets] == [1, 2, 3, 0, 1, 2]
    assert [p.flag & 7 for p in packets] == [0, 0, 0, 1, 1, 1]


def test_run_across_every_wrap() -> None:
    """From just below the wraps: each counter restarts at zero and the deltas stay exact."""
    unit = EcmUnit()
    start_near_wraps(unit)
    loads = Loads(ch1_watts=3000, ch2_watts=-3000, aux_watts=(1000,) * 5)
    packets = [decode(data) for _, data in run(unit, steady_loads(loads), duration=40)]
    assert len(packets) == 40
    for t, packet in enumerate(packets, start=1):
        assert packet.ch1_abs == (TWO_40 - 20_000 + 3000 * t) % TWO_40
        assert packet.ch2_pol == (TWO_40 - 20_000 + 3000 * t) % TWO_40
        assert packet.ch1_pol == TWO_40 - 20_000
        assert packet.aux == ((TWO_32 - 2000 + 1000 * t) % TWO_32,) * 5
        assert packet.seconds == (TWO_24 - 30 + t) % TWO_24
    assert packets[6].ch1_abs == 1000  # t = 7: 21 000 Ws on top of 2^40 - 20 000
    assert packets[1].aux[0] == 0  # t = 2
    assert packets[29].seconds == 0  # t = 30
    for before, after in pairwise(packets):
        assert (after.ch1_abs - before.ch1_abs) % TWO_40 == 3000
        assert (after.seconds - before.seconds) % TWO_24 == 1


def test_pacer_follows_interval_changes() -> None:
    """A new send interval (from SET IV2) applies from the next packet on."""
    unit = EcmUnit()
    pacer = EcmPacer(unit, steady_loads(Loads()))
    sent = [t for t in range(1, 4) if pacer.step(t) is not None]
    unit.send_interval = 3
    sent += [t for t in range(4, 13) if pacer.step(t) is not None]
    assert sent == [1, 2, 3, 6, 9, 12]


# --- load profiles --------------------------------------------------------------------


def test_household_profile() -> None:
    """Base 180-210 W, +110 W fridge 900 s of every 2400 s, +2200 W kettle 150 s per half hour."""
    house = household(seed=7)
    watts = [house(t) for t in range(7200)]
    assert min(watts) >= 180
    kettle = [w >= 2380 for w in watts]
    for window in range(4):
        assert sum(kettle[window * 1800 : (window + 1) * 1800]) == 150
    fridge = [(w - 180) % 2200 >= 110 for w in watts]
    assert sum(fridge[:2400]) == sum(fridge[2400:4800]) == 900
    assert household(seed=7)(1234) == watts[1234]
    assert [household(seed=8)(t) for t in range(100)] != watts[:100]


def test_solar_profile() -> None:
    """Export only, in daylight only; at noon between 60 % and 100 % of the peak."""
    sun = solar(seed=1, clock_start=0)
    assert all(sun(t) == 0 for t in range(0, 6 * HOUR, 60))
    assert all(sun(t) == 0 for t in range(18 * HOUR, 24 * HOUR, 60))
    assert all(sun(t) <= 0 for t in range(0, 24 * HOUR, 60))
    assert -3200 <= sun(12 * HOUR) <= -0.6 * 3200
    assert -1000 <= solar(seed=1, peak_watts=1000, clock_start=12 * HOUR)(0) <= -600
    assert [solar(seed=1, clock_start=0)(t) for t in range(0, DAY, 600)] == [
        sun(t) for t in range(0, DAY, 600)
    ]


def test_pulse_profile() -> None:
    """One 4-second 1500 W burst in every minute."""
    burst = pulses(seed=2)
    for minute in range(10):
        watts = [burst(60 * minute + s) for s in range(60)]
        on = [s for s, w in enumerate(watts) if w == 1500]
        assert len(on) == 4
        assert on == list(range(on[0], on[0] + 4))
        assert sum(watts) == 6000


def test_demo_loads() -> None:
    """Household on CH1, solar on CH2, steady AUX1-4, bursts on AUX5; same seed, same loads."""
    loads = demo_loads(seed=4)(100)
    assert loads.ch1_watts == household(seed=4)(100)
    assert loads.ch2_watts == solar(seed=4)(100)
    assert loads.aux_watts == (60.0, 25.0, 0.0, 0.0, pulses(seed=4)(100))
    assert demo_loads(seed=4)(100) == loads


def test_main_loads() -> None:
    """CH1 nets the hidden household, the circuits and the solar export; CH2 is the solar."""
    loads = main_loads(seed=4)(100)
    sun = solar(seed=4, clock_start=7 * HOUR + 30 * 60)(100)
    circuits = (60.0, 25.0, 0.0, 0.0, pulses(seed=4)(100))
    assert loads.ch2_watts == sun < 0
    assert loads.aux_watts == circuits
    assert loads.ch1_watts == household(seed=4)(100) + sum(circuits) + sun
    assert main_loads(seed=4)(100) == loads


def test_main_loads_import_and_export_by_turns() -> None:
    """In the first 10 minutes from 07:30 the main imports and exports, each for a while."""
    profile = main_loads(seed=0)
    watts = [profile(t).ch1_watts for t in range(600)]
    imports = sum(w > 0 for w in watts)
    assert 60 <= imports <= 540
    assert all(profile(t).ch2_watts < 0 for t in range(600))
    # The remainder the circuits leave out is the household: at least its base load.
    remainder = [
        (load := profile(t)).ch1_watts - load.ch2_watts - sum(load.aux_watts)
        for t in range(600)
    ]
    assert min(remainder) >= 180


# --- the command line -----------------------------------------------------------------


def expected_packets(unit: EcmUnit, seed: int, seconds: int = 3000) -> list[bytes]:
    """The unit's state as a packet after 0, 1, 2, ... simulated seconds of the demo."""
    unit.realtime = True
    unit.send_interval = 1
    first = unit.packet()
    return [first] + [data for _, data in run(unit, demo_loads(seed), duration=seconds)]


def is_run_of(found: list[bytes], expected: list[bytes]) -> bool:
    """Whether `found` is a contiguous run of `expected`."""
    size = len(found)
    return any(expected[k : k + size] == found for k in range(len(expected)))


async def first_line(process: asyncio.subprocess.Process) -> str:
    """The line the simulator prints first: where to connect."""
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 3 * TIMEOUT)
    return line.decode().strip()


async def command(ser: serialx.AsyncSerial, *chunks: bytes) -> bytes:
    """Send FC and each chunk, waiting for the unit's FC after each, as a host does."""
    for chunk in (FC, *chunks):
        await write(ser, chunk)
        assert await read_exactly(ser, 1) == FC
    return FC


async def read_packets(ser: serialx.AsyncSerial, count: int) -> list[bytes]:
    """Read until `count` whole packets have arrived; those packets."""
    data = b""
    while len(found := frames(data)) < count:
        data += await asyncio.wait_for(ser.read(4096), TIMEOUT)
    return found


async def test_cli_streams_over_tcp(socket_enabled: None) -> None:
    """Real-time on: consecutive packets of the seeded demo, one per simulated second."""
    async with simulator_process(
        "ecm1240", "--tcp", "127.0.0.1:0", "--seed", "3", "--speed", "20"
    ) as process:
        url = await first_line(process)
        assert url.startswith("socket://127.0.0.1:")
        async with serial_reader(url) as ser:
            found = await read_packets(ser, 5)
            stderr = await stop_process(process)
    assert is_run_of(found, expected_packets(EcmUnit(), seed=3))
    seconds = [decode(data).seconds for data in found]
    assert seconds == list(range(seconds[0], seconds[0] + len(found)))
    assert "ecm1240 ECM-1240 unit 5 serial 434, interval 1 s, real-time on" in stderr
    assert " connected" in stderr


async def test_cli_poll_with_realtime_off(socket_enabled: None) -> None:
    """Real-time off: silent, yet it answers a poll, the settings request and commands."""
    async with simulator_process(
        "ecm1240",
        "--tcp",
        "127.0.0.1:0",
        "--realtime",
        "off",
        "--seed",
        "1",
        "--speed",
        "20",
    ) as process:
        url = await first_line(process)
        async with serial_reader(url) as ser:
            # The first byte is the ack: nothing was streamed before it.
            await command(ser)
            await write(ser, b"SPK")
            reply = await read_exactly(ser, 66)
            assert reply[:1] == FC
            polled = reply[1:]
            await command(ser, b"SET")
            await write(ser, b"RCV")
            assert await read_exactly(ser, 34) == FC + REAL_SETTINGS
            await write(ser, FC)  # the host's ack of the block
            await command(ser, b"SET", b"IV2", b"\x02")
            await command(ser, b"TOG", b"XTD")
            found = await read_packets(ser, 3)
            await stop_process(process)
    expected = expected_packets(EcmUnit(), seed=1)
    assert polled in expected
    assert all(data in expected for data in found)
    seconds = [decode(data).seconds for data in found]
    assert all(b - a == 2 for a, b in pairwise(seconds))
    assert seconds[0] > decode(polled).seconds


async def test_cli_ecm1220_near_wrap_on_a_pty(tmp_path: Path) -> None:
    """Model, unit id, serial and --near-wrap reach the unit; polls work over a pty."""
    path = tmp_path / "ttyECM"
    async with simulator_process(
        "ecm1240",
        "--pty",
        str(path),
        "--model",
        "ECM-1220",
        "--unit-id",
        "9",
        "--serial",
        "77",
        "--near-wrap",
        "--realtime",
        "off",
        "--speed",
        "20",
    ) as process:
        assert await first_line(process) == str(path)
        async with serial_reader(str(path)) as ser:
            await command(ser)
            await write(ser, b"SPK")
            reply = await read_exactly(ser, 44)
            await stop_process(process)
    assert not path.is_symlink()
    packet = decode(reply[1:])
    assert (packet.code, packet.unit_id, packet.serial) == (0x01, 9, 77)
    unit = EcmUnit(model=EcmModel.ECM_1220, unit_id=9, serial=77)
    start_near_wraps(unit)
    assert reply[1:] in expected_packets(unit, seed=0)


async def test_cli_scripted_resets(socket_enabled: None) -> None:
    """--reset-every 3: the seconds run 1, 2, 0, 1, 2, 0 ... and the flag counts resets."""
    async with simulator_process(
        "ecm1240", "--tcp", "127.0.0.1:0", "--reset-every", "3", "--speed", "20"
    ) as process:
        url = await first_line(process)
        async with serial_reader(url) as ser:
            found = await read_packets(ser, 7)
            await stop_process(process)
    unit = EcmUnit()
    expected = [
        data
        for _, data in run(unit, demo_loads(0), duration=600, resets=range(3, 601, 3))
    ]
    assert is_run_of(found, expected)
    assert {decode(data).seconds for data in found} == {0, 1, 2}


@pytest.mark.parametrize(
    "argv",
    [
        ["--interval", "0"],
        ["--interval", "256"],
        ["--unit-id", "256"],
        ["--serial", "65536"],
        ["--reset-every", "0"],
        ["--model", "ECM-1250"],
        ["--realtime", "maybe"],
        [],  # neither --pty nor --tcp
    ],
)
def test_cli_refuses_bad_arguments(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Argument errors stop the simulator before it opens anything (exit status 2)."""
    link = [] if not argv else ["--tcp", "127.0.0.1:0"]
    with pytest.raises(SystemExit) as raised:
        main(["ecm1240", *argv, *link])
    assert raised.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_expected_packets_start_with_the_untouched_unit() -> None:
    """The helper's first state is the unit before any second has passed."""
    packets = expected_packets(EcmUnit(), seed=0, seconds=3)
    assert [decode(data).seconds for data in packets] == [0, 1, 2, 3]
    assert list(islice(packets, 1)) == [EcmUnit().packet()]


# --- line voltage ---------------------------------------------------------------------


@pytest.mark.parametrize("nominal", [120.0, 230.0])
def test_sags_and_swells_leave_the_band_for_exact_seconds(nominal: float) -> None:
    """A day: 90 s below -10 % and 45 s above +10 % in every 10 minutes; within ±1 % otherwise."""
    profile = sags_and_swells(nominal, seed=4)
    tenths = [round(profile(t) * 10) for t in range(DAY)]
    assert all(abs(profile(t) * 10 - value) < 1e-6 for t, value in enumerate(tenths))
    limit = round(nominal)  # 10 % of nominal, in tenths of a volt
    centre = round(nominal * 10)
    under = sum(1 for value in tenths if value < centre - limit)
    over = sum(1 for value in tenths if value > centre + limit)
    assert (under, over) == (DAY // 600 * 90, DAY // 600 * 45)
    within = [value for value in tenths if abs(value - centre) <= limit]
    assert len(within) == DAY - under - over
    assert all(abs(value - centre) <= nominal / 10 for value in within)  # ±1 %


def test_a_voltage_profile_sets_each_packets_voltage() -> None:
    """Each packet at t carries the profile's voltage of second t - 1, and currents at that voltage."""
    profile = sags_and_swells(120.0)
    unit = EcmUnit(voltage=120.0)
    found = list(
        run(unit, steady_loads(Loads(ch1_watts=1044)), duration=700, voltage=profile)
    )
    assert [decode(data).voltage_tenths for _, data in found] == [
        round(profile(int(t) - 1) * 10) for t, _ in found
    ]
    sag = decode(found[130][1])  # t = 131: inside the sag at 104.4 V
    assert (sag.voltage_tenths, sag.ch1_centiamps) == (1044, 1000)


def test_a_steady_voltage() -> None:
    """The same voltage every second."""
    unit = EcmUnit(voltage=120.0)
    found = run(unit, steady_loads(Loads()), duration=3, voltage=steady_voltage(231.5))
    assert {decode(data).voltage_tenths for _, data in found} == {2315}


async def test_cli_sags_and_swells_on_230_volts(socket_enabled: None) -> None:
    """--line-voltage 230 --voltage sag-swell: the packets of the seeded demo at the profile's voltage."""
    async with simulator_process(
        "ecm1240",
        "--tcp",
        "127.0.0.1:0",
        "--line-voltage",
        "230",
        "--voltage",
        "sag-swell",
        "--seed",
        "2",
        "--speed",
        "20",
    ) as process:
        url = await first_line(process)
        async with serial_reader(url) as ser:
            found = await read_packets(ser, 5)
            stderr = await stop_process(process)
    unit = EcmUnit(voltage=230.0)
    expected = [
        data
        for _, data in run(
            unit, demo_loads(2), duration=3000, voltage=sags_and_swells(230.0, 2)
        )
    ]
    assert is_run_of(found, expected)
    assert "230 V sag-swell" in stderr


async def test_cli_main_loads(socket_enabled: None) -> None:
    """--loads main: the packets of the seeded grid connection's profile."""
    async with simulator_process(
        "ecm1240", "--tcp", "127.0.0.1:0", "--loads", "main", "--speed", "20"
    ) as process:
        url = await first_line(process)
        async with serial_reader(url) as ser:
            found = await read_packets(ser, 5)
            stderr = await stop_process(process)
    expected = [data for _, data in run(EcmUnit(), main_loads(0), duration=3000)]
    assert is_run_of(found, expected)
    assert "main loads" in stderr
