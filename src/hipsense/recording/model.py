"""Values of a hipsense recording (see docs/RECORDING.md) and their JSON form."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from hipsense import __version__
from hipsense.errors import RecordingError
from hipsense.protocol import PROTOCOL_VERSION, SensorInfo

FORMAT_NAME = "hipsense-recording"
FORMAT_VERSION = 1
SENSOR_KINDS = ("hipsense", "witmotion")
MARKER_KINDS = (
    "calibration-start",
    "calibration-done",
    "set-start",
    "set-stop",
    "reconnect",
    "disconnect",
    "note",
)
_INFO_TYPES = {f.name: str(f.type) for f in dataclasses.fields(SensorInfo)}
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": (int, float),
    "str": str,
    "bool": bool,
}

FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SensorEntry:
    """One sensor of the session; ``sensor_id`` is its role (e.g. "thigh", "left-thigh")."""

    sensor_id: str
    info: SensorInfo
    kind: str = "hipsense"
    name: str = ""
    address: str = ""
    sensor_calibration: dict[str, Any] | None = None  # the six-face calibration live applied

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sensor_id": self.sensor_id,
            "name": self.name,
            "address": self.address,
            "kind": self.kind,
            "info": dataclasses.asdict(self.info),
        }
        if self.sensor_calibration is not None:
            out["sensor_calibration"] = self.sensor_calibration
        return out


@dataclass(frozen=True)
class RecordingHeader:
    """The first line of a recording: what was recorded, with what, and how to decode it."""

    sensors: tuple[SensorEntry, ...]
    exercise: str | None = None
    leg: str | None = None
    calibration: dict[str, Any] | None = None
    notes: str = ""
    app_version: str = __version__
    protocol_version: int = PROTOCOL_VERSION
    created_utc: str = field(default_factory=utc_now_iso)
    format_version: int = FORMAT_VERSION

    @functools.cached_property
    def sensor_ids(self) -> frozenset[str]:
        return frozenset(s.sensor_id for s in self.sensors)

    def sensor(self, sensor_id: str) -> SensorEntry:
        for entry in self.sensors:
            if entry.sensor_id == sensor_id:
                return entry
        raise KeyError(sensor_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "header",
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "app_version": self.app_version,
            "protocol_version": self.protocol_version,
            "created_utc": self.created_utc,
            "sensors": [s.to_json() for s in self.sensors],
            "exercise": self.exercise,
            "leg": self.leg,
            "calibration": self.calibration,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Marker:
    """A moment in the session; ``data`` holds the kind's extra fields (e.g. "text")."""

    t_host_s: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationRecord:
    """A mounting calibration saved during the session."""

    t_host_s: float
    calibration: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Recording:
    """A whole recording: header, packets as arrays, markers, calibrations.

    ``warnings`` lists harmless damage that was skipped (a torn last line); ``error`` is set
    only by ``read_recording(..., salvage=True)`` and says where the usable data ends.
    """

    path: str
    header: RecordingHeader
    t_host_s: FloatArray
    sensor_ids: StrArray
    payloads: tuple[bytes, ...]
    markers: tuple[Marker, ...] = ()
    calibrations: tuple[CalibrationRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    error: RecordingError | None = None
    truncated: bool = False  # it ends mid-record (the records before are all there)
    skipped_records: int = 0  # damaged records skipped in the middle (salvage)

    @property
    def damaged(self) -> bool:
        return self.truncated or self.error is not None or self.skipped_records > 0

    def __len__(self) -> int:
        return len(self.payloads)


def header_from_json(obj: dict[str, Any], path: str, line: int) -> RecordingHeader:
    """Validate and convert the header object; RecordingError names what is wrong."""
    if obj.get("type") != "header" or obj.get("format") != FORMAT_NAME:
        raise RecordingError(path, "not a hipsense recording: no hipsense-recording header", line)
    version = obj.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordingError(path, "header has no integer format_version", line)
    if version > FORMAT_VERSION:
        raise RecordingError(
            path,
            f"recording format {version} is newer than this hipsense understands"
            f" ({FORMAT_VERSION}): update hipsense",
            line,
        )
    sensors = obj.get("sensors")
    if not isinstance(sensors, list) or not sensors:
        raise RecordingError(path, "header lists no sensors", line)
    entries = tuple(_sensor_from_json(s, path, line) for s in sensors)
    if len({e.sensor_id for e in entries}) != len(entries):
        raise RecordingError(path, "header lists the same sensor_id twice", line)
    calibration = obj.get("calibration")
    return RecordingHeader(
        sensors=entries,
        exercise=_opt_str(obj, "exercise", path, line),
        leg=_opt_str(obj, "leg", path, line),
        calibration=calibration if isinstance(calibration, dict) else None,
        notes=_opt_str(obj, "notes", path, line) or "",
        app_version=_opt_str(obj, "app_version", path, line) or "unknown",
        protocol_version=_int(obj.get("protocol_version", PROTOCOL_VERSION)),
        created_utc=_opt_str(obj, "created_utc", path, line) or "",
        format_version=version,
    )


def _sensor_from_json(obj: object, path: str, line: int) -> SensorEntry:
    if not isinstance(obj, dict) or not isinstance(obj.get("sensor_id"), str):
        raise RecordingError(path, "header sensor entry without a sensor_id", line)
    sensor_id = obj["sensor_id"]
    kind = obj.get("kind", "hipsense")
    if kind not in SENSOR_KINDS:
        raise RecordingError(path, f"sensor {sensor_id!r} has unknown kind {kind!r}", line)
    info = obj.get("info")
    if not isinstance(info, dict):
        raise RecordingError(path, f"sensor {sensor_id!r} has no info object", line)
    values: dict[str, Any] = {}
    for name, type_name in _INFO_TYPES.items():
        value = info.get(name, _info_default(name))
        if not _json_type_ok(value, type_name):
            raise RecordingError(path, f"sensor {sensor_id!r} info.{name} is {value!r}", line)
        values[name] = float(value) if type_name == "float" else value
    return SensorEntry(
        sensor_id=sensor_id,
        info=SensorInfo(**values),
        kind=kind,
        name=str(obj.get("name", "")),
        address=str(obj.get("address", "")),
        sensor_calibration=_optional_object(obj.get("sensor_calibration"), sensor_id, path, line),
    )


def _optional_object(value: object, sensor_id: str, path: str, line: int) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise RecordingError(path, f"sensor {sensor_id!r} sensor_calibration is not an object", line)


def _info_default(name: str) -> object:
    defaults = {f.name: f.default for f in dataclasses.fields(SensorInfo)}
    default = defaults.get(name, dataclasses.MISSING)
    return None if default is dataclasses.MISSING else default


def _json_type_ok(value: object, type_name: str) -> bool:
    expected = _JSON_TYPES.get(type_name, object)
    if isinstance(value, bool) and type_name != "bool":
        return False
    if type_name == "float" and isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, expected)


def _opt_str(obj: dict[str, Any], key: str, path: str, line: int) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordingError(path, f"header field {key!r} must be a string, not {value!r}", line)
    return value


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
