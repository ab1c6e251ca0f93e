"""Drive the demo's Home Assistant: onboarding, Mains Monitor's entries, the Energy dashboard, a check.

Used by scripts/demo; standard library only, so it runs before anything else is set up.

    demo_setup.py up --pid PID --mfm-port socket://127.0.0.1:7777 --ecm-port socket://127.0.0.1:7778
    demo_setup.py check --wait 60
"""

from __future__ import annotations

import argparse
import base64
from http import HTTPStatus
import json
import os
from pathlib import Path
import socket
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

DOMAIN = "mains_monitor"
USERNAME = "demo"
PASSWORD = "demo-password"
OWNER_NAME = "Demo"
LANGUAGE = "en"
# Home Assistant usually answers within a minute; a cold start after an update can take longer.
START_TIMEOUT = 120.0
# The config flow reads real frames from the simulator before it creates the entry.
FLOW_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
# Config entry states of an integration that could not be set up.
FAILED_STATES = {"setup_error", "setup_retry", "migration_error"}
MFM = "mfm"
ECM = "ecm1240"
# The integration titles an ECM entry "<model> <unit id and serial>", e.g. "ECM-1240 500434".
ECM_TITLE_PREFIXES = ("ECM-1240 ", "ECM-1220 ")
ECM_MANUFACTURER = "Brultech Research"
# Only asked if the unit does not send by itself; the demo's simulated unit does.
ECM_POLL_ANSWER = {"ecm_mode": "poll", "poll_interval": 5}
# The port form's answer to a port that an entry already reads.
PORT_IN_USE = {"port": "port_in_use"}
# A house seen from its grid connection: CH1 the main (net-metered, after the meter), CH2 the
# inverter (net-metered, its export is production), AUX1-5 circuits inside the main.
ECM_CHANNELS: dict[str, dict[str, Any]] = {
    "ch1": {"name": "Grid", "mode": "net", "inverted": False, "role": "main"},
    "ch2": {"name": "Solar", "mode": "net", "inverted": False, "role": "solar"},
    "aux1": {"name": "Lighting", "mode": "consumption", "role": "circuit"},
    "aux2": {"name": "Network cabinet", "mode": "consumption", "role": "circuit"},
    "aux3": {"name": "Garage", "mode": "consumption", "role": "circuit"},
    "aux4": {"name": "Office", "mode": "consumption", "role": "circuit"},
    "aux5": {"name": "Pulses", "mode": "consumption", "role": "circuit"},
}
ECM_OPTIONS: dict[str, Any] = {
    "update_interval": 5,
    "poll_interval": 0,
    "silence_timeout": 60,
    "nominal_voltage": "auto",
    **ECM_CHANNELS,
}
# The keys of a channel's power and energy entities in each mode; an entity's unique id is
# "<entry id>_<key>", and unique ids never change.
CHANNEL_KEYS = {
    "consumption": ("power", "energy"),
    "net": ("power", "energy_imported", "energy_exported"),
    "off": (),
}
# The keys of the entities the channels' roles add: a net-metered main, a solar channel and
# circuits give grid consumption and return, solar production and the unmetered remainder.
ROLE_KEYS = (
    "grid_consumption_power",
    "grid_consumption_energy",
    "return_to_grid_power",
    "return_to_grid_energy",
    "solar_production_power",
    "solar_production_energy",
    "unmetered_power",
)
WEBSOCKET_PATH = "/api/websocket"
WEBSOCKET_TEXT = 0x1
WEBSOCKET_CLOSE = 0x8
WEBSOCKET_PING = 0x9
WEBSOCKET_PONG = 0xA
WEBSOCKET_FIN = 0x80
WEBSOCKET_MASKED = 0x80
# The ECM sensors that must hold numbers after a minute, by device class.
ECM_REQUIRED_CLASSES = ("power", "energy")


class DemoError(Exception):
    """A step of the demo's set-up failed."""


