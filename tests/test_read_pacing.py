"""How often the readers read: the board's bytes gather between reads, the unit's are read as they come.

Waking Home Assistant's event loop for every few bytes a port hands over costs more
than parsing them. The board sends several lines a second, so its reader rests a
quarter of the update interval (at most 1.25 s) after each read and then takes
everything that gathered in one read, spread over the rest; the ECM unit sends a packet a second at most,
which a rest would not save a wake-up on.
"""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.coordinator import rounded
from custom_components.mains_monitor.mfm_coordinator import gathering
from homeassistant.core import HomeAssistant
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import Simulation
from tests.esphome import EspHome, proxy_url
from tests.helpers import (
    Clock,
    advance,
    after_each_chunk,
    coordinator_of,
    send,
    set_up_connected,
    state,
    until,
)

ROCOF = "sensor.mains_frequency_board_rate_of_change_of_frequency"
REST = 1.25  # s: the rest at the default interval (5 s)


def test_the_rest_is_a_quarter_interval_and_at_most_0_4_s() -> None:
    """A quarter of the update interval: 0.25 s at 1 s, never more than at the default (5 s)."""
    assert [gathering(seconds) for seconds in (1, 2, 5, 60)] == [0.25, 0.5, 1.25, 1.25]


@pytest.mark.usefixtures("all_entities_enabled")
async def test_the_boards_lines_gather_while_its_reader_rests(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Lines written while the reader rests wait for its end, then are spread over the rest."""
    await send(init_integration, mfm_link, board.line(50010, 0), 1)
    reads = []
    parser = coordinator_of(init_integration).parser
    with after_each_chunk(init_integration, lambda: reads.append(parser.accepted)):
        # One write: the kernel hands one write's bytes over at once, several maybe not.
        mfm_link.write(b"".join(board.line(mhz, 0) for mhz in (50020, 50030, 50040)))
        await hass.async_block_till_done()
        assert reads == []
        await advance(hass, clock, REST)
        await until(init_integration, lambda: parser.accepted == 4)
    assert reads == [4]

    await advance(hass, clock, 5 - REST)  # the end of the first interval
    # 10 mHz a third of the rest apart: 24 mHz/s. Stamped all at the read, 16.
    assert state(hass, ROCOF) == str(rounded(10 / (REST / 3), 2))


async def test_the_units_packets_are_read_as_they_come(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """Three packets written one by one are three reads, with no time passing."""
    await ecm.send()
    reads = []
    parser = ecm.coordinator.parser
    with after_each_chunk(ecm.entry, lambda: reads.append(parser.accepted)):
        for _ in range(3):
            async with ecm.expecting(1):
                ecm.link.write(ecm.unit.packet())
    assert reads == [2, 3, 4]


async def test_a_proxy_that_cannot_pause_is_read_all_the_same(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
    esphome: EspHome,
) -> None:
    """ESPHome's serial proxy cannot stop reading: the reader just waits, and loses nothing."""
    url = proxy_url("01JESPHOMEENTRY")
    esphome.proxies[url] = str(mfm_link.path)
    esphome.load()
    await set_up_connected(hass, mock_config_entry, url)

    await send(mock_config_entry, mfm_link, board.line(50010, 0), 1)
    mfm_link.write(board.line(50020, 0))
    await advance(hass, clock, REST)
    parser = coordinator_of(mock_config_entry).parser
    await until(mock_config_entry, lambda: parser.accepted == 2)
