"""Endurance: both devices at full rate for 24 simulated hours, with faults sprinkled in.

A V2 board streams format P4 (a line every 9 mains periods: 5.56 lines a second)
measuring a random walk with dips; an ECM-1240 pushes a packet every second under the
simulator's demo loads, its counters started just below their wraps. The day runs in
batches of one update interval: each device's bytes of the next 5 s go to its pty in
one write, the test waits until the parser has taken all of them in, then the clock
moves 5 s and both entries publish. Every few hours a fault strikes: a pty unplugged
for two minutes, a burst of garbage, a duplicated or a corrupted packet, a unit
reset, a board reboot, two and a half minutes of garbage instead of readings.

The devices' bytes are worked out before the day starts, so that the memory tracing
(which slows every allocation down) covers the integration and Home Assistant, not
the simulators. What must hold after the day: every valid frame written while the
entry had its port open was accepted and every bad line rejected; the energy totals
equal the unit's own counter advance between the packets the ledger may pair (same
reset counter), taken from the simulator's counters; the grid time equals a
trapezoid sum over the readings' arrival times; memory grew by less than 1 MB from
the end of the first hour (warm-up) to the end of the day; one log line per outage
and one per recovery; a repair issue while each outage lasted, none left after.
"""

from __future__ import annotations

from array import array
import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
import gc
from itertools import chain
import logging
import random
import resource
import time
import tracemalloc
from typing import cast
from unittest.mock import Mock

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    DOMAIN,
    ConnectionState,
)
from custom_components.mains_monitor.ecm_coordinator import EcmCoordinator
from custom_components.mains_monitor.energy import WATT_SECONDS_PER_KWH
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator, gathering
from custom_components.mains_monitor.protocol.ecm1240 import CHANNELS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir, storage
from simulator.ecm1240 import (
    AUX_MODULUS,
    COUNTER_MODULUS,
    HEADER,
    SECONDS_MODULUS,
    EcmPacer,
    EcmUnit,
    demo_loads,
)
from simulator.links import PtyLink
from simulator.mfm import CLEAR_SCREEN, MfmBoard, RandomWalk, dip, stream
from tests.helpers import (
    Clock,
    coordinator_of,
    outage_logs,
    parsed,
    set_up_connected,
    settled,
    wait_for_connection,
)

DAY = 86_400
HOUR = 3_600
BATCH = 5  # s: the update interval of both entries
WARM_UP = HOUR
MAX_GROWTH = 1 << 20  # bytes
MAX_WRITE = 8_192  # bytes in one write: well inside what a pty buffers unread
BOARD_SILENCE = 30  # s: the board entry's default silence timeout
ECM_SILENCE = 60
OUTAGE = 120  # s a pty stays unplugged
NOMINAL = 50  # Hz: the grid the board measures
# Readings further apart leave the grid's path between them unknown: not integrated.
GRID_TIME_GAP = 5.0
# The board reader's rest at the entries' update interval.
READ_REST = gathering(BATCH)

# Where the unit's counters start: the seconds counter wraps 2 h in; CH1, CH2 (while the
# sun shines) and AUX1, AUX2, AUX5 within the first 12 h, before the unit's reset.
START_SECONDS = SECONDS_MODULUS - 2 * HOUR
START_WS = COUNTER_MODULUS - 5_000_000
START_AUX = AUX_MODULUS - 1_000_000
# A packet's numbers as the test keeps them: reset counter, seconds, then the counters.
COUNTERS = ("ch1", "ch2", "ch1_exported", "ch2_exported", "aux1", "aux2", "aux3", "aux4", "aux5")  # fmt: skip
MODULI = (COUNTER_MODULUS,) * 4 + (AUX_MODULUS,) * 5
PACKET_NUMBERS = 2 + len(COUNTERS)

# The faults, in simulated seconds from the start (multiples of BATCH).
BOARD_UNPLUGS = (2 * HOUR, 15 * HOUR)
ECM_UNPLUGS = (7 * HOUR + 300, 19 * HOUR + 300)
BOARD_BURSTS = (4 * HOUR, 17 * HOUR + 600)
BOARD_GARBAGE_FROM, BOARD_GARBAGE_UNTIL = 11 * HOUR, 11 * HOUR + 150
ECM_BURSTS = (3 * HOUR, 17 * HOUR)
ECM_DUPLICATES = (5 * HOUR, 17 * HOUR + 1200)
ECM_RESETS = frozenset({13 * HOUR + 3})
BOARD_REBOOTS = (9 * HOUR, 21 * HOUR)