class HTTPStatusError(DemoError):
    """Home Assistant answered with an HTTP error."""

    def __init__(self, message: str, status: int) -> None:
        """Keep the status next to the message."""
        super().__init__(message)
        self.status = status


class Client:
    """A minimal JSON client for Home Assistant's HTTP API."""

    def __init__(self, url: str) -> None:
        """Remember the base URL; no token yet."""
        self.url = url.rstrip("/")
        self.token: str | None = None

    @property
    def client_id(self) -> str:
        """Return the OAuth client id the frontend itself would use."""
        return f"{self.url}/"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        """Send one request and return its decoded answer; raise DemoError on an HTTP error."""
        data, headers = None, {}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return decode(response.read())
        except urllib.error.HTTPError as err:
            msg = f"{method} {path}: HTTP {err.code} {err.read().decode(errors='replace')}"
            raise HTTPStatusError(msg, err.code) from err


def decode(raw: bytes) -> Any:
    """Decode a JSON answer; keep plain text as it is."""
    text = raw.decode()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class WebSocket:
    """A minimal client of Home Assistant's WebSocket API: text frames, one command at a time."""

    def __init__(self, url: str, token: str) -> None:
        """Connect, upgrade the HTTP connection and authenticate."""
        parts = urllib.parse.urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._socket = socket.create_connection(address, timeout=REQUEST_TIMEOUT)
        self._stream = self._socket.makefile("rb")
        self._last_id = 0
        self._upgrade(parts.netloc)
        self._receive()  # auth_required
        self._send({"type": "auth", "access_token": token})
        if (answer := self._receive()).get("type") != "auth_ok":
            msg = f"websocket authentication failed: {answer}"
            raise DemoError(msg)

    def close(self) -> None:
        """Close the connection without a closing handshake."""
        self._stream.close()
        self._socket.close()

    def command(self, message: dict[str, Any]) -> Any:
        """Send one command and return its result; raise DemoError if it failed."""
        self._last_id += 1
        self._send({"id": self._last_id, **message})
        while True:
            answer = self._receive()
            if answer.get("id") == self._last_id and answer.get("type") == "result":
                break
        if not answer["success"]:
            raise WebSocketCommandError(message["type"], answer["error"])
        return answer["result"]

    def _upgrade(self, host: str) -> None:
        """Ask the server to switch this connection to the WebSocket protocol."""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {WEBSOCKET_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self._socket.sendall(request.encode())
        status = self._stream.readline()
        while self._stream.readline() not in (b"\r\n", b""):
            pass
        if b" 101 " not in status:
            msg = f"no websocket: {status.decode(errors='replace').strip()}"
            raise DemoError(msg)

    def _send(self, message: dict[str, Any], opcode: int = WEBSOCKET_TEXT) -> None:
        """Send one frame; a client masks what it sends."""
        self._send_frame(json.dumps(message).encode(), opcode)

    def _send_frame(self, payload: bytes, opcode: int) -> None:
        """Send one masked frame."""
        size = len(payload)
        if size < 126:
            length = bytes([WEBSOCKET_MASKED | size])
        elif size < 1 << 16:
            length = bytes([WEBSOCKET_MASKED | 126]) + size.to_bytes(2, "big")
        else:
            length = bytes([WEBSOCKET_MASKED | 127]) + size.to_bytes(8, "big")
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket.sendall(bytes([WEBSOCKET_FIN | opcode]) + length + mask + masked)

    def _receive(self) -> dict[str, Any]:
        """Return the next message; answer pings on the way."""
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size >= 126:
                size = int.from_bytes(self._read(2 if size == 126 else 8), "big")
            payload = self._read(size)  # a server does not mask
            opcode = first & 0x0F
            if opcode == WEBSOCKET_CLOSE:
                msg = "Home Assistant closed the websocket"
                raise DemoError(msg)
            if opcode == WEBSOCKET_PING:
                self._send_frame(payload, WEBSOCKET_PONG)
            if opcode not in (WEBSOCKET_PING, WEBSOCKET_PONG):
                message += payload
                if first & WEBSOCKET_FIN:
                    return dict(json.loads(message))

    def _read(self, size: int) -> bytes:
        """Read exactly `size` bytes."""
        data = self._stream.read(size)
        if len(data) < size:
            msg = "the websocket connection ended"
            raise DemoError(msg)
        return data


class WebSocketCommandError(DemoError):
    """Home Assistant answered a websocket command with an error."""

    def __init__(self, command: str, error: dict[str, Any]) -> None:
        """Keep the error code next to the message."""
        super().__init__(f"{command}: {error.get('code')} {error.get('message')}")
        self.code = error.get("code")


def is_running(pid: int) -> bool:
    """Return whether the process exists and has not exited (a zombie has)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def open_onboarding_steps(client: Client) -> set[str]:
    """Return the onboarding steps not done yet."""
    try:
        steps: list[dict[str, Any]] = client.call("GET", "/api/onboarding")
    except HTTPStatusError as err:
        # Once onboarding is complete, Home Assistant no longer serves its views.
        if err.status == HTTPStatus.NOT_FOUND:
            return set()
        raise
    return {step["step"] for step in steps if not step["done"]}


def wait_until_up(client: Client, pid: int) -> set[str]:
    """Wait until Home Assistant answers; return the onboarding steps still open."""
    start = time.monotonic()
    reported = 0
    while True:
        # The HTTP server starts once the frontend (and with it onboarding) is set up.
        try:
            steps = open_onboarding_steps(client)
        except urllib.error.URLError, ConnectionError:
            pass
        else:
            print(f"Home Assistant answers after {time.monotonic() - start:.0f} s")
            return steps
        elapsed = time.monotonic() - start
        if not is_running(pid):
            msg = "Home Assistant exited during start-up"
            raise DemoError(msg)
        if elapsed > START_TIMEOUT:
            msg = f"Home Assistant did not answer within {START_TIMEOUT:.0f} s"
            raise DemoError(msg)
        if elapsed >= reported + 10:
            reported += 10
            print(f"  waiting for Home Assistant ... {reported} s")
        time.sleep(1)


def exchange_code(client: Client, code: str) -> str:
    """Trade an authorization code for an access token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client.client_id,
    }
    answer: dict[str, Any] = client.call("POST", "/auth/token", form=form)
    return str(answer["access_token"])


