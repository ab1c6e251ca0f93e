"""Tests for the mfm board's sans-I/O parser: bytes in, readings and counters out."""

from functools import reduce
from operator import xor

from hypothesis import assume, given, settings, strategies as st
import pytest

from custom_components.mains_monitor.protocol.mfm import (
    LineFormat,
    MfmParser,
    MfmReading,
    RejectReason,
)
from tests.parsing import feed_pieces, split_points

# Thousands of examples in CI, a few seconds each: the parsers are fast.
BOUNDED = settings(max_examples=1000, deadline=None)

V2_BANNER = (
    b"\x1b[2J\x1b[H"
    b"NFA-RPi 2.0 extendend mfm (@Arduino)\r\n"
    b"02'2021 J.M\xc3\xbcller www.pc-projekte.de\r\n"
    b"Auto-Detect.....  => detect 50Hz    \r\n"
    b"Output protocol: 4\r\n"
    b"Start mains frequency measurement...\r\n"
    b"\x07"
)
V1_BANNER = (
    b"NFA-RPi 1.0 Basisprogramm (@Arduino)\r\n"
    b"05'2020 J.M\xc3\xbcller www.pc-projekte.de\r\n"
    b"Auto-Detect...  50Hz-Netz    \r\n"
    b"Start Netzfrequenzmessung...\r\n"
    b"\x07"
)
# Substrings that make any line a banner or error line, whatever surrounds them.
LOOSE_MARKERS = (b"NFA-RPi", b"pc-projekte", b"measurement")


def p3_line(body: str) -> bytes:
    """Build a P3 line from the text N-F-A wraps, computing its checksum independently."""
    checksum = reduce(xor, body.encode("ascii"), 0) % 100
    return f"NFA{body}{checksum:02d}C\r\n".encode("ascii")


def reading(
    millihertz: int,
    line_format: LineFormat,
    load: int | None = None,
    alarms: int | None = None,
) -> MfmReading:
    """Build the reading a line should give."""
    return MfmReading(
        frequency=millihertz / 1000,
        millihertz=millihertz,
        load_difference=load,
        alarms=alarms,
        line_format=line_format,
    )


def state(parser: MfmParser) -> dict[str, object]:
    """Collect everything a caller can read from a parser."""
    return {
        "nominal_frequency": parser.nominal_frequency,
        "firmware": parser.firmware,
        "output_format": parser.output_format,
        "restarts": parser.restarts,
        "accepted": parser.accepted,
        "rejected": dict(parser.rejected),
        "rejected_total": parser.rejected_total,
        "banner_lines": parser.banner_lines,
    }


def rejected_once(line: bytes, nominal: int | None = 50) -> RejectReason:
    """Feed one line to a fresh parser and return the single reason it was rejected."""
    parser = MfmParser(nominal)
    assert parser.feed(line) == []
    assert parser.rejected_total == 1
    assert parser.banner_lines == 0
    (reason,) = parser.rejected
    return reason


def test_real_captured_line() -> None:
    """The line logged from a real board gives 50.028 Hz, +276 MW, no alarm."""
    parser = MfmParser()
    assert parser.feed(b"50028;+0276;0;0;0;0;0;0;0;0\r\n") == [
        MfmReading(
            frequency=50.028,
            millihertz=50028,
            load_difference=276,
            alarms=0,
            line_format=LineFormat.P4,
        )
    ]
    assert (parser.accepted, parser.rejected_total, parser.nominal_frequency) == (
        1,
        0,
        50,
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"49998\r\n", reading(49998, LineFormat.PLAIN)),
        (b"50028;+0276;000\r\n", reading(50028, LineFormat.P2, 276, 0)),
        (b"49900;-1379;135\r\n", reading(49900, LineFormat.P2, -1379, 135)),
        (b"50000;00000;000\r\n", reading(50000, LineFormat.P2, 0, 0)),
        (b"50005;+0000;255\r\n", reading(50005, LineFormat.P2, 0, 255)),
        (b"NFA50028f+0276P000M92C\r\n", reading(50028, LineFormat.P3, 276, 0)),
        (p3_line("49931f-0904P129M"), reading(49931, LineFormat.P3, -904, 129)),
        (p3_line("50000f00000P000M"), reading(50000, LineFormat.P3, 0, 0)),
        (b"50000;00000;0;0;0;0;0;0;0;0\r\n", reading(50000, LineFormat.P4, 0, 0)),
        (b"49925;-0766;1;1;0;0;0;0;0;1\r\n", reading(49925, LineFormat.P4, -766, 131)),
        (b"51200;+9999;1;1;1;1;0;0;0;1\r\n", reading(51200, LineFormat.P4, 9999, 143)),
        (b"50001;+0000;0;0;0;0;1;0;1;0\r\n", reading(50001, LineFormat.P4, 0, 80)),
        (b"45000\r\n", reading(45000, LineFormat.PLAIN)),
        (b"55000\r\n", reading(55000, LineFormat.PLAIN)),
    ],
)
def test_every_format_gives_exact_fields(line: bytes, expected: MfmReading) -> None:
    """Each format's fields come out exactly, signs and alarm bits included."""
    parser = MfmParser(50)
    assert parser.feed(line) == [expected]
    assert (parser.accepted, parser.rejected_total, parser.banner_lines) == (1, 0, 0)


