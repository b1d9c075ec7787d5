"""The 남지 chart is a real PNG, in Korean when a Hangul font exists, in English otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gn_pipelines.water.chart import render_namji_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def monthly_series(months: int = 24, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"month": pd.date_range("2024-01-01", periods=months, freq="MS"),
                         "bod_mg_l": rng.uniform(1.0, 2.6, months), "tp_mg_l": rng.uniform(0.02, 0.06, months),
                         "samples": 4, "below_detection_samples": 0})


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_MAGIC
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@pytest.mark.parametrize("korean", [None, False])
def test_chart_is_a_png_with_the_expected_size(tmp_path, korean):
    path = render_namji_chart(monthly_series(), tmp_path / "open" / "namji.png", korean=korean)
    assert path.exists() and path.stat().st_size > 20_000
    assert png_size(path) == (1100, 715)  # 10 × 6.5 in at 110 dpi


def test_gaps_and_an_empty_series_do_not_crash(tmp_path):
    gappy = monthly_series(12)
    gappy.loc[3:5, "tp_mg_l"] = np.nan
    gappy.loc[0, "bod_mg_l"] = np.nan
    assert png_size(render_namji_chart(gappy, tmp_path / "gappy.png"))[0] == 1100
    empty = monthly_series(0)
    assert png_size(render_namji_chart(empty, tmp_path / "empty.png"))[0] == 1100


def test_process_can_load_the_drawing_library_of_the_datasets_it_will_publish_ahead():
    """`prepare_charts` imports matplotlib for a dataset drawing a chart (the water release), and
    nothing for one that draws none (in a fresh interpreter: this one may have it already)."""
    import subprocess
    import sys

    probe = ("import sys\nfrom gn_pipelines.publish.builds import prepare_charts\n"
             "prepare_charts({sys.argv[1]})\nprint('matplotlib.pyplot' in sys.modules)")
    for dataset, loaded in (("civil_complaints", "False"), ("water_quality", "True")):
        answer = subprocess.run([sys.executable, "-c", probe, dataset], capture_output=True, text=True, timeout=120)
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.strip() == loaded, dataset
