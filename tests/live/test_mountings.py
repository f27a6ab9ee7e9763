from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import CalibrationError
from hipsense.exercises import Leg, Posture
from hipsense.live.mountings import MAX_AGE, load_mounting, save_mountings
from hipsense.signal.calibration import MountingCalibration


def _calibration() -> MountingCalibration:
    r_ts = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    return MountingCalibration.from_rotation(r_ts, Posture.STANDING, Leg.LEFT)


def test_a_recent_mounting_is_reused_and_an_old_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "data" / "mountings.json"
    save_mountings({("C0:00:00:00:00:01", Posture.STANDING): _calibration()}, path)
    assert path.stat().st_mode & 0o777 == 0o600
    got = load_mounting("c0:00:00:00:00:01", Posture.STANDING, path)
    assert got is not None and np.allclose(got.r_ts, _calibration().r_ts)
    assert load_mounting("c0:00:00:00:00:01", Posture.SUPINE, path) is None
    later = datetime.now(UTC) + MAX_AGE + timedelta(minutes=1)
    assert load_mounting("c0:00:00:00:00:01", Posture.STANDING, path, now=later) is None


def test_a_damaged_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "mountings.json"
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="delete it"):
        load_mounting("x", Posture.STANDING, path)