# Garbage lines: no digit, capital or control character, so none can be a reading,
# a banner line or an error line: each one is rejected as malformed.
JUNK_ALPHABET = "abcdefghijklmnopqrstuvwxyz;:+-#!?., "
BAD_LINES = (
    b"~" * 300 + b"\r\n",  # overlong
    b"50012;+0000;0;0;0;0;0;0;0;2\r\n",  # an alarm bit that is no bit
    b"70000;+9999;0;0;0;0;0;0;0;0\r\n",  # out of any grid's range
    b"5001\r\n",  # a short number
)
BURST_LINES = 100
ECM_JUNK_BYTES = 3_000


@dataclass(frozen=True, slots=True)
class Batch:
    """One device's bytes of one update interval, and what they hold.

    `counts` adds to the parser's three counters (see `Side.progress`); `values`
    holds each reading's mHz (board) or each packet's numbers (ECM), in order.
    """

    data: bytes
    counts: tuple[int, int, int]
    values: array[int]


# --- the day's bytes, worked out before it starts -------------------------------------


def junk_line(rng: random.Random) -> bytes:
    """One line of text that is no line of the board."""
    return "".join(rng.choices(JUNK_ALPHABET, k=rng.randint(1, 120))).encode() + b"\r\n"


def board_stream() -> Iterator[tuple[float, bytes]]:
    """The board's day: booted at the start, rebooted at BOARD_REBOOTS."""
    board = MfmBoard()
    # Dips of 150 mHz for 20 s every 47 min; the board's step limit shapes them.
    profile = dip(49850, at=600, duration=20, every=2820, base=RandomWalk(7))
    starts = (0, *BOARD_REBOOTS)
    for start, end in zip(starts, (*BOARD_REBOOTS, DAY), strict=True):
        yield from stream(board, profile, start=start, duration=end - start)


