"""Hypothesis types anything into the flows' fields: the answer is a form error, never a crash.

The port field takes any text: blank, URLs of any scheme with or without host and
port, hosts that do not resolve, ports nobody listens on or out of range, paths
that do not exist or name no serial port, random unicode, very long strings. The
flow opens each for real; it answers with the port form and an error it has a
translation for (port_in_use when the port is already set up).

The options take anything a JSON client can send for a number (numbers, numeric
and other strings such as "nan", booleans, null, lists) and any text as a channel
name: valid input is stored exactly as the form's ranges define it, NaN gets the
not_a_number form error, anything else is refused with InvalidData.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from pathlib import Path
import socket
from typing import Any, Final

from hypothesis import HealthCheck, event, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_CALIBRATION_OFFSET,
    CONF_DEVICE_KIND,
    CONF_INVERTED,
    CONF_MODE,
    CONF_NAME,
    CONF_NOMINAL_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_OSCILLATION_THRESHOLD,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_ROCOF_THRESHOLD,
    CONF_ROLE,
    CONF_SILENCE_TIMEOUT,
    CONF_STEP_THRESHOLD,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    DeviceKind,
)
from custom_components.mains_monitor.protocol.ecm1240 import (
    CHANNELS,
    POLARIZED_CHANNELS,
)
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from tests.daemon import free_port
from tests.ecm_unit import ecm_entry_for
from tests.flows import open_options, start_port_step, submit_options, submit_port

TRANSLATIONS = (
    Path(__file__).parents[1]
    / "custom_components"
    / DOMAIN
    / "translations"
    / "en.json"
)
# Every error the port form can show must be one the user can read.
PORT_ERRORS = frozenset(json.loads(TRANSLATIONS.read_text())["config"]["error"])

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
# Home Assistant's JSON parser refuses a lone surrogate: no field can hold one.
SURROGATES: Final = "Cs"

# Ranges of the options' number fields (min, max), as the forms define them.
MFM_NUMBERS = {
    CONF_UPDATE_INTERVAL: (1, 60),
    CONF_CALIBRATION_OFFSET: (-100, 100),
    CONF_SILENCE_TIMEOUT: (5, 600),
    CONF_ROCOF_THRESHOLD: (5, 1000),
    CONF_STEP_THRESHOLD: (5, 1000),
    CONF_OSCILLATION_THRESHOLD: (1, 500),
}
ECM_NUMBERS = {
    CONF_UPDATE_INTERVAL: (1, 60),
    CONF_POLL_INTERVAL: (0, 3600),
    CONF_SILENCE_TIMEOUT: (5, 10800),
}
NOMINALS = ("auto", "50", "60")
NOMINAL_VOLTAGES = ("auto", "120", "230")
MODES = {"ch1": ("consumption", "net", "off"), "aux1": ("consumption", "off")}
ROLES = ("main", "solar", "circuit")


# --- the port field -----------------------------------------------------------------


def port_texts(tmp: Path, closed: int) -> st.SearchStrategy[tuple[str, str | None]]:
    """Text for the port field, with the error it must give where that is known."""
    component = st.text(
        st.characters(exclude_categories=[SURROGATES], exclude_characters="/\x00"),
        min_size=1,
        max_size=12,
    ).filter(lambda part: part not in {".", ".."})
    missing = st.lists(component, min_size=1, max_size=3).map(
        lambda parts: (str(tmp.joinpath("missing", *parts)), "port_not_found")
    )
    not_ports = st.sampled_from([str(tmp), str(tmp / "file"), "/dev/null"]).map(
        lambda path: (path, "cannot_connect")
    )
    blank = st.text(" \t\r\n", max_size=4).map(lambda text: (text, "invalid_port"))
    # esphome-hass:// (ESPHome serial proxies) has no handler until usb or ESPHome loads.
    unknown = st.sampled_from(
        ["foo", "http", "loop", "spy", "hwgrep", "esphome", "esphome-hass"]
    )
    scheme = st.sampled_from(["socket", "rfc2217", "tcp"])
    host = st.sampled_from(["host", "127.0.0.1", "[::1]"])
    # Names that never resolve, and a malformed address: no error is promised.
    odd_host = st.sampled_from(["host.invalid", "ü.invalid", "[::1"])
    urls = st.one_of(
        st.one_of(unknown, scheme).map(lambda s: (f"{s}://", "invalid_port")),
        st.builds("{}://{}".format, scheme, host).map(lambda u: (u, "invalid_port")),
        st.builds("{}://h:{}".format, scheme, st.integers(65536, 10**9)).map(
            lambda u: (u, "invalid_port")
        ),
        # The test harness lets sockets reach 127.0.0.1 only.
        scheme.map(lambda s: (f"{s}://127.0.0.1:{closed}", "cannot_connect")),
        st.builds(f"{{}}://{{}}:{closed}".format, scheme, odd_host).map(
            lambda u: (u, None)
        ),
    )
    anything = st.text(st.characters(exclude_categories=[SURROGATES]), max_size=40)
    very_long = st.integers(300, 5000).map(lambda n: "x" * n)
    return st.one_of(
        missing,
        not_ports,
        blank,
        urls,
        st.one_of(anything, very_long).map(lambda text: (text, None)),
    )


@pytest.fixture
def not_a_port(tmp_path: Path) -> Path:
    """A file that is no serial port."""
    path = tmp_path / "file"
    path.write_text("not a serial port")
    return path


@pytest.fixture
def taken(hass: HomeAssistant, tmp_path: Path) -> str:
    """The port of a board already set up (the device is not plugged in)."""
    port = os.path.realpath(tmp_path / "ttyTAKEN")
    MockConfigEntry(
        domain=DOMAIN,
        data={CONF_DEVICE_KIND: DeviceKind.MFM, CONF_PORT: port, "line_format": "p4"},
    ).add_to_hass(hass)
    return port


async def try_port(
    hass: HomeAssistant, kind: DeviceKind, port: str
) -> ConfigFlowResult:
    """Add a device of `kind` and type `port` into the port form."""
    flow = await start_port_step(hass, kind)
    result = await submit_port(hass, flow, port)
    if result["type"] is FlowResultType.FORM:
        hass.config_entries.flow.async_abort(flow["flow_id"])
    return result


@pytest.fixture
def closed(socket_enabled: None) -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture
def no_name_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Host names fail to resolve as they do where no DNS answers for them.

    The harness raises RuntimeError for any name instead, which no real resolver does;
    addresses still go through its checks.
    """
    resolve = socket.getaddrinfo

    def getaddrinfo(host: str | bytes | None, *args: Any, **kwargs: Any) -> Any:
        """Refuse names with the resolver's own error; pass addresses on."""
        name = host.decode(errors="replace") if isinstance(host, bytes) else host
        if name and name != "localhost":
            try:
                ipaddress.ip_address(name)
            except ValueError:
                msg = "Name or service not known"
                raise socket.gaierror(socket.EAI_NONAME, msg) from None
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@FUZZ
@given(kind=st.sampled_from(DeviceKind), data=st.data())
async def test_any_port_text_gives_a_form_error(
    hass: HomeAssistant,
    tmp_path: Path,
    taken: str,
    closed: int,
    not_a_port: Path,
    no_name_resolves: None,
    kind: DeviceKind,
    data: st.DataObject,
) -> None:
    """Whatever the port field holds, the flow answers with an error it can explain."""
    again = st.sampled_from([taken, f" {taken}", f"{taken}\t"])
    port, expected = data.draw(
        st.one_of(port_texts(tmp_path, closed), again.map(lambda p: (p, None))),
        label="port",
    )

    result = await try_port(hass, kind, port)

    if port.strip() == taken:
        expected = "port_in_use"
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "port"
    errors = result["errors"]
    assert errors is not None
    assert list(errors) == [CONF_PORT]
    assert errors[CONF_PORT] in PORT_ERRORS
    event(errors[CONF_PORT])
    if expected is not None:
        assert errors[CONF_PORT] == expected


