"""Sans-I/O parsers for the devices Mains Monitor reads: bytes in, typed frames out.

Nothing in this package imports Home Assistant, asyncio, a serial library or a clock,
so it can be reused and tested on its own.
"""
