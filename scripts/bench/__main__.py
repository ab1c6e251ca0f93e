"""Run the benchmark and print its one table: `bash scripts/benchmark [--quick] [--parts 1,2,...]`.

Parts: 1 the ECM parser against siobrultech-protocols, 2 the board's lines, 3 the cost
inside a real Home Assistant and 5 the latency there, 4 the recorder's load over a
simulated hour and day, 6 memory. Ratios, not absolute times, are what carries over
from this machine to another.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import sys
import time

from . import ecm_parsers, hass_cost, mfm_lines
from .harness import HarnessRun, memory_rows, recorder_rows
from .machine import describe, load
from .table import Row, render


@dataclass(frozen=True, slots=True)
class Plan:
    """How long each part runs: the full run, or --quick."""

    ecm_packets: int
    ecm_rounds: int
    board_seconds: float
    hass: hass_cost.Plan
    recorder_hours: int
    memory_frames: int


FULL = Plan(
    ecm_packets=5000,
    ecm_rounds=5,
    board_seconds=60,
    hass=hass_cost.Plan(
        rounds=3, phase_seconds=20, profile_seconds=40, latency_seconds=40
    ),
    recorder_hours=24,
    memory_frames=1_000_000,
)
QUICK = Plan(
    ecm_packets=2000,
    ecm_rounds=3,
    board_seconds=60,
    hass=hass_cost.Plan(
        rounds=1, phase_seconds=15, profile_seconds=15, latency_seconds=40
    ),
    recorder_hours=1,
    memory_frames=200_000,
)


def run(plan: Plan, chosen: set[str]) -> list[Row]:
    """Run the chosen parts; their rows, in the parts' order.

    Parts 3 and 5 share one Home Assistant. Parts 4 and 6 run in a process of their
    own while it is measured: its CPU time is compared with its own idle phases,
    which share whatever else the machine does. Parts 1 and 2 time Python, alone.
    """
    rows: list[Row] = []
    if "1" in chosen:
        say("part 1: the ECM parsers")
        rows += ecm_parsers.measure(plan.ecm_packets, plan.ecm_rounds)
    if "2" in chosen:
        say("part 2: the board's lines")
        rows += mfm_lines.measure(plan.board_seconds)
    harness = None
    if {"4", "6"} & chosen:
        say("parts 4 and 6: the recorder and memory, in the background")
        harness = HarnessRun(plan.recorder_hours, plan.memory_frames)
    if {"3", "5"} & chosen:
        say("parts 3 and 5: Home Assistant")
        try:
            rows += hass_cost.measure(plan.hass)
        except BaseException:
            if harness is not None:
                harness.stop()
            raise
    if harness is not None:
        say("waiting for parts 4 and 6")
        figures = harness.figures()
        rows += recorder_rows(figures) + memory_rows(figures)
    return sorted((row for row in rows if row.part in chosen), key=lambda row: row.part)


def say(text: str) -> None:
    """Tell what runs now, on standard error: the table alone goes to standard output."""
    print(f"benchmark: {text}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen parts and print the table with the machine it ran on."""
    arguments = argparse.ArgumentParser(
        prog="scripts/benchmark", description=__doc__.splitlines()[0]
    )
    arguments.add_argument(
        "--quick", action="store_true", help="shorter runs, wider spread"
    )
    arguments.add_argument(
        "--parts", default="1,2,3,4,5,6", help="comma-separated part numbers"
    )
    args = arguments.parse_args(argv)
    started, load_before = time.monotonic(), load()
    rows = run(QUICK if args.quick else FULL, set(args.parts.split(",")))
    print(describe(time.monotonic() - started, load_before))
    print()
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
