"""Tests of the Mains Monitor integration, its protocols and its simulator."""
