"""Parts 3 and 5: what each device costs inside a real Home Assistant, and how late its data shows.

Both devices send at their maximum rate all the time: the board (firmware V2, format P4)
on a 60 Hz grid, 6.7 lines a second; the ECM-1240 every second, its shortest send
interval. Home Assistant reads them through its entries, which the benchmark enables
one at a time, at the default update interval (5 s) and at the shortest (1 s), in
rounds that each start with neither enabled. A device's cost is its phase's CPU time a
second less that of the round's phase without either: per second of device data, as
the device never pauses. A sampling profiler then breaks the event loop's time down
with both devices at the defaults.

Latency: with the shortest interval, the diagnostic counters of accepted frames are
enabled for a while; the first state of a counter that includes a frame, less the time
the frame's last byte was on the port, is that frame's latency.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
import shutil
from statistics import median, quantiles
import subprocess
import sys
import tempfile
import time

from .hass_process import BenchHass, CpuTime, running_hass
from .ports import Devices, PacedPort, board_frames, ecm_frames
from .table import Row

SHORTEST = 1
DEFAULT = 5
# After an entry is enabled: its set-up, the first snapshots, the first rows committed.
SETTLE = 3.0
# The recorder commits every 5 s: the states of a phase are in its database this much later.
COMMIT_WAIT = 6.0
# Home Assistant reloads an entry 30 s after one of its entities was enabled.
REGISTRY_RELOAD = 31.0
PROFILE_RATE = 500
AIM = 0.1  # % of one core per device at the defaults
BOARD, ECM = "mfm", "ecm1240"
# The unit's second is 2.5 % long: its packets sweep the whole update cycle in 40 s.
ECM_SECOND = 1.025
FRAMES_PER_SECOND = {BOARD: 60 / 9, ECM: 1 / ECM_SECOND}
NAMES = {BOARD: "board, 6.7 lines/s", ECM: "ECM-1240, 0.98 packets/s"}
COUNTERS = {BOARD: "readings_accepted", ECM: "packets_accepted"}


@dataclass(frozen=True, slots=True)
class Phase:
    """Which device's entry is enabled, at which update interval."""

    kind: str | None
    interval: int = DEFAULT

    @property
    def name(self) -> str:
        """The phase as the table names it."""
        if self.kind is None:
            return "idle"
        return f"{NAMES[self.kind]}, {self.interval} s interval"


PHASES = (
    Phase(None),
    Phase(BOARD),
    Phase(ECM),
    Phase(BOARD, SHORTEST),
    Phase(ECM, SHORTEST),
)


@dataclass(frozen=True, slots=True)
class Plan:
    """How long part 3 and 5 measure."""

    rounds: int
    phase_seconds: float
    profile_seconds: float
    latency_seconds: float


def apply(hass: BenchHass, phase: Phase) -> None:
    """Enable the phase's entry at its interval, every other one disabled; let it settle."""
    for kind in hass.entries:
        if kind != phase.kind:
            hass.set(kind, None)
    if phase.kind is not None:
        hass.set(phase.kind, phase.interval)
        time.sleep(SETTLE + phase.interval)
    else:
        time.sleep(SETTLE)


def cpu_rate(hass: BenchHass, seconds: float) -> CpuTime:
    """CPU seconds a second over the next `seconds`."""
    before, started = hass.cpu(), time.monotonic()
    time.sleep(seconds)
    used, elapsed = hass.cpu() - before, time.monotonic() - started
    return CpuTime(used.loop / elapsed, used.process / elapsed)


def phases(hass: BenchHass, plan: Plan) -> dict[Phase, list[CpuTime]]:
    """Each phase's CPU rate, less that of the idle phase of its round, in every round."""
    costs: dict[Phase, list[CpuTime]] = {phase: [] for phase in PHASES}
    for _ in range(plan.rounds):
        idle: CpuTime | None = None
        for phase in PHASES:
            apply(hass, phase)
            rate = cpu_rate(hass, plan.phase_seconds)
            if idle is None:
                idle = rate
            costs[phase].append(rate if phase.kind is None else rate - idle)
    return costs


def percent(values: Sequence[float]) -> str:
    """Shares of one core: the median, and the spread over the rounds."""
    middle = median(values) * 100
    if len(values) == 1:
        return f"{middle:.3f} %"
    return f"{middle:.3f} % ({min(values) * 100:.3f} to {max(values) * 100:.3f})"


