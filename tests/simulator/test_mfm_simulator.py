"""The mfm board model against its wire-format spec: every expectation worked out by hand."""

from __future__ import annotations

from itertools import islice, pairwise

import pytest

from simulator.mfm import (
    Firmware,
    MfmBoard,
    dip,
    random_walk,
    reboot_loop,
    steady,
    stream,
)

V2_BANNER_50 = (
    b"\x1b[2J\x1b[H"
    b"NFA-RPi 2.0 extendend mfm (@Arduino)\r\n"
    b"02'2021 J.M\xc3\xbcller www.pc-projekte.de\r\n"
    b"Auto-Detect.....  => detect 50Hz\r\n"
    b"Output protocol: 4\r\n"
    b"Start mains frequency measurement...\r\n"
    b"\x07"
)


def xor_by_bit_parity(text: bytes) -> int:
    """XOR of all bytes, computed bit by bit: a bit is set when an odd number of bytes set it."""
    return sum(1 << bit for bit in range(8) if sum(c >> bit & 1 for c in text) % 2)


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        (1, b"50028\r\n"),
        (2, b"50028;+0276;000\r\n"),
        (3, b"NFA50028f+0276P000M92C\r\n"),
        (4, b"50028;+0276;0;0;0;0;0;0;0;0\r\n"),
    ],
)
def test_spec_example_lines(output_format: int, expected: bytes) -> None:
    """50.028 Hz gives the spec's example line in each V2 format."""
    board = MfmBoard(output_format=output_format)
    assert board.line(50028, 0.0) == expected


def test_p3_checksum_of_the_spec_example() -> None:
    """The P3 example's 92 is the XOR of its 16 characters from `5` through `M`, mod 100."""
    body = b"50028f+0276P000M"
    assert len(body) == 16
    assert xor_by_bit_parity(body) % 100 == 92
    assert MfmBoard(output_format=3).line(50028, 0.0) == b"NFA" + body + b"92C\r\n"


@pytest.mark.parametrize(
    ("millihertz", "body"),
    [
        (50000, b"50000f00000P000M"),
        (49900, b"49900f-1380P131M"),
        (51000, b"51000f+9999P143M"),
        (50011, b"50011f+0015P000M"),
    ],
)
def test_p3_checksum(millihertz: int, body: bytes) -> None:
    """Every P3 line carries the XOR of its body, as two decimal digits."""
    line = MfmBoard(output_format=3).line(millihertz, 0.0)
    checksum = xor_by_bit_parity(body) % 100
    assert line == b"NFA" + body + f"{checksum:02d}".encode() + b"C\r\n"


@pytest.mark.parametrize(
    ("nominal", "millihertz", "field"),
    [
        (50, 50000, b"00000"),  # exactly nominal: sign character 0
        (50, 50001, b"+0000"),  # inside the ±10 mHz dead band
        (50, 50010, b"+0000"),
        (50, 50011, b"+0015"),  # 1 x 15.333 = 15.3
        (50, 50012, b"+0030"),  # 2 x 15.333 = 30.7
        (50, 50013, b"+0046"),  # 3 x 15.333 = 46
        (50, 50028, b"+0276"),  # the spec's check: 18 x 15.333 = 276
        (50, 49990, b"-0000"),
        (50, 49989, b"-0015"),
        (50, 49900, b"-1380"),  # 90 x 15.333 = 1380
        (50, 50662, b"+9997"),  # 652 x 46 / 3 = 9997.3
        (50, 50663, b"+9999"),  # 653 x 46 / 3 = 10012.7, capped
        (50, 45000, b"-9999"),
        (60, 60000, b"00000"),
        (60, 60028, b"+0276"),
        (60, 59972, b"-0276"),
    ],
)
def test_sign_and_load_difference(nominal: int, millihertz: int, field: bytes) -> None:
    """The second P2 field: sign (0 at nominal) and trunc(max(|df| - 10, 0) x 46/3), capped."""
    line = MfmBoard(output_format=2, nominal=nominal).line(millihertz, 0.0)
    assert line.split(b";")[:2] == [b"%05d" % millihertz, field]


