"""수질 측정 자료 (water quality): measurements at the 경남 Nakdong stations, from 48000 and the
시군 on the river, as per-row drops or the 물환경정보시스템 export; no personal data. Published as
cleaned measurements, annual grades by the 하천 생활환경기준 and the 남지 target."""

from gn_pipelines.contracts.published import (
    ANONYMOUS, STATISTICS, PortalListing, PublishedColumn, PublishedTable, described, everything_but,
)
from gn_pipelines.contracts.recipes import KEPT, Derived, Recipe, Release
from gn_pipelines.contracts.water_quality import CONTRACT
from gn_pipelines.datasets.model import Chart, Dataset, DerivedTables

_WATER_MEASURES = ("water_temp_c", "ph", "do_mg_l", "bod_mg_l", "cod_mg_l", "ss_mg_l", "tn_mg_l",
                   "tp_mg_l", "toc_mg_l", "total_coliform_100ml", "chlorophyll_a_mg_m3")

# Water quality holds no personal data: every column is kept as measured.
RECIPE = Recipe(
    "water_quality",
    per_drop=tuple(
        Derived(name, name, KEPT, (name,))
        for name in ("station_code", "station_name", "basin", "measured_on", *_WATER_MEASURES, *(f"{m}_below_detection" for m in _WATER_MEASURES),
                     *(f"{m}_detection_limit" for m in _WATER_MEASURES))),
    release=Release(text_columns=("station_name", "basin")),
    record_key=("station_code", "measured_on"),
)


_WATER_MEASURES_PUBLISHED: tuple[tuple[str, str, str], ...] = (
    ("water_temp_c", "수온(℃)", "water temperature (°C)"),
    ("ph", "수소이온농도(pH)", "pH"),
    ("do_mg_l", "용존산소 DO(mg/L)", "dissolved oxygen (mg/L)"),
    ("bod_mg_l", "생물화학적산소요구량 BOD(mg/L)", "biochemical oxygen demand (mg/L)"),
    ("cod_mg_l", "화학적산소요구량 COD(mg/L)", "chemical oxygen demand (mg/L)"),
    ("ss_mg_l", "부유물질 SS(mg/L)", "suspended solids (mg/L)"),
    ("tn_mg_l", "총질소 T-N(mg/L)", "total nitrogen (mg/L)"),
    ("tp_mg_l", "총인 T-P(mg/L)", "total phosphorus (mg/L)"),
    ("toc_mg_l", "총유기탄소 TOC(mg/L)", "total organic carbon (mg/L)"),
    ("total_coliform_100ml", "총대장균군(군수/100mL)", "total coliforms (per 100 mL)"),
    ("chlorophyll_a_mg_m3", "클로로필-a(mg/㎥)", "chlorophyll-a (mg/m³)"),
)
WATER_MEASURE_NAMES: tuple[str, ...] = tuple(m[0] for m in _WATER_MEASURES_PUBLISHED)


def _water_measure_columns() -> tuple[PublishedColumn, ...]:
    values = tuple(described(n, "DOUBLE", ko, en) for n, ko, en in _WATER_MEASURES_PUBLISHED)
    flags = tuple(described(f"{n}_below_detection", "BOOLEAN", f"{ko} 검출한계 미만 여부",
                     f"{en}: below the detection limit") for n, ko, en in _WATER_MEASURES_PUBLISHED)
    return values + flags


_STATION = (described("station_code", "VARCHAR", "측정소 코드(물환경정보시스템)", "station code (NIER)"),
            described("station_name", "VARCHAR", "측정소명", "station name"))

_MEASUREMENT_COLUMNS = (
    *_STATION,
    described("basin", "VARCHAR", "수계", "river basin"),
    described("provider_code", "VARCHAR", "제출 기관 코드", "code of the delivering provider"),
    described("measured_on", "DATE", "측정일", "date measured"),
    *_water_measure_columns(),
)

_GRADE_COLUMNS = (
    *_STATION,
    described("year", "INTEGER", "연도", "year"),
    described("parameter", "VARCHAR", "항목", "parameter"),
    described("annual_mean", "DOUBLE", "연평균(산술평균, 보고 자릿수로 반올림해 등급 판정: T-P 0.001, 그 밖 0.1)",
              "annual arithmetic mean, rounded to the reporting precision it is graded at (T-P 0.001, others 0.1)"),
    described("samples", "INTEGER", "측정 횟수", "samples"),
    described("below_detection_samples", "INTEGER", "검출한계 미만 측정 횟수", "samples below detection"),
    described("grade", "VARCHAR", "하천 생활환경기준 등급(Ia–VI)", "grade by the river living-environment standard (Ia–VI)"),
    described("enough_samples", "BOOLEAN", "등급 판정에 충분한 측정 횟수 여부", "whether the year has enough samples to grade"),
    described("note", "VARCHAR", "비고", "note"),
)