def cost_rows(costs: dict[Phase, list[CpuTime]], frames: dict[str, float]) -> list[Row]:
    """Part 3's rows: each device's share of a core, and how it compares with Home Assistant's own."""
    idle = costs[PHASES[0]]
    idle_loop = median(rate.loop for rate in idle)
    idle_process = median(rate.process for rate in idle)
    rows = [
        Row(
            "3",
            "Home Assistant without either entry (frontend, recorder, history, logbook, "
            "energy): % of one core, event loop; whole process",
            "",
            f"{percent([rate.loop for rate in idle])}; "
            f"{percent([rate.process for rate in idle])}",
            "",
            "",
            None,
        )
    ]
    for phase in PHASES[1:]:
        assert phase.kind is not None
        loop = [rate.loop for rate in costs[phase]]
        process = [rate.process for rate in costs[phase]]
        per_frame = median(loop) / frames[phase.kind] * 1e6
        at_default = phase.interval == DEFAULT
        rows.append(
            Row(
                "3",
                f"{phase.name}: added event-loop time, % of one core (µs a frame); "
                "whole process",
                f"{percent(loop)} ({per_frame:.0f} µs); {percent(process)}",
                "",
                f"{median(loop) / idle_loop:.1f}x HA's own loop",
                f"< {AIM} %" if at_default else "",
                median(loop) * 100 < AIM if at_default else None,
            )
        )
    ours = [
        sum(
            median(getattr(rate, part) for rate in costs[phase])
            for phase in PHASES[1:3]
        )
        for part in ("loop", "process")
    ]
    rows.append(
        Row(
            "3",
            "Mains Monitor's share of Home Assistant's CPU time, both devices at the "
            "defaults: event loop; whole process",
            f"{ours[0] / (idle_loop + ours[0]):.0%}; "
            f"{ours[1] / (idle_process + ours[1]):.0%}",
            "",
            "",
            "",
            None,
        )
    )
    return rows


def profile(hass: BenchHass, seconds: float) -> Counter[str]:
    """Sample the event loop's thread with both devices at the defaults; samples by what runs."""
    for kind in hass.entries:
        hass.set(kind, DEFAULT)
    time.sleep(SETTLE + DEFAULT)
    spy = shutil.which("py-spy")
    if spy is None:
        return Counter()
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "stacks.txt"
        subprocess.run(
            [
                spy,
                "record",
                *("--pid", str(hass.pid)),
                *("--duration", str(round(seconds))),
                *("--rate", str(PROFILE_RATE)),
                *("--format", "raw"),
                *("--output", str(raw)),
                "--threads",
                "--nonblocking",
                "--full-filenames",
            ],
            check=True,
            capture_output=True,
        )
        return breakdown(raw.read_text().splitlines(), hass.pid)


# What runs, told by the frames on the stack (root first); the first that matches names it.
CATEGORIES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (
        "waking up: the event loop's wait returns (kernel)",
        lambda stack: (
            stack.endswith(")") and "EpollSelector.select (" in stack.rsplit(";", 1)[-1]
        ),
    ),
    ("parsing", lambda stack: "mains_monitor/protocol/" in stack),
    (
        "per frame: coordinator",
        lambda stack: "data_received (" in stack and "mains_monitor" in stack,
    ),
    ("per interval: snapshot", lambda stack: "build_snapshot (" in stack),
    ("per interval: state writes", lambda stack: "_async_publish (" in stack),
    (
        "reading the port (serialx, our reader)",
        lambda stack: "serialx" in stack or "mains_monitor/connection.py" in stack,
    ),
    ("other Mains Monitor", lambda stack: "mains_monitor" in stack),
    ("the recorder's event listener", lambda stack: "components/recorder" in stack),
)


def breakdown(lines: list[str], pid: int) -> Counter[str]:
    """Count the event loop thread's samples by category; the rest is Home Assistant's own.

    A line of py-spy's raw output is `thread (TID): NAME;frame;frame... COUNT`, and the
    main thread's id is the process's.
    """
    samples: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack.startswith(f"thread ({pid}):"):
            continue
        name = next(
            (label for label, matches in CATEGORIES if matches(stack)),
            "Home Assistant's own",
        )
        samples[name] += int(count)
    return samples