def plan_board(rng: random.Random) -> list[Batch]:
    """The board's batches: its lines, with garbage where the faults say."""
    items = board_stream()
    pending = next(items, None)
    batches = []
    for start in range(0, DAY, BATCH):
        lines: list[bytes] = []
        counts = [0, 0, 0]
        values = array("I")
        garbage = BOARD_GARBAGE_FROM <= start < BOARD_GARBAGE_UNTIL
        while pending is not None and pending[0] < start + BATCH:
            data = pending[1]
            pending = next(items, None)
            if data.startswith(CLEAR_SCREEN):
                counts[2] += data.count(b"\r\n")
            elif garbage:
                data = junk_line(rng)
                counts[1] += 1
            else:
                counts[0] += 1
                values.append(int(data[:5]))
            lines.append(data)
        if start in BOARD_BURSTS:
            junk = [junk_line(rng) for _ in range(BURST_LINES)] + list(BAD_LINES)
            lines[len(lines) // 2 : len(lines) // 2] = junk
            counts[1] += len(junk)
        batches.append(
            Batch(b"".join(lines), (counts[0], counts[1], counts[2]), values)
        )
    return batches


def plan_ecm(rng: random.Random) -> list[Batch]:
    """The unit's batches: a packet a second, with duplicates and garbage where told."""
    unit = EcmUnit(
        ch1_abs_ws=START_WS,
        ch2_abs_ws=START_WS,
        ch1_pol_ws=START_WS,
        ch2_pol_ws=START_WS,
        aux_ws=[START_AUX] * 5,
        seconds=START_SECONDS,
    )
    pacer = EcmPacer(unit, demo_loads(3), reset_at=ECM_RESETS.__contains__)
    batches = []
    for start in range(0, DAY, BATCH):
        sent: list[tuple[bytes, tuple[int, ...]]] = []
        for t in range(start + 1, start + BATCH + 1):
            data = pacer.step(t)
            assert data is not None  # real-time mode, a packet every second
            counters = (
                unit.ch1_abs_ws,
                unit.ch2_abs_ws,
                unit.ch1_pol_ws,
                unit.ch2_pol_ws,
            )
            sent.append(
                (data, (unit.reset_counter, unit.seconds, *counters, *unit.aux_ws))
            )
        if start in ECM_DUPLICATES:
            sent.insert(3, sent[2])
        parts = [data for data, _ in sent]
        counts = (len(sent), 0, 0)
        if start in ECM_BURSTS:
            junk = bytes(rng.choice(range(0xFE)) for _ in range(ECM_JUNK_BYTES))
            bad = corrupted(parts)
            parts[1:1] = [junk, bad]
            counts = (len(sent), 1, len(junk) + len(bad))
        values = array("q", chain.from_iterable(numbers for _, numbers in sent))
        batches.append(Batch(b"".join(parts), counts, values))
    return batches


def corrupted(packets: list[bytes]) -> bytes:
    """A copy of one of the packets with a wrong checksum: one rejection, all of it discarded.

    Junk holds no FE, and the copy is of a packet in which no other header starts
    and that does not end in FE: the parser's search through it finds nothing else.
    """
    for packet in packets:
        data = packet[:-1] + bytes([packet[-1] ^ 0x55])
        if HEADER not in data[1:] and data[-1] != 0xFE:
            return data
    pytest.fail("no packet of the batch can be corrupted cleanly")


# --- the ports: writing a batch, following the reader ---------------------------------


class Side:
    """One device's pty, the entry reading it, and what the test wrote to it."""

    def __init__(
        self, entry: MockConfigEntry, link: PtyLink, clock: Clock, silence: int
    ) -> None:
        """Tie the device's port to its entry."""
        self.entry = entry
        self.link = link
        self.clock = clock
        self.silence = silence
        self.quiet_since = 0.0  # when the port opened or last carried a valid frame
        self.written = (0, 0, 0)  # what reached the open port, by parser counter
        self.lost = 0  # valid frames due while the port was unplugged or reopening
        self.issues: list[str] = []

    @property
    def coordinator(self) -> MfmCoordinator | EcmCoordinator:
        """The entry's coordinator."""
        return coordinator_of(self.entry)

    @property
    def state(self) -> ConnectionState:
        """Where the reader is with the port."""
        return self.coordinator.connection_state

    def progress(self) -> tuple[int, int, int]:
        """The parser's counters that a batch's counts add to."""
        raise NotImplementedError

    def took(self, values: array[int]) -> None:
        """Account the readings or packets of a batch that reached the entry."""
        raise NotImplementedError

    async def deliver(self, batch: Batch) -> None:
        """Write the batch if the entry has its port open; return once it is parsed."""
        if not self.link.is_open or self.state is not ConnectionState.CONNECTED:
            self.lost += batch.counts[0]
            return
        assert len(batch.data) <= MAX_WRITE
        target = [
            now + add for now, add in zip(self.progress(), batch.counts, strict=True)
        ]

        def reached() -> bool:
            """Whether the parser has taken the whole batch in."""
            return all(
                now >= goal for now, goal in zip(self.progress(), target, strict=True)
            )

        async with parsed(self.entry, reached):
            self.link.write(batch.data)
        self.written = cast(
            tuple[int, int, int],
            tuple(w + c for w, c in zip(self.written, batch.counts, strict=True)),
        )
        if batch.counts[0]:
            self.quiet_since = self.clock.elapsed
        self.took(batch.values)

    async def settle(self, was: ConnectionState) -> None:
        """After the clock moved: wait for the reader's watchdog or (re)connect to finish.

        The watchdog runs on loop time, which moves with the simulated one: it falls
        due in the very step that takes the port's quiet time to the timeout.
        """
        if (
            self.state is ConnectionState.CONNECTED
            and self.clock.elapsed - self.quiet_since >= self.silence
        ):
            await wait_for_connection(self.entry, ConnectionState.DISCONNECTED)
        if self.state is ConnectionState.CONNECTING:
            await settled(self.entry)
        if self.state is ConnectionState.CONNECTED and was is not self.state:
            self.quiet_since = self.clock.elapsed

    async def unplug(self) -> None:
        """Pull the pty: the reader loses the port at once."""
        self.link.close()
        await wait_for_connection(self.entry, ConnectionState.DISCONNECTED)

    def note_issue(self, hass: HomeAssistant) -> None:
        """Remember the repair issue the ongoing outage raised (or "none")."""
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"outage_{self.entry.entry_id}"
        )
        self.issues.append("none" if issue is None else str(issue.translation_key))