def login_code(client: Client) -> str:
    """Log the demo user in through the login flow; return an authorization code."""
    flow: dict[str, Any] = client.call(
        "POST",
        "/auth/login_flow",
        {
            "client_id": client.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{client.url}/?auth_callback=1",
        },
    )
    result: dict[str, Any] = client.call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"username": USERNAME, "password": PASSWORD, "client_id": client.client_id},
    )
    if result.get("type") != "create_entry":
        msg = f"login as {USERNAME} failed: {result.get('errors') or result}"
        raise DemoError(msg)
    return str(result["result"])


def create_owner(client: Client) -> str:
    """Finish the onboarding's user step; return an authorization code for the owner."""
    answer: dict[str, Any] = client.call(
        "POST",
        "/api/onboarding/users",
        {
            "client_id": client.client_id,
            "name": OWNER_NAME,
            "username": USERNAME,
            "password": PASSWORD,
            "language": LANGUAGE,
        },
    )
    print(f"created the owner {USERNAME}")
    return str(answer["auth_code"])


def onboard(client: Client, open_steps: set[str]) -> None:
    """Finish the open onboarding steps and leave the client logged in."""
    if not open_steps:
        print("already onboarded")
    code = create_owner(client) if "user" in open_steps else login_code(client)
    client.token = exchange_code(client, code)
    remaining: dict[str, Any] = {
        "core_config": None,
        "analytics": None,
        "integration": {
            "client_id": client.client_id,
            "redirect_uri": f"{client.url}/?auth_callback=1",
        },
    }
    for step, body in remaining.items():
        if step in open_steps:
            client.call("POST", f"/api/onboarding/{step}", body)
            print(f"finished the onboarding step {step}")


