"""Turns a stream of sample batches and link statuses into session events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from hipsense.events import LinkUpdate, SessionEvent
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.sources.ble import LinkStatus

StreamItem = SampleBatch | LinkStatus


class BatchHook(Protocol):
    def __call__(self, session: Session, batch: SampleBatch) -> None: ...


def link_update(status: LinkStatus, recording: bool) -> LinkUpdate:
    return LinkUpdate(
        role=status.role,
        name=status.name,
        state=status.state,
        battery_pct=status.battery_pct,
        rate_hz=status.rate_hz or None,
        loss_pct=status.loss_pct,
        recording=recording,
    )


async def session_events(
    items: AsyncIterator[StreamItem],
    session: Session,
    *,
    before_batch: BatchHook | None = None,
    on_status: Callable[[LinkStatus], None] | None = None,
) -> AsyncIterator[SessionEvent]:
    """Feed every batch to ``session`` and yield what it says; statuses become LinkUpdates.

    ``before_batch`` lets a script (the demo's coach) act on the session at sample times.
    When the stream ends the running set is closed and reported.
    """
    async for item in items:
        if isinstance(item, LinkStatus):
            if on_status is not None:
                on_status(item)
            for event in session.drain():
                yield event
            yield link_update(item, session.recording)
            continue
        if before_batch is not None:
            before_batch(session, item)
        for event in session.feed(item):
            yield event
    for event in session.finish():
        yield event