class BoardSide(Side):
    """The board, and the grid time its readings should add up to.

    The reader stamps the lines it reads together spread over its last rest (at most
    READ_REST before the read), which this side does not know line by line: it stamps a
    batch's readings at the read and bounds what the spreading can change. Over the
    span s a batch may be spread across, both integrals average the same values (the
    batch's and the one before it), so they differ by at most s x (max - min) / nominal;
    after a gap, by at most s x the largest deviation / nominal.
    """

    def __init__(self, entry: MockConfigEntry, link: PtyLink, clock: Clock) -> None:
        """Nothing integrated yet."""
        super().__init__(entry, link, clock, BOARD_SILENCE)
        self.grid_time = 0.0
        self.grid_time_bound = 0.0
        self._previous: tuple[float, float] | None = None

    def progress(self) -> tuple[int, int, int]:
        """Readings accepted, lines rejected, banner lines."""
        coordinator = self.coordinator
        assert isinstance(coordinator, MfmCoordinator)
        parser = coordinator.parser
        return parser.accepted, parser.rejected_total, parser.banner_lines

    def took(self, values: array[int]) -> None:
        """Add the trapezoids between readings stamped now and the one before them."""
        if not values:
            return
        now = self.clock.elapsed
        spread = [millihertz / 1000 for millihertz in values]
        if self._previous is not None and now - self._previous[0] <= GRID_TIME_GAP:
            spread.append(self._previous[1])
            varies = max(spread) - min(spread)
        else:  # only the spread batch's own trapezoids, which this side leaves out
            varies = max(abs(frequency - NOMINAL) for frequency in spread)
        self.grid_time_bound += READ_REST * varies / NOMINAL
        for millihertz in values:
            frequency = millihertz / 1000
            if self._previous is not None and now - self._previous[0] <= GRID_TIME_GAP:
                before, previous = self._previous
                mean = (previous + frequency) / 2
                self.grid_time += (mean - NOMINAL) / NOMINAL * (now - before)
            self._previous = (now, frequency)


class EcmSide(Side):
    """The unit, and the energy its packets should add up to."""

    def __init__(self, entry: MockConfigEntry, link: PtyLink, clock: Clock) -> None:
        """Nothing counted yet."""
        super().__init__(entry, link, clock, ECM_SILENCE)
        self.energy = [0] * len(COUNTERS)
        self.wraps: set[str] = set()
        self.resets = 0
        self._previous: array[int] | None = None

    def progress(self) -> tuple[int, int, int]:
        """Packets accepted, candidates rejected, bytes discarded."""
        coordinator = self.coordinator
        assert isinstance(coordinator, EcmCoordinator)
        parser = coordinator.parser
        return parser.accepted, parser.rejected_total, parser.discarded_bytes

    def took(self, values: array[int]) -> None:
        """Add each counter's advance between packets with the same reset counter."""
        for at in range(0, len(values), PACKET_NUMBERS):
            packet = values[at : at + PACKET_NUMBERS]
            previous, self._previous = self._previous, packet
            if previous is None:
                continue
            if previous[0] != packet[0]:
                self.resets += 1
                continue
            if packet[1] < previous[1]:
                self.wraps.add("seconds")
            for n, (before, after) in enumerate(
                zip(previous[2:], packet[2:], strict=True)
            ):
                self.energy[n] += (after - before) % MODULI[n]
                if after < before:
                    self.wraps.add(COUNTERS[n])


# --- memory -----------------------------------------------------------------------------


