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
    worn_on: reactive[str | None] = reactive(None)  # where a lone sensor is now, e.g. left_thigh

    def __init__(self, role: str, *, replay: bool = False) -> None:
        super().__init__(classes="link-status")
        self.role = role
        self.replay = replay

    def render(self) -> str:
        return link_line(self.worn_on or self.role, self.link, replay=self.replay)


class StatusBar(Vertical):
    """One line per sensor; a sensor the app was not told about gets a line when it reports."""

    def __init__(self, roles: list[str], *, replay: bool = False) -> None:
        super().__init__(id="status")
        self.roles = list(roles)
        self.replay = replay

    def compose(self) -> ComposeResult:
        for role in self.roles:
            yield LinkStatus(role, replay=self.replay)

    def show(self, links: dict[str, LinkUpdate], worn_on: str | None = None) -> None:
        """``worn_on``: the thigh a single sensor is on now (it moves with the leg key)."""
        for role in sorted(links.keys() - set(self.roles)):
            self.roles.append(role)
            self.mount(LinkStatus(role, replay=self.replay))
        lone = len(self.roles) == 1
        for status in self.query(LinkStatus):
            status.link = links.get(status.role)
            status.worn_on = worn_on if lone else None