@pytest.mark.parametrize(
    ("millihertz", "alarm"),
    [
        (50069, 0),
        (50070, 0b1000_0001),  # bit 0 (±70 mHz) and the summary bit 7
        (49930, 0b1000_0001),
        (50099, 0b1000_0001),
        (50100, 0b1000_0011),  # bits 0, 1 (±100 mHz), 7
        (49800, 0b1000_0111),  # bits 0, 1, 2 (±200 mHz), 7
        (51000, 0b1000_1111),  # bits 0-3 (±1000 mHz), 7
        (49000, 0b1000_1111),
    ],
)
def test_alarm_thresholds(millihertz: int, alarm: int) -> None:
    """Each alarm bit is set from its threshold on, on either side of nominal."""
    assert (
        MfmBoard(output_format=2).line(millihertz, 0.0).endswith(b";%03d\r\n" % alarm)
    )


@pytest.mark.parametrize(("nominal", "millihertz"), [(60, 60100), (60, 59900)])
def test_alarm_thresholds_at_60_hz(nominal: int, millihertz: int) -> None:
    """Thresholds are taken around the nominal frequency."""
    line = MfmBoard(output_format=2, nominal=nominal).line(millihertz, 0.0)
    assert line.endswith(b";131\r\n")


def test_alarm_held_for_ten_seconds() -> None:
    """One 49.90 Hz line at t=0 sets bits 0, 1 and 7 until t=10, and they clear after."""
    board = MfmBoard(output_format=4)
    assert board.line(49900, 0.0) == b"49900;-1380;1;1;0;0;0;0;0;1\r\n"
    assert board.line(49990, 0.18) == b"49990;-0000;1;1;0;0;0;0;0;1\r\n"
    assert board.line(50000, 9.9) == b"50000;00000;1;1;0;0;0;0;0;1\r\n"
    assert board.line(50000, 10.0) == b"50000;00000;0;0;0;0;0;0;0;0\r\n"
    assert board.line(50000, 10.08) == b"50000;00000;0;0;0;0;0;0;0;0\r\n"


def test_each_alarm_bit_has_its_own_hold() -> None:
    """A later, smaller breach extends only the bits it crosses."""
    board = MfmBoard(output_format=2)
    assert board.line(49900, 0.0).endswith(b";131\r\n")  # bits 0, 1, 7
    assert board.line(49930, 5.0).endswith(b";131\r\n")  # bit 0 again, bit 1 still held
    assert board.line(50000, 12.0).endswith(b";129\r\n")  # bit 1 expired, bit 0 held
    assert board.line(50000, 15.0).endswith(b";000\r\n")


def test_alarm_memory_cleared_by_reset() -> None:
    """A reset (power-up, watchdog) forgets held alarms."""
    board = MfmBoard(output_format=2)
    board.line(49900, 0.0)
    board.reset()
    assert board.line(50000, 1.0) == b"50000;00000;000\r\n"


def test_format_change_between_lines() -> None:
    """The jumpers are re-read before every line; the alarm memory carries over."""
    board = MfmBoard(output_format=4)
    assert board.line(50070, 0.0) == b"50070;+0920;1;0;0;0;0;0;0;1\r\n"
    board.output_format = 1
    assert board.line(50000, 0.18) == b"50000\r\n"
    board.output_format = 3
    body = b"50000f00000P129M"
    checksum = b"%02d" % (xor_by_bit_parity(body) % 100)
    assert board.line(50000, 0.36) == b"NFA" + body + checksum + b"C\r\n"


def test_calibration_is_applied() -> None:
    """The board adds its calibration offset before anything else."""
    board = MfmBoard(output_format=2, calibration_mhz=5)
    assert board.line(50023, 0.0) == b"50028;+0276;000\r\n"


