"""The `fields` system parameter: partial responses ("items(id,status),nextPageToken")."""

from __future__ import annotations

from typing import Any

from .errors import bad_request

# A selection: field name -> sub-selection (None = the whole value).
Selection = dict[str, "Selection | None"]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text.replace(" ", "")
        self.pos = 0

    def error(self) -> Exception:
        return bad_request(
            f"Invalid field selection {self.text}", reason="invalidParameter", location="fields"
        )

    def parse(self) -> Selection:
        sel = self.selection()
        if self.pos != len(self.text):
            raise self.error()
        return sel

    def selection(self) -> Selection:
        sel: Selection = {}
        while True:
            self.path(sel)
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                continue
            return sel

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",/()":
            self.pos += 1
        if start == self.pos:
            raise self.error()
        return self.text[start : self.pos]

    def path(self, sel: Selection) -> None:
        name = self.name()
        if self.pos < len(self.text) and self.text[self.pos] == "/":
            self.pos += 1
            sub = sel.get(name)
            if name in sel and sub is None:
                sub = {}  # already whole; keep whole
                self.path(sub)
                return
            if sub is None:
                sub = {}
                sel[name] = sub
            self.path(sub)
        elif self.pos < len(self.text) and self.text[self.pos] == "(":
            self.pos += 1
            inner = self.selection()
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise self.error()
            self.pos += 1
            existing = sel.get(name)
            if name in sel and existing is None:
                return
            if existing is not None:
                existing.update(inner)
            else:
                sel[name] = inner
        else:
            sel[name] = None


def parse_fields(text: str) -> Selection:
    return _Parser(text).parse()


def apply_fields(value: Any, sel: Selection | None) -> Any:
    if sel is None:
        return value
    if isinstance(value, list):
        return [apply_fields(v, sel) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in sel:
        return {k: apply_fields(v, sel.get(k)) for k, v in value.items()}
    return {k: apply_fields(value[k], sub) for k, sub in sel.items() if k in value}
