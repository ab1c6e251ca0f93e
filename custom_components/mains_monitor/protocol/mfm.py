"""Sans-I/O parser for the mfm board's text stream (firmware V1 and V2, formats P1-P4)."""

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
import re
from typing import ClassVar, Final


class LineFormat(StrEnum):
    """The shape of a data line (V1 lines and V2 P1 lines look the same: PLAIN)."""

    PLAIN = "plain"
    P2 = "p2"
    P3 = "p3"
    P4 = "p4"


class RejectReason(StrEnum):
    """Why a non-empty line produced no reading."""

    MALFORMED = "malformed"
    CHECKSUM = "checksum"
    OUT_OF_RANGE = "out_of_range"
    SIGNAL_MISSING = "signal_missing"
    ERROR_LINE = "error_line"
    OVERLONG = "overlong"


@dataclass(frozen=True, slots=True, kw_only=True)
class MfmReading:
    """One accepted measurement line."""

    frequency: float
    millihertz: int
    load_difference: int | None
    alarms: int | None
    line_format: LineFormat


type _Fields = tuple[int, int | None, int | None, LineFormat]
type _Parsed = _Fields | RejectReason | None

_NOMINALS: Final = (50, 60)
_HALF_BAND_MHZ: Final = 5000
_ANY_RANGE_MHZ: Final = (45000, 65000)

# A load difference is a sign and four digits; the sign is "0" only at exactly nominal.
_LOAD: Final = rb"([-+]\d{4}|00000)"
_PLAIN_RE: Final = re.compile(rb"\d{5}")
_P2_RE: Final = re.compile(rb"(\d{5});" + _LOAD + rb";(\d{3})")
_P3_RE: Final = re.compile(rb"NFA(\d{5})f" + _LOAD + rb"P(\d{3})M(\d{2})C")
_P4_RE: Final = re.compile(rb"(\d{5});" + _LOAD + rb"(?:;[01]){8}")
# The P3 checksum covers the 16 bytes from the first frequency digit through "M".
_P3_SUMMED: Final = slice(3, 19)
# P4 alarm bits sit at indexes 12, 14 … 26 (bit 0 first); read them bit 7 first.
_P4_BITS_MSB_FIRST: Final = slice(26, 11, -2)

# VT100 CSI sequences and BEL the board writes without a newline before a line.
_NOISE_RE: Final = re.compile(rb"(?:\x1b\[[0-9;]*[A-Za-z]|\x07)+")
_NOISE_START: Final = frozenset(b"\x1b\x07")

# A title can follow the remains of a line cut short by a watchdog reset, so it is searched.
_TITLE_RE: Final = re.compile(rb"NFA-RPi (\d+)\.(\d+)")
_DETECT_RE: Final = re.compile(
    rb"Auto-Detect[.*]*[ \t]*(?:(?:=>[ \t]*detect[ \t]*)?(50|60)Hz(?:-Netz)?)?[ \t*]*"
)
_USER_SETTING_RE: Final = re.compile(rb"User setting : (50|60)Hz mains frequency[ \t]*")
_OUTPUT_RE: Final = re.compile(rb"Output protocol:[ \t]*([1-4])[ \t]*")
_START_RE: Final = re.compile(
    rb"Start (?:mains frequency measurement|Netzfrequenzmessung)\.*[ \t]*"
)
_COPYRIGHT: Final = b"www.pc-projekte.de"
# The timer interrupt can print its error in the middle of another line.
_ERROR_TEXTS: Final = (
    b"ERROR measurement",
    b"failt / Error measurement (Trigger ResetCounter)",
)
# Plain output is an unpadded integer: before the first measurement the board prints "0".
_SHORT_NUMBER_RE: Final = re.compile(rb"\d{1,4}")


def _parse_plain(line: bytes) -> _Parsed:
    """Parse a five-byte line: a V1/P1 value or the missing-signal marker."""
    if _PLAIN_RE.fullmatch(line):
        return int(line), None, None, LineFormat.PLAIN
    return RejectReason.SIGNAL_MISSING if line == b"XXXXX" else None


def _parse_p2(line: bytes) -> _Parsed:
    """Parse `50028;+0276;000`."""
    if (match := _P2_RE.fullmatch(line)) is None:
        return None
    alarms = int(match[3])
    if alarms > 0xFF:
        return RejectReason.MALFORMED
    return int(match[1]), int(match[2]), alarms, LineFormat.P2


def _parse_p3(line: bytes) -> _Parsed:
    """Parse `NFA50028f+0276P000M92C`, verifying its checksum."""
    if (match := _P3_RE.fullmatch(line)) is None:
        return None
    checksum = 0
    for byte in line[_P3_SUMMED]:
        checksum ^= byte
    if checksum % 100 != int(match[4]):
        return RejectReason.CHECKSUM
    alarms = int(match[3])
    if alarms > 0xFF:
        return RejectReason.MALFORMED
    return int(match[1]), int(match[2]), alarms, LineFormat.P3


def _parse_p4(line: bytes) -> _Parsed:
    """Parse `50028;+0276;0;0;0;0;0;0;0;0` (alarm bits, bit 0 first)."""
    if (match := _P4_RE.fullmatch(line)) is None:
        return None
    alarms = int(line[_P4_BITS_MSB_FIRST], 2)
    return int(match[1]), int(match[2]), alarms, LineFormat.P4


