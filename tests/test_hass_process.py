"""A real `hass` process stopped with SIGTERM and started again, as a user's Home Assistant is.

Both simulated devices run on loopback TCP ports, like network serial servers, and
keep running while Home Assistant is down, as real devices do. The test drives Home
Assistant only through its HTTP and WebSocket APIs (with the demo's client), then
reads what the recorder made of it: every recorded energy state, the statistics
compiled after the restart, and the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time
from typing import Any
import urllib.request

import pytest

from custom_components.mains_monitor.const import DOMAIN
from custom_components.mains_monitor.protocol.ecm1240 import EcmParser
from scripts import demo_setup
from scripts.demo_setup import Client, WebSocket
from tests.daemon import free_port, is_listening
from tests.helpers import GRID_TIME

REPOSITORY = Path(__file__).parent.parent
GRID_IMPORTED = "sensor.ecm_1240_500434_grid_energy_imported"
WATT_SECONDS_PER_KWH = 3_600_000
# The simulated loads that grow in every few minutes: the solar exports all morning.
# (Whether the main imports or exports in a given minute depends on where the bursts
# fall; AUX3 and AUX4 carry none, the solar imports nothing.)
STEADY_LOADS = {
    "sensor.ecm_1240_500434_solar_energy_exported",
    "sensor.ecm_1240_500434_solar_production_energy",
    "sensor.ecm_1240_500434_aux1_energy",
    "sensor.ecm_1240_500434_aux2_energy",
    "sensor.ecm_1240_500434_pulses_energy",
}
# The dip scenario holds 49.8 Hz from 30 s to 50 s after the simulator starts:
# -0.2 / 50 x 20 s = -0.08 s of grid time, most of which must have been counted.
GRID_TIME_AFTER_DIP = -0.06
# Between the last state before the stop and the first after the restart the
# board reads close to 50 Hz: a few ms of grid time at most, not the lost minute.
GRID_TIME_STEP = 0.01
# The day's excursions beyond ±50 mHz: each dip is one.
EXCURSIONS = "sensor.mains_frequency_board_excursions_beyond_50_mhz_today"
# The recorder compiles 5-minute statistics 10 s after each period ends.
STATISTICS_PERIOD = 300
WAIT_STEP = 1.0
CONFIGURATION = """\
homeassistant:
  name: Mains Monitor restart test
  unit_system: metric
  time_zone: UTC
  latitude: 50.11
  longitude: 8.68
  elevation: 100
api:
config:
history:
onboarding:
recorder:
  commit_interval: 1
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: info
"""


class HassProcess:
    """One `hass` process on a configuration directory, its log in a file."""

    def __init__(self, config: Path, port: int) -> None:
        """Prepare; nothing runs before `start`."""
        self.config = config
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Client:
        """Start Home Assistant; return a client logged in once it answers."""
        with (self.config / "hass.out").open("ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "homeassistant",
                    "-c",
                    str(self.config),
                    "--skip-pip",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        client = Client(self.url)
        demo_setup.onboard(client, demo_setup.wait_until_up(client, self.process.pid))
        return client

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; return the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        self.process = None
        return code

    def kill(self) -> None:
        """End the process at once, as a crash or a power cut does."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def log(self) -> str:
        """Everything Home Assistant logged."""
        return (self.config / "home-assistant.log").read_text()


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An mfm board with a frequency dip and an ECM-1240 sending every second."""
    commands = {
        "mfm": ["mfm", "--scenario", "dip"],
        "ecm1240": [
            "ecm1240",
            "--model",
            "ECM-1240",
            "--realtime",
            "on",
            "--interval",
            "1",
            "--loads",
            "main",
        ],
    }
    processes, ports = [], {}
    try:
        for kind, arguments in commands.items():
            port = free_port()
            with (tmp_path / f"{kind}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "simulator",
                            *arguments,
                            "--tcp",
                            f"127.0.0.1:{port}",
                        ],
                        cwd=REPOSITORY,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            wait_until(lambda port=port: is_listening(port), 30, f"{kind} simulator")
            ports[kind] = f"socket://127.0.0.1:{port}"
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def home_assistant(tmp_path: Path) -> Iterator[HassProcess]:
    """A configuration directory with the integration in it, and its process."""
    config = tmp_path / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / DOMAIN).symlink_to(
        REPOSITORY / "custom_components" / DOMAIN
    )
    port = free_port()
    (config / "configuration.yaml").write_text(CONFIGURATION.format(port=port))
    hass = HassProcess(config, port)
    yield hass
    hass.kill()


def wait_until(condition: Any, seconds: float, what: str) -> Any:
    """Poll `condition` until it returns something true; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"no {what} within {seconds:.0f} s"
        time.sleep(WAIT_STEP)
    return result