_NAMJI_COLUMNS = (
    described("year", "INTEGER", "연도", "year"),
    described("bod_mean_mg_l", "DOUBLE", "BOD 연평균(mg/L, 0.1 단위로 반올림해 판정)", "annual mean BOD (mg/L, rounded to 0.1 and graded so)"),
    described("bod_grade", "VARCHAR", "BOD 등급", "BOD grade"),
    described("tp_mean_mg_l", "DOUBLE", "T-P 연평균(mg/L, 0.001 단위로 반올림해 판정)", "annual mean T-P (mg/L, rounded to 0.001 and graded so)"),
    described("tp_grade", "VARCHAR", "T-P 등급", "T-P grade"),
    described("overall_grade", "VARCHAR", "종합 등급(BOD와 T-P 중 나쁜 등급)", "overall grade (worse of BOD and T-P)"),
    described("target_grade", "VARCHAR", "목표 등급", "target grade"),
    described("bod_gap_to_target_mg_l", "DOUBLE", "BOD 목표 대비 초과분(mg/L)", "BOD above the target threshold (mg/L)"),
    described("tp_gap_to_target_mg_l", "DOUBLE", "T-P 목표 대비 초과분(mg/L)", "T-P above the target threshold (mg/L)"),
    described("meets_target", "BOOLEAN", "목표 달성 여부", "whether the target is met"),
    described("samples", "INTEGER", "측정 횟수", "samples"),
)


WATER_QUALITY_MEASUREMENTS = PublishedTable(
        "water_quality_measurements", "하천 수질 측정값", "River water quality measurements",
        "측정소 × 측정일별 수질 항목 값(표준 단위)과 검출한계 미만 표시.",
        "Cleaned values per station and date in canonical units, with below-detection flags.",
        "one station × date", _MEASUREMENT_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        ANONYMOUS, provider_column="provider_code",
        selectable=everything_but(_MEASUREMENT_COLUMNS), filterable=everything_but(_MEASUREMENT_COLUMNS),
        groupable=("station_code", "station_name", "basin", "provider_code", "measured_on"),
        record_level_allowed=True,
        portal=PortalListing("환경 - 수질", ("수질", "하천", "측정소", "BOD", "T-P", "측정값")))

WATER_QUALITY_STATION_GRADES = PublishedTable(
        "water_quality_station_grades", "측정소별 연간 수질 등급", "Annual water quality grades per station",
        "측정소 × 연도 × 항목별 연평균과 하천 생활환경기준(환경정책기본법 시행령 별표1) 등급.",
        "Annual mean, samples and grade by the river living-environment standard per station, year and parameter.",
        "one station × year × parameter", _GRADE_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        STATISTICS, derived_from=("water_quality_measurements",),
        selectable=everything_but(_GRADE_COLUMNS), filterable=everything_but(_GRADE_COLUMNS),
        groupable=("station_code", "station_name", "year", "parameter", "grade", "enough_samples"),
        record_level_allowed=True,
        portal=PortalListing("환경 - 수질", ("수질", "하천", "생활환경기준", "등급", "측정소")))

NAKDONG_NAMJI_TARGET = PublishedTable(
        "nakdong_namji_target", "낙동강 남지 수질 목표 달성 현황", "Nakdong at 남지: progress to the target grade",
        "남지(2020A10) 연도별 BOD·T-P 연평균, 등급, 목표 등급(Ib) 및 목표 대비 차이.",
        "남지 (2020A10) annual BOD and T-P means, grades, the target grade (Ib) and the gap to it.",
        "one year", _NAMJI_COLUMNS, ("water_quality",),
        "개인정보 없음(환경 측정 자료).",
        STATISTICS, derived_from=("water_quality_measurements",),
        selectable=everything_but(_NAMJI_COLUMNS), filterable=everything_but(_NAMJI_COLUMNS),
        groupable=("year", "bod_grade", "tp_grade", "overall_grade", "meets_target"),
        record_level_allowed=True,
        portal=PortalListing("환경 - 수질", ("낙동강", "남지", "목표수질", "BOD", "T-P")))



def _build_water_tables(connection, source: str) -> None:
    from gn_pipelines.water.grading import build_water_tables  # pandas: only when publishing

    build_water_tables(connection, source)


def _render_namji_chart(connection, target):
    from gn_pipelines.water.chart import render_namji_chart  # matplotlib: only when publishing
    from gn_pipelines.water.grading import monthly_namji_series

    return render_namji_chart(monthly_namji_series(connection), target)


def _load_drawing_library() -> None:
    from gn_pipelines.water.chart import load_drawing_library

    load_drawing_library()


DATASET = Dataset(
    CONTRACT, RECIPE,
    derived=DerivedTables(
        (WATER_QUALITY_MEASUREMENTS, WATER_QUALITY_STATION_GRADES, NAKDONG_NAMJI_TARGET),
        build=_build_water_tables,
        description="Published water tables: 하천 생활환경기준 grades on annual means (see docs/architecture.md).",
        charts=(Chart("nakdong_namji_target", "nakdong_namji_bod_tp.png", "남지 월별 BOD·T-P와 수질등급 기준",
                      _render_namji_chart, prepare=_load_drawing_library),)),
)
