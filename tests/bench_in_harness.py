"""Parts 4 and 6 of the benchmark (scripts/bench), run in Home Assistant's test harness.

Not tests: `pytest tests` leaves this file alone (its name is no test file's), and run
by hand without the benchmark it skips. `python -m scripts.bench` runs it with pytest,
as the harness needs, and reads what each run writes into the JSON file named by
MAINS_MONITOR_BENCH_OUT.

Both devices are read at the defaults through their ptys, on the frozen clock: the
board (firmware V2, format P4, a quiet 50 Hz grid) and an ECM-1240 sending every
second (the simulator's household; a mains voltage that wanders by tenths of a volt).
The clock moves a second at a time: the bytes of each second go to the ptys in one
write, as they gather in a port while the board's reader rests (half a second at the
default interval), and the board's lines of that second share the time they are read.
"""

from __future__ import annotations

from collections.abc import Iterator
import gc
import itertools
import json
import os
from pathlib import Path
import random
import sys
from typing import Any, cast

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed_exact,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import text

from custom_components.mains_monitor.const import DEFAULT_UPDATE_INTERVAL
from custom_components.mains_monitor.port_session import READ_SIZE
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance, session_scope
from simulator.ecm1240 import EcmPacer, demo_loads
from simulator.links import PtyLink
from simulator.mfm import MfmBoard, random_walk, stream
from tests.ecm_unit import DEVICE_ID, Simulation
from tests.helpers import Clock, coordinator_of, send
from tests.test_soak import forget_saves, real_time

OUT = os.environ.get("MAINS_MONITOR_BENCH_OUT")
HOUR = 3600
STEP = 1.0  # s: the clock's step
# A million frames of each device, up to this many bytes of each a step: the board's in
# one read (the reader rests after each), the unit's in two.
MEMORY_FRAMES = int(os.environ.get("MAINS_MONITOR_BENCH_FRAMES", "1000000"))
MEMORY_STEP_BYTES = READ_SIZE
MEMORY_WARM_UP = 50_000
MEMORY_LINES = 20_000
BOARD_LINE = 29  # bytes of a P4 line
PACKET = 65

pytestmark = pytest.mark.skipif(OUT is None, reason="run by scripts/benchmark")


def report(key: str, value: Any) -> None:
    """Add a figure to the benchmark's JSON file."""
    assert OUT is not None
    path = Path(OUT)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[key] = value
    path.write_text(json.dumps(figures, indent=1))


@pytest.fixture
def persistent_database() -> bool:
    """A database in a file, whose size the benchmark reads."""
    return True


@pytest.fixture
def enable_statistics() -> bool:
    """The recorder compiles its statistics, as in a real Home Assistant."""
    return True


@pytest.fixture
def recorder_config() -> dict[str, Any]:
    """The recorder at Home Assistant's defaults: a commit every 5 s."""
    return {"commit_interval": 5}


def board_lines() -> Iterator[tuple[float, bytes]]:
    """The board's lines, from its first measurement on."""
    board = MfmBoard()
    return stream(board, random_walk(3, center=board.nominal_mhz), boot=False)


class Mains:
    """A voltage that wanders around 120 V in tenths of a volt, seeded."""

    def __init__(self) -> None:
        """Start at 120 V."""
        self._rng = random.Random(1240)
        self.volts = 120.0

    def step(self) -> float:
        """The voltage one second later."""
        self.volts = min(max(self.volts + self._rng.choice((-0.1, 0, 0.1)), 117), 123)
        return round(self.volts, 1)


class Feed:
    """Both devices' bytes, a second at a time, on the frozen clock."""

    def __init__(
        self,
        hass: HomeAssistant,
        clock: Clock,
        board: MockConfigEntry,
        ecm: Simulation,
        link: PtyLink,
    ) -> None:
        """Tie the board's entry and pty and the unit's simulation to the clock."""
        self.hass = hass
        self.clock = clock
        self.board = board
        self.link = link
        self.ecm = ecm
        self._lines = board_lines()
        self._next_line = next(self._lines)
        self._pacer = EcmPacer(ecm.unit, demo_loads(3))
        self._mains = Mains()
        self.readings = 0
        self.packets = 0

    async def run(self, seconds: float) -> None:
        """Let `seconds` pass, every byte of them read."""
        for _ in range(round(seconds / STEP)):
            await self.step()

    async def step(self) -> None:
        """A second: the clock moves, timers run, then its bytes arrive and are read."""
        await tick(self.hass, self.clock, STEP)
        now = self.clock.elapsed
        lines = []
        while self._next_line[0] <= now:
            lines.append(self._next_line[1])
            self._next_line = next(self._lines)
        if lines:
            await send(self.board, self.link, b"".join(lines), len(lines))
            self.readings += len(lines)
        if now == int(now):
            self.ecm.unit.voltage = self._mains.step()
            packet = self._pacer.step(int(now))
            assert packet is not None
            await self.ecm.send(packet)
            self.packets += 1


async def tick(hass: HomeAssistant, clock: Clock, seconds: float) -> None:
    """Let `seconds` pass and run every timer due by then, none early.

    `tests.helpers.advance` runs them up to half a second early, as Home Assistant's
    own tests do: at half-second steps the interval would shrink to 4.5 s.
    """
    clock.tick(seconds)
    async_fire_time_changed_exact(hass)
    await hass.async_block_till_done()