# Every data format has a fixed length, so the length picks the only parser to try.
_DATA_PARSERS: Final = {5: _parse_plain, 15: _parse_p2, 22: _parse_p3, 27: _parse_p4}


class MfmParser:
    """Turn the board's byte stream into readings; count everything else."""

    MAX_LINE_LENGTH: ClassVar[int] = 128

    __slots__ = (
        "_discarding",
        "_nominal_fixed",
        "_pending",
        "accepted",
        "banner_lines",
        "firmware",
        "nominal_frequency",
        "output_format",
        "rejected",
        "restarts",
    )

    def __init__(self, nominal_frequency: int | None = None) -> None:
        """Start with an empty buffer; a given nominal frequency overrides the banner."""
        if nominal_frequency is not None and nominal_frequency not in _NOMINALS:
            msg = f"nominal_frequency must be 50, 60 or None, not {nominal_frequency!r}"
            raise ValueError(msg)
        self.nominal_frequency: int | None = nominal_frequency
        self.firmware: str | None = None
        self.output_format: int | None = None
        self.restarts = 0
        self.accepted = 0
        self.rejected: Counter[RejectReason] = Counter()
        self.banner_lines = 0
        self._nominal_fixed = nominal_frequency is not None
        self._pending = b""
        self._discarding = False

    @property
    def rejected_total(self) -> int:
        """The number of rejected lines, all reasons together."""
        return self.rejected.total()

    def feed(self, data: bytes) -> list[MfmReading]:
        """Consume bytes; return the readings of every line they complete."""
        readings: list[MfmReading] = []
        if self._discarding:
            end = data.find(b"\n")
            if end < 0:
                return readings
            self._discarding = False
            data = data[end + 1 :]
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if (reading := self._line(line)) is not None:
                readings.append(reading)
        if len(self._pending) > self.MAX_LINE_LENGTH:
            self._pending = b""
            self._discarding = True
            self.rejected[RejectReason.OVERLONG] += 1
        return readings

    def drop_partial(self) -> None:
        """Forget a half-received line: the stream broke and it can never complete."""
        # A lone BEL (the banner's last byte) or CR is no line begun.
        if self._pending.strip(b"\r\x07"):
            self.rejected[RejectReason.MALFORMED] += 1
        self._pending = b""
        self._discarding = False

    def _line(self, line: bytes) -> MfmReading | None:
        """Handle one line, its newline already removed."""
        if len(line) > self.MAX_LINE_LENGTH:
            self.rejected[RejectReason.OVERLONG] += 1
            return None
        if line[-1:] == b"\r":
            line = line[:-1]
        if line and line[0] in _NOISE_START and (noise := _NOISE_RE.match(line)):
            line = line[noise.end() :]
        if not line:
            return None
        parse = _DATA_PARSERS.get(len(line))
        parsed = parse(line) if parse is not None else None
        if parsed is None:
            parsed = self._text(line)
        if parsed is None:
            return None
        if isinstance(parsed, RejectReason):
            self.rejected[parsed] += 1
            return None
        return self._accept(*parsed)

    def _accept(
        self,
        millihertz: int,
        load: int | None,
        alarms: int | None,
        line_format: LineFormat,
    ) -> MfmReading | None:
        """Range-check a well-formed value and return it as a reading."""
        nominal = self.nominal_frequency
        if nominal is None:
            low, high = _ANY_RANGE_MHZ
        else:
            low, high = nominal * 1000 - _HALF_BAND_MHZ, nominal * 1000 + _HALF_BAND_MHZ
        if not low <= millihertz <= high:
            self.rejected[RejectReason.OUT_OF_RANGE] += 1
            return None
        if nominal is None:
            self.nominal_frequency = 50 if millihertz <= 55000 else 60
        self.accepted += 1
        return MfmReading(
            frequency=millihertz / 1000,
            millihertz=millihertz,
            load_difference=load,
            alarms=alarms,
            line_format=line_format,
        )

    def _text(self, line: bytes) -> RejectReason | None:
        """Classify a line that is no data line: a banner line (None) or a rejection."""
        if self._banner(line):
            self.banner_lines += 1
            return None
        if line.rstrip(b" \t").endswith(_ERROR_TEXTS):
            return RejectReason.ERROR_LINE
        if _SHORT_NUMBER_RE.fullmatch(line):
            return RejectReason.OUT_OF_RANGE
        return RejectReason.MALFORMED

    def _banner(self, line: bytes) -> bool:
        """Recognise a banner/info line and take what it tells; False if it is none."""
        if (title := _TITLE_RE.search(line)) is not None:
            self.restarts += 1
            self.firmware = f"V{int(title[1])}"
            self.output_format = None
            return True
        if (
            detect := _DETECT_RE.fullmatch(line) or _USER_SETTING_RE.fullmatch(line)
        ) is not None:
            if detect[1] is not None and not self._nominal_fixed:
                self.nominal_frequency = int(detect[1])
            return True
        if (output := _OUTPUT_RE.fullmatch(line)) is not None:
            self.output_format = int(output[1])
            return True
        return _COPYRIGHT in line or _START_RE.fullmatch(line) is not None
