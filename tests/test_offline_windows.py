"""Offline fusion in overlapping windows: one row per sample, no heading jumps at seams."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense import offline_windows
from hipsense.offline_windows import AnglePiece, WindowedFusion, stitched

RATE_HZ = 10.0


def yaw_quat(yaw_rad: np.ndarray, tilt_rad: np.ndarray) -> np.ndarray:
    """Heading about z after a tilt about x (wxyz)."""
    cz, sz = np.cos(yaw_rad / 2), np.sin(yaw_rad / 2)
    cx, sx = np.cos(tilt_rad / 2), np.sin(tilt_rad / 2)
    return np.stack([cz * cx, cz * sx, sz * sx, sz * cx], axis=-1)


@pytest.fixture(autouse=True)
def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline_windows, "WINDOW_S", 30.0)
    monkeypatch.setattr(offline_windows, "MARGIN_S", 5.0)


N = 1000
T = np.arange(N) / RATE_HZ
YAW, TILT = 0.01 * np.arange(N), 0.5 * np.sin(T)


class FakeFusion:
    """Index-exact fake: flexion 2 t, abduction -t, a quaternion with its own heading."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def __call__(
        self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        i = np.rint(t * RATE_HZ).astype(int)
        self.spans.append((int(i[0]), int(i[-1]) + 1))
        quat = yaw_quat(YAW[i] + 1.0 + len(self.spans), TILT[i])  # arbitrary heading
        quat[i % 7 == 0] = np.nan  # invalid samples here and there
        return 2 * t, -t, quat


def run(batch: int, fuse_from: int = 0) -> tuple[list[AnglePiece], FakeFusion]:
    fake, pieces = FakeFusion(), []
    fusion = WindowedFusion(RATE_HZ)
    acc = np.zeros((N, 3))
    for i in range(0, N, batch):
        if i >= fuse_from:
            fusion.fuse = fake
        pieces += fusion.push(T[i : i + batch], acc[i : i + batch], acc[i : i + batch])
    return pieces + fusion.finish(), fake


@pytest.mark.parametrize(("batch", "fuse_from"), [(1000, 0), (37, 0), (1, 0), (50, 700)])
def test_cores_cover_every_sample_once_and_seams_keep_the_heading(
    batch: int, fuse_from: int
) -> None:
    pieces, fake = run(batch, fuse_from)
    assert [len(p) for p in pieces] == [300, 300, 300, 100]
    assert fake.spans == [(0, 350), (250, 650), (550, 950), (850, 1000)]
    whole = stitched(pieces)
    np.testing.assert_array_equal(whole.t_s, T)
    np.testing.assert_array_equal(whole.flexion_deg, 2 * T)
    expected = yaw_quat(YAW + 2.0, TILT)  # the first window's heading throughout
    ok = np.isfinite(whole.quat_wxyz).all(axis=1)
    assert ok.sum() > 800
    sign = np.sign((whole.quat_wxyz[ok] * expected[ok]).sum(axis=1))[:, None]
    np.testing.assert_allclose(whole.quat_wxyz[ok] * sign, expected[ok], atol=1e-9)


def test_only_what_later_windows_need_is_held() -> None:
    fusion = WindowedFusion(RATE_HZ, FakeFusion())
    zeros = np.zeros((N, 3))
    for i in range(0, N, 10):
        fusion.push(T[i : i + 10], zeros[i : i + 10], zeros[i : i + 10])
        assert len(fusion.held[0]) <= 300 + 2 * 50 + 10
    unfused = WindowedFusion(RATE_HZ)
    unfused.push(T, zeros, zeros)
    assert len(unfused.held[0]) == N and unfused.finish() == []


def test_nothing_in_nothing_out() -> None:
    assert WindowedFusion(RATE_HZ, FakeFusion()).finish() == []
    assert len(stitched([])) == 0
