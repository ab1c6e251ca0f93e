"""A stream fed to a parser in pieces, as a serial port hands it over."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol

from hypothesis import strategies as st


class Parser[T](Protocol):
    """A protocol's stream parser: bytes in, whatever they complete out."""

    def feed(self, data: bytes) -> Sequence[T]:
        """What the bytes complete, in order."""
        ...


def feed_pieces[T](parser: Parser[T], data: bytes, cuts: Sequence[int]) -> list[T]:
    """Feed data split at the given offsets; return everything the parser gave."""
    bounds = [0, *sorted(cuts), len(data)]
    found: list[T] = []
    for start, end in pairwise(bounds):
        found += parser.feed(data[start:end])
    return found


@st.composite
def split_points(draw: st.DrawFn, data: bytes, most: int = 20) -> list[int]:
    """Draw up to `most` offsets at which to split data."""
    return draw(st.lists(st.integers(0, len(data)), max_size=most))
