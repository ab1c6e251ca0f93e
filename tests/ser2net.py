"""A real ser2net (Debian's 4.x) serving one serial device on a loopback TCP port.

ser2net opens the device only while a client is connected, and closes the client
when the device fails. `Ser2net` writes a one-connection configuration, runs the
daemon in the foreground (its own process, killed or stopped by the test) and
returns from `start` once the port accepts connections.
"""

from __future__ import annotations

import asyncio
from contextlib import closing
import os
from pathlib import Path
import shutil
import socket

# Debian installs it in /usr/sbin, which is not on every user's PATH.
SER2NET = shutil.which(
    "ser2net", path=os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin"))
)
# The devices' line settings, as a ser2net serialdev option string.
LINE_SETTINGS = "19200n81"
# ser2net binds its port within milliseconds; give a loaded CI machine 5 s.
START_CHECKS = 500
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


class Ser2net:
    """One ser2net process in the foreground, serving `device` on `port`."""

    def __init__(self, directory: Path, device: Path, port: int) -> None:
        """Write the configuration into `directory`; nothing runs before `start`."""
        self.port = port
        self._directory = directory
        self._config = directory / "ser2net.yaml"
        self._log = directory / "ser2net.log"
        self._process: asyncio.subprocess.Process | None = None
        self._config.write_text(
            "connection: &device\n"
            f"  accepter: tcp,127.0.0.1,{port}\n"
            f"  connector: serialdev,{device},{LINE_SETTINGS},local\n",
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        """The serial URL a host opens."""
        return f"socket://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the process runs."""
        return self._process is not None and self._process.returncode is None

    @property
    def log(self) -> str:
        """What ser2net printed so far (its debug output and errors)."""
        return self._log.read_text(encoding="utf-8", errors="replace")

    async def start(self) -> None:
        """Run ser2net; return once its port accepts connections."""
        if SER2NET is None:
            msg = "ser2net is not installed"
            raise FileNotFoundError(msg)
        if self.running:
            msg = f"ser2net on port {self.port} already runs"
            raise RuntimeError(msg)
        with self._log.open("ab") as log:
            # -n: foreground, -d: debug output to stdout, -u: no UUCP lock files
            # (a killed ser2net would leave one behind), -P: the pid file here.
            self._process = await asyncio.create_subprocess_exec(
                SER2NET,
                *("-n", "-d", "-u"),
                *("-P", str(self._directory / "ser2net.pid")),
                *("-c", str(self._config)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        await self._wait_until_listening()

    async def _wait_until_listening(self) -> None:
        """Return once the port listens; fail with ser2net's output if it never does."""
        for _ in range(START_CHECKS):
            if not self.running:
                break
            if is_listening(self.port):
                return
            await asyncio.sleep(START_CHECK_INTERVAL)
        await self.stop()
        msg = f"ser2net did not listen on port {self.port}: {self.log!r}"
        raise RuntimeError(msg)

    async def kill(self) -> None:
        """SIGKILL: the process dies at once, the kernel closes its sockets and the device."""
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