def test_spec_checksum_example_agrees_with_independent_helper() -> None:
    """The spec's P3 example carries checksum 92, the XOR of its 16 bytes mod 100."""
    assert p3_line("50028f+0276P000M") == b"NFA50028f+0276P000M92C\r\n"


@pytest.mark.parametrize(
    "line",
    [
        b"NFA50028f+0276P000M93C\r\n",
        b"NFA50028f+0276P000M29C\r\n",
        b"NFA50029f+0276P000M92C\r\n",
        b"NFA50028f-0276P000M92C\r\n",
    ],
)
def test_p3_wrong_checksum_is_rejected(line: bytes) -> None:
    """A P3 line whose checksum does not match its fields is CHECKSUM."""
    assert rejected_once(line) is RejectReason.CHECKSUM


def test_v2_banner_sets_firmware_nominal_and_output_format() -> None:
    """The V2 banner gives firmware V2, 50 Hz, protocol 4; the BEL-prefixed line is read."""
    parser = MfmParser()
    readings = parser.feed(V2_BANNER + b"50028;+0276;0;0;0;0;0;0;0;0\r\n")
    assert readings == [reading(50028, LineFormat.P4, 276, 0)]
    assert state(parser) == {
        "nominal_frequency": 50,
        "firmware": "V2",
        "output_format": 4,
        "restarts": 1,
        "accepted": 1,
        "rejected": {},
        "rejected_total": 0,
        "banner_lines": 5,
    }


def test_v1_banner_sets_firmware_and_nominal() -> None:
    """The V1 banner gives firmware V1, 50 Hz and no output format."""
    parser = MfmParser()
    assert parser.feed(V1_BANNER + b"49998\r\n") == [reading(49998, LineFormat.PLAIN)]
    assert state(parser) == {
        "nominal_frequency": 50,
        "firmware": "V1",
        "output_format": None,
        "restarts": 1,
        "accepted": 1,
        "rejected": {},
        "rejected_total": 0,
        "banner_lines": 4,
    }


def test_restart_to_v1_forgets_the_v2_output_format() -> None:
    """A new title line replaces the firmware and clears the previous output format."""
    parser = MfmParser()
    parser.feed(V2_BANNER + V1_BANNER)
    assert (parser.firmware, parser.output_format, parser.restarts) == ("V1", None, 2)
    assert parser.banner_lines == 9


def test_60hz_banner_accepts_60hz_and_rejects_50hz_values() -> None:
    """Under a 60 Hz banner, 60 Hz values are read and a 50 Hz value is OUT_OF_RANGE."""
    parser = MfmParser()
    banner = V2_BANNER.replace(b"detect 50Hz", b"detect 60Hz")
    readings = parser.feed(banner + b"59987;-0046;000\r\n60000;00000;000\r\n50028\r\n")
    assert readings == [
        reading(59987, LineFormat.P2, -46, 0),
        reading(60000, LineFormat.P2, 0, 0),
    ]
    assert parser.nominal_frequency == 60
    assert parser.rejected == {RejectReason.OUT_OF_RANGE: 1}


@pytest.mark.parametrize(
    ("detect_line", "nominal"),
    [
        (b"Auto-Detect.....*.*.  => detect 60Hz    \r\n", 60),
        (b"Auto-Detect.....  => detect 60Hz*\r\n", 60),
        (b"Auto-Detect...  60Hz-Netz    \r\n", 60),
        (b"User setting : 60Hz mains frequency\r\n", 60),
        (b"Auto-Detect.....  => detect 50Hz\n", 50),
    ],
)
def test_detect_lines_set_the_nominal_frequency(
    detect_line: bytes, nominal: int
) -> None:
    """Every way the firmware reports the mains frequency sets the nominal."""
    parser = MfmParser()
    assert parser.feed(detect_line) == []
    assert (parser.nominal_frequency, parser.banner_lines, parser.rejected_total) == (
        nominal,
        1,
        0,
    )


