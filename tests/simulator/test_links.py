"""The simulator's links, read by a real serialx reader, and the command line."""

from __future__ import annotations

import asyncio
import errno
from itertools import islice
import os
from pathlib import Path
import re

import pytest
import serialx

from custom_components.mains_monitor.port_session import write
from simulator.links import LinkClosedError, PtyLink, TcpLink
from simulator.mfm import MfmBoard, random_walk, stream
from tests.simulator_cli import (
    TIMEOUT,
    read_exactly,
    serial_reader,
    simulator_process,
    stop_process,
)

ALL_BYTE_VALUES = bytes(range(256))
EIO_MESSAGE = r"^\[Errno 5\] "


def open_fds() -> set[str]:
    """This process's open file descriptors."""
    return set(os.listdir("/proc/self/fd"))


async def test_pty_reader_gets_exactly_the_bytes(mfm_link: PtyLink) -> None:
    """Every byte value passes unchanged (raw mode: no CR/LF or control-character handling)."""
    async with serial_reader(str(mfm_link.path)) as ser:
        mfm_link.write(b"50028;+0276;000\r\n")
        mfm_link.write(ALL_BYTE_VALUES)
        assert await read_exactly(ser, 17) == b"50028;+0276;000\r\n"
        assert await read_exactly(ser, 256) == ALL_BYTE_VALUES


async def test_pty_symlink_points_at_the_pts(mfm_link: PtyLink) -> None:
    """The stable path is a symlink to the pty's /dev/pts/N."""
    assert mfm_link.is_open
    assert mfm_link.path.is_symlink()
    assert os.readlink(mfm_link.path).startswith("/dev/pts/")


async def test_pty_unplug_hangs_up_and_replug_works(mfm_link: PtyLink) -> None:
    """After close the reader ends; after open the same path carries bytes again."""
    async with serial_reader(str(mfm_link.path)) as ser:
        mfm_link.close()
        assert not mfm_link.is_open
        assert not mfm_link.path.exists()
        await read_until_hang_up(ser)
    mfm_link.open()
    async with serial_reader(str(mfm_link.path)) as ser:
        mfm_link.write(b"49998\r\n")
        assert await read_exactly(ser, 7) == b"49998\r\n"


async def test_pty_survives_the_host_reopening(mfm_link: PtyLink) -> None:
    """The host may close and reopen the port while the device stays plugged in."""
    async with serial_reader(str(mfm_link.path)) as ser:
        mfm_link.write(b"one\r\n")
        assert await read_exactly(ser, 5) == b"one\r\n"
    async with serial_reader(str(mfm_link.path)) as ser:
        mfm_link.write(b"two\r\n")
        assert await read_exactly(ser, 5) == b"two\r\n"


async def test_pty_reads_what_the_host_writes(mfm_link: PtyLink) -> None:
    """What the host sends arrives at the device, once."""
    assert mfm_link.read_available() == b""
    async with serial_reader(str(mfm_link.path)) as ser:
        await write(ser, b"\x00hello\r\n")
        received = await asyncio.wait_for(mfm_link.receive(), TIMEOUT)
        while len(received) < 8:
            received += await asyncio.wait_for(mfm_link.receive(), TIMEOUT)
    assert received == b"\x00hello\r\n"
    assert mfm_link.read_available() == b""


def test_pty_close_leaves_no_fd_open(tmp_path: Path) -> None:
    """Open and close twice: the same descriptors as before, and no symlink."""
    before = open_fds()
    link = PtyLink(tmp_path / "ttyMFM")
    for _ in range(2):
        link.open()
        assert len(open_fds() - before) == 2
        link.close()
        assert open_fds() == before
    assert not link.path.is_symlink()
    link.close()  # closing a closed link does nothing


def test_pty_use_while_closed_is_an_error(tmp_path: Path) -> None:
    """Writing to or reading from an unplugged device raises a clear error."""
    link = PtyLink(tmp_path / "ttyMFM")
    with pytest.raises(LinkClosedError, match="is closed"):
        link.write(b"x")
    with pytest.raises(LinkClosedError, match="is closed"):
        link.read_available()


def test_pty_open_twice_is_an_error(mfm_link: PtyLink) -> None:
    """A plugged-in device cannot be plugged in again."""
    with pytest.raises(LinkClosedError, match="already open"):
        mfm_link.open()


def test_pty_replaces_a_stale_symlink_but_not_a_file(tmp_path: Path) -> None:
    """A symlink left by a killed run is taken over; a regular file is not touched."""
    stale = tmp_path / "stale"
    stale.symlink_to("/dev/pts/does-not-exist")
    link = PtyLink(stale)
    link.open()
    assert os.readlink(stale).startswith("/dev/pts/")
    assert os.readlink(stale) != "/dev/pts/does-not-exist"
    link.close()
    regular = tmp_path / "regular"
    regular.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        PtyLink(regular).open()
    assert regular.read_bytes() == b"keep"


def test_pty_write_never_blocks(mfm_link: PtyLink) -> None:
    """With nobody reading, what does not fit the pty's buffer is dropped, not waited for."""
    mfm_link.write(bytes(1_000_000))
    assert 0 < mfm_link.dropped < 1_000_000


async def test_tcp_url(tcp_link: TcpLink) -> None:
    """The link announces a socket:// URL on loopback with the bound port."""
    assert tcp_link.port > 0
    assert tcp_link.url == f"socket://127.0.0.1:{tcp_link.port}"


