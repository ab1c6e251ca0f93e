"""A real `hass` process for the benchmark: both devices' entries, switched on and off over its APIs.

It runs the demo's set of integrations (frontend, config, history, logbook, energy,
recorder at its defaults), logs warnings only, and reads both simulated devices on
paced loopback ports. What it costs is read from the kernel: the CPU time of its main
thread (the event loop) and of the whole process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

from custom_components.mains_monitor.const import DEFAULT_UPDATE_INTERVAL, DOMAIN
from scripts import demo_setup
from scripts.demo_setup import Client, WebSocket
from tests.daemon import free_port
from tests.test_hass_process import HassProcess

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIGURATION = """\
homeassistant:
  name: Mains Monitor benchmark
  unit_system: metric
  time_zone: UTC
  latitude: 50.11
  longitude: 8.68
  elevation: 100
frontend:
config:
history:
logbook:
energy:
recorder:
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: warning
"""
KINDS = ("mfm", "ecm1240")
ENTRY_POLL = 0.2
ENTRY_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class CpuTime:
    """Seconds of CPU time: the event loop's thread, and the whole process."""

    loop: float
    process: float

    def __sub__(self, other: CpuTime) -> CpuTime:
        """What this takes more than `other`."""
        return CpuTime(self.loop - other.loop, self.process - other.process)


@dataclass(frozen=True, slots=True)
class CpuSample:
    """Each thread's CPU time so far, to the nanosecond, by thread id."""

    main: int
    threads: dict[int, float]

    def __sub__(self, earlier: CpuSample) -> CpuTime:
        """The CPU time between two samples; a thread that came or went meanwhile counts none."""
        common = self.threads.keys() & earlier.threads.keys()
        return CpuTime(
            self.threads[self.main] - earlier.threads[self.main],
            sum(self.threads[tid] - earlier.threads[tid] for tid in common),
        )


