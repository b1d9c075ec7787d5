"""The 남지 chart: monthly BOD and T-P against the 하천 생활환경기준 thresholds, Ib (the target)
highlighted. matplotlib is imported inside the function (Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gn_pipelines.water.standards import GRADES, STANDARDS, TARGET_GRADE

# Fonts that carry Hangul on Linux, macOS and Windows, in order of preference.
KOREAN_FONTS = ("NanumGothic", "NanumBarunGothic", "Noto Sans CJK KR", "Noto Sans KR",
                "Malgun Gothic", "AppleGothic", "UnDotum", "NanumSquareRound")
LABELS = {
    True: {"title": "남지 (2020A10) 월별 수질과 하천 생활환경기준", "bod": "BOD (mg/L)",
           "tp": "총인 T-P (mg/L)", "month": "월", "target": "목표 Ib", "grade": "{} 등급"},
    False: {"title": "Namji (2020A10) monthly water quality vs river standards", "bod": "BOD (mg/L)",
            "tp": "Total phosphorus T-P (mg/L)", "month": "Month", "target": "target Ib", "grade": "grade {}"},
}


def _register_bundled_font(font_manager) -> None:
    """Register NanumGothic from the koreanize-matplotlib package (a dependency: it ships the
    font files), so the labels are Korean whatever fonts the host has. The module itself is not
    imported: importing it changes matplotlib's global settings."""
    import importlib.util

    spec = importlib.util.find_spec("koreanize_matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        font = Path(folder) / "fonts" / "NanumGothic.ttf"
        if font.is_file() and font.name not in {Path(f.fname).name for f in font_manager.fontManager.ttflist}:
            font_manager.fontManager.addfont(str(font))


def korean_font() -> str | None:
    """The name of a font with Hangul, or None (then the chart is labelled in English)."""
    from matplotlib import font_manager

    _register_bundled_font(font_manager)
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def _thresholds(parameter: str) -> list[tuple[str, float]]:
    return [(c.grade, c.upper) for c in STANDARDS
            if c.parameter == parameter and c.upper is not None and c.grade != GRADES[-1]]


def _panel(axes, monthly: pd.DataFrame, column: str, parameter: str, label: str, text: dict) -> None:
    series = monthly.dropna(subset=[column])
    axes.plot(series["month"], series[column], marker="o", markersize=3, color="black", linewidth=1)
    top = max([float(series[column].max()) if len(series) else 0.0] + [0.0])
    for grade, limit in _thresholds(parameter):
        if limit > top * 1.6 and grade not in (TARGET_GRADE, GRADES[GRADES.index(TARGET_GRADE) + 1]):
            continue  # keep the scale readable: thresholds far above the data (beyond II) are left out
        target = grade == TARGET_GRADE
        axes.axhline(limit, color="tab:red" if target else "tab:gray", linestyle="-" if target else "--",
                     linewidth=2.0 if target else 0.8)
        axes.annotate(text["target"] if target else text["grade"].format(grade), (1.0, limit),
                      xycoords=("axes fraction", "data"), fontsize=8, va="bottom", ha="right",
                      color="tab:red" if target else "tab:gray")
    axes.axhspan(0, _target_limit(parameter), color="tab:green", alpha=0.08)
    axes.set_ylabel(label)
    axes.set_ylim(bottom=0)


def _target_limit(parameter: str) -> float:
    return next(c.upper for c in STANDARDS if c.parameter == parameter and c.grade == TARGET_GRADE)


def load_drawing_library():
    """matplotlib's pyplot on the Agg backend (no display needed), imported: 0.3–0.5 s the first time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def render_namji_chart(monthly: pd.DataFrame, path: Path, *, korean: bool | None = None) -> Path:
    """Draw 남지 monthly BOD and T-P (columns month, bod_mg_l, tp_mg_l) to a PNG at `path`."""
    plt = load_drawing_library()

    font = korean_font() if korean is not False else None
    text = LABELS[font is not None]
    monthly = monthly.assign(month=pd.to_datetime(monthly["month"])).sort_values("month")
    with plt.rc_context({"font.family": font} if font else {}):
        figure, (bod_axes, tp_axes) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
        _panel(bod_axes, monthly, "bod_mg_l", "bod_mg_l", text["bod"], text)
        _panel(tp_axes, monthly, "tp_mg_l", "tp_mg_l", text["tp"], text)
        tp_axes.set_xlabel(text["month"])
        figure.suptitle(text["title"])
        figure.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=110)
        plt.close(figure)
    return path