async def test_tcp_every_client_gets_the_same_bytes(tcp_link: TcpLink) -> None:
    """Like ser2net, the stream goes to every connected client, unchanged."""
    async with (
        serial_reader(tcp_link.url) as first,
        serial_reader(tcp_link.url) as second,
    ):
        await asyncio.wait_for(tcp_link.wait_for_clients(2), TIMEOUT)
        assert tcp_link.client_count == 2
        tcp_link.write(ALL_BYTE_VALUES)
        assert await read_exactly(first, 256) == ALL_BYTE_VALUES
        assert await read_exactly(second, 256) == ALL_BYTE_VALUES


async def test_tcp_receives_what_clients_send(tcp_link: TcpLink) -> None:
    """What a client sends is kept until drained."""
    assert tcp_link.received() == b""
    async with serial_reader(tcp_link.url) as ser:
        await write(ser, b"\x00hello\r\n")
        received = await asyncio.wait_for(tcp_link.receive(), TIMEOUT)
        while len(received) < 8:
            received += await asyncio.wait_for(tcp_link.receive(), TIMEOUT)
    assert received == b"\x00hello\r\n"
    assert tcp_link.received() == b""


async def test_tcp_drop_clients_then_reconnect(tcp_link: TcpLink) -> None:
    """A dropped client reads end-of-stream; the server still accepts new clients."""
    async with serial_reader(tcp_link.url) as ser:
        await asyncio.wait_for(tcp_link.wait_for_clients(1), TIMEOUT)
        await asyncio.wait_for(tcp_link.drop_clients(), TIMEOUT)
        assert tcp_link.client_count == 0
        assert await asyncio.wait_for(ser.read(100), TIMEOUT) == b""
    async with serial_reader(tcp_link.url) as ser:
        await asyncio.wait_for(tcp_link.wait_for_clients(1), TIMEOUT)
        tcp_link.write(b"50000\r\n")
        assert await read_exactly(ser, 7) == b"50000\r\n"


async def test_tcp_stop_closes_clients_and_port(socket_enabled: None) -> None:
    """After stop the client reads end-of-stream and nobody can connect."""
    link = TcpLink()
    await link.start()
    url = link.url
    async with serial_reader(url) as ser:
        await asyncio.wait_for(link.wait_for_clients(1), TIMEOUT)
        await asyncio.wait_for(link.stop(), TIMEOUT)
        assert not link.is_open
        assert await asyncio.wait_for(ser.read(100), TIMEOUT) == b""
    with pytest.raises(ConnectionRefusedError):
        await serialx.async_serial_for_url(url, baudrate=19200).open()
    with pytest.raises(LinkClosedError):
        link.write(b"x")
    await link.stop()  # stopping twice does nothing


def test_tcp_not_started() -> None:
    """A link that is not listening has no port and takes no bytes."""
    link = TcpLink()
    with pytest.raises(LinkClosedError, match="not started"):
        _ = link.port
    with pytest.raises(LinkClosedError, match="not started"):
        link.write(b"x")


# --- the command line ---------------------------------------------------------------


def expected_bytes(seed: int, lines: int = 3000) -> bytes:
    """What `python -m simulator mfm --seed N` sends first, made here without I/O."""
    chunks = stream(MfmBoard(), random_walk(seed))
    return b"".join(data for _, data in islice(chunks, lines))


def whole_lines(data: bytes) -> bytes:
    """The complete lines in `data`, from after its first newline through its last."""
    return data[data.index(b"\n") + 1 : data.rindex(b"\n") + 1]


async def read_until_hang_up(ser: serialx.AsyncSerial) -> None:
    """Read (what was sent before an unplug comes first) until the pty hangs up.

    serialx 1.11 and newer fail the read with EIO; older ones end the stream.
    """
    error: OSError | None = None
    try:
        while await asyncio.wait_for(ser.read(4096), TIMEOUT):
            pass
    except OSError as err:
        error = err
    assert error is None or (
        error.errno == errno.EIO and re.match(EIO_MESSAGE, str(error))
    )


async def read_lines(ser: serialx.AsyncSerial, count: int) -> bytes:
    """Read until `count` newlines (plus a possibly partial first line) have arrived."""
    data = b""
    while data.count(b"\n") < count + 1:
        data += await asyncio.wait_for(ser.read(4096), TIMEOUT)
    return data


async def test_cli_serves_tcp(socket_enabled: None) -> None:
    """The CLI prints its URL, streams the seeded walk to a client, and stops on SIGTERM."""
    async with simulator_process(
        "mfm", "--tcp", "127.0.0.1:0", "--seed", "3", "--speed", "10"
    ) as process:
        assert process.stdout is not None
        url = (
            (await asyncio.wait_for(process.stdout.readline(), 3 * TIMEOUT))
            .decode()
            .strip()
        )
        assert url.startswith("socket://127.0.0.1:")
        async with serial_reader(url) as ser:
            data = await read_lines(ser, 4)
            assert whole_lines(data) in expected_bytes(3)
            stderr = await stop_process(process)
    assert "mfm V2 format 4 50 Hz, scenario normal, seed 3" in stderr
    assert " connected" in stderr
    assert " disconnected" in stderr


async def test_cli_serves_a_pty(tmp_path: Path) -> None:
    """The CLI prints the pty path, streams to it, and removes the symlink on SIGTERM."""
    path = tmp_path / "ttyMFM"
    async with simulator_process(
        "mfm", "--pty", str(path), "--seed", "5", "--speed", "10"
    ) as process:
        assert process.stdout is not None
        printed = await asyncio.wait_for(process.stdout.readline(), 3 * TIMEOUT)
        assert printed.decode().strip() == str(path)
        async with serial_reader(str(path)) as ser:
            data = await read_lines(ser, 4)
            assert whole_lines(data) in expected_bytes(5)
            await stop_process(process)
            await read_until_hang_up(ser)
    assert not path.is_symlink()
