"""``hipsense live | record | scan``: real sensors over Bluetooth."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from hipsense.commands.stream import LinkRun, PayloadSink, check_record_path, cut_after
from hipsense.errors import HipsenseError
from hipsense.exercises import Leg, Posture
from hipsense.live.mountings import load_mounting, save_mountings
from hipsense.sensors import load_sensor_calibration
from hipsense.session import Session, SessionOptions
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.sources.ble import BackendClasses, SensorLink
from hipsense.words import counted


async def _scan(args: argparse.Namespace) -> int:
    from hipsense.sources.ble import scan_sensors

    found = await scan_sensors(args.timeout)
    if not found:
        print(
            "no sensors found: is it charging, within a few metres, and not connected to a phone?"
        )
        return 0
    print(f"{'name':<20} {'address':<40} {'kind':<10} {'RSSI':>6} {'battery':>8}")
    for s in found:
        battery = "-" if s.battery_pct is None else f"{s.battery_pct}%"
        print(f"{s.name:<20} {s.address:<40} {s.kind:<10} {s.rssi_dbm:>4}dB {battery:>8}")
    return 0


def run_scan(args: argparse.Namespace) -> int:
    return asyncio.run(_scan(args))


def _targets(specs: list[str], leg: Leg) -> dict[str, str]:
    """``NAME_OR_ADDRESS[=ROLE]``; without roles the first sensor wears the chosen leg."""
    defaults = [f"{leg.value}_thigh", f"{leg.other.value}_thigh"]
    targets: dict[str, str] = {}
    for i, spec in enumerate(specs):
        target, _, role = spec.partition("=")
        role = role or (defaults[i] if i < len(defaults) else f"sensor{i + 1}")
        if role in targets:
            raise HipsenseError(f"two sensors have the role {role!r}: give each NAME=ROLE")
        targets[role] = target
    return targets


def _history_options(db: str | None) -> SessionOptions:
    from hipsense.commands.history import open_store

    with open_store(db) as store:
        previous = {leg: t.best_peak_deg for leg in Leg if (t := store.last_slr(leg.value))}
    return SessionOptions(previous_slr_deg=previous)


def _save_history(session: Session, db: str | None, recordings: list[Path]) -> None:
    from hipsense.commands.history import open_store, recording_key, save_sets
    from hipsense.signal.quality import summarise_set

    sets = [
        (f.exercise_id, f.leg.value, list(f.reps), summarise_set(list(f.reps), f.target_reps))
        for f in session.finished_sets
    ]
    if sets:
        with open_store(db) as store:
            recording = recording_key(recordings[0]) if recordings else None
            save_sets(store, sets, source="live", recording=recording)
            where = store.path
        saved = counted(len(sets), "set")
        print(f"hipsense: saved {saved} to the history {where}", file=sys.stderr)


async def live_session(args: argparse.Namespace, backend: BackendClasses | None = None) -> int:
    """``backend``: bleak's native one unless given (tests pass the virtual radio's)."""
    from hipsense.sources.ble import merge_streams, open_links

    check_record_path(args.record)
    leg = Leg(args.leg)
    exercise_id = args.exercise if args.exercise not in (None, "none") else "swing-forward"
    targets = _targets(args.sensor, leg)
    origin, sink = time.monotonic(), PayloadSink()
    options = _history_options(args.db)
    links_cm = open_links(targets, backend=backend, time_origin_s=origin, on_payloads=sink)
    async with links_cm as links:
        rates = {link.role: float(link.info.sample_rate_hz) for link in links if link.info}
        keys = {link.role: _sensor_key(link) for link in links}
        session = Session(
            exercise_id,
            leg,
            rates,
            calibrations=_reused_mountings(keys) if args.reuse_calibration else None,
            sensor_calibrations=_sensor_calibrations(links),
            options=options,
        )
        run = LinkRun(session, links, origin, args.record, sink, notes=getattr(args, "notes", ""))
        items = cut_after(merge_streams(*links), args.duration)
        try:
            return await run.present(items, plain=args.plain, mode="live")
        finally:
            session.finish()
            _save_history(session, args.db, run.recorder.paths)
            save_mountings({(keys[r], p): c for (r, p), c in session.calibrations.items()})


def _sensor_key(link: SensorLink) -> str:
    return link.sensor.address if link.sensor else link.target


def _sensor_calibrations(links: list[SensorLink]) -> dict[str, SensorCalibration]:
    """Each sensor's six-face calibration, if ``hipsense calibrate-sensor`` made one."""
    found: dict[str, SensorCalibration] = {}
    for link in links:
        names = [_sensor_key(link), link.sensor.name if link.sensor else link.target]
        cal = next((c for n in names if (c := load_sensor_calibration(n)) is not None), None)
        if cal is not None:
            found[link.role] = cal
            print(f"hipsense: {link.role}: using the saved sensor calibration", file=sys.stderr)
    return found


def _reused_mountings(keys: dict[str, str]) -> dict[tuple[str, Posture], MountingCalibration]:
    """The last mounting calibrations of these sensors, while recent (the strap stayed on)."""
    return {
        (role, posture): cal
        for role, key in keys.items()
        for posture in Posture
        if (cal := load_mounting(key, posture)) is not None
    }


def run_live(args: argparse.Namespace) -> int:
    return asyncio.run(live_session(args))


def run_record(args: argparse.Namespace) -> int:
    args.record, args.plain, args.db = args.output, True, None
    args.reuse_calibration = False
    return asyncio.run(live_session(args))
