"""Ports at set-up: ESPHome serial proxies before ESPHome loads, adapters that moved, the port's user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
import sys
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import CONF_PORT, DOMAIN, ConnectionState
from custom_components.mains_monitor.port_session import redacted
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from simulator.links import PtyLink
from tests.esphome import EspHome, proxy_url
from tests.helpers import same_entry, set_up, wait_for_connection

MOVED_HELPER = "async_find_moved_serial_port"


# --- ESPHome serial proxies -----------------------------------------------------


async def test_a_proxy_is_retried_until_esphome_has_loaded(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    esphome: EspHome,
) -> None:
    """Before ESPHome loads, set-up is retried (translated); after it, the proxy is read."""
    url = proxy_url("01JESPHOMEENTRY")
    entry = same_entry(mock_config_entry, port=url)

    await set_up(hass, entry)

    retrying = (
        entry.state,
        entry.error_reason_translation_key,
        entry.error_reason_translation_placeholders,
    )
    assert retrying == (ConfigEntryState.SETUP_RETRY, "proxy_not_ready", {"port": url})

    esphome.proxies[url] = str(mfm_link.path)
    esphome.load()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    await wait_for_connection(entry, ConnectionState.CONNECTED)


async def test_a_proxy_that_is_gone_is_the_readers_to_retry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, esphome: EspHome
) -> None:
    """ESPHome is loaded but the proxy is gone: set up, unavailable, reopened later."""
    esphome.load()
    entry = same_entry(mock_config_entry, port=proxy_url("01JREMOVEDENTRY"))

    await set_up(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    await wait_for_connection(entry, ConnectionState.DISCONNECTED)
    assert entry.runtime_data.connection.last_error == "cannot_connect"


# --- adapters that moved --------------------------------------------------------


type Attach = Callable[..., list[str]]


@pytest.fixture
def attach(monkeypatch: pytest.MonkeyPatch) -> Attach:
    """Attach a stand-in for 2026.11's helper to the real usb module; its calls are returned.

    `usb.async_find_moved_serial_port` is new in Home Assistant 2026.11, which cannot
    be installed here (no test plugin pins it), so the tests that need it attach one.
    """
    usb = pytest.importorskip(
        "homeassistant.components.usb",
        reason="usb imports serialx's ESPHome platform here, which needs aioesphomeapi",
    )

    def attach_helper(moved_to: str | None, *, coroutine: bool = True) -> list[str]:
        calls: list[str] = []
        helper = stand_in(moved_to, calls, coroutine=coroutine)
        monkeypatch.setattr(usb, MOVED_HELPER, helper, raising=False)
        return calls

    return attach_helper


async def test_without_the_helper_a_vanished_port_stays(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, by_id: Path
) -> None:
    """Before Home Assistant 2026.11 (no helper), the entry keeps its port."""
    usb = sys.modules.get("homeassistant.components.usb")
    assert not hasattr(usb, MOVED_HELPER)
    gone = str(by_id / "usb-FTDI_FT232R_USB_UART_A10K0000-if00-port0")
    entry = same_entry(mock_config_entry, port=gone)

    await set_up(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_PORT] == gone


def stand_in(
    moved_to: str | None, calls: list[str], *, coroutine: bool
) -> Callable[[HomeAssistant, str], Any]:
    """A stand-in for 2026.11's helper, as a coroutine function or a callback."""

    def find(hass: HomeAssistant, path: str) -> str | None:
        calls.append(path)
        return moved_to

    async def async_find(hass: HomeAssistant, path: str) -> str | None:
        return find(hass, path)

    return async_find if coroutine else find


