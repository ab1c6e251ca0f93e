"""Simulated serial devices for tests and demos: device models and the links they talk over.

Device models (`mfm`, `ecm1240`) make bytes without I/O or a clock; links (`links`)
move bytes. The ECM's `run` is reached as `simulator.ecm1240.run`.
"""

from .ecm1240 import (
    EcmCommandPort,
    EcmModel,
    EcmPacer,
    EcmUnit,
    LoadProfile,
    Loads,
    demo_loads,
    household,
    pulses,
    solar,
    start_near_wraps,
    steady_loads,
)
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
    "EcmCommandPort",
    "EcmModel",
    "EcmPacer",
    "EcmUnit",
    "Firmware",
    "LinkClosedError",
    "LoadProfile",
    "Loads",
    "MfmBoard",
    "Profile",
    "PtyLink",
    "TcpLink",
    "demo_loads",
    "dip",
    "household",
    "pulses",
    "random_walk",
    "reboot_loop",
    "solar",
    "start_near_wraps",
    "steady",
    "steady_loads",
    "stream",
]