def profile_rows(samples: Counter[str], seconds: float) -> list[Row]:
    """The breakdown's rows: each category's share of the sampled event-loop time."""
    total = sum(samples.values())
    if not total:
        return [
            Row("3", "event loop breakdown: py-spy not installed", "", "", "", "", None)
        ]
    return [
        Row(
            "3",
            f"event loop breakdown, both devices at 5 s: {name}",
            f"{count / total:.0%} ({count / PROFILE_RATE / seconds * 1000:.2f} ms/s)",
            "",
            "",
            "",
            None,
        )
        for name, count in samples.most_common()
    ]


@dataclass(frozen=True, slots=True)
class Latencies:
    """One device's frames in the latency phase: how many were sent whole, and how late each showed (s)."""

    delivered: int
    seconds: list[float]


def latencies(
    hass: BenchHass, ports: dict[str, PacedPort], seconds: float
) -> dict[str, Latencies]:
    """Measure latency at the shortest interval, with the counters enabled meanwhile.

    Home Assistant reloads an entry 30 s after one of its entities was enabled; the
    frames counted are those of the connection opened by that reload.
    """
    for kind in hass.entries:
        hass.set(kind, SHORTEST)
    counters = {kind: hass.entities(kind)[COUNTERS[kind]] for kind in hass.entries}
    for entity_id in counters.values():
        hass.enable_entity(entity_id, enabled=True)
    time.sleep(REGISTRY_RELOAD + SETTLE + SHORTEST)
    started = time.time()
    time.sleep(seconds)
    ended = time.time()
    for entity_id in counters.values():
        hass.enable_entity(entity_id, enabled=False)
    time.sleep(COMMIT_WAIT)
    history = hass.history(list(counters.values()), started - SETTLE)
    results = {}
    for kind, entity_id in counters.items():
        connection = ports[kind].connections[-1]
        results[kind] = frame_latencies(
            connection.frames, history[entity_id], (started, ended - SHORTEST - 1)
        )
    return results


def frame_latencies(
    frames: list[float], states: list[tuple[float, str]], window: tuple[float, float]
) -> Latencies:
    """Each frame's latency: the first counter state that counts it, less its last byte's time."""
    shown: list[float | None] = [None] * len(frames)
    for written, state in states:
        if not state.isdigit():
            continue
        for index in range(min(int(state), len(frames))):
            if shown[index] is None:
                shown[index] = written
    start, end = window
    in_window = [
        (at, at_shown)
        for at, at_shown in zip(frames, shown, strict=True)
        if start <= at <= end
    ]
    return Latencies(
        len(in_window),
        [at_shown - at for at, at_shown in in_window if at_shown is not None],
    )


def latency_rows(results: dict[str, Latencies]) -> list[Row]:
    """Part 5's rows: p50 and p99 a device."""
    rows = []
    for kind, result in results.items():
        cuts = quantiles(result.seconds, n=100, method="inclusive")
        rows.append(
            Row(
                "5",
                f"latency, {NAMES[kind]}, 1 s interval: last byte on the port to state, "
                f"p50 / p99 ({len(result.seconds)} of {result.delivered} frames shown)",
                f"{cuts[49] * 1000:.0f} / {cuts[98] * 1000:.0f} ms",
                "",
                "",
                "",
                None,
            )
        )
    return rows


def measure(plan: Plan) -> list[Row]:
    """Run parts 3 and 5 in one Home Assistant; their rows."""
    devices = Devices([(board_frames(nominal=60), 1), (ecm_frames(ECM_SECOND), 1)])
    # The set-up's own messages go with the benchmark's progress, not into the table.
    with redirect_stdout(sys.stderr), devices.running(), running_hass() as hass:
        ports = {BOARD: devices.ports[0][0], ECM: devices.ports[1][0]}
        for kind, port in ports.items():
            hass.add(kind, port.url)
        costs = phases(hass, plan)
        samples = profile(hass, plan.profile_seconds)
        results = latencies(hass, ports, plan.latency_seconds)
    return [
        *cost_rows(costs, FRAMES_PER_SECOND),
        *profile_rows(samples, plan.profile_seconds),
        *latency_rows(results),
    ]