def test_constructor_nominal_wins_over_the_banner() -> None:
    """A nominal given by the caller is kept even when the banner says otherwise."""
    parser = MfmParser(50)
    parser.feed(b"Auto-Detect.....  => detect 60Hz    \r\n59990\r\n")
    assert parser.nominal_frequency == 50
    assert parser.rejected == {RejectReason.OUT_OF_RANGE: 1}


def test_nominal_is_inferred_from_the_first_accepted_value() -> None:
    """Without a banner the first value decides the grid, then bounds the rest."""
    parser = MfmParser()
    assert parser.feed(b"59980\r\n") == [reading(59980, LineFormat.PLAIN)]
    assert parser.nominal_frequency == 60
    assert parser.feed(b"50010\r\n54999\r\n55000\r\n") == [
        reading(55000, LineFormat.PLAIN)
    ]
    assert parser.rejected == {RejectReason.OUT_OF_RANGE: 2}


def test_first_value_of_exactly_55_hz_means_a_50_hz_grid() -> None:
    """55.000 Hz is in both bands; the inference counts it as 50 Hz (45-55 inclusive)."""
    parser = MfmParser()
    assert parser.feed(b"55000\r\n55001\r\n") == [reading(55000, LineFormat.PLAIN)]
    assert parser.nominal_frequency == 50
    assert parser.rejected == {RejectReason.OUT_OF_RANGE: 1}


def test_unknown_nominal_bounds_are_45_and_65_hz() -> None:
    """With no nominal yet, 44.999 and 65.001 Hz are out of range."""
    parser = MfmParser()
    assert parser.feed(b"44999\r\n65001\r\n") == []
    assert (parser.rejected, parser.nominal_frequency) == (
        {RejectReason.OUT_OF_RANGE: 2},
        None,
    )


def test_invalid_constructor_nominal_raises() -> None:
    """Only 50, 60 or None make sense as a nominal frequency."""
    with pytest.raises(ValueError, match="nominal_frequency"):
        MfmParser(55)


@pytest.mark.parametrize(
    "prefix",
    [b"\x07", b"\x1b[2J\x1b[H", b"\x07\x07", b"\x1b[0;1m\x07", b"\x1b[H"],
)
def test_control_prefixes_are_stripped(prefix: bytes) -> None:
    """BEL and VT100 CSI sequences at the start of a line do not hide the data."""
    parser = MfmParser(50)
    assert parser.feed(prefix + b"50028;+0276;000\r\n") == [
        reading(50028, LineFormat.P2, 276, 0)
    ]


def test_signal_missing() -> None:
    """XXXXX means the mains signal is missing."""
    assert rejected_once(b"XXXXX\r\n") is RejectReason.SIGNAL_MISSING


@pytest.mark.parametrize(
    "line",
    [
        b"ERROR measurement\r\n",
        b"failt / Error measurement (Trigger ResetCounter)\r\n",
        b"Auto-Detect.....ERROR measurement\r\n",
        b"\x07ERROR measurement\r\n",
    ],
)
def test_error_lines(line: bytes) -> None:
    """The firmware's error texts, even after a cut-off line, are ERROR_LINE."""
    assert rejected_once(line) is RejectReason.ERROR_LINE


@pytest.mark.parametrize(
    "line",
    [
        b"00000\r\n",
        b"00000;-9999;0;0;0;0;0;0;0;0\r\n",
        b"00000;-9999;000\r\n",
        p3_line("00000f-9999P000M"),
        b"0\r\n",
        b"65000\r\n",
        b"44999;-9999;000\r\n",
    ],
)
def test_values_before_the_first_measurement_are_out_of_range(line: bytes) -> None:
    """Zero and other values outside 45-55 Hz (nominal 50) are OUT_OF_RANGE."""
    assert rejected_once(line) is RejectReason.OUT_OF_RANGE


