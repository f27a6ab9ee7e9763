"""A recording's records, line by line, into a ``Recording`` (``stream.py`` reads the file and
feeds the lines)."""

from __future__ import annotations

import binascii
import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from hipsense.errors import RecordingError
from hipsense.masks import runs
from hipsense.recording.model import (
    MARKER_KINDS,
    CalibrationRecord,
    Marker,
    Recording,
    RecordingHeader,
    header_from_json,
)
from hipsense.words import counted

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class _Builder:
    path: str
    header: RecordingHeader | None = None
    times: list[float] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)
    payloads: list[bytes] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    calibrations: list[CalibrationRecord] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_types: set[str] = field(default_factory=set)
    error: RecordingError | None = None
    truncated: bool = False  # the file ends mid-record: cut off by a crash or a copy
    skip_damaged: bool = False  # salvage of a plain file: a damaged record is skipped
    skipped: list[RecordingError] = field(default_factory=list)  # the records skipped
    _written: dict[bytes, str] | None = None  # sensor ids as a packet line spells them

    @property
    def written_ids(self) -> dict[bytes, str]:
        """The header's sensor ids whose JSON string is their plain text, by that text."""
        if self._written is None:
            if self.header is None:
                return {}
            self._written = {
                sid.encode(): sid
                for sid in self.header.sensor_ids
                if sid.isascii() and sid.isprintable() and json.dumps(sid) == f'"{sid}"'
            }
        return self._written

    def take_block(self) -> Recording:
        """The records so far, as a block without warnings; the builder starts afresh."""
        block = replace(
            self, warnings=[], unknown_types=set(), error=None, truncated=False, skipped=[]
        ).build()
        self.times, self.sensors, self.payloads = [], [], []
        self.markers, self.calibrations = [], []
        return block

    def build(self) -> Recording:
        assert self.header is not None
        if self.unknown_types:
            kinds = ", ".join(sorted(self.unknown_types))
            self.warnings.append(f"skipped records of unknown type (newer hipsense?): {kinds}")
        warnings = [*self.warnings, *_skipped_note(self.skipped)]
        return Recording(
            path=self.path,
            header=self.header,
            t_host_s=np.asarray(self.times, dtype=np.float64),
            sensor_ids=np.asarray(self.sensors, dtype=np.str_),
            payloads=tuple(self.payloads),
            markers=tuple(self.markers),
            calibrations=tuple(self.calibrations),
            warnings=tuple(warnings),
            error=self.error,
            truncated=self.truncated,
            skipped_records=len(self.skipped),
        )


def _skipped_note(skipped: list[RecordingError]) -> list[str]:
    """One warning for the damaged records skipped: the first, and how many in all."""
    if not skipped:
        return []
    first = skipped[0]
    note = f"line {first.line}: {first.problem}; this record was skipped"
    if len(skipped) > 1:
        more = counted(len(skipped) - 1, "more damaged record")
        note += f", and {more} up to line {skipped[-1].line}"
    return [note + "; the records after it were read"]


def _finish_lines(
    builder: _Builder, tail: bytes, last: int, stream_problem: str | None, *, damaged: bool
) -> None:
    """The text after the last newline and how the bytes ended: a torn last line (a crash
    mid-write) or a compressed stream ending early is a warning, damaged compressed data an
    error; either way the text after the last complete line is dropped and one message
    names the line where the data ends."""
    if damaged:
        assert stream_problem is not None
        raise RecordingError(builder.path, stream_problem, last)
    torn = bool(tail.strip(b"\x00 \r\t"))
    if torn:
        try:
            _add_line(builder, tail, last)
            torn = False
        except RecordingError:
            if builder.header is None:
                raise
    if torn or stream_problem is not None:
        problem = stream_problem or "the file ends mid-record: it was cut off"
        builder.warnings.append(f"line {last}: {problem}; the records before it are kept")
        builder.truncated = True


