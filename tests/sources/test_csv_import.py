"""Generic IMU CSV import: units, layout tolerance, sampling, errors, real data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hipsense.errors import CsvFormatError
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.sources.csv_import import import_imu_csv, read_imu_csv, to_uniform_batches

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "pt_exercises"
SI_HEADER = "time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_radps,gyr_y_radps,gyr_z_radps"


def _csv(tmp_path: Path, text: str, name: str = "imu.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _rows(t_s: np.ndarray) -> str:
    values = np.column_stack([t_s, np.tile(np.arange(6.0), (len(t_s), 1)) + t_s[:, None]])
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in values) + "\n"


def test_si_units_read_as_is(tmp_path: Path) -> None:
    series = read_imu_csv(_csv(tmp_path, SI_HEADER + "\n0,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n"))
    assert series.rate_hz == 100.0 and series.gaps == () and series.mag_ut is None
    np.testing.assert_array_equal(series.acc_mps2[0], [1, 2, 3])
    np.testing.assert_array_equal(series.gyr_radps[1], [4, 5, 6])


def test_g_and_dps_are_converted_order_free_with_bom_crlf_spaces_and_extras(
    tmp_path: Path,
) -> None:
    text = (
        "\ufeff gyr_z_dps, note ,ACC_X_G,acc_y_g,acc_z_g,gyr_x_dps,gyr_y_dps, Time_s,mag_x_ut,"
        "mag_y_ut,mag_z_ut\r\n"
        "180, hello ,1,0,-1,90,0, 0.0 ,10,20,30\r\n\r\n"
        '"180",x,1,0,-1,90,0,0.02,10,20,30\r\n'
    )
    series = read_imu_csv(_csv(tmp_path, text))
    np.testing.assert_allclose(
        series.acc_mps2[0], [STANDARD_GRAVITY_MPS2, 0, -STANDARD_GRAVITY_MPS2]
    )
    np.testing.assert_allclose(series.gyr_radps[1], [math.pi / 2, 0, math.pi])
    assert series.mag_ut is not None and series.mag_ut.tolist()[0] == [10, 20, 30]
    assert series.rate_hz == 50.0


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "empty file: no header row"),
        (SI_HEADER + "\n", 2, "no data rows after the header"),
        (SI_HEADER.replace("time_s", "time") + "\n0,1,2,3,4,5,6\n", 1, "add the unit, time_s"),
        (
            SI_HEADER.replace("gyr_y_radps", "gyr_y") + "\n0,1,2,3,4,5,6\n",
            1,
            "missing gyroscope columns: need gyr_x_radps,gyr_y_radps,gyr_z_radps or"
            " gyr_x_dps,gyr_y_dps,gyr_z_dps (found gyr_x_radps,gyr_y,gyr_z_radps",
        ),
        (
            "time_s,acc_x,acc_y,acc_z,gyr_x_radps,gyr_y_radps,gyr_z_radps\n0,1,2,3,4,5,6\n",
            1,
            "missing accelerometer columns",
        ),
        (SI_HEADER + ",mag_x_ut\n0,1,2,3,4,5,6,7\n", 1, "missing magnetometer columns"),
        (SI_HEADER + "\n0,1,2,3,4,5,6\n", 2, "only one data row"),
        (SI_HEADER + "\n0,1,2,3,4,5,6\n\n0.1,1,2,x,4,5,6\n", 4, "cell 4 is 'x', not a number"),
        (
            SI_HEADER + "\n0,1,2,3,4,5,6\n0.1,1,2,,4,5,6\n",
            2,
            "only 1 of 2 data rows have usable values",
        ),
        (SI_HEADER + "\n0,1,2,3,4,5,6\n0.1,1,2\n", 3, "row has 3 cells, the header needs 7"),
        (
            SI_HEADER + "\n0,1,2,3,4,5,6\n0.1,1,2,nan,4,5,6\n",
            2,
            "only 1 of 2 data rows have usable values",
        ),
        (SI_HEADER + "\n0,1,2,3,4,5,6\n0.2,1,2,3,4,5,6\n0.1,1,2,3,4,5,6\n", 4, "0.1 after 0.2"),
        (
            SI_HEADER + "\n0,1,2,3,4,5,6\n0,1,2,3,4,5,6\n",
            2,
            "only 1 of 2 data rows have usable values",
        ),
        (
            SI_HEADER.replace("time_s", "time_ms") + "\n0,1,2,3,4,5,6\n",
            1,
            "need time_s in seconds (found 'time_ms': divide it by 1,000 and rename it time_s)",
        ),
        (
            SI_HEADER.replace("time_s", "timestamp_ms") + "\n0,1,2,3,4,5,6\n",
            1,
            "(found 'timestamp_ms': divide it by 1,000 and rename it time_s)",
        ),
        (
            SI_HEADER.replace("time_s", "time_us") + "\n0,1,2,3,4,5,6\n",
            1,
            "(found 'time_us': divide it by 1,000,000 and rename it time_s)",
        ),
        (SI_HEADER + "\n0,1,2,3,4,5,6\n10,1,2,3,4,5,6\n", None, "is time_s in seconds?"),
    ],
)
def test_bad_files_are_one_line_errors_naming_file_and_line(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = _csv(tmp_path, text, "bad.csv")
    with pytest.raises(CsvFormatError) as info:
        read_imu_csv(path)
    assert info.value.line == line
    where = str(path) if line is None else f"{path}:{line}"
    assert str(info.value).startswith(f"{where}: ") and problem in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(CsvFormatError, match="cannot read"):
        read_imu_csv(tmp_path / "nope.csv")
    path = tmp_path / "latin.csv"
    path.write_bytes(SI_HEADER.encode() + b"\n0,1,2,3,4,5,6\n\xff\n")
    with pytest.raises(CsvFormatError, match=r"latin\.csv:3: not UTF-8"):
        read_imu_csv(path)


def test_salvage_keeps_the_rows_before_the_bad_one(tmp_path: Path) -> None:
    good = _rows(np.arange(10) * 0.01)
    path = _csv(tmp_path, SI_HEADER + "\n" + good + "0.05,1,2,3,4,5,6\n" + good)
    series = read_imu_csv(path, salvage=True)
    assert len(series) == 10 and series.error is not None and series.error.line == 12
    with pytest.raises(CsvFormatError, match=r"imu\.csv:12: time_s goes back \(0\.05 after"):
        read_imu_csv(path)


def test_salvage_checks_time_before_a_later_bad_cell(tmp_path: Path) -> None:
    rows = "0,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n0.02,1,2,3,4,5,6\n0.01,1,2,3,4,5,6\n0.03,x,2,3,4,5,6\n"
    series = read_imu_csv(_csv(tmp_path, SI_HEADER + "\n" + rows), salvage=True)
    assert len(series) == 3 and series.error is not None and series.error.line == 5


def test_gaps_are_reported_and_not_interpolated_across(tmp_path: Path) -> None:
    t = np.concatenate([np.arange(0, 50) * 0.01, 1.0 + np.arange(0, 50) * 0.01])
    series = read_imu_csv(_csv(tmp_path, SI_HEADER + "\n" + _rows(t)))
    assert series.rate_hz == 100.0
    assert len(series.gaps) == 1 and series.gaps[0].missing_samples == 50
    first, second = to_uniform_batches(series, "thigh")
    assert len(first) == 50 and first.lost_before == 0
    assert second.lost_before == 50 and len(second) == 50
    np.testing.assert_allclose(second.t_s[0], 1.0)
    np.testing.assert_allclose(second.acc_mps2[0], [1.0, 2.0, 3.0])


def test_jitter_is_resampled_onto_the_median_rate(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    t = np.arange(200) * 0.02 + rng.uniform(-0.003, 0.003, 200)
    t[0] = 0.0
    batches = import_imu_csv(_csv(tmp_path, SI_HEADER + "\n" + _rows(t)))
    assert len(batches) == 1
    batch = batches[0]
    np.testing.assert_allclose(np.diff(batch.t_s), 0.02, rtol=0.05)
    # the channels are linear in t, so interpolation reproduces them exactly
    np.testing.assert_allclose(batch.acc_mps2[:, 0], batch.t_s, atol=1e-5)


needs_data = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"shared data not found at {DATA} (see the data README)"
)


@pytest.mark.data
@needs_data
def test_reads_every_pt_exercises_csv() -> None:
    files = sorted(DATA.glob("*/*.csv"))
    assert files
    for path in files:
        series = read_imu_csv(path)
        labels = json.loads((path.parent / "labels.json").read_text())
        assert series.rate_hz == labels.get("sample_rate_hz", 25)
        assert series.gaps == () and len(series) > 1000
        # lying still at the start: gravity magnitude
        assert 9.0 < float(np.linalg.norm(series.acc_mps2[:10].mean(axis=0))) < 10.6
        (batch,) = to_uniform_batches(series)
        assert len(batch) == len(series)
        np.testing.assert_allclose(batch.gyr_radps, series.gyr_radps, atol=1e-9)


def test_an_infinite_value_is_a_lost_sample_and_a_short_row_ends_the_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inf.csv"
    path.write_text(SI_HEADER + "\n0,1,2,3,4,5,6\n0.01,1e400,0,0,0,0,0\n0.02,1,2,3,4,5,6\n7\n")
    with pytest.raises(CsvFormatError) as err:
        read_imu_csv(path)
    assert err.value.line == 5 and "row has 1 cells" in str(err.value)
    series = read_imu_csv(path, salvage=True)
    assert series.t_s.tolist() == [0.0, 0.02] and series.error is not None
    assert series.warnings == (
        "1 row with an empty, non-finite or impossible value skipped as lost sample"
        " (first at line 3)",
    )


def test_empty_and_non_finite_values_are_lost_samples_not_the_end(tmp_path: Path) -> None:
    """Bad values drop their rows (a gap, as lost samples leave) and the rest is read."""
    rows = _rows(np.arange(100) * 0.01).splitlines()
    rows[30] = "0.300000,nan,2,3,4,5,6"
    rows[31] = "0.310000,1,,3,4,5,6"
    rows[60] = "0.600000,1,2,3,4,5,inf"
    path = _csv(tmp_path, SI_HEADER + "\n" + "\n".join(rows) + "\n")
    series = read_imu_csv(path)
    assert len(series) == 97 and series.error is None
    assert series.warnings == (
        "3 rows with an empty, non-finite or impossible value skipped as lost samples"
        " (first at line 32)",
    )
    assert [(g.missing_samples, g.skipped_rows) for g in series.gaps] == [(2, 2), (1, 1)]
    batches = to_uniform_batches(series)
    assert [b.lost_before for b in batches] == [0, 2, 1]
    assert sum(len(b) for b in batches) == 97


def test_impossible_readings_are_lost_samples_but_large_times_are_not(tmp_path: Path) -> None:
    """A logger's overflow sentinel (3.4e38) or a corrupt 1e300 is no reading: its row is a
    lost sample like a NaN's. Epoch seconds in time_s are fine."""
    rows = [f"{1.7e9 + k * 0.01:.2f},1,2,3,4,5,6" for k in range(100)]
    rows[40] = rows[40].replace(",1,", ",3.4e38,", 1)
    rows[70] = rows[70].replace(",5,", ",-1e300,", 1)
    series = read_imu_csv(_csv(tmp_path, SI_HEADER + "\n" + "\n".join(rows) + "\n"))
    assert len(series) == 98 and series.error is None
    assert series.warnings == (
        "2 rows with an empty, non-finite or impossible value skipped as lost samples"
        " (first at line 42)",
    )
    assert np.abs(series.acc_mps2).max() < 10.0 and np.abs(series.gyr_radps).max() < 10.0
    assert [(g.missing_samples, g.skipped_rows) for g in series.gaps] == [(1, 1), (1, 1)]


