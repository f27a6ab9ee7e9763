"""Fuzz the CSV parser: any text gives a series or a one-line CsvFormatError."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipsense.errors import CsvFormatError
from hipsense.sources.csv_import import read_imu_csv, to_uniform_batches

HEADER = "time_s,acc_x_g,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps,gyr_z_dps\n"
_CELL = st.sampled_from(["0", "1.5", "-2", "1e3", "", "x", "nan", " 3 ", '"4"', "1e400"])
_ROW = st.lists(_CELL, min_size=0, max_size=8).map(",".join)
_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_text(text, encoding="utf-8")
        try:
            series = read_imu_csv(path, salvage=True)
        except CsvFormatError as exc:
            assert "\n" not in str(exc)
            return
        assert len(series) >= 2
        batches = to_uniform_batches(series)
        assert sum(len(b) for b in batches) >= 1


@_SETTINGS
@given(rows=st.lists(_ROW, max_size=12))
def test_cell_soup_after_a_valid_header(rows: list[str]) -> None:
    _read(HEADER + "\n".join(rows))


@_SETTINGS
@given(times=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=40))
def test_any_time_column(times: list[float]) -> None:
    _read(HEADER + "".join(f"{t!r},0,0,1,0,0,0\n" for t in times))


@_SETTINGS
@given(text=st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    _read(text)
