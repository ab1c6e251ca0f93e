"""Fault injection: what a serial line can throw at both device kinds, survived, nothing lost.

Every fault goes through a real pseudo-terminal and the real Home Assistant harness.
Time is simulated and the reader's deadlines are known, so each test walks through
them: the silence timeout after the port opened (or after the last valid frame),
then retries 1, 2, 4 … 60 s apart. The event loop's clock runs real time on top of
the ticks, so nothing is written within MARGIN seconds of a deadline, and after a
tick that ends or starts a connection the test waits for the reader to get there.
What is covered elsewhere is not repeated here: see tests/test_init.py (a replug
after three retries, a lasting outage's issue, the issue per cause) and
tests/test_ecm.py (outages and restarts counted once in the energy totals).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import pairwise
import logging
import os
import random
from typing import Any, cast

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import serialx

from custom_components.mains_monitor.const import (
    BAUDRATE,
    CONF_PORT,
    DOMAIN,
    LOGGER,
    ConnectionState,
)
from custom_components.mains_monitor.ecm_coordinator import EcmCoordinator
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from custom_components.mains_monitor.protocol.mfm import MfmParser
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from simulator.ecm1240 import EcmUnit, Loads
from simulator.links import PtyLink
from simulator.mfm import Firmware, MfmBoard, reboot_loop, steady, stream
from tests.ecm_unit import ENTRY_ID as ECM_ENTRY_ID, INTERVAL, Simulation, ch1, kwh
from tests.helpers import (
    BOARD,
    FREQUENCY,
    GRID_TIME,
    GRID_TIME_SINCE,
    START,
    Clock,
    advance,
    after_each_chunk,
    coordinator_of,
    outage_issue,
    same_entry,
    send,
    send_readings,
    set_up,
    settled,
    shown_states,
    state,
    unprivileged,
    until,
    wait_for_connection,
)

# The diagnostic counters are off by default; these tests read them. The outage and
# recovery lines are logged at INFO.
pytestmark = pytest.mark.usefixtures("all_entities_enabled", "info_logs")

ECM = "sensor.ecm_1240_500434"
CH1_ENERGY = f"{ECM}_ch1_energy"
CH1_POWER = f"{ECM}_ch1_power"

BOARD_SILENCE = 30  # s, the board entry's default silence timeout
ECM_SILENCE = 60  # s, as the ECM entry is set up
ISSUE_DELAY = 60  # s of outage before a repair issue
# Retries after the 1st, 2nd … failure: doubling from 1 s, capped at 60 s.
BACKOFF = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
# No write this close to a deadline: the loop clock runs real time on top of the ticks.
MARGIN = 2
LINE_RATE = BAUDRATE // 10  # bytes a second at 8N1: 1920
CONNECTED = ConnectionState.CONNECTED
DISCONNECTED = ConnectionState.DISCONNECTED
CONNECTING = ConnectionState.CONNECTING

type Second = Callable[[], Awaitable[None]]
type Sender = Callable[[float], Awaitable[None]]


# --- looking at the entry ------------------------------------------------------------


def log_lines(caplog: pytest.LogCaptureFixture) -> tuple[int, int]:
    """Outage and recovery lines the integration logged; fails on any error or traceback."""
    assert [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info
    ] == []
    ours = [r for r in caplog.records if r.name.startswith(LOGGER.name)]
    lost = [r for r in ours if "is unavailable" in r.getMessage()]
    back = [r for r in ours if "sending valid data again" in r.getMessage()]
    # Nothing else of ours louder than the routine.
    assert [r for r in ours if r.levelno >= logging.WARNING and r not in lost] == []
    return len(lost), len(back)


# --- waiting for the reader -------------------------------------------------------------


def connected(entry: MockConfigEntry) -> Callable[[], bool]:
    """Whether the entry's port is open (as the reader of the moment sees it)."""
    coordinator = coordinator_of(entry)
    return lambda: coordinator.connection_state is CONNECTED


def reached(clock: Clock, moment: float) -> Callable[[], bool]:
    """Whether simulated time has reached `moment`."""
    return lambda: clock.elapsed >= moment


async def write(
    entry: MockConfigEntry, link: PtyLink, data: bytes, parsed: Callable[[], bool]
) -> None:
    """Write to the port; return once `parsed` says the parser has taken it in."""
    link.write(data)
    await until(entry, parsed)


async def delivered(entry: MockConfigEntry, link: PtyLink, data: bytes) -> None:
    """Write to the port; return once the parser has been fed (junk moves no counter)."""
    fed = False

    def note() -> None:
        """Note that bytes reached the parser."""
        nonlocal fed
        fed = True

    with after_each_chunk(entry, note):
        await write(entry, link, data, lambda: fed)


async def ride(
    entry: MockConfigEntry, second: Second, done: Callable[[], bool]
) -> None:
    """Let seconds pass until `done`, waiting out every attempt to open the port."""
    while not done():
        await second()
        await settled(entry)