def numbers(client: Client) -> dict[str, float]:
    """The grid time and every energy sensor that holds a number."""
    values = {}
    for entity in client.call("GET", "/api/states"):
        wanted = entity["attributes"].get("device_class") == "energy"
        if (wanted or entity["entity_id"] == GRID_TIME) and is_number(entity["state"]):
            values[entity["entity_id"]] = float(entity["state"])
    return values


def number_of(client: Client, entity_id: str) -> tuple[float] | None:
    """The entity's state as a number, in a tuple (so that 0 counts as found); None before one."""
    state = client.call("GET", f"/api/states/{entity_id}")["state"]
    return (float(state),) if is_number(state) else None


def is_number(state: str) -> bool:
    """Whether a state is a number (not unknown or unavailable)."""
    try:
        float(state)
    except ValueError:
        return False
    return True


def all_numbers(client: Client, energy_sensors: int) -> dict[str, float] | None:
    """The values once the grid time and every energy sensor hold numbers."""
    values = numbers(client)
    return values if len(values) == energy_sensors + 1 else None


def history(client: Client, since: datetime, entity_ids: list[str]) -> list[list[str]]:
    """Every state the recorder stored for each entity since `since`, in order."""
    answer = client.call(
        "GET",
        f"/api/history/period/{since.isoformat()}?filter_entity_id="
        + ",".join(entity_ids)
        + "&minimal_response&no_attributes",
    )
    by_entity = {states[0]["entity_id"]: states for states in answer}
    return [[state["state"] for state in by_entity[id_]] for id_ in entity_ids]


def compiled_since(
    client: Client, entity_ids: list[str], period_start: datetime
) -> bool:
    """Whether the 5-minute statistics of every entity cover the period from `period_start`."""
    ws = WebSocket(client.url, str(client.token))
    try:
        rows = ws.command(
            {
                "type": "recorder/statistics_during_period",
                "start_time": period_start.isoformat(),
                "statistic_ids": entity_ids,
                "period": "5minute",
                "types": ["state", "sum"],
            }
        )
    finally:
        ws.close()
    return all(rows.get(id_) for id_ in entity_ids)


def period_of(moment: datetime) -> datetime:
    """The start of the 5-minute statistics period `moment` falls in."""
    seconds = int(moment.timestamp()) // STATISTICS_PERIOD * STATISTICS_PERIOD
    return datetime.fromtimestamp(seconds, UTC)


