"""The app on a virtual sensor: simulated motion → Bumble link → bleak → SensorLink → the real
session → the screen. The user sees the calibration, the count reach the truth, the link."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable

import numpy as np
from textual.pilot import Pilot
from textual.widgets import Digits, Static

from hipsense.events import LinkUpdate
from hipsense.exercises import Leg
from hipsense.live.runner import StreamItem, session_events
from hipsense.session import Session
from hipsense.sim import Conditions, SimSession, plan_set, simulate
from hipsense.sources.ble import LinkStatus, SensorLink
from hipsense.tui import HipsenseApp
from hipsense.tui.widgets.status import LinkStatus as LinkStatusLine
from hipsense.virtual import ArraySource, VirtualRadio

ROLE = "right_thigh"


async def until_sent(link: SensorLink, samples: int) -> AsyncIterator[StreamItem]:
    """The link's stream until ``samples`` have arrived, then its final status."""
    received = 0
    async for item in link.stream():
        yield item
        if not isinstance(item, LinkStatus):
            received += len(item)
            if received >= samples:
                break
    yield link.status()


async def wait_for(pilot: Pilot[None], done: Callable[[], bool], timeout_s: float = 20.0) -> None:
    app = pilot.app
    assert isinstance(app, HipsenseApp)
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the app did not get there in time"
        await asyncio.sleep(0.02)
    app.refresh_views()
    await pilot.pause()


def measured(link: LinkUpdate | None) -> bool:
    return link is not None and link.rate_hz is not None


def status_line(app: HipsenseApp) -> str:
    return str(app.screen.query_one(LinkStatusLine).render())


def app_on(session: Session, items: AsyncIterator[StreamItem]) -> HipsenseApp:
    events = session_events(items, session)
    return HipsenseApp(events, session, sensors=[ROLE], exercise_id="swing-forward", leg="right")


async def test_virtual_sensor_set_is_counted_to_its_truth() -> None:
    sim = simulate(plan_set("swing-forward", Leg.RIGHT, 6, np.random.default_rng(3)), seed=3)
    truth_count = sum(1 for r in sim.reps if r.leg is Leg.RIGHT)
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, pacing="fast"
        )
        link = SensorLink(sensor.name, ROLE, backend=radio.bleak_backend, status_interval_s=0.05)
        async with link:
            session = Session("swing-forward", Leg.RIGHT, {ROLE: sim.rate_hz})
            app = app_on(session, until_sent(link, sim.t_s.size))
            async with app.run_test() as pilot:
                await wait_for(pilot, lambda: app.model.notice is not None)
                assert app.model.notice == "Sensor stream ended"
                assert app.screen.query_one("#rep-count", Digits).value == str(truth_count)
                summary = str(app.screen.query_one("#set-summary", Static).render())
                assert f"Right leg set: {truth_count} of 15 reps" in summary
                assert "● connected" in status_line(app)
                assert sensor.name in status_line(app)
                assert "loss 0.0%" in status_line(app)
    assert app.model.calibration[ROLE].phase == "done"


def lossy(rate_hz: float) -> SimSession:
    plan = plan_set("swing-forward", Leg.RIGHT, 1, np.random.default_rng(5))
    conditions = Conditions.clean().with_(lost_fraction=0.05, lost_burst=10)
    return simulate(plan, rate_hz=rate_hz, seed=5, conditions=conditions)


async def test_status_bar_shows_the_live_rate_and_loss() -> None:
    rate_hz = 200
    sim = lossy(rate_hz)
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=rate_hz, battery_pct=77
        )  # real time
        link = SensorLink(sensor.name, ROLE, backend=radio.bleak_backend, status_interval_s=0.5)
        async with link:
            session = Session("swing-forward", Leg.RIGHT, {ROLE: float(rate_hz)})
            app = app_on(session, link.stream())
            async with app.run_test() as pilot:
                await wait_for(pilot, lambda: link.counts().received_samples >= 1.5 * rate_hz)
                await wait_for(pilot, lambda: measured(app.model.links.get(ROLE)))
                line = status_line(app)
                shown = app.model.links[ROLE]
                assert "● connected" in line
                assert "battery 77%" in line
                rate = re.search(r"(\d+) Hz", line)
                assert rate is not None, line
                assert 0.7 * rate_hz < int(rate.group(1)) < 1.3 * rate_hz, line  # a loaded host
                assert shown.loss_pct > 0.0
                assert f"loss {shown.loss_pct:.1f}%" in line
                assert app.screen.query_one("#views").current == "calibration"  # type: ignore[attr-defined]
                title = str(app.screen.query_one("#cal-title", Static).render())
                assert title in ("Stand still", "3 slow forward swings")  # ~2 s in
