"""Reading a rendered report back with the standard library's ``html.parser``: the overview table's rows,
the ids of the sections, the SVG text (axis labels), the elements' classes."""

from __future__ import annotations

from html.parser import HTMLParser


class Page(HTMLParser):
    """Collects the overview table (rows of cell texts and links), section ids, SVG texts and all text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.overview: list[dict[str, object]] = []
        self.section_ids: list[str] = []
        self.svg_texts: list[str] = []
        self.classes: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self._in_overview = False
        self._row: dict[str, object] | None = None
        self._cell: list[str] | None = None
        self._svg_depth = 0
        self._in_svg_text = False
        self._caption: list[str] | None = None
        self.overview_caption = ""
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("class"):
            self.classes.extend((a["class"] or "").split())
        if tag == "table" and a.get("id") == "overview":
            self._in_overview = True
        elif tag == "section" and a.get("id"):
            self.section_ids.append(a["id"] or "")
        elif tag == "svg":
            self._svg_depth += 1
        elif tag == "text" and self._svg_depth:
            self._in_svg_text = True
            self.svg_texts.append("")
        if not self._in_overview:
            return
        if tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._row = {"cells": [], "links": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None:
            self._row["links"].append(a.get("href"))  # type: ignore[attr-defined]

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg_depth -= 1
        elif tag == "text":
            self._in_svg_text = False
        if not self._in_overview:
            return
        if tag == "caption" and self._caption is not None:
            self.overview_caption = "".join(self._caption)
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row["cells"].append("".join(self._cell).strip())  # type: ignore[attr-defined]
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.overview.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_overview = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._in_svg_text:
            self.svg_texts[-1] += data

    def overview_rows(self) -> list[dict[str, object]]:
        """The body rows (header row left out): ``cells`` = check, verdict, key figure, expected, test."""
        return [r for r in self.overview if r["cells"] and r["cells"][0] != "check"]  # type: ignore[index]

    def row(self, check: str) -> dict[str, object]:
        found = [r for r in self.overview_rows() if r["cells"][0] == check]  # type: ignore[index]
        assert len(found) == 1, f"{check}: {len(found)} overview rows in {self.overview_rows()}"
        return found[0]
