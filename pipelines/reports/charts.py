"""Bar charts as inline SVG for the HTML summary: no JavaScript, no fonts or images from anywhere.

The charts scale with the page (`viewBox`, width 100%), carry a `<title>` and an `aria-label` for screen
readers, and use the system's sans-serif font. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Final

WIDTH: Final = 760
ROW_HEIGHT: Final = 24
BAR_HEIGHT: Final = 16
LABEL_WIDTH: Final = 290
VALUE_WIDTH: Final = 110
MAX_LABEL_CHARS: Final = 44
FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

BLUE: Final = "#305496"
OUTCOME_COLOURS: Final = ("#2e7d32", "#f9a825", "#c62828")  # diterima, digabung, dikarantina
PADAN_COLOURS: Final = ("#2e7d32", "#7cb342", "#f9a825", "#c62828")
EXTRA_COLOURS: Final = ("#6d4c41", "#546e7a", "#8e24aa", "#00897b")


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _svg(title: str, height: int, body: list[str]) -> str:
    t = escape(title)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{t}" font-family="{FONT}" font-size="12">'
        f"<title>{t}</title>{''.join(body)}</svg>"
    )


def bar_chart(
    title: str,
    items: Sequence[tuple[str, float]],
    value_text: Callable[[float], str],
    *,
    colour: str = BLUE,
    colours: Sequence[str] | None = None,
) -> str:
    """One horizontal bar per (label, value), longest = full width; the value is written after the bar."""
    height = max(1, len(items)) * ROW_HEIGHT + 8
    top = max((v for _, v in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * ROW_HEIGHT
        w = max(0.0, value) / top * span
        fill = colours[i % len(colours)] if colours else colour
        body.append(
            f"<g><title>{escape(label)}: {escape(value_text(value))}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end" fill="#222">{escape(_label(label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" rx="2" fill="{fill}"/>'
            f'<text x="{LABEL_WIDTH + w + 6:.1f}" y="{y + 13}" fill="#222">{escape(value_text(value))}</text></g>'
        )
    if not items:
        body.append(f'<text x="{LABEL_WIDTH}" y="16" fill="#666">(tidak ada data)</text>')
    return _svg(title, height, body)


def stacked_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[tuple[str, str]],
    value_text: Callable[[float], str],
) -> str:
    """One horizontal bar per row, split into `series` (name, colour); bars are scaled to the largest
    row total, so both the sizes and the shares compare. A legend sits on top."""
    legend_height = 24
    height = legend_height + max(1, len(rows)) * ROW_HEIGHT + 8
    top = max((sum(v) for _, v in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    x = LABEL_WIDTH
    for name, colour in series:
        body.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="14" fill="#222">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    for i, (label, values) in enumerate(rows):
        y = legend_height + 4 + i * ROW_HEIGHT
        parts = [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end" fill="#222">{escape(_label(label))}</text>'
        ]
        left = float(LABEL_WIDTH)
        tip = "; ".join(f"{name}: {value_text(v)}" for (name, _), v in zip(series, values, strict=True))
        for (_, colour), value in zip(series, values, strict=True):
            w = max(0.0, value) / top * span
            if w > 0:
                parts.append(f'<rect x="{left:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>')
            left += w
        parts.append(f'<text x="{left + 6:.1f}" y="{y + 13}" fill="#222">{escape(value_text(sum(values)))}</text>')
        body.append(f"<g><title>{escape(label)}: {escape(tip)}</title>{''.join(parts)}</g>")
    if not rows:
        body.append(f'<text x="{LABEL_WIDTH}" y="{legend_height + 16}" fill="#666">(tidak ada data)</text>')
    return _svg(title, height, body)
