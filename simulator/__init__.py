"""Simulated serial devices for tests and demos: device models and the links they talk over.

Device models (`mfm`) make bytes without I/O or a clock; links (`links`) move bytes.
"""

from .links import LinkClosedError, PtyLink, TcpLink
from .mfm import (
    Firmware,
    MfmBoard,
    Profile,
    dip,
    random_walk,
    reboot_loop,
    steady,
    stream,
)

__all__ = [
    "Firmware",
    "LinkClosedError",
    "MfmBoard",
    "Profile",
    "PtyLink",
    "TcpLink",
    "dip",
    "random_walk",
    "reboot_loop",
    "steady",
    "stream",
]
