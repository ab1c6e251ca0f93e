"""A real server from Debian's packages, run in the foreground on a loopback TCP port.

`Daemon` runs the command a subclass gives, writes its output to a log in the test's
folder, returns from `start` once the port accepts connections, and stops it with
SIGTERM (SIGKILL if it lingers). ser2net, Mosquitto and InfluxDB build on it.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
import os
from pathlib import Path
import shutil
import socket

# A daemon binds its port within a second; give a loaded CI machine 30 s.
START_CHECKS = 3000
START_CHECK_INTERVAL = 0.01
STOP_TIMEOUT = 5.0
# /proc/net/tcp: the state column of a listening socket.
TCP_LISTEN = "0A"


def free_port() -> int:
    """A loopback TCP port nothing listens on (the kernel's choice)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    """Whether a socket listens on 127.0.0.1:`port` (read from the kernel, no probe)."""
    local = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]
    return any(
        fields[1] == local and fields[3] == TCP_LISTEN
        for fields in (line.split() for line in lines)
    )


def find_program(name: str) -> str | None:
    """The program's path; Debian installs daemons in /usr/sbin, not on every user's PATH."""
    return shutil.which(
        name, path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin"))
    )


class Daemon:
    """One server process in the foreground, listening on 127.0.0.1:`port`."""

    # The program's name, looked up on PATH and in /usr/sbin.
    program: str

    def __init__(self, directory: Path, port: int) -> None:
        """Keep where the daemon's files go; nothing runs before `start`."""
        self.port = port
        self.directory = directory
        self._log = directory / f"{self.program}.log"
        self._process: asyncio.subprocess.Process | None = None

    def arguments(self) -> list[str]:
        """The program's arguments: its configuration, written into `directory` if need be."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """Whether the process runs."""
        return self._process is not None and self._process.returncode is None

    @property
    def log(self) -> str:
        """What the daemon printed so far."""
        return self._log.read_text(encoding="utf-8", errors="replace")

    async def start(self) -> None:
        """Run the daemon; return once its port accepts connections."""
        path = find_program(self.program)
        if path is None:
            msg = f"{self.program} is not installed (bash scripts/setup installs it)"
            raise FileNotFoundError(msg)
        if self.running:
            msg = f"{self.program} on port {self.port} already runs"
            raise RuntimeError(msg)
        with self._log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                path,
                *self.arguments(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        await self._wait_until_listening()

    async def _wait_until_listening(self) -> None:
        """Return once the port listens; fail with the daemon's output if it never does."""
        for _ in range(START_CHECKS):
            if not self.running:
                break
            if is_listening(self.port):
                return
            await asyncio.sleep(START_CHECK_INTERVAL)
        await self.stop()
        msg = f"{self.program} did not listen on port {self.port}: {self.log!r}"
        raise RuntimeError(msg)

    async def kill(self) -> None:
        """SIGKILL: the process dies at once and the kernel closes its sockets."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.kill()
        await process.wait()

    async def stop(self) -> None:
        """SIGTERM, SIGKILL if it does not end in time (no-op if not running)."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await process.wait()
        except TimeoutError:
            await self.kill()