@pytest.mark.parametrize("coroutine", [True, False], ids=["coroutine", "callback"])
async def test_a_vanished_port_is_followed_to_its_adapter(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    by_id: Path,
    attach: Attach,
    coroutine: bool,
) -> None:
    """A by-id path that is gone becomes where Home Assistant found the adapter.

    The helper is a stand-in (see `attach`): 2026.11 cannot be installed here.
    """
    gone = str(by_id / "usb-FTDI_FT232R_USB_UART_A10K0000-if00-port0")
    now = by_id / "usb-FTDI_FT232R_USB_UART_A10K0000-if00-port1"
    now.symlink_to(mfm_link.path)
    calls = attach(str(now), coroutine=coroutine)
    entry = same_entry(mock_config_entry, port=gone)

    await set_up(hass, entry)

    assert calls == [gone]
    assert entry.data[CONF_PORT] == str(now)
    assert entry.state is ConfigEntryState.LOADED
    await wait_for_connection(entry, ConnectionState.CONNECTED)


@pytest.mark.parametrize(
    "port", ["present", "/dev/ttyAMA0", "foo://bar"], ids=["present", "other", "url"]
)
async def test_only_a_vanished_by_id_port_is_looked_up(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    by_id: Path,
    attach: Attach,
    port: str,
) -> None:
    """A by-id link that exists, another path or a URL is never looked up."""
    if port == "present":
        (by_id / "usb-present").symlink_to(mfm_link.path)
        port = str(by_id / "usb-present")
    calls = attach(None)
    entry = same_entry(mock_config_entry, port=port)

    await set_up(hass, entry)

    assert calls == []
    assert entry.data[CONF_PORT] == port


async def test_an_adapter_home_assistant_cannot_find_keeps_its_port(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    by_id: Path,
    attach: Attach,
) -> None:
    """The helper finds nothing: the port stays, and the reader reports it missing."""
    gone = str(by_id / "usb-gone")
    calls = attach(None)
    entry = same_entry(mock_config_entry, port=gone)

    await set_up(hass, entry)

    assert calls == [gone]
    assert entry.data[CONF_PORT] == gone
    await wait_for_connection(entry, ConnectionState.DISCONNECTED)
    assert entry.runtime_data.connection.last_error == "port_not_found"


# --- the port's user ------------------------------------------------------------


async def test_home_assistant_names_the_entry_as_the_ports_user(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """With usb among the after-dependencies, usb's port list names the entry.

    Even while its adapter is unplugged: usb lists a configured /dev port as absent.
    """
    consumers = pytest.importorskip(
        "homeassistant.components.usb.consumers",
        reason="usb lists the ports' users in 2026.10.4, not yet in 2026.5.0",
    )
    port = "/dev/ttyMAINSMONITOR0"
    entry = same_entry(mock_config_entry, port=port)
    await set_up(hass, entry)

    found: Callable[..., Awaitable[dict[str, list[Any]]]] = (
        consumers.async_get_serial_port_consumers
    )
    result = await found(hass, [])

    assert list(result) == [port]
    assert [
        (user.kind, user.title, user.domain, user.config_entry_id, user.active)
        for user in result[port]
    ] == [("config_entry", entry.title, DOMAIN, entry.entry_id, True)]


@pytest.mark.parametrize(
    ("port", "shown"),
    [
        (
            "/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00",
            "/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00",
        ),
        ("socket://192.0.2.7:3333", "socket://192.0.2.7:3333"),
        (
            "esphome://192.0.2.7:6053/?port_name=uart0&key=c2VjcmV0&baudrate=19200",
            "esphome://192.0.2.7:6053/?port_name=uart0&key=REDACTED&baudrate=19200",
        ),
        ("esphome://h/?noise%5Fpsk=abc#x", "esphome://h/?noise%5Fpsk=REDACTED#x"),
        (
            "esphome://h/?password=p&password=q",
            "esphome://h/?password=REDACTED&password=REDACTED",
        ),
        ("esphome://h/#?key=k", "esphome://h/#?key=k"),
    ],
)
def test_secrets_in_a_port_url_never_reach_a_log(port: str, shown: str) -> None:
    """ESPHome API keys and passwords in the URL are hidden; the rest stays as typed."""
    assert redacted(port) == shown
