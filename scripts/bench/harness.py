"""Parts 4 and 6: the recorder's load and memory, measured in Home Assistant's test harness.

The runs live in tests/bench_in_harness.py, where the harness's fixtures are; pytest
runs them in a process of their own, which writes its figures into a JSON file. This
module starts that process, waits for it and turns the figures into the table's rows.
"""

from __future__ import annotations

from collections import defaultdict
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import tracemalloc
from typing import Any

from custom_components.mains_monitor.quality import DayQuality
from custom_components.mains_monitor.stability import Recent
from simulator.mfm import random_walk

from .table import Row

REPOSITORY = Path(__file__).resolve().parents[2]
HOURS_A_DAY = 24
# The board sends a line every 9 mains periods: 480 000 lines a day at 50 Hz.
MAX_GROWTH = 1 << 20  # bytes, as the soak test allows over a day


class HarnessRun:
    """The harness's runs in a background process: a simulated hour or day, and a million frames."""

    def __init__(self, hours: int, frames: int) -> None:
        """Start the process; it runs while other parts are measured."""
        self._folder = tempfile.TemporaryDirectory(prefix="mains-monitor-bench-")
        self._out = Path(self._folder.name) / "figures.json"
        self._log = Path(self._folder.name) / "pytest.log"
        environment = os.environ | {
            "MAINS_MONITOR_BENCH_OUT": str(self._out),
            "MAINS_MONITOR_BENCH_HOURS": str(hours),
            "MAINS_MONITOR_BENCH_FRAMES": str(frames),
        }
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "pytest", "-q"),
                    *("-p", "no:cacheprovider"),
                    # No log capture: it would keep every record and look like a leak.
                    *("-p", "no:logging"),
                    *("-o", "timeout=0"),
                    "tests/bench_in_harness.py",
                ],
                cwd=REPOSITORY,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        """End the runs early (the benchmark failed elsewhere)."""
        self._process.terminate()
        self._process.wait()
        self._folder.cleanup()

    def figures(self) -> dict[str, Any]:
        """Wait for the runs; what they measured."""
        code = self._process.wait()
        if code != 0:
            msg = (
                f"the harness's runs failed ({code}):\n{self._log.read_text()[-3000:]}"
            )
            raise RuntimeError(msg)
        figures: dict[str, Any] = json.loads(self._out.read_text())
        self._folder.cleanup()
        return figures


def recorder_rows(figures: dict[str, Any]) -> list[Row]:
    """Part 4's rows: state rows a day by entity and in total, against a row per reading."""
    readings = {
        device: count * HOURS_A_DAY
        for device, count in figures["readings_hour"].items()
    }
    day = figures.get("rows_day")
    per_day = day or {
        entity: rows * HOURS_A_DAY for entity, rows in figures["rows_hour"].items()
    }
    how = "measured over a simulated day" if day else "an hour's x 24"
    rows = []
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    silent = []
    for device in ("board", "ecm"):
        groups: dict[int, list[str]] = defaultdict(list)
        for entity, count in per_day.items():
            name_device, _, key = entity.partition(": ")
            if name_device == device and key != "reset_grid_time":
                groups[count].append(key)
        for count, keys in sorted(groups.items(), reverse=True):
            if not count:
                silent += [f"{device} {key}" for key in keys]
                continue
            totals[device][0] += count * len(keys)
            totals[device][1] += readings[device] * len(keys)
            each = " each" if len(keys) > 1 else ""
            rows.append(
                Row(
                    "4",
                    f"state rows a day, {device}: {', '.join(keys)} ({how})",
                    f"{count:,}{each}",
                    f"{readings[device]:,}{each}",
                    f"1/{readings[device] / count:.0f}",
                    "",
                    None,
                )
            )
    rows.append(
        Row(
            "4",
            "state rows a day: no row (the value never changed): " + ", ".join(silent),
            "0",
            "",
            "",
            "",
            None,
        )
    )
    ours = sum(total[0] for total in totals.values())
    alternative = sum(total[1] for total in totals.values())
    for device, (count, per_reading) in totals.items():
        rows.append(
            Row(
                "4",
                f"state rows a day, {device}, in total; alternative: a row per reading "
                "for each entity that changes",
                f"{count:,}",
                f"{per_reading:,}",
                f"1/{per_reading / count:.0f}",
                "",
                None,
            )
        )
    rows.append(
        Row(
            "4",
            "state rows a day, both devices",
            f"{ours:,}",
            f"{alternative:,}",
            f"1/{alternative / ours:.0f}",
            "",
            None,
        )
    )
    return [*rows, _database_row(figures)]


def _database_row(figures: dict[str, Any]) -> Row:
    """The database's size after a simulated day (after an hour with --quick)."""
    if "database_bytes_day" in figures:
        size, how = figures["database_bytes_day"], "after a simulated day"
    else:
        # The write-ahead log and the first statistics make an hour's growth no day's 24th.
        size, how = figures["database_bytes_hour"], "after a simulated hour"
    return Row(
        "4",
        f"SQLite database with both devices, statistics included ({how})",
        f"{size / 1e6:.1f} MB",
        "",
        "",
        "",
        None,
    )


def memory_rows(figures: dict[str, Any]) -> list[Row]:
    """Part 6's rows: what a million frames left behind, and the statistics that are not there."""
    frames = figures["memory_frames"]
    growth = figures["memory_growth"]
    return [
        Row(
            "6",
            f"memory growth over {frames['board']:,} board lines and {frames['ecm']:,} "
            "ECM packets through parser and coordinator, after a warm-up: "
            "resident bytes (Python's memory blocks)",
            f"{growth['rss_bytes'] / 1024:+,.0f} KiB ({growth['blocks']:+,})",
            "",
            "",
            "< 1 MiB",
            growth["rss_bytes"] < MAX_GROWTH,
        ),
        Row(
            "6",
            "resident size of a day's frequency quality and the last hours' means, "
            "after a day of the simulated grid at 7 readings/s",
            f"{day_statistics_bytes() / 1024:,.0f} KiB",
            "",
            "",
            "",
            None,
        ),
    ]


def day_statistics_bytes() -> int:
    """Bytes held by a day's quality and the recent means after 604 800 readings (tracemalloc)."""
    grid = random_walk(1240)
    readings = [(grid(i / 7) - 50000, i / 7) for i in range(7 * 86_400)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    day, recent = DayQuality(), Recent()
    for deviation, timestamp in readings:
        day.add(deviation, timestamp)
        recent.add(deviation, timestamp)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del day, recent
    return held
