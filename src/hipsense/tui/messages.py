"""Messages the event consumer posts to the app (dataclasses, handled on the UI side)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from hipsense.events import SessionEvent


@dataclass
class SessionEventReceived(Message):
    """A low-rate session event (angles bypass messages: they only extend a trace)."""

    event: SessionEvent


@dataclass
class EventsEnded(Message):
    """The event source is exhausted (end of a replay) or failed with ``error``."""

    error: str | None = None
