"""What the benchmark ran on: the machine, its load, the software."""

from __future__ import annotations

from importlib.metadata import version
import os
from pathlib import Path
import platform


def cpu_model() -> str:
    """The processor's model name as the kernel reports it."""
    for line in Path("/proc/cpuinfo").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown processor"


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe(seconds: float, load_before: str) -> str:
    """One paragraph: processor, cores, load before and after, software, run time."""
    return (
        f"Machine: {cpu_model()}, {os.cpu_count()} cores; load average {load_before}"
        f" before, {load()} after (1, 5, 15 min). Python {platform.python_version()},"
        f" Home Assistant {version('homeassistant')}, serialx {version('serialx')}."
        f" Run took {seconds / 60:.1f} min."
    )