class Memory:
    """Python's allocations (tracemalloc) and the process's peak RSS, warm and at the end."""

    IGNORED = (
        tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__),
    )

    def __init__(self) -> None:
        """Start tracing allocations."""
        tracemalloc.start()
        self.baseline: tracemalloc.Snapshot | None = None
        self.rss_warm = 0

    def warm(self) -> None:
        """Take the baseline: the first hour filled every cache and buffer."""
        self.baseline = self._snapshot()
        self.rss_warm = peak_rss()  # the baseline snapshot's own memory included

    def growth(self) -> tuple[int, list[tracemalloc.StatisticDiff]]:
        """Bytes allocated since the baseline and still held; the largest by line."""
        assert self.baseline is not None
        by_line = self._snapshot().compare_to(self.baseline, "lineno")
        tracemalloc.stop()
        return sum(stat.size_diff for stat in by_line), by_line[:5]

    def _snapshot(self) -> tracemalloc.Snapshot:
        """What is allocated now and still reachable."""
        forget_saves()
        gc.collect()
        return tracemalloc.take_snapshot().filter_traces(self.IGNORED)


def forget_saves() -> None:
    """Let go of the saves the test harness's storage mock records.

    The mock keeps every call, and with it every save's data: two saves a minute
    would look like a leak of 400 kB an hour that Home Assistant does not have.
    """
    cast(Mock, storage.Store._async_write_data).reset_mock()


def peak_rss() -> int:
    """The process's peak resident set, in bytes (Linux counts KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def real_time() -> float:
    """Seconds on a clock the frozen time leaves alone."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# --- the day ----------------------------------------------------------------------------