@pytest.mark.parametrize("kind", list(DeviceKind))
async def test_a_nul_in_a_path_is_an_invalid_port(
    hass: HomeAssistant, tmp_path: Path, kind: DeviceKind
) -> None:
    """A path with a NUL character in it is no port: invalid_port."""
    result = await try_port(hass, kind, f"{tmp_path}/tty\x00USB0")

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "invalid_port"}


# --- the options --------------------------------------------------------------------


def as_number(value: Any) -> float | None:
    """What a number box makes of a value: float() as voluptuous coerces it; None if it cannot."""
    try:
        return float(value)
    except TypeError, ValueError:
        return None


def mostly[T](
    usual: st.SearchStrategy[T], other: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """`usual` nine times in ten, `other` the tenth: most examples get past a field."""
    return st.integers(0, 9).flatmap(lambda n: other if n == 0 else usual)


def number_inputs(low: int, high: int) -> st.SearchStrategy[Any]:
    """Anything a JSON client can send for a number in [low, high], mostly in range."""
    in_range = st.one_of(
        st.integers(low, high),
        st.floats(low, high),
        st.integers(low, high).map(lambda n: f" {n} "),
    )
    numeric_text = st.one_of(
        st.integers(low - 5, high + 5).map(str),
        st.floats().map(repr),
        st.sampled_from(
            ["", "5_0", "1e400", "-inf", "nan", " NaN", "0x10", "1,5", "five"]
        ),
    )
    anything = st.one_of(
        st.integers(low - 5, high + 5),
        st.floats(low - 1, high + 1),
        INT64,
        st.floats(),
        numeric_text,
        st.text(max_size=8),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )
    return mostly(in_range, anything)


def numbers_or_refused(
    values: dict[str, Any], ranges: dict[str, tuple[int, int]]
) -> dict[str, float] | None:
    """The numbers as the form's schema lets them through, or None if it refuses one.

    NaN compares false with both bounds: the schema lets it through, and the flow
    itself answers it with not_a_number.
    """
    numbers: dict[str, float] = {}
    for key, value in values.items():
        number = as_number(value)
        low, high = ranges[key]
        if number is None or not (math.isnan(number) or low <= number <= high):
            return None
        numbers[key] = number
    return numbers


def not_numbers(numbers: dict[str, float]) -> dict[str, str]:
    """The form errors for the fields that hold NaN."""
    return {
        key: "not_a_number" for key, number in numbers.items() if math.isnan(number)
    }


async def configure_options(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> ConfigFlowResult | None:
    """Submit the entry's options form; None when the input was refused as invalid."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    flow = await open_options(hass, entry.entry_id)
    try:
        result = await submit_options(hass, flow, user_input)
    except InvalidData:
        hass.config_entries.options.async_abort(flow["flow_id"])
        return None
    if result["type"] is FlowResultType.FORM:
        hass.config_entries.options.async_abort(flow["flow_id"])
    return result


@FUZZ
@given(
    update=number_inputs(*MFM_NUMBERS[CONF_UPDATE_INTERVAL]),
    calibration=number_inputs(*MFM_NUMBERS[CONF_CALIBRATION_OFFSET]),
    silence=number_inputs(*MFM_NUMBERS[CONF_SILENCE_TIMEOUT]),
    thresholds=st.tuples(
        *(
            number_inputs(*MFM_NUMBERS[key])
            for key in (
                CONF_ROCOF_THRESHOLD,
                CONF_STEP_THRESHOLD,
                CONF_OSCILLATION_THRESHOLD,
            )
        )
    ),
    nominal=mostly(
        st.sampled_from(NOMINALS), st.one_of(st.text(max_size=4), st.integers())
    ),
)
async def test_any_board_options_are_stored_or_refused(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    update: Any,
    calibration: Any,
    silence: Any,
    thresholds: tuple[Any, Any, Any],
    nominal: Any,
) -> None:
    """Options in their ranges are stored as numbers; NaN is a form error; else InvalidData."""
    rocof, step, oscillation = thresholds
    values = {
        CONF_UPDATE_INTERVAL: update,
        CONF_CALIBRATION_OFFSET: calibration,
        CONF_SILENCE_TIMEOUT: silence,
        CONF_ROCOF_THRESHOLD: rocof,
        CONF_STEP_THRESHOLD: step,
        CONF_OSCILLATION_THRESHOLD: oscillation,
    }
    numbers = numbers_or_refused(values, MFM_NUMBERS)
    before = dict(mock_config_entry.options)

    result = await configure_options(
        hass, mock_config_entry, {**values, CONF_NOMINAL_FREQUENCY: nominal}
    )

    if numbers is None or nominal not in NOMINALS:
        event("refused")
        assert result is None
        assert mock_config_entry.options == before
        return
    assert result is not None
    if errors := not_numbers(numbers):
        event("not a number")
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        assert mock_config_entry.options == before
        return
    event("stored")
    assert result is not None
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {**numbers, CONF_NOMINAL_FREQUENCY: nominal}


def section_inputs(channel: str) -> st.SearchStrategy[dict[str, Any]]:
    """A channel's section: any name, a mode and a role valid or not, any polarity flag."""
    modes = MODES["ch1" if channel in POLARIZED_CHANNELS else "aux1"]
    fields: dict[str, st.SearchStrategy[Any]] = {
        CONF_NAME: mostly(st.text(max_size=40), st.integers()),
        CONF_MODE: mostly(st.sampled_from(modes), st.text(max_size=8)),
        # Mostly circuits: a main or solar in most channels would be refused.
        CONF_ROLE: mostly(
            st.sampled_from(("circuit", "circuit", "circuit", "main", "solar")),
            st.text(max_size=8),
        ),
    }
    if channel in POLARIZED_CHANNELS:
        fields[CONF_INVERTED] = st.one_of(st.booleans(), st.integers(), st.none())
    return st.fixed_dictionaries({}, optional=fields)


def section_or_refused(channel: str, given: dict[str, Any]) -> dict[str, Any] | None:
    """The section as stored (defaults filled in), or None when it must be refused."""
    modes = MODES["ch1" if channel in POLARIZED_CHANNELS else "aux1"]
    stored: dict[str, Any] = {CONF_MODE: given.get(CONF_MODE, "consumption")}
    if stored[CONF_MODE] not in modes:
        return None
    stored[CONF_ROLE] = given.get(CONF_ROLE, "circuit")
    if stored[CONF_ROLE] not in ROLES:
        return None
    if CONF_NAME in given:
        if not isinstance(given[CONF_NAME], str):
            return None
        stored[CONF_NAME] = given[CONF_NAME]
    if channel in POLARIZED_CHANNELS:
        stored[CONF_INVERTED] = bool(given.get(CONF_INVERTED, False))
    return stored


def impossible_roles(channels: dict[str, Any]) -> dict[str, str]:
    """An error for each main or solar channel that is off, and for each main after the first."""
    errors: dict[str, str] = {}
    mains = 0
    for channel in CHANNELS:
        role = channels[channel][CONF_ROLE]
        if role == "circuit":
            continue
        if channels[channel][CONF_MODE] == "off":
            errors[channel] = f"{role}_off"
        elif role == "main":
            mains += 1
            if mains > 1:
                errors[channel] = "second_main"
    return errors


def same_names(channels: dict[str, Any]) -> dict[str, str]:
    """An error for each channel not off whose entities an earlier one's names would shadow."""
    errors: dict[str, str] = {}
    names: set[str] = set()
    for channel in CHANNELS:  # in the form's order, whatever order the input had
        stored = channels[channel]
        if stored[CONF_MODE] == "off":
            continue
        name = (stored.get(CONF_NAME) or channel.upper()).strip().casefold()
        if name in names:
            errors[channel] = "duplicate_name"
        names.add(name)
    return errors


@pytest.fixture
def ecm_options_entry() -> MockConfigEntry:
    """An ECM-1240 entry, not set up: its options flow only."""
    return ecm_entry_for("/dev/ttyUSB0")


@FUZZ
@given(
    update=number_inputs(*ECM_NUMBERS[CONF_UPDATE_INTERVAL]),
    poll=number_inputs(*ECM_NUMBERS[CONF_POLL_INTERVAL]),
    silence=number_inputs(*ECM_NUMBERS[CONF_SILENCE_TIMEOUT]),
    nominal=mostly(
        st.sampled_from(NOMINAL_VOLTAGES), st.one_of(st.text(max_size=4), st.integers())
    ),
    sections=st.fixed_dictionaries(
        {channel: section_inputs(channel) for channel in CHANNELS}
    ),
)
async def test_any_energy_monitor_options_are_stored_or_refused(
    hass: HomeAssistant,
    ecm_options_entry: MockConfigEntry,
    update: Any,
    poll: Any,
    silence: Any,
    nominal: Any,
    sections: dict[str, dict[str, Any]],
) -> None:
    """Valid options and any channel names are stored; anything else is refused."""
    values = {
        CONF_UPDATE_INTERVAL: update,
        CONF_POLL_INTERVAL: poll,
        CONF_SILENCE_TIMEOUT: silence,
    }
    numbers = numbers_or_refused(values, ECM_NUMBERS)
    channels = {c: section_or_refused(c, given) for c, given in sections.items()}
    before = dict(ecm_options_entry.options)

    result = await configure_options(
        hass,
        ecm_options_entry,
        {**values, CONF_NOMINAL_VOLTAGE: nominal, **sections},
    )

    if numbers is None or nominal not in NOMINAL_VOLTAGES or None in channels.values():
        event("refused")
        assert result is None
        assert ecm_options_entry.options == before
        return
    assert result is not None
    if (
        errors := not_numbers(numbers)
        | impossible_roles(channels)
        | same_names(channels)
    ):
        event("not a number, impossible roles or names alike")
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        assert ecm_options_entry.options == before
        return
    poll_interval, silence_timeout = (
        numbers[CONF_POLL_INTERVAL],
        numbers[CONF_SILENCE_TIMEOUT],
    )
    if poll_interval and silence_timeout <= poll_interval:
        event("silence not longer than the poll")
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_SILENCE_TIMEOUT: "silence_shorter_than_poll"}
        assert ecm_options_entry.options == before
        return
    event("stored")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ecm_options_entry.options == {
        **numbers,
        CONF_NOMINAL_VOLTAGE: nominal,
        **channels,
    }


@pytest.mark.parametrize(
    ("kind", "field"),
    [("mfm", field) for field in MFM_NUMBERS]
    + [("ecm", field) for field in ECM_NUMBERS],
)
async def test_nan_is_refused(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    ecm_options_entry: MockConfigEntry,
    kind: str,
    field: str,
) -> None:
    """NaN is in no range: the options refuse it."""
    entry = mock_config_entry if kind == "mfm" else ecm_options_entry
    sections: dict[str, dict[str, Any]] = (
        {channel: {} for channel in CHANNELS} if kind == "ecm" else {}
    )
    options = {**entry.options, **sections, field: "nan"}

    result = await configure_options(hass, entry, options)

    assert result is not None
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_a_number"}
    assert not any(
        isinstance(value, float) and math.isnan(value)
        for value in entry.options.values()
    )