def cpu_sample(pid: int) -> CpuSample:
    """The CPU time of every thread of a process (schedstat: nanoseconds on a CPU)."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            threads[int(task.name)] = (
                int((task / "schedstat").read_text().split()[0]) / 1e9
            )
        except FileNotFoundError:
            continue  # the thread ended meanwhile
    return CpuSample(pid, threads)


class BenchHass:
    """One Home Assistant with an entry for each device, every entry's state under our control."""

    def __init__(self, process: HassProcess, client: Client) -> None:
        """Drive a started, onboarded Home Assistant."""
        self.process = process
        self.client = client
        assert process.process is not None
        self.pid = process.process.pid
        self.entries: dict[str, str] = {}
        self.intervals: dict[str, int] = {}
        self.enabled: dict[str, bool] = {}

    def cpu(self) -> CpuSample:
        """The CPU time its threads used so far."""
        return cpu_sample(self.pid)

    def confirm_http_config(self) -> None:
        """Confirm the http settings taken from the YAML, as a user does in the UI.

        Home Assistant 2026.10 moves them into its storage on the first start and
        tries them out: unconfirmed, it restarts five minutes later with its defaults.
        """
        try:
            self._ws({"type": "http/config/promote"})
        except demo_setup.WebSocketCommandError as err:
            print(f"http settings not confirmed: {err}", file=sys.stderr)

    def add(self, kind: str, port: str) -> None:
        """Add a device through the config flow, as a user does; it starts enabled."""
        before = {entry["entry_id"] for entry in self._entries()}
        demo_setup.add_entry(self.client, kind, port)
        (entry_id,) = {entry["entry_id"] for entry in self._entries()} - before
        self.entries[kind] = entry_id
        self.intervals[kind] = DEFAULT_UPDATE_INTERVAL
        self.enabled[kind] = True

    def set(self, kind: str, interval: int | None) -> None:
        """Disable a device's entry (None), or give it an update interval and enable it."""
        entry_id = self.entries[kind]
        if interval is None:
            if self.enabled[kind]:
                self._ws(
                    {
                        "type": "config_entries/disable",
                        "entry_id": entry_id,
                        "disabled_by": "user",
                    }
                )
                self.enabled[kind] = False
            return
        if interval != self.intervals[kind]:
            self._set_interval(entry_id, interval)
            self.intervals[kind] = interval
        if not self.enabled[kind]:
            self._ws(
                {
                    "type": "config_entries/disable",
                    "entry_id": entry_id,
                    "disabled_by": None,
                }
            )
            self.enabled[kind] = True
        self._wait_loaded(entry_id)

    def entities(self, kind: str) -> dict[str, str]:
        """A device's entity ids by description key."""
        entry_id = self.entries[kind]
        return demo_setup.by_key(
            {
                entity["unique_id"]: entity["entity_id"]
                for entity in self._ws({"type": "config/entity_registry/list"})
                if entity["config_entry_id"] == entry_id
            }
        )

    def enable_entity(self, entity_id: str, enabled: bool) -> None:
        """Enable or disable an entity in the registry."""
        self._ws(
            {
                "type": "config/entity_registry/update",
                "entity_id": entity_id,
                "disabled_by": None if enabled else "user",
            }
        )

    def history(
        self, entity_ids: list[str], since: float
    ) -> dict[str, list[tuple[float, str]]]:
        """Each entity's recorded states since `since`: (when written, state)."""
        start = datetime.fromtimestamp(since).astimezone().isoformat()
        answer = self.client.call(
            "GET",
            f"/api/history/period/{start}?filter_entity_id={','.join(entity_ids)}&no_attributes",
        )
        return {
            states[0]["entity_id"]: [
                (
                    datetime.fromisoformat(state["last_updated"]).timestamp(),
                    state["state"],
                )
                for state in states
            ]
            for states in answer
        }

    def _entries(self) -> list[dict[str, Any]]:
        """The integration's config entries as the API lists them."""
        entries: list[dict[str, Any]] = self.client.call(
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        return entries

    def _wait_loaded(self, entry_id: str) -> None:
        """Return once the entry is loaded."""
        deadline = time.monotonic() + ENTRY_TIMEOUT
        while not any(
            entry["entry_id"] == entry_id and entry["state"] == "loaded"
            for entry in self._entries()
        ):
            if time.monotonic() > deadline:
                msg = f"entry {entry_id} did not load within {ENTRY_TIMEOUT:.0f} s"
                raise demo_setup.DemoError(msg)
            time.sleep(ENTRY_POLL)

    def _options_form(self, entry_id: str) -> tuple[str, dict[str, Any]]:
        """Open the entry's options flow: its id and its form (the settings, from a menu)."""
        path = "/api/config/config_entries/options/flow"
        form: dict[str, Any] = self.client.call("POST", path, {"handler": entry_id})
        if form.get("type") == "menu":
            form = self.client.call(
                "POST", f"{path}/{form['flow_id']}", {"next_step_id": "settings"}
            )
        return str(form["flow_id"]), form

    def _set_interval(self, entry_id: str, interval: int) -> None:
        """Save the options with another update interval, everything else as it is."""
        flow_id, form = self._options_form(entry_id)
        values = demo_setup.suggested_values(form["data_schema"]) | {
            "update_interval": interval
        }
        done = self.client.call(
            "POST", f"/api/config/config_entries/options/flow/{flow_id}", values
        )
        if done.get("type") != "create_entry":
            msg = f"the options were not saved: {done}"
            raise demo_setup.DemoError(msg)

    def _ws(self, message: dict[str, Any]) -> Any:
        """One WebSocket command."""
        assert self.client.token is not None
        ws = WebSocket(self.client.url, self.client.token)
        try:
            return ws.command(message)
        finally:
            ws.close()


@contextmanager
def running_hass() -> Iterator[BenchHass]:
    """A Home Assistant in a configuration folder of its own, stopped and removed after the block."""
    with tempfile.TemporaryDirectory(prefix="mains-monitor-bench-") as folder:
        config = Path(folder)
        (config / "custom_components").mkdir()
        (config / "custom_components" / DOMAIN).symlink_to(
            REPOSITORY / "custom_components" / DOMAIN
        )
        port = free_port()
        (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
        process = HassProcess(config, port)
        try:
            hass = BenchHass(process, process.start())
            hass.confirm_http_config()
            yield hass
        except BaseException:
            _tell_why(config, process)
            raise
        finally:
            if process.process is not None:
                process.stop()


def _tell_why(config: Path, process: HassProcess) -> None:
    """Print how Home Assistant fared when the benchmark failed: its exit code, its last words."""
    code = None if process.process is None else process.process.poll()
    print(f"Home Assistant's exit code: {code}", file=sys.stderr)
    for name in ("hass.out", "home-assistant.log"):
        if (path := config / name).exists():
            print(f"--- {name}, its end:", file=sys.stderr)
            print(path.read_text(errors="replace")[-3000:], file=sys.stderr)