async def outage_windows(
    entry: MockConfigEntry,
    clock: Clock,
    second: Second,
    *,
    opened: float,
    silence: int,
    until_time: float,
    send: Sender | None = None,
) -> list[float]:
    """Walk through silence timeouts and retries until `until_time`; return the retry times.

    Nothing valid arrives: the reader must give up `silence` s after it opened the
    port (or after the last valid frame: `opened`), then retry until the port opens.
    `send` is called each second the port is open, with the time it opened, while
    no deadline is near. Returns with the port freshly open.
    """
    with retries_of(entry, clock) as retries:
        while clock.elapsed < until_time:
            while clock.elapsed < opened + silence:
                await second()
                if send is not None and clock.elapsed <= opened + silence - MARGIN:
                    await send(opened)
            await wait_for_connection(entry, DISCONNECTED)
            await ride(entry, second, connected(entry))
            opened = clock.elapsed
    return retries


@contextmanager
def retries_of(entry: MockConfigEntry, clock: Clock) -> Iterator[list[float]]:
    """Collect the simulated times at which the reader starts to open the port."""
    coordinator = coordinator_of(entry)
    times: list[float] = []
    opening = coordinator.connection_state is CONNECTING

    def check() -> None:
        """Note the start of an attempt."""
        nonlocal opening
        now_opening = coordinator.connection_state is CONNECTING
        if now_opening and not opening:
            times.append(clock.elapsed)
        opening = now_opening

    remove = coordinator.async_add_listener(check)
    try:
        yield times
    finally:
        remove()


def waits(retries: list[float], opened: float, silence: int) -> list[float]:
    """The backoff before each retry: its time less the silence timeout and the last open."""
    return [
        retry - before - silence
        for before, retry in zip([opened, *retries], retries, strict=False)
    ]


def increasing(states: list[str]) -> bool:
    """Whether the numeric states never decrease."""
    values = [float(value) for value in states if value != STATE_UNAVAILABLE]
    return values == sorted(values)


# --- what goes on the wire --------------------------------------------------------------

# Random bytes without the board's CR, ESC and BEL, which its parser strips from a line:
# then every non-empty line of garbage is exactly one rejected line.
GARBAGE_ALPHABET = bytes(sorted(set(range(256)) - set(b"\r\x1b\x07")))
# Ticks of a bit-timing grid every baud rate here divides.
UART_TICKS = 16 * 38400


def garbage_lines(stream_bytes: bytes) -> int:
    """Lines the board's parser has rejected once it has taken in `stream_bytes`.

    Every non-empty line counts once: when its newline arrives or, per the parser's
    bound, as soon as it grows past MAX_LINE_LENGTH bytes without one.
    """
    *lines, partial = stream_bytes.split(b"\n")
    return sum(1 for line in lines if line) + (len(partial) > MfmParser.MAX_LINE_LENGTH)