@pytest.mark.parametrize(
    "line",
    [
        b"50028;+0276;0;0;0;0;0;0;0;0\x00\r\n",
        b"5002\xff8\r\n",
        b"50028 \r\n",
        b" 50028\r\n",
        b"50028\r\r\n",
        b"50028;+0276;256\r\n",
        b"50028;+0276;999\r\n",
        p3_line("50028f+0276P256M"),
        b"50000;00276;000\r\n",
        b"50028;*0276;000\r\n",
        b"50028;+0276;0;0;0;0;0;0;0;2\r\n",
        b"50028;+0276;0;0;0;0;0;0;0\r\n",
        b"50028,+0276,000\r\n",
        b"nfa50028f+0276p000m92c\r\n",
        b"\x1b50028\r\n",
        b"Output protocol: 7\r\n",
        b"\xc3\xbc\r\n",
    ],
)
def test_stray_bytes_make_a_line_malformed(line: bytes) -> None:
    """A line that does not match a format exactly is MALFORMED."""
    assert rejected_once(line) is RejectReason.MALFORMED


def test_overlong_line_is_discarded_then_parsing_recovers() -> None:
    """No newline within MAX_LINE_LENGTH bytes: one OVERLONG, then the next line reads."""
    parser = MfmParser(50)
    for _ in range(50):
        assert parser.feed(b"garbage-") == []
    assert parser.rejected == {RejectReason.OVERLONG: 1}
    assert parser.feed(b"still garbage\r\n49998\r\n") == [
        reading(49998, LineFormat.PLAIN)
    ]
    assert parser.rejected == {RejectReason.OVERLONG: 1}


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        (MfmParser.MAX_LINE_LENGTH, RejectReason.MALFORMED),
        (MfmParser.MAX_LINE_LENGTH + 1, RejectReason.OVERLONG),
    ],
)
def test_max_line_length_boundary(length: int, reason: RejectReason) -> None:
    """A line of MAX_LINE_LENGTH bytes before its newline still fits; one more does not."""
    line = b"x" * (length - 1) + b"\r\n"
    whole, bytewise = MfmParser(50), MfmParser(50)
    whole.feed(line)
    for index in range(len(line)):
        bytewise.feed(line[index : index + 1])
    assert whole.rejected == bytewise.rejected == {reason: 1}


def test_newline_without_carriage_return() -> None:
    """A bare LF ends a line as well as CR LF does."""
    parser = MfmParser(50)
    assert parser.feed(b"49998\n50028;+0276;000\n") == [
        reading(49998, LineFormat.PLAIN),
        reading(50028, LineFormat.P2, 276, 0),
    ]


def test_empty_lines_are_ignored_silently() -> None:
    """Empty lines, and a BEL alone on a line, are neither read nor counted."""
    parser = MfmParser(50)
    assert parser.feed(b"\r\n\n\r\n\x07\r\n") == []
    assert (
        state(parser)["rejected_total"] == parser.banner_lines == parser.accepted == 0
    )


def test_format_may_change_on_every_line() -> None:
    """The jumpers are re-read before each line: all formats mix freely."""
    parser = MfmParser(50)
    stream = (
        b"50010\r\n50011;+0000;000\r\n"
        + p3_line("50012f+0030P000M")
        + b"50013;+0046;0;0;0;0;0;0;0;0\r\n50014\r\n"
    )
    assert parser.feed(stream) == [
        reading(50010, LineFormat.PLAIN),
        reading(50011, LineFormat.P2, 0, 0),
        reading(50012, LineFormat.P3, 30, 0),
        reading(50013, LineFormat.P4, 46, 0),
        reading(50014, LineFormat.PLAIN),
    ]


def test_watchdog_reset_in_the_middle_of_a_line_counts_as_a_restart() -> None:
    """A banner that follows a line cut off without a newline is still a restart."""
    parser = MfmParser()
    stream = (
        b"\x1b[2J\x1b[HNFA-RPi 2.0 extendend mfm (@Arduino)\r\n"
        b"Auto-Detect.....*.*.*\x1b[2J\x1b[HNFA-RPi 2.0 extendend mfm (@Arduino)\r\n"
        b"Auto-Detect...NFA-RPi 1.0 Basisprogramm (@Arduino)\r\n"
    )
    assert parser.feed(stream) == []
    assert (parser.restarts, parser.banner_lines, parser.rejected_total) == (3, 3, 0)
    assert parser.firmware == "V1"


