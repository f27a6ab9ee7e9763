"""Make recordings/: true recordings of simulated sessions through hipsense's own live path.

Each virtual sensor streams a simulated set in real time over the in-process Bumble radio;
bleak (on the Bumble backend) receives it in ``SensorLink``; the raw notifications are written
by ``RecordingWriter`` exactly as ``hipsense live --record`` does. Next to each recording a
``.truth.json`` sidecar holds the simulator's truth (rep windows, peaks, angles at 25 Hz) in
sensor time: seconds since the first streamed sample.

Run:  .venv/bin/python tools/make_recordings.py   (about two minutes, all sessions at once)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hipsense.exercises import CATALOGUE, Leg
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry
from hipsense.sim import Conditions, SimSession, plan_set, simulate
from hipsense.sources.ble import SensorLink
from hipsense.virtual import ArraySource, VirtualRadio

OUT = Path(__file__).resolve().parents[1] / "recordings"
RATE_HZ = 50
TRUTH_RATE_HZ = 25
# Sensor noise, bias and any mounting, as a real strap would give; nuisances stay off here
# (the benchmarks cover them); one session adds packet loss, one a dropped link.
BASE = Conditions.clean().with_(
    gyro_noise=True, acc_noise=True, gyro_bias=True, acc_bias=True, random_mounting=True
)


@dataclass(frozen=True)
class Spec:
    name: str
    exercise_id: str
    leg: Leg
    reps: int
    seed: int
    conditions: Conditions = BASE
    drop_at_s: float | None = None


def specs() -> list[Spec]:
    out = [
        Spec(f"{ex}_{leg.value}", ex, leg, 6 if ex in ("assisted-slr", "leg-lowering") else 8, seed)
        for seed, (ex, leg) in enumerate(((e, lg) for e in CATALOGUE for lg in Leg), start=100)
    ]
    out.append(
        Spec(
            "knee-drive_right_loss",
            "knee-drive",
            Leg.RIGHT,
            10,
            200,
            BASE.with_(lost_fraction=0.03),
        )
    )
    out.append(
        Spec("swing-forward_left_reconnect", "swing-forward", Leg.LEFT, 10, 201, drop_at_s=25.0)
    )
    return out


def truth_json(spec: Spec, sim: SimSession) -> dict[str, object]:
    step = max(1, round(sim.rate_hz / TRUTH_RATE_HZ))
    return {
        "exercise": spec.exercise_id,
        "leg": spec.leg.value,
        "rate_hz": sim.rate_hz,
        "seed": spec.seed,
        "time_base": "sensor time: seconds since the first streamed sample",
        "rep_count": len(sim.reps),
        "reps": [
            {
                "index": r.index,
                "start_s": round(r.start_s, 3),
                "end_s": round(r.end_s, 3),
                "peak_deg": round(r.peak_deg, 2),
                "low_deg": round(r.low_deg, 2),
            }
            for r in sim.reps
        ],
        "segments": [
            {
                "kind": s.kind,
                "start_s": round(s.start_s, 3),
                "end_s": round(s.end_s, 3),
                "exercise": s.exercise_id,
            }
            for s in sim.segments
        ],
        "dropped_link_at_s": spec.drop_at_s,
        "mounting": {
            "site": sim.mounting.site,
            "skin_angle_deg": round(sim.mounting.skin_angle_deg, 2),
        },
        "angles": {
            "t_s": np.round(sim.t_s[::step], 3).tolist(),
            "flexion_deg": np.round(sim.flexion_deg[::step], 2).tolist(),
            "abduction_deg": np.round(sim.abduction_deg[::step], 2).tolist(),
        },
    }


async def record(radio: VirtualRadio, spec: Spec) -> str:
    rng = np.random.default_rng(spec.seed)
    sim = simulate(
        plan_set(spec.exercise_id, spec.leg, spec.reps, rng),
        rate_hz=RATE_HZ,
        seed=spec.seed,
        conditions=spec.conditions,
    )
    sensor = await radio.add_sensor(
        None, ArraySource.from_session(sim), info=sim.info, rate_hz=RATE_HZ
    )
    path = OUT / f"{spec.name}.jsonl.gz"
    path.unlink(missing_ok=True)
    role = f"{spec.leg.value}_thigh"
    origin = time.monotonic()
    writer: RecordingWriter | None = None

    def sink(role: str, items: list[tuple[float, bytes]]) -> None:
        assert writer is not None
        for t, payload in items:
            writer.write_packet(role, payload, t_host_s=t)

    async with SensorLink(
        sensor.name, role, backend=radio.bleak_backend, time_origin_s=origin, on_payloads=sink
    ) as link:
        assert link.info is not None
        entry = SensorEntry(role, link.info, name=sensor.name, address=sensor.address)
        header = RecordingHeader(
            sensors=(entry,),
            exercise=spec.exercise_id,
            leg=spec.leg.value,
            notes=f"simulated set through the virtual BLE link, seed {spec.seed}",
        )
        writer = RecordingWriter(path, header)
        end_s = time.monotonic() + sim.t_s[-1] + 1.5
        dropped = False
        async for item in link.stream():
            if spec.drop_at_s and not dropped and time.monotonic() - origin > spec.drop_at_s:
                dropped = True
                writer.write_marker("disconnect", t_host_s=time.monotonic() - origin, sensor=role)
                await sensor.drop_link(lost_samples=0)
            if getattr(item, "state", None) == "connected" and dropped:
                writer.write_marker("reconnect", t_host_s=time.monotonic() - origin, sensor=role)
            if time.monotonic() > end_s:
                break
        writer.close()
    (OUT / f"{spec.name}.truth.json").write_text(json.dumps(truth_json(spec, sim)) + "\n")
    return f"{spec.name}: {len(sim.reps)} reps, {sim.t_s[-1]:.0f} s"


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    async with VirtualRadio() as radio:
        for line in await asyncio.gather(*(record(radio, s) for s in specs())):
            print(line, file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