_PACKET_HEAD, _PACKET_TAIL = b'{"type":"packet","t_host_s":', b'"}'
_SENSOR_KEY, _PAYLOAD_KEY = b',"sensor":"', b'","payload_hex":"'
_JSON_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


# One match per line of a block: the writer's packet line (time, sensor, hex) or, for any
# other line, empty groups. Everything it accepts ``_add_written_packet`` accepts alike.
_WRITTEN_LINES = re.compile(
    rb'^(?:\{"type":"packet","t_host_s":(' + _JSON_NUMBER.pattern + rb'),"sensor":"([^"\\\n]*)"'
    rb',"payload_hex":"([0-9A-Fa-f]*)"\}|.*)$',
    re.MULTILINE,
)


def add_lines(builder: _Builder, lines: list[bytes], first: int) -> None:
    """Lines number ``first``, ``first + 1``, ... into ``builder``, as ``_add_line`` adds them
    one by one (the same records, warnings and errors at the same line): the runs of packet
    lines in the writer's own layout are read together, with one pattern search over the
    block and one conversion per field; any other line goes through ``_add_line``."""
    i = 0
    while i < len(lines) and builder.header is None:  # the header names the sensors
        _add_line(builder, lines[i], first + i)
        i += 1
    rest = lines[i:] if i else lines
    if not rest:
        return
    fields = _WRITTEN_LINES.findall(b"\n".join(rest))
    if len(fields) != len(rest):  # not one match per line: read them one by one
        fields = [(b"", b"", b"")] * len(rest)
    times, sensors, hexes = zip(*fields, strict=True)
    known = builder.written_ids
    if all(times) and known.keys() >= set(sensors):  # the usual block: packet lines only
        written_runs = [(0, len(rest))]
    else:
        written = [bool(t) and s in known for t, s in zip(times, sensors, strict=True)]
        written_runs = runs(written)
    done = 0
    for a, b in written_runs:
        for k in range(done, a):
            _add_or_skip(builder, rest[k], first + i + k)
        if not _add_written_run(builder, times[a:b], sensors[a:b], hexes[a:b]):
            for k in range(a, b):
                _add_or_skip(builder, rest[k], first + i + k)
        done = b
    for k in range(done, len(rest)):
        _add_or_skip(builder, rest[k], first + i + k)


def _add_or_skip(builder: _Builder, line: bytes, number: int) -> None:
    """``_add_line``; when salvaging a plain file, a damaged record after the header is
    skipped and remembered instead of ending the data there (one bad line in an hour's
    recording must not lose the rest). A second header still ends it: what follows is another
    recording."""
    try:
        _add_line(builder, line, number)
    except RecordingError as exc:
        if not builder.skip_damaged or builder.header is None or exc.problem == _SECOND_HEADER:
            raise
        builder.skipped.append(exc)


Fields = tuple[bytes, ...]


def _add_written_run(builder: _Builder, times: Fields, sensors: Fields, hexes: Fields) -> bool:
    """Packet lines in the writer's layout (their fields), all added as
    ``_add_written_packet`` adds each; False (and nothing added) if one of them is not one
    it would add (odd hex digits, a time too large for a float)."""
    try:
        payloads = list(map(binascii.unhexlify, hexes))
    except binascii.Error:
        return False
    seconds = list(map(float, times))
    if not all(map(math.isfinite, seconds)):
        return False
    known = builder.written_ids
    builder.times += seconds
    builder.sensors += map(known.__getitem__, sensors)
    builder.payloads += payloads
    return True