def remove_failed_entries(client: Client) -> None:
    """Delete the entries onboarding added that cannot work offline (e.g. Google Translate without gTTS)."""
    for entry in client.call("GET", "/api/config/config_entries/entry"):
        if entry["domain"] != DOMAIN and entry["state"] in FAILED_STATES:
            client.call(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )
            print(f"removed {entry['title']}: it cannot be set up offline")


def flow_answer(step: dict[str, Any], kind: str, port: str) -> dict[str, Any]:
    """Return the demo's input for one config-flow form."""
    if step.get("errors"):
        msg = f"config flow step {step['step_id']} reported {step['errors']}"
        raise DemoError(msg)
    answers: dict[str, dict[str, Any]] = {
        "user": {"device_kind": kind},
        "port": {"port": port},
        "ecm_mode": ECM_POLL_ANSWER,
    }
    if step["step_id"] not in answers:
        msg = f"config flow shows an unexpected step: {json.dumps(step)}"
        raise DemoError(msg)
    return answers[step["step_id"]]


def add_entry(client: Client, kind: str, port: str) -> None:
    """Add one device through the config-flow API; the flow itself refuses a port that is set up."""
    path = "/api/config/config_entries/flow"
    step: dict[str, Any] = client.call(
        "POST", path, {"handler": DOMAIN, "show_advanced_options": False}
    )
    deadline = time.monotonic() + FLOW_TIMEOUT
    while step["type"] != "create_entry":
        if step.get("errors") == PORT_IN_USE:
            client.call("DELETE", f"{path}/{step['flow_id']}")
            print(f"the {kind} device on {port} is already set up")
            return
        if time.monotonic() > deadline:
            msg = f"config flow did not finish within {FLOW_TIMEOUT:.0f} s"
            raise DemoError(msg)
        step = next_flow_step(client, f"{path}/{step['flow_id']}", step, kind, port)
    print(f"added Mains Monitor: {step['title']}")


def next_flow_step(
    client: Client, path: str, step: dict[str, Any], kind: str, port: str
) -> dict[str, Any]:
    """Answer one config-flow step and return the next."""
    if step["type"] == "form":
        return dict(client.call("POST", path, flow_answer(step, kind, port)))
    if step["type"] == "progress":
        time.sleep(1)
        return dict(client.call("GET", path))
    msg = f"config flow ended with {step['type']}: {step.get('reason', step)}"
    raise DemoError(msg)


