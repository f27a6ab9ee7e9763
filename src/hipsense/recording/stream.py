"""Read a recording, whole or as a stream of blocks (memory bounded by a block, not the
session): the file gunzipped chunk by chunk and split into lines, kept up to any damage."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Generator, Iterator
from typing import IO, Any

from hipsense.errors import RecordingError
from hipsense.recording.model import Recording
from hipsense.recording.reader import _GZIP_MAGIC, _Builder, _finish_lines, add_lines

READ_CHUNK = 1 << 20  # bytes read at a time from a plain file
INFLATE_CHUNK = 1 << 16  # compressed bytes inflated at a time: damage loses at most this much
BLOCK_LINES = 4096  # lines per block


def read_recording(path: str | os.PathLike[str], *, salvage: bool = False) -> Recording:
    """Read a ``.jsonl`` or ``.jsonl.gz`` recording (gzip is detected from the content).

    A torn last line (the process was killed mid-write) is skipped and reported in
    ``warnings``. Damage before the end raises RecordingError naming the line, unless
    ``salvage`` is set: then the records before the damage come back with ``error`` set. In
    a plain ``.jsonl`` (where damage stays in its line) salvage skips a damaged record instead
    (counted in ``skipped_records``, told in ``warnings``) and reads on; a second header still
    ends the data.
    A missing or unreadable header, or a newer format version, always raises.
    """
    *_, whole = _blocks(path, salvage=salvage, block_lines=None, on_read=None)
    return whole


def stream_recording(
    path: str | os.PathLike[str],
    *,
    salvage: bool = False,
    block_lines: int | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Generator[Recording, None, None]:
    """``read_recording`` as the file is read: consecutive blocks of its records (each a
    ``Recording`` with the header), memory bounded by a block. The last block carries the
    warnings and, with ``salvage``, the error; without it the error is raised when reached.
    ``on_read`` is told how many bytes of the file were read, block by block (progress)."""
    return _blocks(path, salvage=salvage, block_lines=block_lines or BLOCK_LINES, on_read=on_read)


def _blocks(
    path: str | os.PathLike[str],
    *,
    salvage: bool,
    block_lines: int | None,
    on_read: Callable[[int], None] | None,
) -> Generator[Recording, None, None]:
    """Blocks of ``block_lines`` lines' records (None: one block, the whole recording)."""
    name = os.fspath(path)
    try:
        file = open(name, "rb")  # noqa: SIM115 (closed by the generator's ``with``)
    except OSError as exc:
        raise RecordingError(name, f"cannot read: {exc.strerror}") from exc
    with file:
        builder, source = _Builder(name, skip_damaged=salvage), _Inflated(file, name)
        told = on_read or (lambda _: None)
        try:
            for _ in _stream_lines(builder, source, block_lines):
                told(file.tell())
                yield builder.take_block()
        except RecordingError as exc:
            if not salvage or builder.header is None:
                raise
            builder.error = exc
        told(file.tell())
        yield builder.build()


class _Inflated:
    """The file's bytes (gunzipped if gzip, member after member, zero padding between them
    skipped) in chunks. Damaged compressed data ends the bytes where it starts: everything
    inflated before it comes out, then ``problem`` says what ended them and ``damaged``
    whether it was damage (True) or the file merely ending early (False)."""

    def __init__(self, file: IO[bytes], name: str) -> None:
        self.file, self.name = file, name
        self.problem: str | None = None
        self.damaged = False
        self.gzipped = False

    def __iter__(self) -> Iterator[bytes]:
        data = self._read(INFLATE_CHUNK)
        self.gzipped = gzipped = data.startswith(_GZIP_MAGIC)
        size = INFLATE_CHUNK if gzipped else READ_CHUNK
        inflater: Any = None  # the member being inflated
        while data:
            if not gzipped:
                yield data
                data = self._read(size)
                continue
            if inflater is None:
                data = data.lstrip(b"\x00")  # padding between members
                if not data:
                    data = self._read(size)
                    continue
                inflater = zlib.decompressobj(31)
            before = inflater.copy()
            try:
                yield inflater.decompress(data)
            except zlib.error as exc:
                inflated, rest = _up_to_damage(before, data)
                yield inflated
                if rest is None:
                    self.problem, self.damaged = _damage(str(exc)), True
                    return
                data, inflater = rest, None  # a member ended cleanly: the damage is after it
                if not data:
                    data = self._read(size)
                continue
            data, inflater = (inflater.unused_data, None) if inflater.eof else (b"", inflater)
            if not data:
                data = self._read(size)
        if inflater is not None:
            self.problem = "the file ends mid-record: it was cut off"

    def _read(self, size: int) -> bytes:
        try:
            return self.file.read(size)
        except OSError as exc:
            raise RecordingError(self.name, f"cannot read: {exc.strerror}") from exc


def _up_to_damage(inflater: Any, data: bytes) -> tuple[bytes, bytes | None]:
    """``data`` fed byte by byte to ``inflater`` (a copy from before it failed on ``data``)
    until zlib fails again: what it inflated up to there, and None; or if the member ended
    cleanly first, what it inflated and the bytes after the member."""
    out = []
    for i in range(len(data)):
        try:
            out.append(inflater.decompress(data[i : i + 1]))
        except zlib.error:
            break
        if inflater.eof:
            return b"".join(out), inflater.unused_data + data[i + 1 :]
    return b"".join(out), None


def _damage(zlib_message: str) -> str:
    """What a zlib error means to the user."""
    if "data check" in zlib_message or "length check" in zlib_message:  # the gzip trailer
        return "the file is damaged: its checksum does not match (its records may hold errors)"
    return "the file is damaged here: the compressed data after this point is unreadable"


def _stream_lines(builder: _Builder, source: _Inflated, block_lines: int | None) -> Iterator[None]:
    """The lines of a stream of chunks into ``builder``; yields after every ``block_lines``
    lines (None: never). The text after the last newline is a torn last line."""
    pending, number = b"", 0
    for chunk in source:
        # damage in compressed data is never one line's: what inflates after it is suspect
        builder.skip_damaged &= not source.gzipped
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        start = 0
        while start < len(lines):  # up to the next block's end, or the chunk's
            room = block_lines - number % block_lines if block_lines else len(lines)
            stop = min(len(lines), start + room)
            add_lines(builder, lines[start:stop], number + 1)
            number += stop - start
            start = stop
            if block_lines and number % block_lines == 0:
                yield
    if not number and not pending.strip(b"\x00 \r\t"):
        raise RecordingError(builder.path, source.problem or "empty file: no header line", 1)
    _finish_lines(builder, pending, number + 1, source.problem, damaged=source.damaged)
