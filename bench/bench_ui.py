"""Live app benchmark: is the UI ever in the way of the data?

Two virtual sensors play simulated forward-swing sets (one per thigh) in real time over the
virtual radio, through SensorLink -> merge_streams -> Session -> the app, headless at 100x30.
Measured: samples sent vs fed to the session (and the links' overflow and loss counters),
frames drawn per second (the app's redraws from its model, and Textual's screen updates),
screen latency (a batch's arrival to the frame that shows it), and event-loop lag (how late a
10 ms timer fires). The same pipeline without the app gives the baseline lag.

Run: .venv/bin/python bench/bench_ui.py [--seconds 20] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hipsense.events import AngleUpdate, SessionEvent
from hipsense.exercises import Leg
from hipsense.live.runner import session_events
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.sim import plan_set, simulate
from hipsense.sources.ble import SensorLink, merge_streams
from hipsense.tui import HipsenseApp
from hipsense.tui.screens.main import MainScreen
from hipsense.virtual import ArraySource, VirtualRadio, VirtualSensor

TICK_S = 0.010
MAX_FPS = 30.0
SIZE = (100, 30)


@dataclass
class Probe:
    """What the run measured; the hooks below fill it in."""

    fed: int = 0
    events: int = 0
    lag_ms: list[float] = field(default_factory=list)
    screen_ms: list[float] = field(default_factory=list)
    redraws: int = 0
    screen_updates: int = 0
    last_arrival_s: float = 0.0
    unseen_arrival_s: float | None = None  # the oldest angles not yet drawn

    def before_batch(self, session: Session, batch: SampleBatch) -> None:
        self.fed += len(batch)
        self.last_arrival_s = float(batch.meta.get("arrival_s", time.monotonic()))  # type: ignore[arg-type]

    async def watch(self, events: AsyncIterator[SessionEvent]) -> AsyncIterator[SessionEvent]:
        """Pass events on; note when angles (from the batch just fed) reach the app."""
        async for event in events:
            self.events += 1
            if isinstance(event, AngleUpdate) and self.unseen_arrival_s is None:
                self.unseen_arrival_s = self.last_arrival_s
            yield event

    def drawn(self) -> None:
        self.redraws += 1
        if self.unseen_arrival_s is not None:
            self.screen_ms.append((time.monotonic() - self.unseen_arrival_s) * 1e3)
            self.unseen_arrival_s = None


async def loop_lag(probe: Probe) -> None:
    """How late a periodic timer fires: the wait every other task imposes on the loop."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        probe.lag_ms.append((loop.time() - due) * 1e3)


@contextlib.contextmanager
def counting_frames(probe: Probe) -> Iterator[None]:
    """Count the app's redraws (model -> widgets) and Textual's screen updates."""
    show_angles, display = MainScreen.show_angles, HipsenseApp._display

    def redraw(screen: MainScreen, model: Any) -> bool:
        probe.drawn()
        return show_angles(screen, model)

    def update(app: HipsenseApp, screen: Any, renderable: Any) -> None:
        probe.screen_updates += renderable is not None
        display(app, screen, renderable)

    MainScreen.show_angles = redraw  # type: ignore[method-assign,assignment]
    HipsenseApp._display = update  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        MainScreen.show_angles = show_angles  # type: ignore[method-assign]
        HipsenseApp._display = display  # type: ignore[method-assign]


async def add_sensors(radio: VirtualRadio, rate_hz: int) -> dict[str, VirtualSensor]:
    sensors = {}
    for i, leg in enumerate((Leg.RIGHT, Leg.LEFT)):
        plan = plan_set("swing-forward", leg, 12, np.random.default_rng(20 + i))
        sim = simulate(plan, rate_hz=rate_hz, seed=20 + i)
        sensors[f"{leg.value}_thigh"] = await radio.add_sensor(
            f"hipsense-U{i:03X}", ArraySource.from_session(sim), info=sim.info, rate_hz=rate_hz
        )
    return sensors