@pytest.mark.parametrize(
    ("firmware", "nominal", "interval"),
    [
        (Firmware.V2, 50, 0.18),  # 9 periods of 20 ms
        (Firmware.V2, 60, 0.15),  # 9 periods of 16.7 ms
        (Firmware.V1, 50, 0.36),  # 18 periods
        (Firmware.V1, 60, 0.3),
    ],
)
def test_line_interval(firmware: Firmware, nominal: int, interval: float) -> None:
    """One line every 9 (V2) or 18 (V1) mains periods."""
    assert MfmBoard(firmware=firmware, nominal=nominal).line_interval == interval


def test_line_rate_of_a_stream() -> None:
    """Ten seconds of V2 at 50 Hz hold 56 lines (5.6 a second), 0.18 s apart."""
    chunks = list(stream(MfmBoard(), steady(50000), start=0.0, duration=11.0))
    times = [t for t, _ in chunks[1:]]
    assert len(times) == 56
    assert times[0] == 1.0
    assert times[-1] == pytest.approx(1.0 + 55 * 0.18)
    assert all(b - a == pytest.approx(0.18) for a, b in pairwise(times))


def test_v1_sends_only_the_value() -> None:
    """V1 has one format whatever the jumpers, and no alarms."""
    board = MfmBoard(firmware=Firmware.V1, output_format=2)
    assert board.line(49900, 0.0) == b"49900\r\n"


def test_v1_replaces_out_of_range_values() -> None:
    """Outside 45-55 Hz the previous value is repeated; before any value, 00000."""
    board = MfmBoard(firmware=Firmware.V1)
    assert board.line(44999, 0.0) == b"00000\r\n"
    assert board.line(45000, 0.36) == b"45000\r\n"
    assert board.line(0, 0.72) == b"45000\r\n"
    assert board.line(55001, 1.08) == b"45000\r\n"


def test_v1_range_at_60_hz() -> None:
    """On a 60 Hz grid the accepted range is 55-65 Hz."""
    board = MfmBoard(firmware=Firmware.V1, nominal=60)
    assert board.line(54999, 0.0) == b"00000\r\n"
    assert board.line(65000, 0.3) == b"65000\r\n"
    assert board.line(65001, 0.6) == b"65000\r\n"


def test_v1_moves_at_most_60_mhz_per_line() -> None:
    """A jump is followed in steps of 60 mHz."""
    board = MfmBoard(firmware=Firmware.V1)
    lines = [
        board.line(value, 0.36 * k)
        for k, value in enumerate([50000, 49800, 49800, 49800, 49800, 49900])
    ]
    assert lines == [
        b"50000\r\n",
        b"49940\r\n",
        b"49880\r\n",
        b"49820\r\n",
        b"49800\r\n",
        b"49860\r\n",
    ]


def test_v2_moves_at_most_100_mhz_per_line() -> None:
    """V2 follows a jump in steps of 100 mHz, and has no range rule."""
    board = MfmBoard(output_format=1)
    lines = [
        board.line(value, 0.18 * k)
        for k, value in enumerate([50000, 49750, 49750, 49750, 44000])
    ]
    assert lines == [
        b"50000\r\n",
        b"49900\r\n",
        b"49800\r\n",
        b"49750\r\n",
        b"49650\r\n",
    ]


@pytest.mark.parametrize(
    ("firmware", "output_format", "expected"),
    [
        (Firmware.V2, 4, b"00000;-9999;0;0;0;0;0;0;0;0\r\n"),  # the spec's example
        (Firmware.V2, 2, b"00000;-9999;000\r\n"),
        (Firmware.V2, 1, b"00000\r\n"),
        (Firmware.V1, 4, b"00000\r\n"),
    ],
)
def test_zero_line(firmware: Firmware, output_format: int, expected: bytes) -> None:
    """The line some boards print before their first measurement."""
    assert (
        MfmBoard(firmware=firmware, output_format=output_format).zero_line() == expected
    )


def test_v2_banner() -> None:
    """The V2 banner, byte for byte, from the clear-screen prefix to the BEL."""
    assert MfmBoard().banner() == V2_BANNER_50