def brand_image(client: Client, image: str) -> bytes:
    """An image of the integration as Home Assistant serves it to its web UI."""
    request = urllib.request.Request(
        f"{client.url}/api/brands/integration/{DOMAIN}/{image}?placeholder=no",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def stored(config: Path) -> dict[str, Any]:
    """What the integration's entries saved, by what they are: grid time or ledger."""
    saved = {}
    for path in (config / ".storage").glob(f"{DOMAIN}.*"):
        data = json.loads(path.read_text())["data"]
        saved["ledger" if "totals" in data else "grid_time"] = data
    return saved


def power_cut(hass: HassProcess, ecm_port: str, client: Client) -> dict[str, float]:
    """Kill Home Assistant after the states moved past the last save, then restart the unit.

    Returns the states read last before the cut.

    The recorder commits every second; the ledger is saved at most a minute after
    new data. Three seconds after the last state read, and five after the save, the
    recorder holds newer totals than the ledger.
    """
    last = numbers(client)
    read_at = time.monotonic()
    wait_until(
        lambda: (
            time.monotonic() - read_at >= 3
            and datetime.now(UTC)
            - datetime.fromisoformat(stored(hass.config)["ledger"]["saved_at"])
            >= timedelta(seconds=5)
        ),
        90,
        "a moment well after the last save",
    )
    hass.kill()
    reset_unit(ecm_port)
    return last


def reset_unit(port: str) -> None:
    """Restart the simulated unit with its own command, `RQS RLP`, as a power cut does."""
    host, number = port.removeprefix("socket://").split(":")
    parser = EcmParser()
    with socket.create_connection((host, int(number)), timeout=10) as link:
        counters = {packet.reset_counter for packet in parser.feed(link.recv(4096))}
        for chunk in (b"\xfc", b"RQS", b"RLP"):
            link.sendall(chunk)
            time.sleep(0.2)
        after = wait_until(
            lambda: {p.reset_counter for p in parser.feed(link.recv(4096))} - counters,
            10,
            "a packet after the unit's restart",
        )
    assert after


@pytest.mark.timeout(900)
@pytest.mark.usefixtures("socket_enabled")
def test_a_sigterm_a_new_start_and_a_power_cut(
    home_assistant: HassProcess, simulators: dict[str, str]
) -> None:
    """A stop and a power cut that restarts the unit as well: no total ever drops.

    After the SIGTERM the grid time goes on and the recorder sees no new cycle.
    """
    started = datetime.now(UTC)
    client = home_assistant.start()
    demo_setup.add_entry(client, demo_setup.MFM, simulators["mfm"])
    demo_setup.add_entry(client, demo_setup.ECM, simulators["ecm1240"])
    demo_setup.configure_ecm(client, demo_setup.ecm_entry_id(client))
    # The integrations page shows the integration's own icon.
    brand = REPOSITORY / "custom_components" / DOMAIN / "brand"
    assert brand_image(client, "icon.png") == (brand / "icon.png").read_bytes()
    # Grid and solar with two totals each, five AUX circuits with one, and the
    # roles' grid consumption, return to grid and solar production.
    energy_sensors = 2 + 2 + 5 + 3

    before = wait_until(
        lambda: (
            (values := all_numbers(client, energy_sensors))
            and values[GRID_TIME] <= GRID_TIME_AFTER_DIP
            and values
        ),
        120,
        "grid time after the dip",
    )
    (excursions,) = wait_until(lambda: number_of(client, EXCURSIONS), 30, "excursions")
    assert excursions >= 1
    assert home_assistant.stop() == 0
    saved = stored(home_assistant.config)
    assert saved["grid_time"]["grid_time_deviation"] == pytest.approx(
        before[GRID_TIME], abs=GRID_TIME_STEP
    )
    # The day's quality is written at the stop too.
    assert saved["grid_time"]["quality"]["excursions"] >= excursions
    # Written at the stop, not a minute before it: at least the import the grid
    # showed, the absolute minus the polarized (exported) count.
    # (The state holds 15 significant digits of the same quotient.)
    absolute, polarized = saved["ledger"]["totals"]["ch1"]
    imported_kwh = float(f"{(absolute - polarized) / WATT_SECONDS_PER_KWH:.15}")
    assert imported_kwh >= before[GRID_IMPORTED] > 0

    restarted = datetime.now(UTC)
    client = home_assistant.start()
    after = wait_until(lambda: all_numbers(client, energy_sensors), 120, "states")
    assert after[GRID_TIME] == pytest.approx(
        saved["grid_time"]["grid_time_deviation"], abs=GRID_TIME_STEP
    )
    # The day's figures go on from the saved ones (a fresh day would show 0 or 1).
    (excursions_after,) = wait_until(
        lambda: number_of(client, EXCURSIONS), 30, "excursions after the restart"
    )
    assert excursions_after >= saved["grid_time"]["quality"]["excursions"]
    energy = sorted(set(before) - {GRID_TIME})
    for entity_id in energy:
        assert after[entity_id] >= before[entity_id], entity_id

    wait_until(
        lambda: compiled_since(client, energy, period_of(restarted)),
        STATISTICS_PERIOD + 120,
        "statistics of the period after the restart",
    )
    for entity_id, states in zip(energy, history(client, started, energy), strict=True):
        values = [float(state) for state in states if is_number(state)]
        assert values == sorted(values), entity_id
        if entity_id in STEADY_LOADS:
            assert values[-1] > before[entity_id], entity_id

    before_cut = power_cut(home_assistant, simulators["ecm1240"], client)
    client = home_assistant.start()
    after_cut = wait_until(lambda: all_numbers(client, energy_sensors), 120, "states")
    for entity_id in energy:
        assert after_cut[entity_id] >= before_cut[entity_id], entity_id
    assert home_assistant.stop() == 0
    log = home_assistant.log()
    assert "continue from their last recorded states" in log
    assert "Detected new cycle" not in log
    assert "not strictly increasing" not in log
    # No traceback through the integration, no warning or error that names it
    # but the one Home Assistant logs for every custom integration.
    assert "custom_components/mains_monitor/" not in log
    assert [
        line
        for line in log.splitlines()
        if DOMAIN in line
        and (" WARNING " in line or " ERROR " in line)
        and "We found a custom integration" not in line
    ] == []
