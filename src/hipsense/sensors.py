"""Per-sensor calibration store: one owner-only JSON file next to the history database.

Each entry is keyed by the sensor's address and name (either finds it), so ``live`` can
apply a sensor's six-face calibration as soon as its link is open. The file is replaced
atomically (write a private temporary file, then rename), never edited in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from hipsense.errors import CalibrationError, RecordingError
from hipsense.fileperms import create_private_file, ensure_private_dir, write_all
from hipsense.recording import RecordingHeader
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.store.model import default_history_path

FILE_NAME = "sensors.json"
VERSION = 1


def default_sensors_path(env: Mapping[str, str] = os.environ) -> Path:
    """``sensors.json`` in the history database's folder."""
    return default_history_path(env).parent / FILE_NAME


def _entries(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["sensors"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise TypeError("'sensors' is not a list of objects")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(
            f"{path}: sensor calibrations are unreadable ({exc}); delete the file and run"
            " 'hipsense calibrate-sensor' again"
        ) from exc
    return entries


def _matches(entry: Mapping[str, object], key: str) -> bool:
    k = key.strip().lower()
    return bool(k) and k in (
        str(entry.get("address", "")).lower(),
        str(entry.get("name", "")).lower(),
    )


def load_sensor_calibration(
    address_or_name: str, path: Path | None = None
) -> SensorCalibration | None:
    """The saved calibration of the sensor with this address or name, or None."""
    for entry in reversed(_entries(path or default_sensors_path())):
        if _matches(entry, address_or_name):
            found = entry.get("calibration")
            if not isinstance(found, dict):
                raise CalibrationError(f"sensor {address_or_name}: calibration entry is damaged")
            return SensorCalibration.from_dict(found)
    return None


def save_sensor_calibration(
    address: str, name: str, calibration: SensorCalibration, path: Path | None = None
) -> Path:
    """Store (or replace) the calibration of the sensor ``address``/``name``; returns the file."""
    path = path or default_sensors_path()
    ensure_private_dir(path.parent)
    kept = [e for e in _entries(path) if not (_matches(e, address) or _matches(e, name))]
    kept.append(
        {
            "address": address,
            "name": name,
            "calibrated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "calibration": calibration.to_dict(),
        }
    )
    data = json.dumps({"version": VERSION, "sensors": kept}, indent=2).encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = create_private_file(tmp, overwrite=True)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def calibrations_in(
    header: RecordingHeader, path: str | None = None
) -> dict[str, SensorCalibration]:
    """The six-face calibrations a recording's sensors had live, by role, so a replay or an
    analysis feeds the pipeline exactly what the live session fed it. A damaged one is an
    error about the recording (``RecordingError`` naming ``path`` and its header line, when
    given), not about the sensor's saved calibration."""
    found: dict[str, SensorCalibration] = {}
    for s in header.sensors:
        if s.sensor_calibration is None:
            continue
        try:
            found[s.sensor_id] = SensorCalibration.from_dict(s.sensor_calibration)
        except CalibrationError as exc:
            problem = (
                f"six-face calibration of sensor {s.sensor_id!r} in the header is damaged"
                f" ({exc.__cause__ or exc}): restore the file from a copy"
            )
            if path is not None:
                raise RecordingError(path, problem, 1) from exc
            raise CalibrationError(f"a recording's {problem}") from exc
    return found