def misread(data: bytes, baud: int) -> bytes:
    """What a UART at 19200 baud reads of `data` sent 8N1 at `baud`, back to back.

    The receiver waits for the line to go low, samples eight bits in the middle of
    its own bit times and hunts again from the middle of the stop bit; a byte with a
    missing stop bit is kept as sampled.
    """
    sent_bit, read_bit = UART_TICKS // baud, UART_TICKS // BAUDRATE
    bits = [
        level
        for byte in data
        for level in (0, *((byte >> index) & 1 for index in range(8)), 1)
    ]

    def level(tick: int) -> int:
        """The line's level at `tick` (idle high after the last bit)."""
        index = tick // sent_bit
        return bits[index] if index < len(bits) else 1

    received = bytearray()
    tick = index = 0
    while True:
        index = tick // sent_bit
        while index < len(bits) and bits[index]:
            index += 1
        if index >= len(bits):
            return bytes(received)
        start = max(tick, index * sent_bit)
        received.append(
            sum(
                level(start + read_bit * (bit + 1) + read_bit // 2) << bit
                for bit in range(8)
            )
        )
        tick = start + 9 * read_bit + read_bit // 2


def board_second(board: MfmBoard, start: float) -> bytes:
    """One second of a board measuring a steady 50.010 Hz."""
    return b"".join(
        data
        for _t, data in stream(
            board, steady(50010), start=start, duration=1, boot=False
        )
    )


class Window:
    """Garbage the port delivered since it last opened, and the lines before."""

    def __init__(self) -> None:
        """Nothing delivered yet."""
        self.opened: float | None = None
        self.data = b""
        self.closed_lines = 0
        self.sent = 0

    @property
    def lines(self) -> int:
        """The non-empty lines of this window, a last unfinished one too."""
        return sum(1 for line in self.data.split(b"\n") if line)

    def add(self, opened: float, chunk: bytes) -> None:
        """Note a chunk; a new window when the port opened since the last."""
        if opened != self.opened:
            # The reader dropped the last unfinished line, counting it.
            self.closed_lines += self.lines
            self.opened, self.data = opened, b""
        self.data += chunk
        self.sent += len(chunk)


class Player:
    """A timed byte stream, handed out as simulated time reaches each part."""

    def __init__(self, events: Iterable[tuple[float, bytes]]) -> None:
        """Hold the events, earliest first."""
        self._events = deque(events)

    def due(self, now: float, since: float) -> bytes:
        """The bytes due by `now`; those sent before `since` (port closed) are lost."""
        data = b""
        while self._events and self._events[0][0] <= now:
            at, chunk = self._events.popleft()
            if at >= since:
                data += chunk
        return data


# --- fixtures: one entry of either kind -------------------------------------------------


@dataclass
class Rig:
    """An entry, its port and the device that belongs on it."""

    hass: HomeAssistant
    clock: Clock
    entry: MockConfigEntry
    link: PtyLink
    silence: int
    frame: Callable[[], bytes]  # the device's next valid frame
    probe: str  # an entity that is unavailable without valid data

    @property
    def coordinator(self) -> MfmCoordinator | EcmCoordinator:
        """The entry's coordinator."""
        return coordinator_of(self.entry)

    async def set_up(self) -> None:
        """Set the entry up; the reader starts opening the port."""
        assert await set_up(self.hass, self.entry)
        await settled(self.entry)

    async def second(self) -> None:
        """Let one second pass."""
        await advance(self.hass, self.clock, 1)

    async def send_frame(self) -> None:
        """Write one valid frame; return once it was accepted."""
        parser = self.coordinator.parser
        target = parser.accepted + 1
        await write(
            self.entry, self.link, self.frame(), lambda: parser.accepted >= target
        )


@pytest.fixture
def board_rig(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> Rig:
    """The board's entry, not yet set up."""
    mock_config_entry.add_to_hass(hass)
    return Rig(
        hass,
        clock,
        mock_config_entry,
        mfm_link,
        BOARD_SILENCE,
        lambda: board.line(50010, clock.elapsed),
        FREQUENCY,
    )


@pytest.fixture
def ecm_rig(
    hass: HomeAssistant,
    ecm_entry: MockConfigEntry,
    ecm_link: PtyLink,
    unit: EcmUnit,
    clock: Clock,
) -> Rig:
    """The unit's entry, not yet set up."""
    ecm_entry.add_to_hass(hass)

    def frame() -> bytes:
        """One more second of 1 kW on CH1, and its packet."""
        unit.advance(1, ch1(1000))
        return unit.packet()

    return Rig(hass, clock, ecm_entry, ecm_link, ECM_SILENCE, frame, CH1_ENERGY)


@pytest.fixture(params=["board_rig", "ecm_rig"], ids=["board", "ecm"])
def rig(request: pytest.FixtureRequest) -> Rig:
    """An entry of either kind, not yet set up."""
    return cast(Rig, request.getfixturevalue(request.param))


# --- 1. unplugged and plugged back in ---------------------------------------------------


async def test_board_unplugged_for_minutes_retries_at_the_backoff_cap(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Retries 1, 2, 4 … 32 s apart, then every 60 s; back after the replug, grid time exact."""
    entry = init_integration
    await send_readings(entry, mfm_link, clock, board, [50100, 50100], spacing=2.0)
    await advance(hass, clock, 3.0)
    assert state(hass, GRID_TIME) == "0.004"  # 2 s at +100 mHz: 2 x 0.1 / 50

    unplugged = clock.elapsed
    with retries_of(entry, clock) as retries:
        # Pulled out mid-line: the half line can never end, it is one rejected line.
        await delivered(entry, mfm_link, board.line(50100, unplugged)[:12])
        mfm_link.close()
        await wait_for_connection(entry, DISCONNECTED)
        second = partial(advance, hass, clock, 1)
        await ride(entry, second, reached(clock, unplugged + 200))
        assert outage_issue(hass, entry) == "outage_port_not_found"
        mfm_link.open()
        await ride(entry, second, connected(entry))
    assert [at - unplugged for at in retries] == [1, 3, 7, 15, 31, 63, 123, 183, 243]

    await send_readings(entry, mfm_link, clock, board, [50100, 50100], spacing=2.0)
    await advance(hass, clock, 5.0)
    # Not integrated across the outage: 2 s more at +100 mHz.
    assert state(hass, GRID_TIME) == "0.008"
    assert state(hass, f"{BOARD}_readings_accepted") == "4"
    assert state(hass, f"{BOARD}_lines_rejected") == "1"
    assert outage_issue(hass, entry) is None
    assert log_lines(caplog) == (1, 1)


async def test_ecm_unplugged_for_seconds_counts_the_gap_once(
    ecm: Simulation, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A replug two seconds later: the next retry finds the port; every watt-second counted once."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    unplugged = clock.elapsed
    parser = ecm.coordinator.parser
    with retries_of(ecm.entry, clock) as retries:
        # Pulled out mid-packet: the fragment can never end, its bytes are discarded.
        await delivered(ecm.entry, ecm.link, ecm.unit.packet()[:30])
        ecm.link.close()
        await wait_for_connection(ecm.entry, DISCONNECTED)
        second = partial(ecm.idle, ch1(3000), 1)
        await ride(ecm.entry, second, reached(clock, unplugged + 2))
        ecm.link.open()
        await ride(ecm.entry, second, connected(ecm.entry))
    assert [at - unplugged for at in retries] == [1, 3]
    assert (parser.discarded_bytes, parser.buffered_bytes) == (30, 0)
    await ride(ecm.entry, second, lambda: clock.elapsed % INTERVAL == 0)
    outage = clock.elapsed - unplugged

    await ecm.steps(ch1(400), INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 3000 + 5 * 400)
    assert ecm.state("ch1_power") == "400.0"
    assert log_lines(caplog) == (1, 1)


async def test_ecm_unplugged_for_minutes_retries_at_the_backoff_cap(
    hass: HomeAssistant,
    ecm: Simulation,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Four minutes out: retries reach the 60 s cap; the energy total never falls and ends exact."""
    await ecm.start()
    with shown_states(hass, [CH1_ENERGY]) as shown:
        energy = shown[CH1_ENERGY]
        await ecm.steps(ch1(1000), 4 + INTERVAL)
        unplugged = clock.elapsed
        with retries_of(ecm.entry, clock) as retries:
            ecm.link.close()
            await wait_for_connection(ecm.entry, DISCONNECTED)
            second = partial(ecm.idle, ch1(3000), 1)
            await ride(ecm.entry, second, reached(clock, unplugged + 200))
            ecm.link.open()
            await ride(ecm.entry, second, connected(ecm.entry))
        await ride(ecm.entry, second, lambda: clock.elapsed % INTERVAL == 0)
        outage = clock.elapsed - unplugged
        await ecm.steps(ch1(400), 2 * INTERVAL)
    assert [at - unplugged for at in retries] == [1, 3, 7, 15, 31, 63, 123, 183, 243]
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 3000 + 10 * 400)
    assert increasing(energy)
    assert energy[-1] == kwh(9 * 1000 + outage * 3000 + 10 * 400)
    assert log_lines(caplog) == (1, 1)


# --- 2. a silent port -------------------------------------------------------------------


@pytest.mark.parametrize("firmware", [Firmware.V1, Firmware.V2])
async def test_a_board_without_mains_is_told_apart(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    clock: Clock,
    firmware: Firmware,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Banner after banner and error lines: unavailable, one no_signal issue; mains back: all clear."""
    entry = init_integration
    board = MfmBoard(firmware=firmware)
    await send(entry, mfm_link, board.line(50010, 0), 1)
    player = Player(reboot_loop(board, start=1.0, duration=200))
    parser = cast(MfmCoordinator, coordinator_of(entry)).parser
    banners = 0

    async def play(opened: float) -> None:
        """Write what the rebooting board sent in the last second, once parsed."""
        nonlocal banners
        if data := player.due(clock.elapsed, opened):
            banners += data.count(b"NFA-RPi")
            lines = parser.accepted + parser.rejected_total + parser.banner_lines
            target = lines + data.count(b"\n")
            await write(
                entry,
                mfm_link,
                data,
                lambda: (
                    parser.accepted + parser.rejected_total + parser.banner_lines
                    >= target
                ),
            )

    second = partial(advance, hass, clock, 1)
    await outage_windows(
        entry,
        clock,
        second,
        opened=0,
        silence=BOARD_SILENCE,
        until_time=BOARD_SILENCE + ISSUE_DELAY,
        send=play,
    )
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    assert outage_issue(hass, entry) == "outage_no_signal"
    assert len(ir.async_get(hass).issues) == 1
    assert (parser.accepted, parser.restarts) == (1, banners)

    events = list(stream(board, steady(49990), start=0, duration=2))
    mains_back = b"".join(data for _t, data in events)
    await send(entry, mfm_link, mains_back, len(events) - 1)  # all but the banner
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "49.99"
    assert outage_issue(hass, entry) is None
    assert log_lines(caplog) == (1, 1)


async def test_a_silent_ecm_is_no_data(
    hass: HomeAssistant,
    ecm: Simulation,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real-time mode off: nothing arrives, unavailable, one no_data issue; on again: exact totals."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    last_packet = clock.elapsed - 1
    ecm.unit.realtime = False  # the unit counts on but sends nothing

    second = partial(ecm.idle, ch1(500), 1)
    retries = await outage_windows(
        ecm.entry,
        clock,
        second,
        opened=last_packet,
        silence=ECM_SILENCE,
        until_time=last_packet + ECM_SILENCE + ISSUE_DELAY,
    )
    assert [at - last_packet for at in retries] == [61, 123]
    assert ecm.state("ch1_power") == STATE_UNAVAILABLE
    assert outage_issue(hass, ecm.entry) == "outage_no_data_ecm1240"
    assert len(ir.async_get(hass).issues) == 1

    ecm.unit.realtime = True
    await ride(ecm.entry, second, lambda: clock.elapsed % INTERVAL == 0)
    silent = clock.elapsed - (last_packet + 1)
    await ecm.steps(ch1(400), INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + silent * 500 + 5 * 400)
    assert ecm.state("ch1_power") == "400.0"
    assert outage_issue(hass, ecm.entry) is None
    assert log_lines(caplog) == (1, 1)


# --- 4. garbage, corrupted, truncated and duplicated frames -----------------------------


async def test_board_ten_minutes_of_garbage_then_valid_data(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random bytes at line rate for ten minutes: every line of it rejected, none lost; then back."""
    entry = init_integration
    await send(entry, mfm_link, board.line(50010, 0), 1)
    parser = cast(MfmCoordinator, coordinator_of(entry)).parser
    rng = random.Random(1240)
    window = Window()

    async def spray(opened: float) -> None:
        """One second of garbage; return once the parser has judged its lines."""
        chunk = bytes(rng.choices(GARBAGE_ALPHABET, k=LINE_RATE))
        window.add(opened, chunk)
        target = window.closed_lines + garbage_lines(window.data)
        await write(entry, mfm_link, chunk, lambda: parser.rejected_total >= target)

    second = partial(advance, hass, clock, 1)
    retries = await outage_windows(
        entry,
        clock,
        second,
        opened=0,
        silence=BOARD_SILENCE,
        until_time=600,
        send=spray,
    )
    # Garbage is no valid data: the backoff is never reset and reaches its cap.
    assert waits(retries, 0, BOARD_SILENCE) == BACKOFF
    assert state(hass, FREQUENCY) == STATE_UNAVAILABLE
    assert outage_issue(hass, entry) == "outage_wrong_device"
    lines = window.closed_lines + window.lines
    assert parser.rejected_total == lines
    # 28 of every 30 s connected to 30 + backoff s of the ten minutes.
    assert window.sent == 28 * len(retries) * LINE_RATE
    assert mfm_link.dropped == 0

    await send_readings(entry, mfm_link, clock, board, [50020] * 5, spacing=0.2)
    await advance(hass, clock, 5.0)
    assert state(hass, FREQUENCY) == "50.02"
    assert state(hass, f"{BOARD}_readings_accepted") == "6"
    assert state(hass, f"{BOARD}_lines_rejected") == str(lines)
    assert outage_issue(hass, entry) is None
    assert log_lines(caplog) == (1, 1)


async def test_ecm_ten_minutes_of_garbage_then_valid_data(
    hass: HomeAssistant,
    ecm: Simulation,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random bytes at line rate for ten minutes: every byte discarded, no packet; then exact totals."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    last_packet = clock.elapsed - 1
    parser = ecm.coordinator.parser
    rng = random.Random(1240)
    sprayed = 0

    async def spray(_opened: float) -> None:
        """One second of garbage; return once every byte is discarded or held."""
        nonlocal sprayed
        chunk = rng.randbytes(LINE_RATE)
        sprayed += len(chunk)
        await write(
            ecm.entry,
            ecm.link,
            chunk,
            lambda: parser.discarded_bytes + parser.buffered_bytes >= sprayed,
        )

    second = partial(ecm.idle, ch1(2000), 1)
    retries = await outage_windows(
        ecm.entry,
        clock,
        second,
        opened=last_packet,
        silence=ECM_SILENCE,
        until_time=last_packet + 600,
        send=spray,
    )
    assert ecm.state("ch1_power") == STATE_UNAVAILABLE
    assert outage_issue(hass, ecm.entry) == "outage_wrong_device"
    assert parser.accepted == 10
    assert waits(retries, last_packet, ECM_SILENCE) == BACKOFF[:8]
    # 58 s of garbage per 60 s connected (57 in the first, which began a second late).
    assert sprayed == (58 * len(retries) - 1) * LINE_RATE
    assert parser.discarded_bytes == sprayed

    await ride(ecm.entry, second, lambda: clock.elapsed % INTERVAL == 0)
    outage = clock.elapsed - (last_packet + 1)
    await ecm.steps(ch1(400), INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 2000 + 5 * 400)
    assert ecm.state("packets_accepted") == "15"
    assert outage_issue(hass, ecm.entry) is None
    assert log_lines(caplog) == (1, 1)


async def test_board_nothing_lost(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Valid, corrupted, truncated and duplicated lines: accepted plus rejected is what was sent."""
    good = [board.line(50000 + n, 0) for n in range(8)]
    # (bytes, valid lines, corrupt lines) as the parser counts lines: up to a newline.
    frames = [
        (good[0], 1, 0),
        (good[1].replace(b";", b":", 1), 0, 1),  # a corrupted separator
        (good[1], 1, 0),
        (b"40012" + good[2][5:], 0, 1),  # a corrupted digit: 40.012 Hz is out of range
        (good[2], 1, 0),
        (good[3][:9] + b"\r\n", 0, 1),  # truncated, its end still there
        (good[3], 1, 0),
        (good[4][:9] + good[5], 0, 1),  # truncated, run into the next line: one line
        (good[6], 1, 0),
        (good[6], 1, 0),  # duplicated: a board's lines carry no sequence number
        (good[7][:6] + b"\x00\xff" + good[7][6:], 0, 1),  # bytes inserted
        (b"A" * 300 + b"\r\n", 0, 1),  # too long to be any line
        (good[7], 1, 0),
    ]
    data = b"".join(frame for frame, _valid, _corrupt in frames)
    valid = sum(count for _frame, count, _corrupt in frames)
    corrupt = sum(count for _frame, _valid, count in frames)
    assert (valid, corrupt) == (7, 6)

    # In pieces cut at odd places, as a serial line may deliver them.
    cuts = [0, 1, 2, 30, 31, 77, 200, 201, 420, len(data)]
    parser = cast(MfmCoordinator, coordinator_of(init_integration)).parser
    for start, end in pairwise(cuts):
        mfm_link.write(data[start:end])
    await until(init_integration, lambda: parser.accepted == valid)
    await advance(hass, clock, 5.0)
    assert state(hass, f"{BOARD}_readings_accepted") == str(valid)
    assert state(hass, f"{BOARD}_lines_rejected") == str(corrupt)
    assert log_lines(caplog) == (0, 0)


async def test_ecm_nothing_lost(
    hass: HomeAssistant, ecm: Simulation, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Packets with faults mixed in: accepted plus rejected is what was sent, every byte placed."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4)
    parser = ecm.coordinator.parser
    fed = parser.discarded_bytes

    def checksum_flipped(packet: bytes) -> bytes:
        """One counter byte changed: the checksum no longer matches."""
        return packet[:10] + bytes([packet[10] ^ 0x40]) + packet[11:]

    def footer_broken(packet: bytes) -> bytes:
        """The footer's first byte lost on the line."""
        return packet[:62] + b"\x00" + packet[63:]

    # (the fault before the second's packet, packets accepted, packets rejected)
    faults: list[tuple[Callable[[bytes, bytes], bytes], int, int]] = [
        (lambda _before, now: checksum_flipped(now), 1, 1),
        (lambda _before, now: footer_broken(now), 1, 1),
        (lambda before, _now: before[:30], 1, 1),  # truncated: runs into the next
        (lambda _before, now: now, 2, 0),  # duplicated: counted, but adds no energy
        (lambda _before, _now: b"\x00\x11junk\xfe\x00", 1, 0),  # noise between packets
    ]
    before = ecm.unit.packet()
    sent = accepted = rejected = 0
    for fault, packets, bad in faults:
        ecm.unit.advance(1, ch1(1000))
        now = ecm.unit.packet()
        data = fault(before, now) + now
        await ecm.send(data, packets=packets)
        await ecm.tick()
        sent, accepted, rejected = sent + len(data), accepted + packets, rejected + bad
        before = now
    assert (accepted, rejected) == (6, 3)

    assert ecm.state("packets_accepted") == str(5 + accepted)
    assert ecm.state("packets_rejected") == str(rejected)
    assert ecm.state("ch1_energy") == kwh(9 * 1000)
    assert ecm.state("ch1_power") == "1000.0"
    # The parser's rule: a byte is in an accepted packet, discarded, or still held.
    assert parser.discarded_bytes - fed + parser.buffered_bytes == sent - 65 * accepted
    assert log_lines(caplog) == (0, 0)


# --- 5. the wrong device, the wrong baud rate -------------------------------------------


def ecm_packets(start: float) -> bytes:
    """A second of another ECM-1240's output (its counters differ each second)."""
    unit = EcmUnit(unit_id=7, serial=1234, seconds=int(start))
    unit.advance(1, Loads(ch1_watts=800, ch2_watts=150))
    return unit.packet()


def board_lines(start: float) -> bytes:
    """A second of a board's output."""
    return board_second(MfmBoard(), start)


WRONG_DEVICES = [
    pytest.param("board_rig", ecm_packets, None, id="ecm_on_board_entry"),
    pytest.param("board_rig", board_lines, 9600, id="board_at_9600_baud"),
    pytest.param("board_rig", board_lines, 38400, id="board_at_38400_baud"),
    pytest.param("ecm_rig", board_lines, None, id="board_on_ecm_entry"),
    pytest.param("ecm_rig", ecm_packets, 9600, id="ecm_at_9600_baud"),
    pytest.param("ecm_rig", ecm_packets, 38400, id="ecm_at_38400_baud"),
]


@pytest.mark.parametrize(("kind", "talker", "baud"), WRONG_DEVICES)
async def test_the_wrong_device_is_never_read(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    clock: Clock,
    kind: str,
    talker: Callable[[float], bytes],
    baud: int | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another device or another baud rate: never a value, one wrong_device issue."""
    rig = cast(Rig, request.getfixturevalue(kind))
    sample = talker(0)
    assert misread(sample, BAUDRATE) == sample  # the UART model reads its own rate
    await rig.set_up()
    assert rig.coordinator.connection_state is CONNECTED

    async def talk(_opened: float) -> None:
        """What the device on the port sent in the last second."""
        data = talker(clock.elapsed)
        await delivered(
            rig.entry, rig.link, data if baud is None else misread(data, baud)
        )

    await outage_windows(
        rig.entry,
        clock,
        rig.second,
        opened=0,
        silence=rig.silence,
        until_time=rig.silence + ISSUE_DELAY,
        send=talk,
    )
    assert rig.coordinator.parser.accepted == 0
    assert state(hass, rig.probe) == STATE_UNAVAILABLE
    assert outage_issue(hass, rig.entry) == "outage_wrong_device"
    assert len(ir.async_get(hass).issues) == 1
    assert log_lines(caplog) == (1, 0)


# --- 6. the port held by another program, access denied ---------------------------------


async def test_a_port_held_by_another_program(
    hass: HomeAssistant, rig: Rig, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Locked before the start: unavailable, one cannot_connect issue; released: back by itself."""
    holder = serialx.async_serial_for_url(
        str(rig.link.path), baudrate=BAUDRATE, exclusive=True
    )
    await holder.open()
    try:
        await rig.set_up()
        with retries_of(rig.entry, clock) as retries:
            await ride(rig.entry, rig.second, reached(clock, ISSUE_DELAY))
            assert state(hass, rig.probe) == STATE_UNAVAILABLE
            assert outage_issue(hass, rig.entry) == "outage_cannot_connect"
            assert len(ir.async_get(hass).issues) == 1
        assert retries == [1, 3, 7, 15, 31]
    finally:
        await holder.close()

    await ride(rig.entry, rig.second, connected(rig.entry))
    assert clock.elapsed == 63
    await rig.send_frame()
    await advance(hass, clock, INTERVAL)
    assert state(hass, rig.probe) != STATE_UNAVAILABLE
    assert outage_issue(hass, rig.entry) is None
    assert log_lines(caplog) == (1, 1)


async def test_permission_denied_at_run_time(
    hass: HomeAssistant, rig: Rig, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The device's mode shuts Home Assistant out: one permission_denied issue; access back: data back."""
    device = os.path.realpath(rig.link.path)  # noqa: ASYNC240 - a symlink in tmp
    hass.config_entries.async_update_entry(
        rig.entry, data={**rig.entry.data, CONF_PORT: device}
    )
    await rig.set_up()
    await rig.send_frame()
    os.chmod(device, 0)
    with unprivileged():
        # Silence ends the session; every reopen is refused from then on.
        await ride(rig.entry, rig.second, reached(clock, rig.silence))
        await wait_for_connection(rig.entry, DISCONNECTED)
        outage = rig.silence + ISSUE_DELAY
        await ride(rig.entry, rig.second, reached(clock, outage))
        assert state(hass, rig.probe) == STATE_UNAVAILABLE
        assert outage_issue(hass, rig.entry) == "outage_permission_denied"
    os.chmod(device, 0o666)  # the user lets Home Assistant's user in
    with unprivileged():
        await ride(rig.entry, rig.second, connected(rig.entry))
        assert clock.elapsed == rig.silence + 63
        await rig.send_frame()
    await advance(hass, clock, INTERVAL)
    assert state(hass, rig.probe) != STATE_UNAVAILABLE
    assert outage_issue(hass, rig.entry) is None
    assert log_lines(caplog) == (1, 1)


# --- 7. Home Assistant restarts, the entry is reloaded, removed and added again ---------


async def restart(hass: HomeAssistant, entry: MockConfigEntry, how: str) -> None:
    """Restart the entry as Home Assistant does (unload, set up) or reload it."""
    if how == "reload":
        assert await hass.config_entries.async_reload(entry.entry_id)
    else:
        assert await hass.config_entries.async_unload(entry.entry_id)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for_connection(entry, CONNECTED)


@pytest.mark.parametrize("how", ["restart", "reload"])
async def test_board_restarted_mid_line_continues_its_grid_time(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    how: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Half a line on the wire when the entry stops: its rest is one rejected line, grid time goes on."""
    entry = init_integration
    await send_readings(entry, mfm_link, clock, board, [50100] * 3, spacing=2.0)
    await advance(hass, clock, 1.0)
    assert state(hass, GRID_TIME) == "0.008"  # 4 s at +100 mHz: 4 x 0.1 / 50

    cut = board.line(50100, clock.elapsed)
    await delivered(entry, mfm_link, cut[:10])
    await restart(hass, entry, how)
    parser = cast(MfmCoordinator, coordinator_of(entry)).parser
    await send(
        entry, mfm_link, cut[10:] + board.line(50100, clock.elapsed), 1, rejected=1
    )
    clock.tick(2.0)
    await send(entry, mfm_link, board.line(50100, clock.elapsed), 1)
    await advance(hass, clock, 3.0)
    assert (parser.accepted, parser.rejected_total) == (2, 1)
    assert state(hass, f"{BOARD}_readings_accepted") == "2"
    assert state(hass, f"{BOARD}_lines_rejected") == "1"
    assert state(hass, GRID_TIME) == "0.012"  # and 2 s more since the restart
    assert log_lines(caplog) == (0, 0)


@pytest.mark.parametrize("how", ["restart", "reload"])
async def test_ecm_restarted_mid_packet_keeps_exact_totals(
    hass: HomeAssistant,
    ecm: Simulation,
    clock: Clock,
    how: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Half a packet on the wire when the entry stops: its rest is discarded, the totals go on."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000)
    ecm.unit.advance(1, ch1(1000))
    cut = ecm.unit.packet()
    await delivered(ecm.entry, ecm.link, cut[:30])
    await restart(hass, ecm.entry, how)

    parser = ecm.coordinator.parser
    rest = len(cut) - 30
    await write(
        ecm.entry,
        ecm.link,
        cut[30:],
        lambda: parser.discarded_bytes + parser.buffered_bytes >= rest,
    )
    assert (parser.discarded_bytes, parser.buffered_bytes, parser.accepted) == (
        rest,
        0,
        0,
    )
    await ecm.tick()
    await ecm.steps(ch1(1000), 4)
    # The lost packet's second is in the next one's counters: 14 s in all.
    assert ecm.state("ch1_energy") == kwh(14 * 1000)
    assert ecm.state("packets_accepted") == "4"
    assert log_lines(caplog) == (0, 0)


async def test_board_removed_and_added_again_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Removed during an outage: its storage and issue go; the new entry's grid time starts at 0."""
    entry = init_integration
    await send_readings(entry, mfm_link, clock, board, [50100, 50100], spacing=2.0)
    await advance(hass, clock, 3.0)
    assert state(hass, GRID_TIME) == "0.004"
    mfm_link.close()
    await wait_for_connection(entry, DISCONNECTED)
    second = partial(advance, hass, clock, 1)
    await ride(entry, second, reached(clock, 5 + ISSUE_DELAY))
    assert outage_issue(hass, entry) == "outage_port_not_found"
    assert f"{DOMAIN}.{entry.entry_id}" in hass_storage

    await hass.config_entries.async_remove(entry.entry_id)
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage
    assert ir.async_get(hass).issues == {}

    mfm_link.open()
    again = same_entry(entry, entry_id="01JMAINSMONITORTESTENTRY02")
    again.add_to_hass(hass)
    added_at = clock.elapsed
    assert await hass.config_entries.async_setup(again.entry_id)
    await wait_for_connection(again, CONNECTED)
    await send_readings(again, mfm_link, clock, board, [50100, 50100], spacing=2.0)
    await advance(hass, clock, 3.0)
    assert state(hass, GRID_TIME) == "0.004"
    assert datetime.fromisoformat(
        state(hass, GRID_TIME_SINCE)
    ) == datetime.fromisoformat(START) + timedelta(seconds=added_at)
    assert state(hass, f"{BOARD}_readings_accepted") == "2"
    assert log_lines(caplog) == (1, 0)


async def test_ecm_removed_and_added_again_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    ecm: Simulation,
    clock: Clock,
    platforms: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Removed: its ledger and issues go; the new entry counts from its own first packet."""
    await ecm.start()
    # A minute of packets: the ledger has been saved.
    await ecm.steps(ch1(1000), 59)
    other = EcmUnit(unit_id=7, serial=1234)
    ecm.unit.advance(1, ch1(1000))
    await ecm.send(other.packet() + ecm.unit.packet(), packets=2)
    await ecm.tick()
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"foreign_device_{ECM_ENTRY_ID}")
    assert f"{DOMAIN}.{ECM_ENTRY_ID}" in hass_storage

    await hass.config_entries.async_remove(ECM_ENTRY_ID)
    assert f"{DOMAIN}.{ECM_ENTRY_ID}" not in hass_storage
    assert ir.async_get(hass).issues == {}

    again = same_entry(ecm.entry, entry_id="01JMAINSMONITORFAULTSECM02")
    again.add_to_hass(hass)
    fresh = Simulation(hass, again, ecm.link, clock, ecm.unit, platforms)
    await fresh.set_up()
    await fresh.start()
    await fresh.steps(ch1(500), 4)
    assert fresh.state("ch1_energy") == kwh(4 * 500)
    assert fresh.state("packets_accepted") == "5"
    assert log_lines(caplog) == (0, 0)