def test_v2_banner_60_hz_format_3_bad_signal() -> None:
    """The banner tells the nominal frequency and format; `*` marks a bad signal."""
    board = MfmBoard(nominal=60, output_format=3)
    assert board.banner(signal_ok=False) == (
        b"\x1b[2J\x1b[H"
        b"NFA-RPi 2.0 extendend mfm (@Arduino)\r\n"
        b"02'2021 J.M\xc3\xbcller www.pc-projekte.de\r\n"
        b"Auto-Detect.....  => detect 60Hz*\r\n"
        b"Output protocol: 3\r\n"
        b"Start mains frequency measurement...\r\n"
        b"\x07"
    )


@pytest.mark.parametrize(
    ("nominal", "signal_ok", "detect"),
    [(50, True, b"50Hz-Netz"), (60, False, b"60Hz-Netz*")],
)
def test_v1_banner(nominal: int, signal_ok: bool, detect: bytes) -> None:
    """The V1 banner, byte for byte."""
    board = MfmBoard(firmware=Firmware.V1, nominal=nominal)
    assert board.banner(signal_ok=signal_ok) == (
        b"\x1b[2J\x1b[H"
        b"NFA-RPi 1.0 Basisprogramm (@Arduino)\r\n"
        b"Auto-Detect...  " + detect + b"\r\n"
        b"Start Netzfrequenzmessung...\r\n"
        b"\x07"
    )


def test_start_up_stream() -> None:
    """Banner at the start, and the BEL right before the first data line, one second later."""
    chunks = list(islice(stream(MfmBoard(), steady(50000), start=5.0), 3))
    assert chunks == [
        (5.0, V2_BANNER_50),
        (6.0, b"50000;00000;0;0;0;0;0;0;0;0\r\n"),
        (6.18, b"50000;00000;0;0;0;0;0;0;0;0\r\n"),
    ]
    joined = b"".join(data for _, data in chunks)
    assert b"measurement...\r\n\x0750000;00000;" in joined


@pytest.mark.parametrize(
    ("firmware", "zero"),
    [(Firmware.V2, b"00000;-9999;0;0;0;0;0;0;0;0\r\n"), (Firmware.V1, b"00000\r\n")],
)
def test_start_up_with_zero_line(firmware: Firmware, zero: bytes) -> None:
    """Some boards print 00000 first; the real values follow."""
    board = MfmBoard(firmware=firmware, output_format=4)
    chunks = list(islice(stream(board, steady(50028), zero_line=True), 3))
    assert [data for _, data in chunks[1:]] == [zero, board.line(50028, 99.0)]
    assert chunks[2][1].startswith(b"50028")


def test_stream_without_boot_and_its_end() -> None:
    """Without boot, data starts at `start`; nothing is sent at or after start + duration."""
    chunks = list(
        stream(
            MfmBoard(output_format=1),
            steady(49950),
            start=2.0,
            duration=0.54,
            boot=False,
        )
    )
    assert chunks == [(2.0, b"49950\r\n"), (2.18, b"49950\r\n"), (2.36, b"49950\r\n")]


def test_stream_resets_the_board() -> None:
    """A booting stream starts from a fresh board: no held alarm, no previous value."""
    board = MfmBoard(output_format=2)
    board.line(49000, 0.0)
    chunks = list(islice(stream(board, steady(50500)), 2))
    assert chunks[1] == (
        1.0,
        b"50500;+7513;135\r\n",
    )  # 490 x 46 / 3 = 7513.3; bits 0-2, 7


def test_dip_is_followed_at_the_board_rate() -> None:
    """A sudden dip: each value averages two half windows, then moves at most 100 mHz."""
    profile = dip(to=49000, at=2.0, duration=10.0)
    chunks = list(stream(MfmBoard(output_format=1), profile, duration=3.0))
    values = [data for _, data in chunks[1:]]
    # Lines at 1.0 + 0.18 k up to 2.98; from the line at 2.26 the window holds the dip
    # (half of it at first: 49500 measured), but the value moves 100 mHz a line.
    assert values == [b"50000\r\n"] * 7 + [
        b"49900\r\n",
        b"49800\r\n",
        b"49700\r\n",
        b"49600\r\n",
        b"49500\r\n",
    ]


