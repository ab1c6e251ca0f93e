"""The device kinds the integration reads; adding one is a module here and a line below."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..const import CONF_DEVICE_KIND, DeviceKind
from .base import DeviceKindDefinition
from .ecm1240 import ECM1240
from .mfm import MFM

KINDS: dict[DeviceKind, DeviceKindDefinition[Any, Any]] = {
    kind.kind: kind for kind in (MFM, ECM1240)
}


def device_kind(entry: ConfigEntry) -> DeviceKindDefinition[Any, Any]:
    """The kind of device the entry reads."""
    return KINDS[DeviceKind(entry.data[CONF_DEVICE_KIND])]
