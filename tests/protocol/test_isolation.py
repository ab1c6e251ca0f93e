"""The protocol package imports nothing outside itself: no Home Assistant, no I/O, no clock."""

import ast
import json
from pathlib import Path
import subprocess
import sys

import pytest

PROTOCOL_DIR = (
    Path(__file__).resolve().parents[2]
    / "custom_components"
    / "mains_monitor"
    / "protocol"
)
FORBIDDEN = ("homeassistant", "asyncio", "serialx", "serial", "time", "datetime")
MODULES = sorted(
    path.stem for path in PROTOCOL_DIR.glob("*.py") if path.stem != "__init__"
)

# Run with -I -S: no site-packages (so no Home Assistant on the path) and no working directory.
LOADER = """
import importlib.util, json, sys

FORBIDDEN = set(json.loads(sys.argv[1]))
package_dir, module_name = sys.argv[2], sys.argv[3]
attempts = []


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in FORBIDDEN:
            attempts.append(name)
            raise ImportError(f"blocked: {name}")
        return None


def load(name, location, **kwargs):
    spec = importlib.util.spec_from_file_location(name, location, **kwargs)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The interpreter preloads some of them (time): evict them so any import reaches the blocker.
for name in [name for name in sys.modules if name.partition(".")[0] in FORBIDDEN]:
    del sys.modules[name]
sys.meta_path.insert(0, Blocker())
load("mains_monitor_protocol", package_dir + "/__init__.py",
     submodule_search_locations=[package_dir])
module = load(f"mains_monitor_protocol.{module_name}", f"{package_dir}/{module_name}.py")
loaded = sorted(name for name in sys.modules if name.partition(".")[0] in FORBIDDEN)
smoke = None
if module_name == "mfm":
    (reading,) = module.MfmParser().feed(b"50028;+0276;0;0;0;0;0;0;0;0\\r\\n")
    smoke = [reading.millihertz, reading.load_difference, reading.alarms]
print(json.dumps({"attempts": attempts, "loaded": loaded, "smoke": smoke}))
"""


def run_loader(module_name: str) -> dict[str, object]:
    """Load one protocol module by file path in a clean interpreter; return its report."""
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            LOADER,
            json.dumps(FORBIDDEN),
            str(PROTOCOL_DIR),
            module_name,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_mfm_is_among_the_modules_checked() -> None:
    """The isolation checks below cover the mfm parser."""
    assert "mfm" in MODULES


@pytest.mark.parametrize("module_name", MODULES)
def test_module_imports_without_home_assistant(module_name: str) -> None:
    """Loaded by file path with the forbidden modules blocked, it imports and never asks for them."""
    report = run_loader(module_name)
    assert report["attempts"] == []
    assert report["loaded"] == []
    if module_name == "mfm":
        assert report["smoke"] == [50028, 276, 0]


@pytest.mark.parametrize(
    "path", sorted(PROTOCOL_DIR.glob("*.py")), ids=lambda path: path.name
)
def test_imports_are_standard_library_or_siblings(path: Path) -> None:
    """Every import is a sibling (one dot) or a standard-library module that is not forbidden."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [alias.name.partition(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots = [(node.module or "").partition(".")[0]]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 1, f"{path.name}:{node.lineno} imports from above"
            continue
        else:
            continue
        for root in roots:
            assert root in sys.stdlib_module_names, f"{path.name}:{node.lineno} {root}"
            assert root not in FORBIDDEN, f"{path.name}:{node.lineno} {root}"
