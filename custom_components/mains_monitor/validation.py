"""The schema library Home Assistant validates flows with: probatio from 2026.10, voluptuous before.

probatio keeps voluptuous' API, so the flows use either as `vol`. mypy checks one branch per
release (scripts/test passes --always-true or --always-false HAS_PROBATIO).
"""

from importlib.util import find_spec

HAS_PROBATIO = find_spec("probatio") is not None

if HAS_PROBATIO:
    import probatio as vol
else:
    import voluptuous as vol

__all__ = ["HAS_PROBATIO", "vol"]
