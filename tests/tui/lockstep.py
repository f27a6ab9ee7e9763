"""Drive the app with the real session: a stream fed in lockstep with the app's reactions.

Live, the app handles a batch's events within milliseconds, long before the sensor sends the
next one; a replay at full speed would outrun it, so flows (SLR test, warm-up) would act on the
session late. ``Lockstep`` gives the app the next item only once it has handled everything the
previous one caused, and only while the test's condition is not yet met. Long blocks (a
replay at full speed) are cut into live-sized batches, so the user sees every step a sensor
would show.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from textual.pilot import Pilot

from hipsense.live.runner import StreamItem, session_events
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.session.pipeline import live_sized
from hipsense.tui import HipsenseApp

WAIT_S = 30.0


class Lockstep:
    """Wraps a stream of batches; ``run_until`` lets items through until a condition holds."""

    def __init__(self, items: AsyncIterator[StreamItem]) -> None:
        self._items = items
        self.app: HipsenseApp | None = None
        self._stop: Callable[[], bool] = lambda: True
        self._go = asyncio.Event()
        self._held = asyncio.Event()
        self.ended = False
        self.rates_hz: dict[str, float] = {}

    def app_for(self, session: Session, **options: object) -> HipsenseApp:
        """The app on ``session``'s events from this stream (options as HipsenseApp's)."""
        self.rates_hz = session.rates_hz
        events = session_events(self.stream(), session)
        self.app = HipsenseApp(
            events,
            session,
            sensors=list(session.rates_hz),
            exercise_id=session.exercise.id,
            leg=session.leg.value,
            **options,  # type: ignore[arg-type]
        )
        return self.app

    async def stream(self) -> AsyncIterator[StreamItem]:
        async for item in self._items:
            for piece in self._pieces(item):
                await self.handled()
                while self._stop():
                    self._go.clear()
                    self._held.set()
                    await self._go.wait()
                yield piece
        await self.handled()
        self.ended = True
        self._held.set()

    def _pieces(self, item: StreamItem) -> list[StreamItem]:
        if isinstance(item, SampleBatch) and item.sensor_id in self.rates_hz:
            return list(live_sized(item, self.rates_hz[item.sensor_id]))
        return [item]

    async def handled(self) -> None:
        """Until the app has handled every message posted so far (a round trip of its queue)."""
        assert self.app is not None
        done = asyncio.Event()
        if self.app.call_later(done.set):
            await asyncio.wait_for(done.wait(), WAIT_S)

    async def run_until(self, pilot: Pilot[None], stop: Callable[[], bool]) -> None:
        """Feed items until ``stop()`` is true (checked between items) or the stream ends,
        then draw a frame."""
        self._stop = stop
        self._held.clear()
        self._go.set()
        await asyncio.wait_for(self._held.wait(), WAIT_S)
        await self.frame(pilot)

    async def run_to_end(self, pilot: Pilot[None]) -> None:
        await self.run_until(pilot, lambda: False)
        for _ in range(3):  # the end of the stream and the session's last events
            await pilot.pause()
            await self.handled()
        await self.frame(pilot)

    async def frame(self, pilot: Pilot[None]) -> None:
        assert self.app is not None
        await self.handled()
        self.app.refresh_views()
        await pilot.pause()
