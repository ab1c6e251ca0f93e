"""The benchmark's one table: a row per figure, Markdown, so that it can go into the README."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: ours, the alternative's, how they compare, the aim and whether it holds."""

    part: str
    figure: str
    ours: str
    alternative: str
    ratio: str
    aim: str
    # None: the figure has no aim to hold.
    met: bool | None


HEADER = ("#", "Figure", "Mains Monitor", "Alternative", "Ratio", "Aim", "Holds")


def render(rows: Iterable[Row]) -> str:
    """The rows as one Markdown table."""
    lines = [_line(HEADER), _line(("---",) * len(HEADER))]
    for row in rows:
        held = {None: "", True: "yes", False: "**no**"}[row.met]
        lines.append(
            _line(
                (
                    row.part,
                    row.figure,
                    row.ours,
                    row.alternative,
                    row.ratio,
                    row.aim,
                    held,
                )
            )
        )
    return "\n".join(lines)


def _line(cells: Iterable[str]) -> str:
    """One table line."""
    return "| " + " | ".join(cells) + " |"
