"""The board's sensors, fed through a real pty."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from simulator.links import PtyLink
from simulator.mfm import MfmBoard

from tests.helpers import advance, send


async def test_frequency_statistics_over_one_interval(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: FrozenDateTimeFactory,
) -> None:
    """Mean, minimum, maximum, deviation and slope count every line of the interval."""
    values = [50012, 50020, 49995, 50031, 50008]
    for index, value in enumerate(values):
        await send(init_integration, mfm_link, board.line(value, index * 0.2), 1)
        clock.tick(0.2)
    await advance(hass, clock, 4.0)

    mean = sum(values) / len(values) / 1000
    assert hass.states.get("sensor.mains_frequency_board_frequency").state == str(
        round(mean, 4)
    )
    assert (
        hass.states.get("sensor.mains_frequency_board_minimum_frequency").state
        == "49.995"
    )
