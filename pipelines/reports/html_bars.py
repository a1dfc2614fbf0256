"""Bar charts for the HTML summary as plain HTML and CSS: no JavaScript, no SVG text to measure.

A label is text in a grid cell, so it wraps instead of being cut, whatever its length, the screen's width
or the font the officer's browser has; the bar is a block whose width is its share of the longest. Each
chart is a `<figure>` labelled with its title for screen readers, and prints in colour.
The styles (`CSS`) go into the page once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Final

BLUE: Final = "#305496"
OUTCOME_COLOURS: Final = ("#2e7d32", "#f9a825", "#c62828")  # diterima, digabung, dikarantina
PADAN_COLOURS: Final = ("#2e7d32", "#7cb342", "#f9a825", "#c62828")
EXTRA_COLOURS: Final = ("#6d4c41", "#546e7a", "#8e24aa", "#00897b")

CSS: Final = """
figure.bars{margin:12px 0;padding:0}
.bar{display:grid;grid-template-columns:minmax(9em,30%) 1fr minmax(6em,max-content);gap:2px 10px;
align-items:center;padding:2px 0}.bar .label{overflow-wrap:anywhere}.bar .value{white-space:nowrap}
.bar .track{display:flex;height:16px;background:#eef2f8;border-radius:2px;overflow:hidden}
.bar .fill{height:100%}.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0 0 6px;padding:0;list-style:none}
.legend .swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px}
.bars,.legend{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media (max-width:600px){.bar{grid-template-columns:1fr max-content}.bar .track{grid-column:1/-1;grid-row:2}}
"""


def _fill(share: float, colour: str, tip: str | None = None) -> str:
    title = f' title="{escape(tip)}"' if tip else ""
    return f'<span class="fill" style="width:{100 * share:.2f}%;background:{colour}"{title}></span>'


def _row(label: str, fills: str, value: str) -> str:
    return (
        f'<div class="bar"><span class="label">{escape(label)}</span><span class="track">{fills}</span>'
        f'<span class="value">{escape(value)}</span></div>'
    )


def _figure(title: str, body: str) -> str:
    # The section's heading already says what the chart shows: the title is for screen readers.
    return f'<figure class="bars" role="group" aria-label="{escape(title)}">{body}</figure>'


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    value_text: Callable[[float], str],
    *,
    colour: str = BLUE,
    colours: Sequence[str] | None = None,
) -> str:
    """One bar per (label, value), the longest as wide as the track; the value beside it."""
    top = max((v for _, v in items), default=0) or 1
    rows = [
        _row(label, _fill(max(0.0, value) / top, colours[i % len(colours)] if colours else colour), value_text(value))
        for i, (label, value) in enumerate(items)
    ]
    return _figure(title, "".join(rows) or '<p class="note">(tidak ada data)</p>')


def stacked_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[tuple[str, str]],
    value_text: Callable[[float], str],
) -> str:
    """One bar per row split into `series` (name, colour), scaled to the largest row total so that both
    sizes and shares compare; the legend above, each part's count in its tooltip."""
    top = max((sum(v) for _, v in rows), default=0) or 1
    legend = "".join(f'<li><span class="swatch" style="background:{c}"></span>{escape(n)}</li>' for n, c in series)
    body = [f'<ul class="legend">{legend}</ul>']
    for label, values in rows:
        fills = "".join(
            _fill(v / top, colour, f"{name}: {value_text(v)}")
            for (name, colour), v in zip(series, values, strict=True)
            if v > 0
        )
        body.append(_row(label, fills, value_text(sum(values))))
    if not rows:
        body.append('<p class="note">(tidak ada data)</p>')
    return _figure(title, "".join(body))
