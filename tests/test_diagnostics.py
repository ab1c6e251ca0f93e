"""The diagnostics download."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.mains_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from homeassistant.core import HomeAssistant
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.helpers import Clock, advance, send


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    snapshot: SnapshotAssertion,
) -> None:
    """Settings, link state, parser counters and the last snapshot."""
    await send(
        init_integration,
        mfm_link,
        board.banner() + b"garbage\r\n" + board.line(50010, 0),
        1,
    )
    await advance(hass, clock, 5.0)
    # Called directly: the frozen clock would make an HTTP client's token invalid.
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    # The port is a temporary path that differs from run to run.
    assert diagnostics == snapshot(exclude=props("port"))
    assert diagnostics["data"]["port"] == str(mfm_link.path)
