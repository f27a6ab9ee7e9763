"""Speed and memory of ``hipsense analyze`` on long recordings, against bare VQF.

A simulated session (warm-up sets, pauses, fidgets) is encoded into hipsense v1 packets of 19
samples and written as a real recording; ``analyze`` (read, decode, live session with reps,
offline smoothing for the exports) is timed next to bare VQF batch fusion of the same samples
(``updateBatch``) and next to bare offline VQF (``offlineVQF``, which analyze must run anyway for
its smoothed exports). Each size is analysed twice: with the per-sample exports (angles and reps
CSVs) and with the JSON summary only (no offline fusion then).

Run: .venv/bin/python bench/bench_analyze.py [--minutes 60 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE_HZ = 100
PER_PACKET = 19


def make_recording(path: Path, minutes: float, seed: int = 1) -> int:
    from hipsense.exercises import Leg
    from hipsense.protocol import encode_imu_packet
    from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
    from hipsense.sim import Conditions, plan_session, simulate

    rng = np.random.default_rng(seed)
    sim = simulate(
        plan_session(Leg.RIGHT, rng, duration_s=60.0 * minutes),
        rate_hz=RATE_HZ,
        seed=seed,
        conditions=Conditions.clean().with_(gyro_noise=True, acc_noise=True),
    )
    header = RecordingHeader(
        sensors=(SensorEntry("right_thigh", sim.info),), exercise="swing-forward", leg="right"
    )
    with RecordingWriter(path, header) as writer:
        for i in range(0, len(sim) - PER_PACKET + 1, PER_PACKET):
            payload = encode_imu_packet(
                i,
                1_000_000 + round(i * 1e6 / RATE_HZ),
                sim.acc_raw[i : i + PER_PACKET],
                sim.gyr_raw[i : i + PER_PACKET],
            )
            writer.write_packet("right_thigh", payload, t_host_s=(i + PER_PACKET) / RATE_HZ + 0.01)
    np.save(path.with_suffix(".acc.npy"), sim.acc_mps2)
    np.save(path.with_suffix(".gyr.npy"), sim.gyr_radps)
    return len(sim)


def bare_vqf_s(path: Path, *, offline: bool = False) -> float:
    """Bare VQF batch fusion (``updateBatch``) or offline forward-backward (``offlineVQF``)."""
    from vqf import VQF, offlineVQF

    acc = np.ascontiguousarray(np.load(path.with_suffix(".acc.npy")))
    gyr = np.ascontiguousarray(np.load(path.with_suffix(".gyr.npy")))
    start = time.perf_counter()
    if offline:
        offlineVQF(gyr, acc, None, 1.0 / RATE_HZ)
    else:
        VQF(1.0 / RATE_HZ).updateBatch(gyr, acc)
    return time.perf_counter() - start


# Runs the CLI in a fresh interpreter and reports its own time (imports excluded) and peak RSS.
# Peak RSS is VmHWM: getrusage's ru_maxrss survives exec, so a child would report at least the
# parent's size at fork (this bench's own simulation, ~300 MB).
# The command's own modules (scipy.signal among them, ~0.7 s) are imported lazily by the CLI;
# that import is timed apart so the analysis time is the work on the samples.
_CHILD = """
import contextlib, io, re, sys, time
from hipsense.cli import main
start = time.perf_counter()
import hipsense.commands.analyze
imports = time.perf_counter() - start
start = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    main(sys.argv[1:])
wall = time.perf_counter() - start
status = open("/proc/self/status").read()
print(wall, imports, int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024)
"""


def analyze_run(path: Path, *, exports: bool = True) -> tuple[float, float, float]:
    """Seconds (analysis, then the command's imports) and peak RSS (MB) of one ``hipsense
    analyze`` in its own process, with the per-sample exports (angles CSV, which needs the
    offline fusion) and the reps CSV, or with the JSON summary only."""
    out = Path(tempfile.mkdtemp())
    args = ["analyze", str(path), "--exercise", "swing-forward", "--json"]
    if exports:
        args += ["--angles-csv", str(out / "a.csv"), "--reps-csv", str(out / "r.csv")]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], check=True, capture_output=True, text=True
    )
    wall, imports, peak_mb = done.stdout.split()
    return float(wall), float(imports), float(peak_mb)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[60.0, 10.0])
    parser.add_argument("--repeat", type=int, default=1, help="analyze runs; the fastest counts")
    args = parser.parse_args()
    print(f"{'recording':>10} {'samples':>9} {'VQF s':>7} {'offline s':>9} {'exports':>8}", end="")
    print(f" {'analyze s':>10} {'÷VQF':>6} {'÷offline':>8} {'+imports s':>10} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = Path(tmp) / f"session_{minutes:.0f}min.jsonl.gz"
            n = make_recording(path, minutes)
            vqf_s = min(bare_vqf_s(path) for _ in range(3))
            offline_s = min(bare_vqf_s(path, offline=True) for _ in range(3))
            for exports in (True, False):
                runs = [analyze_run(path, exports=exports) for _ in range(args.repeat)]
                wall, imports, peak_mb = min(runs)
                print(f"{minutes:>7.0f} min {n:>9} {vqf_s:>7.3f} {offline_s:>9.3f}", end="")
                print(f" {'yes' if exports else 'no':>8} {wall:>10.2f}", end="")
                print(f" {wall / vqf_s:>5.1f}x {wall / offline_s:>7.1f}x", end="")
                print(f" {imports:>10.2f} {peak_mb:>12.0f}")


if __name__ == "__main__":
    main()
