"""Small HTML readers for page tests: what a browser would see, without a browser."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from django.http import HttpResponse

# Inputs a person never fills in, so they need no label.
_UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[Control] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.depth_in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "label":
            self.depth_in_label += 1
            if "for" in values:
                self.label_for.add(values["for"])
        if tag in {"input", "select", "textarea"}:
            self.controls.append(Control(tag, values, self.depth_in_label > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth_in_label -= 1


def parse(response: HttpResponse) -> _Page:
    page = _Page()
    page.feed(response.content.decode())
    return page


def controls(response: HttpResponse) -> list[Control]:
    return parse(response).controls


def control(response: HttpResponse, name: str, value: str | None = None) -> Control:
    found = [
        c
        for c in controls(response)
        if c.name == name and (value is None or c.attrs.get("value") == value)
    ]
    assert len(found) == 1, f"expected one control {name}={value}, found {len(found)}"
    return found[0]


def unlabelled(response: HttpResponse) -> list[Control]:
    """Controls a screen reader could not name: no <label for=id> and not inside a <label>."""
    page = parse(response)
    return [
        c
        for c in page.controls
        if c.attrs.get("type", "text") not in _UNLABELLED_TYPES
        and not c.in_label
        and c.attrs.get("id") not in page.label_for
    ]


def described_by_ids(response: HttpResponse, control_: Control) -> list[str]:
    """The ids an input's aria-describedby points at, each checked to exist on the page."""
    ids = control_.attrs.get("aria-describedby", "").split()
    page = parse(response)
    missing = [i for i in ids if i not in page.ids]
    assert not missing, f"aria-describedby points at missing ids {missing}"
    return ids
