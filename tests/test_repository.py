"""The repository's address and owner: set once in pyproject.toml, the same everywhere else."""

from __future__ import annotations

import json
from pathlib import Path
import re
import tomllib
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "custom_components" / "mains_monitor" / "manifest.json"
# Every file a user or a tool reads the address from.
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "FAULTS.md", ROOT / "hacs.json")
GITHUB_URL = re.compile(r"https://github\.com/[\w.-]+/[\w.-]+")


# These tests read files and need no Home Assistant.
pytestmark = pytest.mark.without_hass


def project() -> dict[str, str]:
    """The `[tool.mains-monitor]` table: where the address is set."""
    settings: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table: dict[str, str] = settings["tool"]["mains-monitor"]
    return table


def test_the_manifest_points_at_the_repository() -> None:
    """Documentation, issue tracker and code owner are the ones set in pyproject.toml."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    repository = project()["repository"]

    assert manifest["documentation"] == repository
    assert manifest["issue_tracker"] == f"{repository}/issues"
    assert manifest["codeowners"] == [project()["codeowner"]]


def test_the_hacs_step_gives_the_repository_url() -> None:
    """The README's HACS step names the address to add, not just "this repository"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert f"add `{project()['repository']}` with the type *Integration*" in readme
    assert "this repository's URL" not in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_to_github_is_the_repositorys(document: Path) -> None:
    """A GitHub address in the documents is the repository's own (or one of its pages)."""
    repository = project()["repository"]
    for url in GITHUB_URL.findall(document.read_text(encoding="utf-8")):
        assert url == repository, url