def count_rows(hass: HomeAssistant) -> dict[str, int]:
    """The recorder's state rows by entity id."""
    with session_scope(hass=hass, read_only=True) as session:
        rows = session.execute(
            text(
                "SELECT states_meta.entity_id, COUNT(*) FROM states JOIN states_meta"
                " ON states.metadata_id = states_meta.metadata_id"
                " GROUP BY states_meta.entity_id"
            )
        ).all()
    return {str(entity_id): int(count) for entity_id, count in rows}


async def rows_now(hass: HomeAssistant) -> dict[str, int]:
    """Every state committed so far, counted by entity."""
    await async_wait_recording_done(hass)
    return cast(
        dict[str, int],
        await get_instance(hass).async_add_executor_job(count_rows, hass),
    )


def keys(hass: HomeAssistant) -> dict[str, str]:
    """Each of our entities' description key (prefixed by device), by entity id."""
    registry = er.async_get(hass)
    named = {}
    for entity in registry.entities.values():
        if entity.platform != "mains_monitor":
            continue
        device = "ecm" if entity.unique_id.startswith(DEVICE_ID) else "board"
        named[entity.entity_id] = f"{device}: {entity.unique_id.split('_', 1)[1]}"
    return named


def database_bytes(recorder: Recorder) -> int:
    """The database's size on disk, its write-ahead log included."""
    path = Path(recorder.db_url.removeprefix("sqlite:///"))
    return sum(
        file.stat().st_size
        for file in path.parent.iterdir()
        if file.name.startswith(path.name)
    )


@pytest.mark.recorder_before_hass
async def test_recorder_load(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    clock: Clock,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    ecm: Simulation,
) -> None:
    """State rows over a simulated hour (and day) at the defaults; the database's size."""
    hours = int(os.environ.get("MAINS_MONITOR_BENCH_HOURS", "1"))
    feed = Feed(hass, clock, init_integration, ecm, mfm_link)
    # The first interval: every entity gets its first real state.
    await feed.run(DEFAULT_UPDATE_INTERVAL + STEP)
    before = await rows_now(hass)
    report("database_bytes_start", database_bytes(recorder_mock))
    started = real_time()
    await feed.run(HOUR)
    hour = await rows_now(hass)
    report("hour_seconds", real_time() - started)
    named = keys(hass)
    report(
        "rows_hour",
        {
            named[entity]: hour[entity] - before.get(entity, 0)
            for entity in named
            if entity in hour
        },
    )
    report("readings_hour", {"board": feed.readings, "ecm": feed.packets})
    report("database_bytes_hour", database_bytes(recorder_mock))

    if hours > 1:
        await feed.run((hours - 1) * HOUR)
        day = await rows_now(hass)
        report(
            "rows_day",
            {
                named[entity]: day[entity] - before.get(entity, 0)
                for entity in named
                if entity in day
            },
        )
        report("database_bytes_day", database_bytes(recorder_mock))
        report("day_hours", hours)


async def test_memory(
    hass: HomeAssistant,
    clock: Clock,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    ecm: Simulation,
) -> None:
    """Memory still held after a million frames of each device through parser and coordinator.

    The frames come a few thousand bytes a simulated second, many times faster than
    the devices send, so that the run takes minutes, not days: each update interval
    aggregates hundreds of them. The board's lines repeat a stretch of its stream, so
    that the simulated grid's own memory stays out of the figure.
    """
    board = coordinator_of(init_integration).parser
    lines = itertools.cycle(
        [line for _, line in itertools.islice(board_lines(), MEMORY_LINES)]
    )
    pacer = EcmPacer(ecm.unit, demo_loads(3))
    seconds = itertools.count(1)
    started = real_time()
    warm: tuple[int, int] | None = None
    while (
        board.accepted < MEMORY_FRAMES
        or ecm.coordinator.parser.accepted < MEMORY_FRAMES
    ):
        if warm is None and board.accepted >= MEMORY_WARM_UP:
            warm = held()
        if board.accepted < MEMORY_FRAMES:
            batch = list(itertools.islice(lines, MEMORY_STEP_BYTES // BOARD_LINE))
            await send(init_integration, mfm_link, b"".join(batch), len(batch))
        if ecm.coordinator.parser.accepted < MEMORY_FRAMES:
            packets = [
                pacer.step(next(seconds))
                for _ in range(2 * MEMORY_STEP_BYTES // PACKET)
            ]
            await ecm.send(b"".join(cast(list[bytes], packets)), packets=len(packets))
        await tick(hass, clock, 1.0)
    assert warm is not None
    end = held()
    report("memory_seconds", real_time() - started)
    report(
        "memory_frames",
        {"board": board.accepted, "ecm": ecm.coordinator.parser.accepted},
    )
    report("memory_growth", {"rss_bytes": end[0] - warm[0], "blocks": end[1] - warm[1]})


def held() -> tuple[int, int]:
    """What the process holds after a collection: resident bytes, and Python's memory blocks."""
    forget_saves()
    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE"), sys.getallocatedblocks()