async def elapse(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass and return once every timer that fell due has run.

    The loop's clock moved with the simulated one, so the loop runs those timers
    by itself; a callback due now comes after all of them in its timer queue.
    """
    clock.tick(seconds)
    loop = hass.loop
    ran: asyncio.Future[None] = loop.create_future()
    loop.call_at(loop.time(), ran.set_result, None)
    await ran
    await hass.async_block_till_done()


async def strike(hass: HomeAssistant, t: int, board: BoardSide, ecm: EcmSide) -> None:
    """Unplug or replug a port when the faults say so; note the issue before a replug."""
    for side, unplugs in ((board, BOARD_UNPLUGS), (ecm, ECM_UNPLUGS)):
        if t in unplugs:
            await side.unplug()
        if t - OUTAGE in unplugs:
            side.note_issue(hass)
            side.link.open()
    if t == BOARD_GARBAGE_UNTIL:
        board.note_issue(hass)


async def run_day(
    hass: HomeAssistant,
    clock: Clock,
    sides: tuple[BoardSide, EcmSide],
    plans: tuple[list[Batch], list[Batch]],
    memory: Memory,
) -> None:
    """Batch after batch: both devices' bytes, then the clock moves one interval."""
    board, ecm = sides
    for start, board_batch, ecm_batch in zip(range(0, DAY, BATCH), *plans, strict=True):
        assert clock.elapsed == start
        if start % HOUR == 0:
            forget_saves()
        if start == WARM_UP:
            memory.warm()
        await strike(hass, start, board, ecm)
        await board.deliver(board_batch)
        await ecm.deliver(ecm_batch)
        was = board.state, ecm.state
        await elapse(hass, clock, BATCH)
        await board.settle(was[0])
        await ecm.settle(was[1])


@pytest.mark.no_cover  # coverage's tracing would triple the run time
# Every reading also goes through the day's quality, the disturbance detector and the
# stability figures: 280 s on a loaded 2-core machine.
@pytest.mark.timeout(600)
async def test_a_day_at_full_rate_with_faults(
    hass: HomeAssistant,
    clock: Clock,
    mfm_link: PtyLink,
    mock_config_entry: MockConfigEntry,
    ecm_link: PtyLink,
    ecm_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """24 h of both devices: nothing lost, totals exact, memory flat, faults survived."""
    caplog.set_level(logging.INFO)
    # Asyncio's debug mode records a traceback for every callback and times them by
    # loop time (every step would look slow): a day needs the loop as it runs for users.
    monkeypatch.setattr(hass.loop, "slow_callback_duration", DAY)
    hass.loop.set_debug(False)
    began = real_time()
    rng = random.Random(20261122)
    plans = plan_board(rng), plan_ecm(rng)
    planned = real_time() - began
    for entry in (mock_config_entry, ecm_entry):
        await set_up_connected(hass, entry)
    board = BoardSide(mock_config_entry, mfm_link, clock)
    ecm = EcmSide(ecm_entry, ecm_link, clock)
    memory = Memory()
    began = real_time()
    await run_day(hass, clock, (board, ecm), plans, memory)
    took = real_time() - began
    rss = memory.rss_warm, peak_rss()
    growth, largest = memory.growth()
    report(board, ecm, (growth, largest), rss, (planned, took))

    mfm, energy = board.coordinator, ecm.coordinator
    assert isinstance(mfm, MfmCoordinator)
    assert isinstance(energy, EcmCoordinator)
    assert mfm.data is not None
    assert energy.data is not None
    assert growth < MAX_GROWTH, largest
    assert mfm_link.dropped == ecm_link.dropped == 0

    # The board: every line that reached the open port counted once, grid time exact.
    readings, rejected, banner_lines = board.written
    assert (mfm.parser.accepted, mfm.parser.rejected_total) == (readings, rejected)
    assert (mfm.data.readings_accepted, mfm.data.lines_rejected) == (readings, rejected)
    assert mfm.parser.banner_lines == banner_lines == 5 * (1 + len(BOARD_REBOOTS))
    assert mfm.parser.restarts == mfm.data.board_restarts == 1 + len(BOARD_REBOOTS)
    grid_time = mfm.stored_data()["grid_time_deviation"]
    # Within what the reader's spreading of lines can change at most: a worst case, summed
    # over every batch (2.3 s over this day, against 5 ms found).
    assert abs(grid_time - board.grid_time) <= board.grid_time_bound
    assert mfm.data.grid_time_deviation == round(grid_time, 3)

    # The unit: every packet accepted, every byte of junk discarded, totals exact.
    packets, corrupt, junk = ecm.written
    assert (energy.parser.accepted, energy.data.packets_accepted) == (packets, packets)
    assert energy.parser.rejected_total == corrupt == len(ECM_BURSTS)
    assert energy.parser.discarded_bytes == junk
    totals = energy.ledger.totals.channels
    assert [totals[c].absolute for c in CHANNELS] == [
        ecm.energy[COUNTERS.index(c)] for c in CHANNELS
    ]
    assert [totals["ch1"].polarized, totals["ch2"].polarized] == ecm.energy[2:4]
    assert [energy.data.channels[c].energy for c in CHANNELS] == [
        ecm.energy[COUNTERS.index(c)] / WATT_SECONDS_PER_KWH for c in CHANNELS
    ]
    assert ecm.wraps == {
        "seconds",
        "ch1",
        "ch2",
        "ch2_exported",
        "aux1",
        "aux2",
        "aux5",
    }
    assert ecm.resets == len(ECM_RESETS)

    # The faults: told once each, an issue while each lasted, none left after.
    assert outage_logs(caplog, mfm_link.path) == (3, 3)
    assert outage_logs(caplog, ecm_link.path) == (2, 2)
    assert board.issues == [
        "outage_port_not_found",
        "outage_wrong_device",
        "outage_port_not_found",
    ]
    assert ecm.issues == ["outage_port_not_found"] * 2
    assert not ir.async_get(hass).issues
    assert board.state is ecm.state is ConnectionState.CONNECTED
    for entry in (mock_config_entry, ecm_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)


def report(
    board: BoardSide,
    ecm: EcmSide,
    memory: tuple[int, list[tracemalloc.StatisticDiff]],
    rss: tuple[int, int],
    seconds: tuple[float, float],
) -> None:
    """Print the day's figures (shown with -s)."""
    readings, rejected, banner_lines = board.written
    packets, corrupt, junk = ecm.written
    lines = (
        f"soak: {DAY // HOUR} simulated hours in {seconds[1]:.1f} s "
        f"(the devices' bytes worked out in {seconds[0]:.1f} s before)",
        f"board: {readings} readings accepted, {rejected} bad lines rejected, "
        f"{banner_lines} banner lines; {board.lost} readings while the port was closed",
        f"ECM: {packets} packets accepted, {corrupt} corrupted rejected, {junk} bytes "
        f"discarded; {ecm.lost} packets while the port was closed",
        f"memory growth after warm-up: {memory[0]} bytes (tracemalloc); peak RSS "
        f"{rss[0] // 1024} KiB warm, {rss[1] // 1024} KiB at the end; largest growth:",
        *(f"  {stat}" for stat in memory[1]),
    )
    print("\n" + "\n".join(lines))  # noqa: T201