REALISTIC_STREAM = (
    V2_BANNER
    + b"00000;-9999;0;0;0;0;0;0;0;0\r\n"
    + b"50028;+0276;0;0;0;0;0;0;0;0\r\n"
    + b"49925;-0766;1;1;0;0;0;0;0;1\r\n"
    + b"5002\x008;+0276;0;0;0;0;0;0;0;0\r\n"
    + p3_line("49931f-0904P129M")
    + b"NFA49931f-0904P129M00C\r\n"
    + b"50000;00000;000\n"
    + b"\r\n"
    + b"XXXXX\r\n"
    + b"#" * 300
    + b"\r\n"
    + b"ERROR measurement\r\n"
    + V1_BANNER
    + b"0\r\n"
    + b"49998\r\n"
    + b"\x1b[2J\x1b[H"
)
REALISTIC_READINGS = [
    reading(50028, LineFormat.P4, 276, 0),
    reading(49925, LineFormat.P4, -766, 131),
    reading(49931, LineFormat.P3, -904, 129),
    reading(50000, LineFormat.P2, 0, 0),
    reading(49998, LineFormat.PLAIN),
]
REALISTIC_STATE = {
    "nominal_frequency": 50,
    "firmware": "V1",
    "output_format": None,
    "restarts": 2,
    "accepted": 5,
    "rejected": {
        RejectReason.OUT_OF_RANGE: 2,
        RejectReason.MALFORMED: 1,
        RejectReason.CHECKSUM: 1,
        RejectReason.SIGNAL_MISSING: 1,
        RejectReason.OVERLONG: 1,
        RejectReason.ERROR_LINE: 1,
    },
    "rejected_total": 7,
    "banner_lines": 9,
}


def test_realistic_stream_fed_whole() -> None:
    """A banner, mixed lines and garbage give exactly the expected readings and counts."""
    parser = MfmParser()
    assert parser.feed(REALISTIC_STREAM) == REALISTIC_READINGS
    assert state(parser) == REALISTIC_STATE


def test_realistic_stream_fed_one_byte_at_a_time() -> None:
    """Feeding one byte per call changes nothing."""
    parser = MfmParser()
    readings = feed_pieces(parser, REALISTIC_STREAM, range(1, len(REALISTIC_STREAM)))
    assert readings == REALISTIC_READINGS
    assert state(parser) == REALISTIC_STATE


def test_realistic_stream_split_at_every_point() -> None:
    """Splitting the stream in two at any offset changes nothing."""
    for cut in range(len(REALISTIC_STREAM) + 1):
        parser = MfmParser()
        assert feed_pieces(parser, REALISTIC_STREAM, [cut]) == REALISTIC_READINGS, cut
        assert state(parser) == REALISTIC_STATE, cut


# Hypothesis: generated streams.

TOKENS = st.sampled_from(
    [
        b"0",
        b"5",
        b"9",
        b";",
        b"+",
        b"-",
        b"\r",
        b"\n",
        b"\r\n",
        b"\x07",
        b"\x1b[",
        b"2J",
        b"NFA",
        b"f",
        b"P",
        b"M",
        b"C",
        b"XXXXX",
        b"50028",
        b";+0276",
        b";0",
        b";1",
        b"NFA-RPi 2.0 ",
        b"Auto-Detect...",
        b"  => detect 60Hz",
        b"Output protocol: 3",
        b"ERROR measurement",
        b"\xff",
        b"x" * 100,
    ]
)
ANY_BYTES = st.one_of(
    st.binary(max_size=2000),
    st.lists(TOKENS, max_size=200).map(b"".join),
)


@st.composite
def valid_line(draw: st.DrawFn, nominal: int) -> tuple[bytes, MfmReading]:
    """Draw a valid data line of any format and the reading it must give."""
    millihertz = draw(st.integers(nominal * 1000 - 5000, nominal * 1000 + 5000))
    line_format = draw(st.sampled_from(LineFormat))
    sign = draw(st.sampled_from("+-0"))
    magnitude = 0 if sign == "0" else draw(st.integers(0, 9999))
    load_text = "00000" if sign == "0" else f"{sign}{magnitude:04d}"
    load = -magnitude if sign == "-" else magnitude
    alarms = draw(st.integers(0, 255))
    if line_format is LineFormat.PLAIN:
        text = f"{millihertz}"
        expected = reading(millihertz, line_format)
    elif line_format is LineFormat.P2:
        text = f"{millihertz};{load_text};{alarms:03d}"
        expected = reading(millihertz, line_format, load, alarms)
    elif line_format is LineFormat.P3:
        text = p3_line(f"{millihertz}f{load_text}P{alarms:03d}M").decode()[:-2]
        expected = reading(millihertz, line_format, load, alarms)
    else:
        bits = ";".join("1" if alarms & (1 << bit) else "0" for bit in range(8))
        text = f"{millihertz};{load_text};{bits}"
        expected = reading(millihertz, line_format, load, alarms)
    prefix = draw(st.sampled_from([b"", b"\x07", b"\x1b[2J\x1b[H"]))
    ending = draw(st.sampled_from([b"\r\n", b"\n"]))
    return prefix + text.encode() + ending, expected


