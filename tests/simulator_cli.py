"""The simulator's command line run as a process, and a real serial port to read it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import signal
import sys

import serialx

TIMEOUT = 5.0
REPO_ROOT = Path(__file__).parents[1]


@contextlib.asynccontextmanager
async def serial_reader(url: str) -> AsyncIterator[serialx.AsyncSerial]:
    """A real serialx port at 19200 baud, as the integration opens it."""
    ser = serialx.async_serial_for_url(url, baudrate=19200)
    await ser.open()
    try:
        yield ser
    finally:
        await ser.close()


async def read_exactly(ser: serialx.AsyncSerial, size: int) -> bytes:
    """Read `size` bytes, bounded by TIMEOUT."""
    return await asyncio.wait_for(ser.readexactly(size), TIMEOUT)


@contextlib.asynccontextmanager
async def simulator_process(
    device: str, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m simulator DEVICE ARGS`, killed if still running at the end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        device,
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


async def stop_process(process: asyncio.subprocess.Process) -> str:
    """SIGTERM the simulator; check it exits cleanly; its stderr."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode == 0
    return stderr.decode()