def _add_line(builder: _Builder, line: bytes, number: int) -> None:
    if (
        line.startswith(_PACKET_HEAD)
        and line.endswith(_PACKET_TAIL)
        and _add_written_packet(builder, line)
    ):
        return
    try:
        obj = _loads(builder.path, line, number)
    except RecordingError as exc:
        if builder.header is not None:
            raise
        problem = "not a hipsense recording: the first line is not a recording header"
        if b"," in line and not line.lstrip().startswith(b"{"):
            problem += " (an IMU CSV? give the file a .csv name)"
        raise RecordingError(builder.path, problem, number) from exc
    kind = obj.get("type")
    if builder.header is None:
        builder.header = header_from_json(obj, builder.path, number)
    elif kind == "packet":
        _add_packet(builder, obj, number)
    elif kind == "marker":
        _add_marker(builder, obj, number)
    elif kind == "calibration":
        calibration = obj.get("calibration")
        if not isinstance(calibration, dict):
            raise RecordingError(builder.path, "calibration record without a calibration", number)
        builder.calibrations.append(CalibrationRecord(_time(builder, obj, number), calibration))
    elif kind == "header":
        raise RecordingError(builder.path, _SECOND_HEADER, number)
    else:
        builder.unknown_types.add(str(kind))


_NOT_A_RECORD = "not a complete record (the file was cut or damaged)"
_SECOND_HEADER = "a second header (two recordings joined?)"


def _loads(path: str, line: bytes, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise RecordingError(path, _NOT_A_RECORD, number) from exc
    except (ValueError, RecursionError) as exc:
        raise RecordingError(path, _NOT_A_RECORD, number) from exc
    if not isinstance(obj, dict):
        raise RecordingError(path, _NOT_A_RECORD, number)
    return obj


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _add_written_packet(builder: _Builder, line: bytes) -> bool:
    """A packet line exactly as the writer writes it, read without the json module: the same
    values json gives (a number, a known sensor id, hex digits). False: anything else (json
    then reads it, and names what is wrong)."""
    t_text, found, rest = line[len(_PACKET_HEAD) : -len(_PACKET_TAIL)].partition(_SENSOR_KEY)
    sensor, found_too, hex_text = rest.partition(_PAYLOAD_KEY)
    known = builder.written_ids
    if not (found and found_too and sensor in known and hex_text.isalnum()):
        return False
    if not _JSON_NUMBER.fullmatch(t_text):
        return False
    t = float(t_text)
    try:
        payload = bytes.fromhex(hex_text.decode())
    except ValueError:
        return False
    if not math.isfinite(t):
        return False
    builder.times.append(t)
    builder.sensors.append(known[sensor])
    builder.payloads.append(payload)
    return True


def _add_packet(builder: _Builder, obj: dict[str, Any], number: int) -> None:
    sensor = obj.get("sensor")
    assert builder.header is not None
    if not isinstance(sensor, str) or sensor not in builder.header.sensor_ids:
        raise RecordingError(builder.path, f"packet from unknown sensor {sensor!r}", number)
    hex_text = obj.get("payload_hex")
    try:
        payload = bytes.fromhex(hex_text) if isinstance(hex_text, str) else None
    except ValueError:
        payload = None
    if payload is None:
        raise RecordingError(builder.path, "packet payload_hex is not hexadecimal", number)
    builder.times.append(_time(builder, obj, number))
    builder.sensors.append(sensor)
    builder.payloads.append(payload)


def _add_marker(builder: _Builder, obj: dict[str, Any], number: int) -> None:
    kind = obj.get("kind")
    if kind not in MARKER_KINDS:
        raise RecordingError(builder.path, f"marker of unknown kind {kind!r}", number)
    data = {k: v for k, v in obj.items() if k not in {"type", "t_host_s", "kind"}}
    builder.markers.append(Marker(_time(builder, obj, number), str(kind), data))


def _time(builder: _Builder, obj: dict[str, Any], number: int) -> float:
    t = obj.get("t_host_s")
    seconds = _seconds(t)
    if seconds is None:
        shown = repr(t) if len(text := repr(t)) <= 40 else text[:37] + "..."
        raise RecordingError(builder.path, f"t_host_s is {shown}, not a number of seconds", number)
    return seconds


def _seconds(value: object) -> float | None:
    """``value`` as finite seconds, or None (not a number, or one too large for a float:
    an integer like 10**400 cannot be converted)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None