@st.composite
def junk_line(draw: st.DrawFn, nominal: int) -> bytes:
    """Draw a line that can match no format: random or valid bytes with a NUL inside."""
    body = draw(
        st.one_of(
            st.binary(max_size=300).map(lambda data: data.replace(b"\n", b"")),
            valid_line(nominal).map(lambda pair: pair[0].rstrip(b"\r\n")),
        )
    )
    at = draw(st.integers(0, len(body)))
    line = body[:at] + b"\x00" + body[at:]
    assume(not any(marker in line for marker in LOOSE_MARKERS))
    return line + draw(st.sampled_from([b"\r\n", b"\n"]))


@st.composite
def mixed_stream(draw: st.DrawFn) -> tuple[int, bytes, list[MfmReading], int]:
    """Draw a nominal and a stream of valid and junk lines: (nominal, bytes, readings, junk count)."""
    nominal = draw(st.sampled_from([50, 60]))
    items = draw(
        st.lists(
            st.one_of(
                valid_line(nominal), junk_line(nominal).map(lambda line: (line, None))
            ),
            max_size=40,
        )
    )
    expected = [item for _, item in items if item is not None]
    data = b"".join(line for line, _ in items)
    return nominal, data, expected, len(items) - len(expected)


@BOUNDED
@given(data=ANY_BYTES, draw=st.data())
def test_arbitrary_bytes_never_raise_and_readings_are_consistent(
    data: bytes, draw: st.DataObject
) -> None:
    """Any bytes, cut anywhere: no exception, only plausible and consistent readings."""
    whole = MfmParser()
    readings = whole.feed(data)
    for item in readings:
        assert 45.0 <= item.frequency <= 65.0
        assert item.frequency == item.millihertz / 1000
        assert item.alarms is None or 0 <= item.alarms <= 255
        assert item.load_difference is None or -9999 <= item.load_difference <= 9999
    assert whole.accepted == len(readings)
    pieces = MfmParser()
    assert feed_pieces(pieces, data, draw.draw(split_points(data))) == readings
    assert state(pieces) == state(whole)


@BOUNDED
@given(stream=mixed_stream(), draw=st.data())
def test_valid_lines_round_trip_through_junk_and_chunking(
    stream: tuple[int, bytes, list[MfmReading], int], draw: st.DataObject
) -> None:
    """Every generated valid line comes back exactly, however the stream is cut."""
    nominal, data, expected, _ = stream
    assert MfmParser(nominal).feed(data) == expected
    assert (
        feed_pieces(MfmParser(nominal), data, draw.draw(split_points(data))) == expected
    )


@BOUNDED
@given(stream=mixed_stream())
def test_counters_add_up(stream: tuple[int, bytes, list[MfmReading], int]) -> None:
    """N valid and M junk lines: accepted == N, rejected_total == M, no banner lines."""
    nominal, data, expected, junk = stream
    parser = MfmParser(nominal)
    parser.feed(data)
    assert (parser.accepted, parser.rejected_total, parser.banner_lines) == (
        len(expected),
        junk,
        0,
    )
    assert set(parser.rejected) <= {RejectReason.MALFORMED, RejectReason.OVERLONG}


def test_drop_partial_forgets_a_half_line_and_counts_it() -> None:
    """A line cut by a reconnect is rejected once and never glued to the next one."""
    parser = MfmParser()
    assert parser.feed(b"5002") == []
    parser.drop_partial()
    assert parser.rejected[RejectReason.MALFORMED] == 1
    readings = parser.feed(b"50031\r\n")
    assert [reading.millihertz for reading in readings] == [50031]
    parser.drop_partial()  # nothing pending: nothing counted
    assert parser.rejected_total == 1
    parser.feed(b"\x07")  # the BEL that ends a banner begins no line
    parser.drop_partial()
    assert parser.rejected_total == 1
