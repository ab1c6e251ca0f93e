"""The requirements each test environment runs are the ones Home Assistant gives users."""

from __future__ import annotations

from importlib.metadata import version
import json
from pathlib import Path
import re

from packaging.version import Version
import pytest

import homeassistant

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "custom_components" / "mains_monitor" / "manifest.json"
# One file per Home Assistant release tested, each pinning what that release pins.
RELEASE_REQUIREMENTS = (
    ROOT / "requirements_test_oldest.txt",
    ROOT / "requirements_test.txt",
)
PLUGIN = "pytest-homeassistant-custom-component"


# These tests read files and need no Home Assistant.
pytestmark = pytest.mark.without_hass


def pinned(text: str, package: str) -> str:
    """The version `text` pins `package` to with `==`."""
    match = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE)
    assert match is not None, f"{package} is not pinned"
    return match.group(1)


def test_the_release_tested_pins_serialx_as_home_assistant_does() -> None:
    """Home Assistant installs integrations' requirements under its own constraints."""
    requirements = next(
        text
        for path in RELEASE_REQUIREMENTS
        if pinned(text := path.read_text(encoding="utf-8"), PLUGIN) == version(PLUGIN)
    )
    constraints = (
        Path(homeassistant.__file__).parent / "package_constraints.txt"
    ).read_text()

    assert pinned(requirements, "serialx") == pinned(constraints, "serialx")


def test_the_manifest_accepts_the_oldest_releases_serialx() -> None:
    """The manifest's lower bound is what the oldest supported release pins."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    oldest = pinned(RELEASE_REQUIREMENTS[0].read_text(encoding="utf-8"), "serialx")

    assert f"serialx>={oldest}" in manifest["requirements"]


def test_the_manifest_asks_for_a_numpy_home_assistant_allows() -> None:
    """The disturbance detector needs numpy; every release tested pins one at or above the manifest's bound."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    constraints = (
        Path(homeassistant.__file__).parent / "package_constraints.txt"
    ).read_text()
    (bound,) = (
        requirement.removeprefix("numpy>=")
        for requirement in manifest["requirements"]
        if requirement.startswith("numpy")
    )

    assert Version(pinned(constraints, "numpy")) >= Version(bound)
