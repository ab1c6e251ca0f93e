"""A real InfluxDB 1.x server (Debian's `influxd`) on loopback ports, and what it holds.

The server keeps its meta, data and write-ahead log in the test's folder, listens
for HTTP on one free loopback port and for its RPC (backup and restore) on
another, so tests in parallel never meet. It reports nothing home and keeps no
monitor database. `Influxd` talks to it over its HTTP API, as Grafana does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.daemon import Daemon, find_program, free_port

INFLUXD = find_program("influxd")


@dataclass(frozen=True, slots=True)
class Point:
    """One point as InfluxQL returns it: its series, its time in ms since the epoch, its fields."""

    measurement: str
    tags: tuple[tuple[str, str], ...]
    time_ms: int
    fields: tuple[tuple[str, Any], ...]


class Influxd(Daemon):
    """One influxd process: HTTP on 127.0.0.1:`port`, RPC on 127.0.0.1:`rpc_port`."""

    program = "influxd"

    def __init__(self, directory: Path, port: int, rpc_port: int) -> None:
        """Keep where its files go; nothing runs before `start`."""
        super().__init__(directory, port)
        self.rpc_port = rpc_port

    @classmethod
    def on_free_ports(cls, directory: Path) -> Influxd:
        """A server in `directory` on two loopback ports nothing listens on."""
        return cls(directory, free_port(), free_port())

    @property
    def url(self) -> str:
        """The HTTP API's address."""
        return f"http://127.0.0.1:{self.port}"

    def arguments(self) -> list[str]:
        """Its configuration file, written into `directory`."""
        config = self.directory / "influxdb.conf"
        config.write_text(
            f'reporting-enabled = false\nbind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\ndir = "{self.directory / "meta"}"\nlogging-enabled = false\n'
            f'[data]\ndir = "{self.directory / "data"}"\n'
            f'wal-dir = "{self.directory / "wal"}"\nquery-log-enabled = false\n'
            "[monitor]\nstore-enabled = false\n"
            f'[http]\nbind-address = "127.0.0.1:{self.port}"\n'
            "log-enabled = false\npprof-enabled = false\n"
            '[logging]\nlevel = "warn"\nsuppress-logo = true\n',
            encoding="utf-8",
        )
        return ["run", "-config", str(config)]

    async def query(
        self, statement: str, database: str | None = None
    ) -> list[dict[str, Any]]:
        """The series of one InfluxQL statement's answer, times in ms since the epoch; raise its error."""
        params = {"q": statement, "epoch": "ms"}
        if database is not None:
            params["db"] = database
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/query", params=params) as response,
        ):
            answer: dict[str, Any] = await response.json()
        (result,) = answer["results"]
        if "error" in result:
            msg = f"{statement}: {result['error']}"
            raise RuntimeError(msg)
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    async def create_database(self, name: str) -> None:
        """Create the database `name`."""
        await self.query(f'CREATE DATABASE "{name}"')

    async def points(self, database: str) -> set[Point]:
        """Every point of every measurement in `database`.

        Grouped by every tag, a series shows the tags its points lack as empty
        strings, and its rows the fields they lack as nulls: both are left out.
        """
        points: set[Point] = set()
        for series in await self.query("SELECT * FROM /.*/ GROUP BY *", database):
            tags = tuple(sorted((k, v) for k, v in series["tags"].items() if v))
            columns = series["columns"]
            for row in series["values"]:
                values = dict(zip(columns, row, strict=True))
                time_ms = values.pop("time")
                fields = tuple(
                    sorted((k, v) for k, v in values.items() if v is not None)
                )
                points.add(Point(series["name"], tags, time_ms, fields))
        return points