def test_measured_value_averages_the_window() -> None:
    """A gentle 49.8 Hz dip reaches the board as one in-between value, then the dip."""
    profile = dip(to=49800, at=2.0, duration=10.0)
    chunks = list(stream(MfmBoard(output_format=1), profile, duration=2.5))
    values = [data for _, data in chunks[1:]]
    assert values == [b"50000\r\n"] * 7 + [b"49900\r\n", b"49800\r\n"]


def test_profiles() -> None:
    """Steady never moves; a repeated dip comes back every period."""
    assert [steady(49987)(t) for t in (0.0, 1e6)] == [49987, 49987]
    profile = dip(to=49800, at=30.0, duration=20.0, every=120.0, base=steady(50010))
    samples = [0.0, 29.99, 30.0, 49.99, 50.0, 149.99, 150.0, 169.99, 170.0, 270.0]
    assert [profile(t) for t in samples] == [
        50010,
        50010,
        49800,
        49800,
        50010,
        50010,
        49800,
        49800,
        50010,
        49800,
    ]


def test_random_walk_is_reproducible() -> None:
    """The same seed gives the same grid, whatever order it is asked in; another seed another grid."""
    times = [k * 0.18 for k in range(2000)]
    forward = [random_walk(7)(t) for t in times]
    walk = random_walk(7)
    backward = [walk(t) for t in reversed(times)]
    assert backward[::-1] == forward
    assert [random_walk(8)(t) for t in times] != forward


@pytest.mark.parametrize("seed", range(5))
def test_random_walk_is_a_quiet_grid(seed: int) -> None:
    """Over an hour the walk stays within ±50 mHz, mostly within ±20, and moves smoothly."""
    walk = random_walk(seed)
    deviations = [walk(k * 0.18) - 50000 for k in range(20000)]
    assert max(abs(d) for d in deviations) <= 50
    assert sum(abs(d) <= 20 for d in deviations) >= 0.9 * len(deviations)
    assert max(abs(b - a) for a, b in pairwise(deviations)) <= 3


def test_reboot_loop_v2() -> None:
    """Without mains V2 prints its banner with `*`, an error, and reboots."""
    board = MfmBoard()
    banner = board.banner(signal_ok=False)
    assert b"detect 50Hz*\r\n" in banner
    assert list(reboot_loop(board, duration=8.0)) == [
        (0.0, banner),
        (3.5, b"ERROR measurement\r\n"),
        (4.0, banner),
        (7.5, b"failt / Error measurement (Trigger ResetCounter)\r\n"),
    ]


def test_reboot_loop_v1_sends_xxxxx() -> None:
    """V1 marks the missing signal with XXXXX lines between banner and error."""
    board = MfmBoard(firmware=Firmware.V1)
    chunks = list(reboot_loop(board, duration=4.0))
    # XXXXX at 1.0 + 0.36 k while before the error at 3.5: k = 0..6
    assert [data for _, data in chunks] == [
        board.banner(signal_ok=False),
        *[b"XXXXX\r\n"] * 7,
        b"ERROR measurement\r\n",
    ]
    assert chunks[-2][0] == pytest.approx(3.16)


def test_reboot_loop_then_mains_return() -> None:
    """Scenarios chain: the first banner after mains return has no `*`."""
    board = MfmBoard(output_format=1)
    chunks = [
        *reboot_loop(board, duration=4.0),
        *islice(stream(board, steady(50000), start=4.0), 2),
    ]
    assert [t for t, _ in chunks] == [0.0, 3.5, 4.0, 5.0]
    assert chunks[2][1] == MfmBoard(output_format=1).banner()


@pytest.mark.parametrize(
    "settings", [{"nominal": 55}, {"output_format": 0}, {"output_format": 5}]
)
def test_impossible_settings_are_refused(settings: dict[str, int]) -> None:
    """Only 50/60 Hz and formats 1-4 exist."""
    with pytest.raises(ValueError, match="must be"):
        MfmBoard(**settings)  # type: ignore[arg-type]