def test_repeated_times_are_dropped_and_a_step_back_keeps_the_rows_before(
    tmp_path: Path,
) -> None:
    rows = _rows(np.arange(50) * 0.01).splitlines()
    twice = [r for r in rows for _ in (0, 1)]
    series = read_imu_csv(_csv(tmp_path, SI_HEADER + "\n" + "\n".join(twice) + "\n"))
    assert len(series) == 50 and series.gaps == () and series.rate_hz == 100.0
    assert series.warnings == (
        "50 rows repeating the previous row's time_s dropped (first at line 3)",
    )
    back = _csv(tmp_path, SI_HEADER + "\n" + "\n".join([*rows, rows[10], *rows]) + "\n", "b.csv")
    with pytest.raises(CsvFormatError, match=r"b\.csv:52: time_s goes back \(0\.1 after 0\.49\)"):
        read_imu_csv(back)
    assert len(read_imu_csv(back, salvage=True)) == 50


@pytest.mark.data
@needs_data
def test_one_bad_value_in_a_real_session_loses_one_sample(tmp_path: Path) -> None:
    rows = (DATA / "s1" / "slr_test_right_thigh.csv").read_text().splitlines()
    cells = rows[3000].split(",")
    rows[3000] = ",".join([*cells[:3], "NaN", *cells[4:]])
    series = read_imu_csv(_csv(tmp_path, "\n".join(rows) + "\n"))
    assert len(series) == len(rows) - 2 and series.error is None
    assert series.warnings == (
        "1 row with an empty, non-finite or impossible value skipped as lost sample"
        " (first at line 3001)",
    )
