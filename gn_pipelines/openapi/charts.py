"""Server-side SVG charts for the portal: no script, no font or library from outside.

Each function takes plain rows (dicts) and returns an <svg> element as text.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

GRADE_COLOURS = {"Ia": "#1d6fb8", "Ib": "#3a9ad9", "II": "#4caf50", "III": "#c0ca33", "IV": "#f9a825",
                 "V": "#ef6c00", "VI": "#c62828"}
GRADE_ORDER = ("Ia", "Ib", "II", "III", "IV", "V", "VI")


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if value < 1 else f"{value:.1f}"


def series_against_target(title: str, points: Sequence[tuple[int, float | None]], target: float,
                          unit: str, *, width: int = 640, height: int = 240, css_class: str = "chart") -> str:
    """A yearly line with the target threshold as a dashed line; a year without a value is a gap."""
    known = [(year, value) for year, value in points if value is not None]
    left, right, top, bottom = 56, 16, 28, 32
    plot_w, plot_h = width - left - right, height - top - bottom
    if not known:
        return (f'<svg class="{css_class}" role="img" width="{width}" height="60" viewBox="0 0 {width} 60">'
                f'<title>{escape(title)}</title><text x="8" y="30">{escape(title)}: 자료 없음</text></svg>')
    years = [year for year, _ in points]
    first, last = min(years), max(years)
    top_value = max(max(v for _, v in known), target) * 1.15
    x = (lambda year: left + (plot_w * (year - first) / (last - first) if last > first else plot_w / 2))
    y = (lambda value: top + plot_h * (1 - value / top_value))
    parts = [f'<svg class="{css_class}" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)} ({escape(unit)})</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>']
    for fraction in (0, 0.25, 0.5, 0.75, 1.0):
        value = top_value * fraction
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end">'
                     f"{_number(value)}</text>")
    step = max(1, round((last - first) / 10))
    for year in range(first, last + 1, step):
        parts.append(f'<text x="{x(year):.1f}" y="{height - 12}" font-size="10" text-anchor="middle">{year}</text>')
    parts.append(f'<line class="target" x1="{left}" y1="{y(target):.1f}" x2="{left + plot_w}" y2="{y(target):.1f}" '
                 f'stroke="#c62828" stroke-dasharray="6 4"/>'
                 f'<text x="{left + plot_w}" y="{y(target) - 4:.1f}" font-size="10" fill="#c62828" '
                 f'text-anchor="end">목표 Ib ({_number(target)})</text>')
    segments, current = [], []
    for year, value in sorted(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{x(year):.1f},{y(value):.1f}")
    if current:
        segments.append(current)
    for segment in segments:
        parts.append(f'<polyline fill="none" stroke="#1d6fb8" stroke-width="2" points="{" ".join(segment)}"/>')
    for year, value in known:
        colour = "#c62828" if value > target else "#2e7d32"
        parts.append(f'<circle class="point" cx="{x(year):.1f}" cy="{y(value):.1f}" r="3.5" fill="{colour}">'
                     f"<title>{year}: {_number(value)} {escape(unit)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)


def _grid_head(title: str, rows: Sequence[str], columns: Sequence[str], cell_w: int, cell_h: int,
               label_w: int, top: int, bottom: int, css_class: str) -> tuple[list[str], int]:
    """The opening of a rows × columns grid chart: the svg element, its title and column labels."""
    width = label_w + cell_w * len(columns) + 10
    height = top + cell_h * len(rows) + bottom
    parts = [f'<svg class="{css_class}" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for j, column in enumerate(columns):
        parts.append(f'<text x="{label_w + j * cell_w + cell_w / 2}" y="{top - 6}" font-size="10" '
                     f'text-anchor="middle">{escape(column)}</text>')
    return parts, height


def _row_label(parts: list[str], row: str, index: int, cell_h: int, label_w: int, top: int) -> int:
    """Append a grid row's label; return the row's top y."""
    y = top + index * cell_h
    parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(row)}</text>')
    return y


def grade_matrix(title: str, rows: Sequence[str], columns: Sequence[str], grades: dict[tuple[str, str], str],
                 *, css_class: str = "chart") -> str:
    """Stations (rows) × years (columns), each cell coloured by its grade."""
    cell_w, cell_h, label_w, top = 44, 20, 150, 40
    parts, _ = _grid_head(title, rows, columns, cell_w, cell_h, label_w, top, 50, css_class)
    for i, row in enumerate(rows):
        y = _row_label(parts, row, i, cell_h, label_w, top)
        for j, column in enumerate(columns):
            grade = grades.get((row, column))
            fill = GRADE_COLOURS.get(grade or "", "#eeeeee")
            parts.append(f'<rect class="cell" x="{label_w + j * cell_w}" y="{y}" width="{cell_w - 2}" '
                         f'height="{cell_h - 2}" fill="{fill}"><title>{escape(row)} {escape(column)}: '
                         f'{escape(grade or "자료 없음")}</title></rect>')
            if grade:
                parts.append(f'<text x="{label_w + j * cell_w + cell_w / 2 - 1}" y="{y + 13}" font-size="10" '
                             f'text-anchor="middle" fill="#fff">{escape(grade)}</text>')
    legend_y = top + cell_h * len(rows) + 20
    for k, grade in enumerate(GRADE_ORDER):
        parts.append(f'<rect x="{label_w + k * 52}" y="{legend_y}" width="14" height="14" '
                     f'fill="{GRADE_COLOURS[grade]}"/><text x="{label_w + k * 52 + 18}" y="{legend_y + 11}" '
                     f'font-size="10">{grade}</text>')
    parts.append("</svg>")
    return "".join(parts)


def count_heatmap(title: str, rows: Sequence[str], columns: Sequence[str],
                  counts: dict[tuple[str, str], tuple[int, bool]], *, css_class: str = "chart") -> str:
    """시군 (rows) × month (columns) counts, darker for more; a cell with a suppressed part is marked."""
    cell_w, cell_h, label_w, top = 58, 20, 90, 40
    peak = max([count for count, _ in counts.values()] or [1]) or 1
    parts, height = _grid_head(title, rows, columns, cell_w, cell_h, label_w, top, 30, css_class)
    for i, row in enumerate(rows):
        y = _row_label(parts, row, i, cell_h, label_w, top)
        for j, column in enumerate(columns):
            count, partial = counts.get((row, column), (0, False))
            shade = 0.1 + 0.9 * count / peak
            label = f"{count:,}{'*' if partial else ''}"
            parts.append(f'<rect class="cell" x="{label_w + j * cell_w}" y="{y}" width="{cell_w - 2}" '
                         f'height="{cell_h - 2}" fill="#1d6fb8" fill-opacity="{shade:.2f}">'
                         f"<title>{escape(row)} {escape(column)}: {label}</title></rect>"
                         f'<text x="{label_w + j * cell_w + cell_w / 2 - 1}" y="{y + 13}" font-size="10" '
                         f'text-anchor="middle" fill="{"#fff" if shade > 0.5 else "#222"}">{label}</text>')
    parts.append(f'<text x="4" y="{height - 8}" font-size="10">* 5명 미만 등으로 억제된 칸이 있어 공개된 칸만 합산</text>')
    parts.append("</svg>")
    return "".join(parts)