async def drain(events: AsyncIterator[SessionEvent]) -> None:
    async for _ in events:
        pass


async def run(seconds: float, rate_hz: int, with_app: bool) -> dict[str, float]:
    probe = Probe()
    async with VirtualRadio() as radio, contextlib.AsyncExitStack() as stack:
        sensors = await add_sensors(radio, rate_hz)
        origin = time.monotonic()
        links = [
            await stack.enter_async_context(
                SensorLink(s.name, role, backend=radio.bleak_backend, time_origin_s=origin)
            )
            for role, s in sensors.items()
        ]
        session = Session("swing-forward", Leg.RIGHT, dict.fromkeys(sensors, float(rate_hz)))
        items = merge_streams(*links)
        events = probe.watch(session_events(items, session, before_batch=probe.before_batch))
        if with_app:
            app = HipsenseApp(events, session, sensors=list(sensors), mode="live")
            with counting_frames(probe):
                async with app.run_test(size=SIZE):
                    lag = asyncio.create_task(loop_lag(probe))  # from a mounted app on
                    started = time.monotonic()
                    await asyncio.sleep(seconds)
                    for sensor in sensors.values():
                        sensor.stop_streaming()
                    await asyncio.sleep(0.5)  # what is in flight arrives
                    elapsed = time.monotonic() - started
        else:
            consumer = asyncio.create_task(drain(events))
            lag = asyncio.create_task(loop_lag(probe))
            started = time.monotonic()
            await asyncio.sleep(seconds)
            for sensor in sensors.values():
                sensor.stop_streaming()
            await asyncio.sleep(0.5)
            elapsed = time.monotonic() - started
            consumer.cancel()
        lag.cancel()
        statuses = [link.status() for link in links]
    return {
        "sent": sum(s.samples_sent for s in sensors.values()),
        "fed": probe.fed,
        "overflow": sum(s.overflow_count for s in statuses),
        "lost": sum(s.lost_samples for s in statuses),
        "redraw_fps": probe.redraws / elapsed,
        "screen_fps": probe.screen_updates / elapsed,
        "screen_p50_ms": _pct(probe.screen_ms, 50),
        "screen_p99_ms": _pct(probe.screen_ms, 99),
        "lag_p50_ms": _pct(probe.lag_ms, 50),
        "lag_p99_ms": _pct(probe.lag_ms, 99),
        "lag_max_ms": max(probe.lag_ms, default=float("nan")),
    }


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=200)
    args = parser.parse_args()
    print(
        f"2 virtual sensors x {args.rate} Hz, real time, {args.seconds:.0f} s,"
        f" app headless at {SIZE[0]}x{SIZE[1]}"
    )
    print(
        "| consumer | sent | fed to session | overflow | lost on link | redraws/s |"
        " screen updates/s | arrival -> frame p50 / p99 ms | loop lag p50 / p99 / max ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for with_app in (True, False):
        r = asyncio.run(run(args.seconds, args.rate, with_app))
        kept = r["fed"] == r["sent"] and r["overflow"] == 0
        verdicts.append(kept and (not with_app or r["screen_fps"] <= MAX_FPS))
        name = "session + app" if with_app else "session only"
        frames = "—" if not with_app else f"{r['redraw_fps']:.1f}"
        screen = "—" if not with_app else f"{r['screen_fps']:.1f}"
        latency = "—" if not with_app else f"{r['screen_p50_ms']:.0f} / {r['screen_p99_ms']:.0f}"
        print(
            f"| {name} | {r['sent']:,.0f} | {r['fed']:,.0f} | {r['overflow']:.0f} |"
            f" {r['lost']:.0f} | {frames} | {screen} | {latency} |"
            f" {r['lag_p50_ms']:.1f} / {r['lag_p99_ms']:.1f} / {r['lag_max_ms']:.1f} |"
        )
    ok = "every sample reached the session, frames <= 30/s" if all(verdicts) else "FAILED"
    print(f"\n{ok}")


if __name__ == "__main__":
    main()
