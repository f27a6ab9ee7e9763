"""Offline fusion in overlapping windows: one row per sample, no heading jumps at seams."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense import offline_windows
from hipsense.offline_windows import stitched, windowed

RATE_HZ = 10.0


def yaw_quat(yaw_rad: np.ndarray, tilt_rad: np.ndarray) -> np.ndarray:
    """Heading about z after a tilt about x (wxyz)."""
    cz, sz, cx, sx = (
        np.cos(yaw_rad / 2),
        np.sin(yaw_rad / 2),
        np.cos(tilt_rad / 2),
        np.sin(tilt_rad / 2),
    )
    return np.stack([cz * cx, cz * sx, sz * sx, sz * cx], axis=-1)


def test_cores_cover_every_sample_once_and_seams_keep_the_heading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_windows, "WINDOW_S", 30.0)
    monkeypatch.setattr(offline_windows, "MARGIN_S", 5.0)
    n = 1000
    t = np.arange(n) / RATE_HZ
    yaw, tilt = 0.01 * np.arange(n), 0.5 * np.sin(t)
    seen: list[slice] = []

    def fuse(part: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        seen.append(part)
        arbitrary = 1.0 + len(seen)  # each window starts with its own heading
        quat = yaw_quat(yaw[part] + arbitrary, tilt[part])
        quat[::7] = np.nan  # invalid samples here and there
        return t[part] * 2, -t[part], quat

    pieces = list(windowed(t, RATE_HZ, fuse))
    whole = stitched(iter(pieces))
    assert [len(p) for p in pieces] == [300, 300, 300, 100]
    assert seen[1] == slice(250, 650) and seen[-1] == slice(850, 1000)
    np.testing.assert_array_equal(whole.t_s, t)
    np.testing.assert_array_equal(whole.flexion_deg, 2 * t)
    expected = yaw_quat(yaw + 2.0, tilt)  # the first window's heading throughout
    ok = np.isfinite(whole.quat_wxyz).all(axis=1)
    assert ok.sum() > 800
    sign = np.sign((whole.quat_wxyz[ok] * expected[ok]).sum(axis=1))[:, None]
    np.testing.assert_allclose(whole.quat_wxyz[ok] * sign, expected[ok], atol=1e-9)


def test_nothing_in_nothing_out() -> None:
    assert list(windowed(np.empty(0), RATE_HZ, lambda part: (np.empty(0),) * 3)) == []
    assert len(stitched(iter(()))) == 0
