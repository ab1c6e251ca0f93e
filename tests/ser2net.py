"""A real ser2net (Debian's 4.x) serving one serial device on a loopback TCP port.

ser2net opens the device only while a client is connected, and closes the client
when the device fails.
"""

from __future__ import annotations

from pathlib import Path

from tests.daemon import Daemon, find_program

SER2NET = find_program("ser2net")
# The devices' line settings, as a ser2net serialdev option string.
LINE_SETTINGS = "19200n81"


class Ser2net(Daemon):
    """One ser2net process serving `device` on `port`, one connection at a time."""

    program = "ser2net"

    def __init__(self, directory: Path, device: Path, port: int) -> None:
        """Write the configuration into `directory`; nothing runs before `start`."""
        super().__init__(directory, port)
        self._config = directory / "ser2net.yaml"
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

    def arguments(self) -> list[str]:
        """Foreground (-n), debug output (-d), no UUCP lock files (-u), the pid file here (-P).

        A killed ser2net would leave a lock file behind.
        """
        return [
            *("-n", "-d", "-u"),
            *("-P", str(self.directory / "ser2net.pid")),
            *("-c", str(self._config)),
        ]
