"""A deterministic model of the Brultech ECM-1240 / ECM-1220, from its wire spec.

No I/O and no real clock: the caller moves simulated time in whole seconds.
`EcmUnit` holds the unit's settings and counters and turns them into the exact bytes
it sends; `EcmCommandPort` answers what a host writes; `EcmPacer` and `run` decide
when a unit in real-time mode pushes a packet; the load profiles below give it
something to measure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum, StrEnum, auto
from itertools import count
import math
from typing import Literal

HEADER = b"\xfe\xff"
FOOTER = b"\xff\xfe"
ACK = b"\xfc"
ADDRESSES = (0xFC, 0xFD, 0xFE, 0xFF)  # one per unit on a shared bus

COUNTER_MODULUS = 1 << 40  # CH1/CH2 absolute and polarized watt-seconds
AUX_MODULUS = 1 << 32
SECONDS_MODULUS = 1 << 24
RESET_COUNTER_MODULUS = 8
AUX_CHANNELS = 5
RESERVED_SIZE = 4

RESET_COUNTER_MASK = 0b0000_0111
CH1_POLARITY_BIT = 1 << 3
CH2_POLARITY_BIT = 1 << 4
FLAG_SPARE_MASK = 0b1110_0000
# Not in the spec: the captured unit sets bit 7, which no implementation explains.
CAPTURED_FLAG_SPARE = 0b1000_0000
# Not in the spec: the captured unit's AUX5 DC input read 511 (mid-scale) with nothing on it.
CAPTURED_DC_RAW = 511

# The captured reply to `FC SET RCV`; the fields the spec names are filled in over it.
SETTINGS_TEMPLATE = bytes.fromhex(
    "a704a704f403010c040b0501b290000000008d8b8c8bce00ffffffff05803e006d"
)
SETTINGS_SIZE = 33
SETTINGS_INTERVAL = 6
SETTINGS_FIRMWARE = slice(8, 10)
SETTINGS_UNIT_ID = 10
SETTINGS_SERIAL = slice(11, 13)

# Where `start_near_wraps` puts the counters: each wraps within seconds to minutes of
# ordinary loads (the seconds counter 30 s after the start).
NEAR_WRAP_COUNTER = COUNTER_MODULUS - 20_000
NEAR_WRAP_AUX = AUX_MODULUS - 2_000
NEAR_WRAP_SECONDS = SECONDS_MODULUS - 30


class EcmModel(StrEnum):
    """The two models: the ECM-1220 lacks the AUX channels and the DC input."""

    ECM_1240 = "ECM-1240"
    ECM_1220 = "ECM-1220"


FORMAT_CODE = {EcmModel.ECM_1240: 0x03, EcmModel.ECM_1220: 0x01}
PACKET_SIZE = {EcmModel.ECM_1240: 65, EcmModel.ECM_1220: 43}


def checksum(data: bytes) -> int:
    """The sum of the bytes, modulo 256."""
    return sum(data) & 0xFF


@dataclass(frozen=True, slots=True, kw_only=True)
class Loads:
    """What a unit measures for a while: watts per channel (negative = export)."""

    ch1_watts: float = 0.0
    ch2_watts: float = 0.0
    aux_watts: tuple[float, ...] = (0.0,) * AUX_CHANNELS

    def __post_init__(self) -> None:
        """Reject anything but five AUX loads."""
        if len(self.aux_watts) != AUX_CHANNELS:
            msg = f"aux_watts needs {AUX_CHANNELS} values, not {len(self.aux_watts)}"
            raise ValueError(msg)

    @property
    def total_watts(self) -> float:
        """The power on all seven channels, whatever its direction (the trigger's measure)."""
        return abs(self.ch1_watts) + abs(self.ch2_watts) + sum(map(abs, self.aux_watts))


type LoadProfile = Callable[[int], Loads]
"""The loads during the simulated second [t, t + 1)."""

type VoltageProfile = Callable[[int], float]
"""The line voltage during the simulated second [t, t + 1), V."""


def _zero_aux() -> list[int]:
    """Five AUX counters at zero."""
    return [0] * AUX_CHANNELS


@dataclass
class EcmUnit:
    """One unit: its settings, counters and the last measured currents (all public)."""

    model: EcmModel = EcmModel.ECM_1240
    unit_id: int = 5
    serial: int = 434
    firmware: str = "1.035"
    send_interval: int = 1  # seconds, 1-255
    realtime: bool = True  # on: pushes packets; off: silent until polled
    trigger_watts: float = (
        0.0  # an extra packet on a larger change of total power; 0: off
    )
    voltage: float = 120.0
    ch1_abs_ws: int = 0
    ch2_abs_ws: int = 0
    ch1_pol_ws: int = 0
    ch2_pol_ws: int = 0
    aux_ws: list[int] = field(default_factory=_zero_aux)
    seconds: int = 0
    reset_counter: int = 0  # 0-7, +1 on every reset
    ch1_amps: float = 0.0
    ch2_amps: float = 0.0
    # The spec names flag bits 3/4 "polarity" without their sense; here a bit is set
    # while its channel imports (or is idle), cleared while it exports. A guess.
    ch1_polarity: bool = True
    ch2_polarity: bool = True
    flag_spare: int = CAPTURED_FLAG_SPARE  # flag bits 5-7, undocumented
    # Bytes 25-28 ("reserved"). None: as the captured unit, whose reserved bytes were
    # its serial (LE), its unit id and a zero.
    reserved: bytes | None = None
    dc_voltage_raw: int = CAPTURED_DC_RAW  # AUX5 DC input, raw, scale undocumented

    def __post_init__(self) -> None:
        """Reject settings and counters the unit cannot hold."""
        self.model = EcmModel(self.model)
        firmware_code(self.firmware)
        _check_range("unit_id", self.unit_id, 0, 0xFF)
        _check_range("serial", self.serial, 0, 0xFFFF)
        _check_range("send_interval", self.send_interval, 1, 0xFF)
        _check_range("reset_counter", self.reset_counter, 0, RESET_COUNTER_MODULUS - 1)
        _check_range("seconds", self.seconds, 0, SECONDS_MODULUS - 1)
        _check_range("dc_voltage_raw", self.dc_voltage_raw, 0, 0xFFFF)
        for name in ("ch1_abs_ws", "ch2_abs_ws", "ch1_pol_ws", "ch2_pol_ws"):
            _check_range(name, getattr(self, name), 0, COUNTER_MODULUS - 1)
        if len(self.aux_ws) != AUX_CHANNELS:
            msg = f"aux_ws needs {AUX_CHANNELS} counters, not {len(self.aux_ws)}"
            raise ValueError(msg)
        for value in self.aux_ws:
            _check_range("aux_ws", value, 0, AUX_MODULUS - 1)
        if self.flag_spare & ~FLAG_SPARE_MASK:
            msg = f"flag_spare may use bits 5-7 only, not {self.flag_spare:#04x}"
            raise ValueError(msg)
        if self.reserved is not None and len(self.reserved) != RESERVED_SIZE:
            msg = f"reserved needs {RESERVED_SIZE} bytes, not {len(self.reserved)}"
            raise ValueError(msg)

    @property
    def flag(self) -> int:
        """Byte 31: reset counter, polarity bits, spare bits."""
        polarity = (CH1_POLARITY_BIT if self.ch1_polarity else 0) | (
            CH2_POLARITY_BIT if self.ch2_polarity else 0
        )
        return self.flag_spare | polarity | self.reset_counter

    def advance(self, dt: int, loads: Loads) -> None:
        """Integrate `loads` over `dt` whole seconds, every counter with its wrap."""
        if dt < 0:
            msg = f"time only moves forward, not by {dt} s"
            raise ValueError(msg)
        self.ch1_abs_ws, self.ch1_pol_ws = _integrate(
            self.ch1_abs_ws, self.ch1_pol_ws, loads.ch1_watts, dt
        )
        self.ch2_abs_ws, self.ch2_pol_ws = _integrate(
            self.ch2_abs_ws, self.ch2_pol_ws, loads.ch2_watts, dt
        )
        self.aux_ws = [
            (counter + round(abs(watts) * dt)) % AUX_MODULUS
            for counter, watts in zip(self.aux_ws, loads.aux_watts, strict=True)
        ]
        self.seconds = (self.seconds + dt) % SECONDS_MODULUS
        self.ch1_amps = abs(loads.ch1_watts) / self.voltage
        self.ch2_amps = abs(loads.ch2_watts) / self.voltage
        self.ch1_polarity = loads.ch1_watts >= 0
        self.ch2_polarity = loads.ch2_watts >= 0

    def packet(self) -> bytes:
        """The packet of the current state: 65 bytes (ECM-1240) or 43 (ECM-1220)."""
        body = b"".join(
            (
                HEADER,
                bytes([FORMAT_CODE[self.model]]),
                _uint(round(self.voltage * 10), 2, "big"),
                _uint(self.ch1_abs_ws, 5),
                _uint(self.ch2_abs_ws, 5),
                _uint(self.ch1_pol_ws, 5),
                _uint(self.ch2_pol_ws, 5),
                self._reserved_bytes(),
                _uint(self.serial, 2),
                bytes([self.flag, self.unit_id]),
                _uint(_hundredths(self.ch1_amps), 2),
                _uint(_hundredths(self.ch2_amps), 2),
                _uint(self.seconds, 3),
            )
        )
        if self.model is EcmModel.ECM_1240:
            body += b"".join(_uint(value, 4) for value in self.aux_ws)
            body += _uint(self.dc_voltage_raw, 2)
        body += FOOTER
        return body + bytes([checksum(body)])

    def settings_block(self) -> bytes:
        """The 33-byte reply to `SET RCV`."""
        block = bytearray(SETTINGS_TEMPLATE)
        block[SETTINGS_INTERVAL] = self.send_interval
        block[SETTINGS_FIRMWARE] = _uint(firmware_code(self.firmware), 2, "big")
        block[SETTINGS_UNIT_ID] = self.unit_id
        block[SETTINGS_SERIAL] = _uint(self.serial, 2, "big")
        block[-1] = checksum(bytes(block[:-1]))
        return bytes(block)

    def reset(self) -> None:
        """A device reset: every counter and the seconds restart at 0."""
        self._clear_energy()
        self.seconds = 0
        self._count_reset()

    def reset_energy(self) -> None:
        """`RQS RKW`: the watt-second counters restart at 0."""
        self._clear_energy()
        self._count_reset()

    def reset_seconds(self) -> None:
        """`RQS RKS`: the seconds counter restarts at 0."""
        self.seconds = 0
        self._count_reset()

    def _clear_energy(self) -> None:
        """Zero the CH1/CH2 and AUX watt-second counters."""
        self.ch1_abs_ws = self.ch2_abs_ws = self.ch1_pol_ws = self.ch2_pol_ws = 0
        self.aux_ws = _zero_aux()

    def _count_reset(self) -> None:
        """Step the reset counter of the flag byte, rolling over after 7.

        The spec only says it counts device resets; the simulator also counts the
        RKW/RKS counter resets, so that a host can tell them from a wrap.
        """
        self.reset_counter = (self.reset_counter + 1) % RESET_COUNTER_MODULUS

    def _reserved_bytes(self) -> bytes:
        """Bytes 25-28."""
        if self.reserved is not None:
            return self.reserved
        return _uint(self.serial, 2) + bytes([self.unit_id, 0])


def firmware_code(firmware: str) -> int:
    """The firmware version as the settings block holds it: "1.035" -> 1035."""
    try:
        code = Decimal(firmware) * 1000
    except InvalidOperation:
        code = Decimal("NaN")
    if (
        not code.is_finite()
        or code != code.to_integral_value()
        or not 0 <= code <= 0xFFFF
    ):
        msg = f"firmware must be a version like 1.035, not {firmware!r}"
        raise ValueError(msg)
    return int(code)


def start_near_wraps(unit: EcmUnit) -> None:
    """Put every counter just below its wrap point (seconds: 30 s before it)."""
    unit.ch1_abs_ws = unit.ch2_abs_ws = NEAR_WRAP_COUNTER
    unit.ch1_pol_ws = unit.ch2_pol_ws = NEAR_WRAP_COUNTER
    unit.aux_ws = [NEAR_WRAP_AUX] * AUX_CHANNELS
    unit.seconds = NEAR_WRAP_SECONDS


def _integrate(absolute: int, polarized: int, watts: float, dt: int) -> tuple[int, int]:
    """A channel's counters after `watts` for `dt` s; polarized counts export only."""
    energy = round(abs(watts) * dt)
    exported = energy if watts < 0 else 0
    return (absolute + energy) % COUNTER_MODULUS, (
        polarized + exported
    ) % COUNTER_MODULUS


def _hundredths(amps: float) -> int:
    """A current in hundredths of an amp, pinned to what two bytes hold."""
    return min(round(amps * 100), 0xFFFF)


def _uint(
    value: int, size: int, byteorder: Literal["little", "big"] = "little"
) -> bytes:
    """`value` as an unsigned integer of `size` bytes (little-endian unless told)."""
    return value.to_bytes(size, byteorder)


def _check_range(name: str, value: int, low: int, high: int) -> None:
    """Raise unless `low <= value <= high`."""
    if not low <= value <= high:
        msg = f"{name} must be {low}-{high}, not {value}"
        raise ValueError(msg)


# --- the host-command side ------------------------------------------------------------


class _State(Enum):
    """Where the unit is in a host command."""

    IDLE = auto()  # waiting for the address byte
    COMMAND = auto()  # addressed: the first chunk (SPK, TOG, SET, RQS)
    TOG = auto()
    SET = auto()
    RQS = auto()
    INTERVAL = auto()  # after SET IV2: one byte, the new send interval
    HOST_ACK = auto()  # after the settings block: the host sends FC


type _Action = Callable[[EcmUnit], bytes]
"""What a complete chunk does to the unit, and what the unit adds after its ack."""


def _nothing(_unit: EcmUnit) -> bytes:
    """No effect, nothing beyond the ack."""
    return b""


def _realtime(on: bool) -> _Action:
    """Turn real-time mode on or off."""

    def action(unit: EcmUnit) -> bytes:
        """Set the mode."""
        unit.realtime = on
        return b""

    return action


def _reset_with(method: Callable[[EcmUnit], None]) -> _Action:
    """Run one of the unit's reset methods."""

    def action(unit: EcmUnit) -> bytes:
        """Reset."""
        method(unit)
        return b""

    return action


# (state, chunk) -> (action, next state)
_CHUNKS: dict[tuple[_State, bytes], tuple[_Action, _State]] = {
    (_State.COMMAND, b"SPK"): (EcmUnit.packet, _State.IDLE),
    (_State.COMMAND, b"TOG"): (_nothing, _State.TOG),
    (_State.COMMAND, b"SET"): (_nothing, _State.SET),
    (_State.COMMAND, b"RQS"): (_nothing, _State.RQS),
    (_State.TOG, b"XTD"): (_realtime(True), _State.IDLE),
    (_State.TOG, b"OFF"): (_realtime(False), _State.IDLE),
    (_State.SET, b"RCV"): (EcmUnit.settings_block, _State.HOST_ACK),
    (_State.SET, b"IV2"): (_nothing, _State.INTERVAL),
    (_State.RQS, b"RKW"): (_reset_with(EcmUnit.reset_energy), _State.IDLE),
    (_State.RQS, b"RKS"): (_reset_with(EcmUnit.reset_seconds), _State.IDLE),
    (_State.RQS, b"RLP"): (_reset_with(EcmUnit.reset), _State.IDLE),
}
CHUNK_SIZE = 3


class EcmCommandPort:
    """The unit's receiving side: bytes from the host in, the unit's answers out.

    A command is the address byte, then 3-byte chunks; the unit acks each with one
    FC byte. An unknown chunk gets no answer and the unit waits for its address
    again. Bytes may arrive in any chunking.
    """

    def __init__(self, unit: EcmUnit, *, address: int = 0xFC) -> None:
        """Listen for `address` (FC; FD-FF for further units on the bus)."""
        if address not in ADDRESSES:
            msg = f"address must be one of FC-FF, not {address:#04x}"
            raise ValueError(msg)
        self.unit = unit
        self.address = address
        self._state = _State.IDLE
        self._chunk = bytearray()

    @property
    def idle(self) -> bool:
        """Whether the unit waits for the start of a command."""
        return self._state is _State.IDLE

    def receive(self, data: bytes) -> bytes:
        """Take what the host wrote; return what the unit answers (b"" if nothing)."""
        return b"".join(self._byte(byte) for byte in data)

    def _byte(self, byte: int) -> bytes:
        """One byte from the host."""
        match self._state:
            case _State.IDLE:
                if byte != self.address:
                    return b""
                self._enter(_State.COMMAND)
                return ACK
            case _State.HOST_ACK:
                self._enter(_State.IDLE)
                return b"" if byte == ACK[0] else self._byte(byte)
            case _State.INTERVAL:
                self._enter(_State.IDLE)
                if byte == 0:
                    return b""
                self.unit.send_interval = byte
                return ACK
            case _:
                return self._chunk_byte(byte)

    def _chunk_byte(self, byte: int) -> bytes:
        """One byte of a 3-byte chunk; the answer once the chunk is complete."""
        self._chunk.append(byte)
        if len(self._chunk) < CHUNK_SIZE:
            return b""
        known = _CHUNKS.get((self._state, bytes(self._chunk)))
        if known is None:
            self._enter(_State.IDLE)
            return b""
        action, following = known
        self._enter(following)
        return ACK + action(self.unit)

    def _enter(self, state: _State) -> None:
        """Move to `state` with an empty chunk."""
        self._state = state
        self._chunk.clear()


# --- timing: when a unit in real-time mode pushes packets ---------------------------


def _never(_t: int) -> bool:
    """No scripted event."""
    return False


@dataclass
class EcmPacer:
    """Moves a unit through simulated seconds and says when it pushes a packet.

    A packet every `send_interval` seconds, and an extra one when the total power
    differs by more than `trigger_watts` from the power at the last packet sent.
    The unit keeps counting while real-time mode is off; it just sends nothing.
    """

    unit: EcmUnit
    loads: LoadProfile
    reset_at: Callable[[int], bool] = _never  # a device reset at these whole seconds
    voltage: VoltageProfile | None = None  # None: the unit's voltage stays as set
    _since_packet: int = field(default=0, init=False, repr=False)
    _sent_total: float | None = field(default=None, init=False, repr=False)

    def step(self, t: int) -> bytes | None:
        """Second t-1 to t: integrate, apply a scripted reset; the packet pushed at t."""
        load = self.loads(t - 1)
        if self.voltage is not None:
            self.unit.voltage = self.voltage(t - 1)
        self.unit.advance(1, load)
        if self.reset_at(t):
            self.unit.reset()
        self._since_packet += 1
        regular = self._since_packet >= self.unit.send_interval
        if regular:
            self._since_packet = 0
        total = load.total_watts
        if self._sent_total is None:
            self._sent_total = total
        trigger = self.unit.trigger_watts
        triggered = trigger > 0 and abs(total - self._sent_total) > trigger
        if not self.unit.realtime or not (regular or triggered):
            return None
        self._sent_total = total
        return self.unit.packet()


def run(
    unit: EcmUnit,
    loads: LoadProfile,
    *,
    duration: float,
    start: int = 0,
    resets: Iterable[int] = (),
    voltage: VoltageProfile | None = None,
) -> Iterator[tuple[float, bytes]]:
    """The packets `unit` pushes from `start` for `duration` s: (time, packet).

    The first regular packet comes `send_interval` s after `start`. A time in
    `resets` resets the unit at that second, before the packet of that second.
    A `voltage` profile sets the line voltage second by second.
    """
    at = frozenset(resets)
    pacer = EcmPacer(unit, loads, reset_at=at.__contains__, voltage=voltage)
    for t in count(start + 1):
        if t > start + duration:
            return
        data = pacer.step(t)
        if data is not None:
            yield float(t), data


# --- load and voltage profiles: deterministic, seeded, any second in any order ------

_MASK64 = (1 << 64) - 1
DAY = 86_400
HOUR = 3_600


def noise(seed: int, t: int, salt: int) -> float:
    """A pseudo-random number in [0, 1) fixed by (seed, t, salt) (splitmix64)."""
    x = (
        seed * 0x9E3779B97F4A7C15 + t * 0xD1B54A32D192ED03 + salt * 0x8CB92BA72F3D8DD7
    ) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (x ^ (x >> 31)) / (1 << 64)


# Household (CH1): a base load with jitter, a fridge cycling, a kettle every half hour.
HOUSE_BASE_WATTS = 180.0
HOUSE_JITTER_WATTS = 30.0
FRIDGE_WATTS = 110.0
FRIDGE_PERIOD = 2_400
FRIDGE_ON = 900
KETTLE_WATTS = 2_200.0
KETTLE_EVERY = 1_800
KETTLE_ON = 150
_JITTER, _FRIDGE, _KETTLE, _CLOUD, _PULSE, _VOLTAGE = range(6)


def household(seed: int = 0) -> Callable[[int], float]:
    """A household's draw in watts: base load, fridge cycle, kettle spikes."""
    fridge_phase = int(noise(seed, 0, _FRIDGE) * FRIDGE_PERIOD)

    def watts(t: int) -> float:
        """The draw during second t."""
        power = HOUSE_BASE_WATTS + HOUSE_JITTER_WATTS * noise(seed, t, _JITTER)
        if (t + fridge_phase) % FRIDGE_PERIOD < FRIDGE_ON:
            power += FRIDGE_WATTS
        window, into = divmod(t, KETTLE_EVERY)
        kettle_at = int(noise(seed, window, _KETTLE) * (KETTLE_EVERY - KETTLE_ON))
        if kettle_at <= into < kettle_at + KETTLE_ON:
            power += KETTLE_WATTS
        return power

    return watts


# Solar (CH2): a bell between sunrise and sunset, dimmed by passing clouds; exported.
SUNRISE = 6 * HOUR
SUNSET = 18 * HOUR
CLOUD_SECONDS = 120
CLOUD_DEPTH = 0.4


def solar(
    seed: int = 0, *, peak_watts: float = 3_200.0, clock_start: int = 10 * HOUR
) -> Callable[[int], float]:
    """Solar export in watts (negative) at second t, t = 0 being `clock_start` o'clock."""

    def watts(t: int) -> float:
        """The export during second t."""
        day_time = (clock_start + t) % DAY
        if not SUNRISE <= day_time < SUNSET:
            return 0.0
        bell = math.sin(math.pi * (day_time - SUNRISE) / (SUNSET - SUNRISE)) ** 2
        cloud = 1.0 - CLOUD_DEPTH * noise(seed, t // CLOUD_SECONDS, _CLOUD) ** 2
        return -peak_watts * bell * cloud

    return watts


# AUX5: a short burst once a minute, at a seeded moment.
PULSE_WATTS = 1_500.0
PULSE_EVERY = 60
PULSE_ON = 4


def pulses(seed: int = 0) -> Callable[[int], float]:
    """Short bursts in watts: PULSE_ON seconds once every PULSE_EVERY seconds."""

    def watts(t: int) -> float:
        """The draw during second t."""
        window, into = divmod(t, PULSE_EVERY)
        at = int(noise(seed, window, _PULSE) * (PULSE_EVERY - PULSE_ON))
        return PULSE_WATTS if at <= into < at + PULSE_ON else 0.0

    return watts


# AUX1-4: lighting, a network cabinet, two idle circuits.
AUX_STEADY_WATTS = (60.0, 25.0, 0.0, 0.0)


def demo_loads(seed: int = 0, *, clock_start: int = 10 * HOUR) -> LoadProfile:
    """A home: household on CH1, solar export on CH2, steady AUX1-4, bursts on AUX5."""
    house, sun, bursts = (
        household(seed),
        solar(seed, clock_start=clock_start),
        pulses(seed),
    )

    def loads(t: int) -> Loads:
        """The loads during second t."""
        return Loads(
            ch1_watts=house(t),
            ch2_watts=sun(t),
            aux_watts=(*AUX_STEADY_WATTS, bursts(t)),
        )

    return loads


# The grid connection's profile starts at 07:30, when the panels give about what the house
# draws: the main imports and exports by turns, and exports ever more as the morning goes on.
MAIN_CLOCK_START = 7 * HOUR + 30 * 60


def main_loads(seed: int = 0, *, clock_start: int = MAIN_CLOCK_START) -> LoadProfile:
    """A home seen from its grid connection: CH1 the main, CH2 the solar, AUX1-5 circuits.

    The household's draw is on no AUX channel (the unmetered remainder); CH1 carries it,
    the circuits and the solar export netted: positive while importing, negative while
    exporting.
    """
    house, sun, bursts = (
        household(seed),
        solar(seed, clock_start=clock_start),
        pulses(seed),
    )

    def loads(t: int) -> Loads:
        """The loads during second t."""
        circuits = (*AUX_STEADY_WATTS, bursts(t))
        production = sun(t)
        return Loads(
            ch1_watts=house(t) + sum(circuits) + production,
            ch2_watts=production,
            aux_watts=circuits,
        )

    return loads


LOAD_PROFILES: dict[str, Callable[[int], LoadProfile]] = {
    "house": demo_loads,
    "main": main_loads,
}
"""The profiles by their command-line name: CH1 on the house, or on the grid connection."""


def steady_loads(loads: Loads) -> LoadProfile:
    """The same loads every second."""
    return lambda _t: loads


# Line voltage: within ±1 % of nominal, except for a sag to -13 % and a swell to +12 %
# every 10 minutes (beyond EN 50160's ±10 %): 1.5 + 0.75 minutes outside in each 10.
SWING_EVERY = 600
SAG_AT, SAG_SECONDS, SAG_FACTOR = 120, 90, 0.87
SWELL_AT, SWELL_SECONDS, SWELL_FACTOR = 360, 45, 1.12
VOLTAGE_JITTER = 0.01


def steady_voltage(volts: float) -> VoltageProfile:
    """The same line voltage every second."""
    return lambda _t: volts


def sags_and_swells(nominal: float, seed: int = 0) -> VoltageProfile:
    """A line voltage near `nominal` that sags and swells out of ±10 % every 10 minutes."""

    def volts(t: int) -> float:
        """The voltage during second t, to the unit's 0.1 V."""
        into = t % SWING_EVERY
        if SAG_AT <= into < SAG_AT + SAG_SECONDS:
            factor = SAG_FACTOR
        elif SWELL_AT <= into < SWELL_AT + SWELL_SECONDS:
            factor = SWELL_FACTOR
        else:
            factor = 1 + VOLTAGE_JITTER * (2 * noise(seed, t, _VOLTAGE) - 1)
        return round(nominal * factor, 1)

    return volts
