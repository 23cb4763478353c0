"""Read a study report's tables back: every cell with its key and exact value.

A small :mod:`html.parser` reader written for the tests (independent of the report's
renderer): ``{data-table: [row, ...]}``, each row ``{data-key: value}`` with numbers
from ``data-value`` (None when empty) and texts from the cell's text. Images are listed
with their ``src``.
"""

from __future__ import annotations

from html.parser import HTMLParser


class ReportReader(HTMLParser):
    """Collects tables, rows and cells, and image sources."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self.images: list[str] = []
        self.links: list[str] = []
        self._table = None
        self._row = None
        self._cell = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = {}
        elif tag == "td" and self._row is not None and "data-key" in attrs:
            self._cell = attrs
            self._text = []
        elif tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag in ("a", "link", "script") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))

    def handle_data(self, data):
        if self._cell is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            key = self._cell["data-key"]
            if "data-value" in self._cell:
                raw = self._cell["data-value"]
                value = None if raw == "" else (raw == "true" if raw in ("true", "false")
                                                else float(raw))
            else:
                value = "".join(self._text)
            self._row[key] = value
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def read_report(html_text: str) -> ReportReader:
    """Parse a report page."""
    reader = ReportReader()
    reader.feed(html_text)
    return reader


def key_values(rows: list[dict]) -> dict:
    """The cells of a key / value table (several pairs a row) as one dict."""
    out = {}
    for row in rows:
        out.update(row)
    return out