def ecm_entry_id(client: Client) -> str:
    """Return the entry id of the demo's ECM unit."""
    entries = client.call("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
    for entry in entries:
        if str(entry["title"]).startswith(ECM_TITLE_PREFIXES):
            return str(entry["entry_id"])
    msg = "no ECM-1240 entry was set up"
    raise DemoError(msg)


def suggested_values(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what a form shows filled in (the stored options), sections as nested dicts."""
    values: dict[str, Any] = {}
    for field in fields:
        if field.get("type") == "expandable":
            values[field["name"]] = suggested_values(field["schema"])
        elif "suggested_value" in (field.get("description") or {}):
            values[field["name"]] = field["description"]["suggested_value"]
    return values


def configure_ecm(client: Client, entry_id: str) -> None:
    """Give the ECM unit's channels the demo's names and modes unless they have them."""
    path = "/api/config/config_entries/options/flow"
    form: dict[str, Any] = client.call("POST", path, {"handler": entry_id})
    if form.get("step_id") != "ecm":
        msg = f"the ECM options flow shows an unexpected step: {json.dumps(form)}"
        raise DemoError(msg)
    flow = f"{path}/{form['flow_id']}"
    if suggested_values(form["data_schema"]) == ECM_OPTIONS:
        client.call("DELETE", flow)
        print("the ECM-1240 options are already set")
        return
    done: dict[str, Any] = client.call("POST", flow, ECM_OPTIONS)
    if done.get("type") != "create_entry":
        msg = f"the ECM options were not saved: {json.dumps(done)}"
        raise DemoError(msg)
    print(
        "set the ECM-1240 options: CH1 Grid (main), CH2 Solar (solar), both"
        " net-metered; AUX1-5 circuits"
    )


PLATFORMS_SHOWN = {"sensor", "binary_sensor"}
# [entity id, device name, device manufacturer] for every entity of the integration.
ENTITIES_TEMPLATE = (
    "{% set ns = namespace(rows=[]) %}"
    f"{{% for id in integration_entities('{DOMAIN}') %}}"
    "{% set ns.rows = ns.rows + [[id, device_attr(id, 'name'), "
    "device_attr(id, 'manufacturer')]] %}"
    "{% endfor %}{{ ns.rows | tojson }}"
)


def integration_states(client: Client) -> dict[str, list[dict[str, Any]]]:
    """Return the states of Mains Monitor's sensors and binary sensors, by device name."""
    rows = client.call("POST", "/api/template", {"template": ENTITIES_TEMPLATE})
    devices = {row[0]: row[1] or "?" for row in rows}
    by_device: dict[str, list[dict[str, Any]]] = {name: [] for name in devices.values()}
    for state in client.call("GET", "/api/states"):
        entity_id = state["entity_id"]
        if entity_id in devices and entity_id.split(".")[0] in PLATFORMS_SHOWN:
            by_device[devices[entity_id]].append(state)
    for states in by_device.values():
        states.sort(key=lambda state: str(state["entity_id"]))
    return by_device


def ecm_device_names(client: Client) -> set[str]:
    """Return the names of the integration's ECM devices."""
    rows = client.call("POST", "/api/template", {"template": ENTITIES_TEMPLATE})
    return {row[1] for row in rows if row[2] == ECM_MANUFACTURER}


def is_number(value: str) -> bool:
    """Return whether a state is a finite number."""
    try:
        return float(value) == float(value) and abs(float(value)) != float("inf")
    except ValueError:
        return False


def print_states(states: list[dict[str, Any]]) -> int:
    """Print one line per entity; return how many sensors hold a number."""
    width = max((len(state["entity_id"]) for state in states), default=0)
    numeric = 0
    for state in states:
        unit = state["attributes"].get("unit_of_measurement", "")
        print(f"  {state['entity_id']:<{width}}  {state['state']} {unit}".rstrip())
        if state["entity_id"].startswith("sensor.") and is_number(state["state"]):
            numeric += 1
    return numeric


def ecm_failures(states: list[dict[str, Any]]) -> list[str]:
    """Return why an ECM unit's power and energy sensors fail the check (none: they pass)."""
    failures = []
    for device_class in ECM_REQUIRED_CLASSES:
        sensors = [
            state
            for state in states
            if state["entity_id"].startswith("sensor.")
            and state["attributes"].get("device_class") == device_class
        ]
        if not sensors:
            failures.append(f"no {device_class} sensor")
        failures += [
            f"{state['entity_id']} is {state['state']}"
            for state in sensors
            if not is_number(state["state"])
        ]
    return failures


def wait_with_progress(seconds: float) -> None:
    """Let the demo run for a while, telling how long is left."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        print(f"  collecting data ... {left:.0f} s left")
        time.sleep(min(10.0, left))


def wanted_keys() -> set[str]:
    """Return the description keys of the channel and role entities the demo's options create."""
    return {
        f"{channel}_{key}"
        for channel, options in ECM_CHANNELS.items()
        for key in CHANNEL_KEYS[options["mode"]]
    } | set(ROLE_KEYS)


def stale_keys() -> set[str]:
    """Return the description keys of channel entities the demo's options do not create."""
    every = {
        f"{channel}_{key}"
        for channel in ECM_CHANNELS
        for keys in CHANNEL_KEYS.values()
        for key in keys
    }
    return every - wanted_keys()


def by_key(unique_ids: dict[str, str]) -> dict[str, str]:
    """Return the entities by description key: their unique ids after the unit's identity.

    Every device has a Connection sensor, whose unique id is the identity and `_connection_state`.
    """
    suffix = "_connection_state"
    identity = next(
        (
            unique_id.removesuffix(suffix)
            for unique_id in unique_ids
            if unique_id.endswith(suffix)
        ),
        None,
    )
    if identity is None:
        return {}
    return {
        unique_id.removeprefix(f"{identity}_"): entity_id
        for unique_id, entity_id in unique_ids.items()
    }


def ecm_entities(ws: WebSocket, entry_id: str) -> dict[str, str]:
    """Wait until the ECM entry has every entity its options give; return them by description key.

    Saving the options reloads the entry in the background; the net-metered
    channel's entities exist once that is done.
    """
    deadline = time.monotonic() + FLOW_TIMEOUT
    while True:
        entities = by_key(
            {
                entity["unique_id"]: entity["entity_id"]
                for entity in ws.command({"type": "config/entity_registry/list"})
                if entity["config_entry_id"] == entry_id
            }
        )
        if wanted_keys() <= entities.keys():
            return entities
        if time.monotonic() > deadline:
            msg = f"the ECM channel entities did not appear within {FLOW_TIMEOUT:.0f} s"
            raise DemoError(msg)
        time.sleep(0.5)


def remove_stale_entities(
    ws: WebSocket, entities: dict[str, str], stale: set[str]
) -> None:
    """Delete the registry entries of channel entities the options no longer create.

    The unit's entry starts with every channel in consumption mode; once CH2 is
    net-metered, its single energy entity is no longer provided and would stay
    listed as unavailable.
    """
    for key in sorted(stale & entities.keys()):
        entity_id = entities[key]
        ws.command({"type": "config/entity_registry/remove", "entity_id": entity_id})
        print(f"removed {entity_id}: no longer provided")


def energy_preferences(entities: dict[str, str]) -> dict[str, Any]:
    """Return the Energy dashboard's set-up: grid and solar from the roles, the circuits as devices.

    The grid's power is two sensors, consumption and return, both >= 0; solar
    production power is positive while the inverter produces, as the dashboard
    takes it. With solar the house uses more than the main imports, so the
    circuits have no upstream device (see the README's channel roles).
    """
    grid = {
        "type": "grid",
        "stat_energy_from": entities["grid_consumption_energy"],
        "stat_energy_to": entities["return_to_grid_energy"],
        "cost_adjustment_day": 0,
        "power_config": {
            "stat_rate_from": entities["grid_consumption_power"],
            "stat_rate_to": entities["return_to_grid_power"],
        },
    }
    solar = {
        "type": "solar",
        "stat_energy_from": entities["solar_production_energy"],
        "stat_rate": entities["solar_production_power"],
    }
    devices = [
        {
            "stat_consumption": entities[f"{channel}_energy"],
            "stat_rate": entities[f"{channel}_power"],
        }
        for channel, options in ECM_CHANNELS.items()
        if options.get("role") == "circuit"
    ]
    return {"energy_sources": [grid, solar], "device_consumption": devices}


def holds(stored: dict[str, Any], prefs: dict[str, Any]) -> bool:
    """Return whether the stored preferences hold these, item by item.

    Home Assistant adds to what it stores: a grid of two power sensors gets a
    sensor of its own, the import minus the export, as its `stat_rate`.
    """
    return all(
        len(stored.get(key) or []) == len(items)
        and all(
            item.items() <= kept.items()
            for item, kept in zip(items, stored[key], strict=True)
        )
        for key, items in prefs.items()
    )


def configure_energy(ws: WebSocket, entities: dict[str, str]) -> None:
    """Set up the Energy dashboard unless it is set up already; an earlier demo's is left as it is."""
    prefs = energy_preferences(entities)
    try:
        stored = ws.command({"type": "energy/get_prefs"})
    except WebSocketCommandError as err:
        if err.code != "not_found":
            raise
        stored = None
    if stored is not None and holds(stored, prefs):
        print("the Energy dashboard is already set up")
        return
    if stored is not None and any(stored.get(key) for key in prefs):
        print("the Energy dashboard is set up otherwise: left as it is")
        return
    ws.command({"type": "energy/save_prefs", **prefs})
    print(
        "set up the Energy dashboard: grid consumption and return, solar production,"
        " the circuits as devices, each with its power"
    )


def tidy_ecm(client: Client, entry_id: str) -> None:
    """Remove the channel entities the options replaced; set up the Energy dashboard."""
    assert client.token is not None  # logged in by onboard()
    ws = WebSocket(client.url, client.token)
    try:
        entities = ecm_entities(ws, entry_id)
        remove_stale_entities(ws, entities, stale_keys())
        configure_energy(ws, entities)
    finally:
        ws.close()


def keep_http_settings(client: Client) -> None:
    """Confirm the configuration's `http:` settings where Home Assistant only tries them out.

    Newer releases move `http:` to their storage once, as a trial that is undone
    (with a restart, then listening on every address) unless it is confirmed
    within 5 minutes; the web UI asks for that confirmation in a dialog.
    """
    assert client.token is not None  # logged in by onboard()
    ws = WebSocket(client.url, client.token)
    try:
        try:
            config = ws.command({"type": "http/config"})
        except WebSocketCommandError as err:
            if err.code == "unknown_command":  # a release that reads http: as it is
                return
            raise
        pending = config.get("pending")
        if pending is None or pending.get("error") is not None:
            return
        ws.command({"type": "http/config/promote"})
        print("kept the demo's HTTP settings: Home Assistant listens on 127.0.0.1 only")
    finally:
        ws.close()


def command_up(args: argparse.Namespace) -> None:
    """Wait for Home Assistant, onboard it, add both devices and set the ECM's channels."""
    client = Client(args.url)
    open_steps = wait_until_up(client, args.pid)
    onboard(client, open_steps)
    keep_http_settings(client)
    add_entry(client, MFM, args.mfm_port)
    add_entry(client, ECM, args.ecm_port)
    entry_id = ecm_entry_id(client)
    configure_ecm(client, entry_id)
    tidy_ecm(client, entry_id)
    if "core_config" in open_steps:
        remove_failed_entries(client)


def command_check(args: argparse.Namespace) -> int:
    """Let the demo run, print the entities' states and judge them."""
    client = Client(args.url)
    client.token = exchange_code(client, login_code(client))
    wait_with_progress(args.wait)
    by_device = integration_states(client)
    ecm_devices = ecm_device_names(client)
    failures = [] if ecm_devices else ["no ECM-1240 device"]
    print(f"Mains Monitor entities after {args.wait:.0f} s:")
    for name, states in sorted(by_device.items()):
        print(f"{name}:")
        if print_states(states) == 0:
            failures.append(f"no sensor of {name} holds a number")
        if name in ecm_devices:
            failures += [f"{name}: {failure}" for failure in ecm_failures(states)]
    if failures:
        print("check failed: " + "; ".join(failures))
        return 1
    print("check passed: both devices give numbers, so do all ECM power and energy")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up", help="wait for Home Assistant, onboard, add the entry"
    )
    up.add_argument(
        "--pid", type=int, required=True, help="Home Assistant's process id"
    )
    up.add_argument("--mfm-port", required=True, help="the mfm board's port")
    up.add_argument("--ecm-port", required=True, help="the ECM-1240's port")
    check = commands.add_parser(
        "check", help="print the entities' states after a while"
    )
    check.add_argument("--wait", type=float, default=60.0, help="seconds to wait first")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Run one command; report a failed step in one line."""
    args = parse_args(argv)
    try:
        if args.command == "up":
            command_up(args)
            return 0
        return command_check(args)
    except (DemoError, urllib.error.URLError, TimeoutError) as err:
        print(f"demo: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
