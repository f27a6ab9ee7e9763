"""The last mounting calibration of each sensor, so a session can reuse it while the strap
stays on (``hipsense live --reuse-calibration``). Owner-only JSON next to the history."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hipsense.errors import CalibrationError
from hipsense.exercises import Posture
from hipsense.fileperms import create_private_file, ensure_private_dir, write_all
from hipsense.signal.calibration import MountingCalibration
from hipsense.store.model import default_history_path

MAX_AGE = timedelta(hours=12)  # a strap worn longer than this has surely been taken off


def default_path() -> Path:
    return default_history_path().parent / "mountings.json"


def _read(path: Path) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return data
    except (OSError, ValueError, TypeError) as exc:
        raise CalibrationError(
            f"{path}: saved mountings are unreadable ({exc}); delete it"
        ) from exc


def _key(sensor: str, posture: Posture) -> str:
    return f"{sensor.lower()}|{posture.value}"


def save_mountings(
    found: dict[tuple[str, Posture], MountingCalibration], path: Path | None = None
) -> None:
    """Remember each sensor's (address or name) mounting calibration per posture."""
    if not found:
        return
    path = path or default_path()
    data = _read(path)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for (sensor, posture), calibration in found.items():
        data[_key(sensor, posture)] = {"saved_utc": now, "calibration": calibration.to_dict()}
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = create_private_file(tmp, overwrite=True)
    try:
        write_all(fd, json.dumps(data, indent=1).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_mounting(
    sensor: str, posture: Posture, path: Path | None = None, now: datetime | None = None
) -> MountingCalibration | None:
    """The sensor's last calibration for ``posture`` if it is recent enough to trust."""
    entry = _read(path or default_path()).get(_key(sensor, posture))
    if not isinstance(entry, dict):
        return None
    saved = datetime.fromisoformat(str(entry.get("saved_utc")))
    if (now or datetime.now(UTC)) - saved > MAX_AGE:
        return None
    calibration = entry.get("calibration")
    if not isinstance(calibration, dict):
        return None
    return MountingCalibration.from_dict(calibration)
