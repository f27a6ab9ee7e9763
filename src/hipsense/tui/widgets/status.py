"""The status bar: one line per sensor with link state, battery, rate, loss and recording."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from hipsense.events import LinkUpdate
from hipsense.tui.text import link_line


class LinkStatus(Static):
    link: reactive[LinkUpdate | None] = reactive(None)

    def __init__(self, role: str) -> None:
        super().__init__(classes="link-status")
        self.role = role

    def render(self) -> str:
        return link_line(self.role, self.link)


class StatusBar(Vertical):
    def __init__(self, roles: list[str]) -> None:
        super().__init__(id="status")
        self.roles = roles

    def compose(self) -> ComposeResult:
        for role in self.roles:
            yield LinkStatus(role)

    def show(self, links: dict[str, LinkUpdate]) -> None:
        for status in self.query(LinkStatus):
            status.link = links.get(status.role)
