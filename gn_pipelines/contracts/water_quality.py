"""수질 측정 자료: one row per station and date, from 48000 and the 시군 on the Nakdong."""

from gn_pipelines.contracts.layouts import CodeLookup, WideByPeriodLayout
from gn_pipelines.contracts.model import (
    Column, ColumnType as T, DatasetContract, FileBudget, PrivacyClass as P, QualityRule, RuleKind, Severity,
)
from gn_pipelines.reference.providers import NAKDONG_SIGUN_CODES, PROVINCE_CODE


# A month-level value (the 물환경정보시스템 export, the tributary workbook) is the station's
# measurement for the month, dated to its 15th: the day is unknown, and the middle keeps every
# value inside its own month and year, so it is graded like a daily value of that month.
MONTHLY_VALUE_DAY = 15

# The table export of 물환경정보시스템 (water.nier.go.kr), as the analysis center downloads it
# (a real one: ../shared/data/real/nier_wq_download_hangang_tributaries_2025_cp949.csv).
NIER_TABLE_EXPORT = WideByPeriodLayout(
    name="nier_table_export",
    title="물환경정보시스템 table export",
    identifying_headers=("구분(1)", "구분(2)", "구분(3)", "구분(4)", "위치"),
    period_pattern=r"(\d{4})\.(\d{2})",
    period_column="measured_on",
    period_day=MONTHLY_VALUE_DAY,
    copied=(("station_name", "구분(4)"), ("basin", "구분(1)")),
    code=CodeLookup(
        target="station_code", reference="water_stations", code_column="station_code",
        match=(("구분(1)", "basin"), ("구분(4)", "station_name")),
        key_from=("구분(1)", "구분(2)", "구분(3)", "구분(4)"), key_prefix="NM-",
        unknown="station(s) outside the province's station registry (reference/data/water_stations.csv)"),
)


def _measure(header: str, name: str, *aliases: str, low: float | None = 0.0,
             high: float | None = None) -> Column:
    # One impossible reading (a 74 ℃ water temperature in the real 1992-2016 series) must not
    # discard the other measurements of that station and day: out-of-range values are reported
    # (WARN) and left out of the means by the grading, not quarantined with their row.
    return Column(header, name, T.DECIMAL, P.NON_PERSONAL, aliases=aliases,
                  min_value=low, max_value=high, below_detection=True, range_severity=Severity.WARN)


MEASURES = (
    _measure("수온(℃)", "water_temp_c", low=-5, high=40),
    _measure("수소이온농도(pH)", "ph", "pH", "수소이온농도 pH", low=0, high=14),
    _measure("용존산소(DO)(mg/L)", "do_mg_l", "DO", "용존산소 DO"),
    _measure("생물화학적산소요구량(BOD)(mg/L)", "bod_mg_l", "BOD", "생물화학적산소요구량 BOD"),
    _measure("화학적산소요구량(COD)(mg/L)", "cod_mg_l", "COD", "화학적산소요구량 COD"),
    _measure("부유물질(SS)(mg/L)", "ss_mg_l", "SS", "부유물질 SS"),
    _measure("총질소(T-N)(mg/L)", "tn_mg_l", "T-N", "TN", "총질소 T-N"),
    _measure("총인(T-P)(mg/L)", "tp_mg_l", "T-P", "TP", "총인 T-P"),
    _measure("총유기탄소(TOC)(mg/L)", "toc_mg_l", "TOC", "총유기탄소 TOC"),
    _measure("총대장균군(총대장균군수/100mL)", "total_coliform_100ml", "총대장균군수"),
    _measure("클로로필-a(mg/㎥)", "chlorophyll_a_mg_m3", "클로로필a", "Chl-a",
             "클로로필a Chlorophyll-a", "Chlorophyll-a"),
)
# A value, or a reading below the detection limit, in at least one parameter
_MEASURED_SQL = " OR ".join(f"{m.name} IS NOT NULL OR {m.name}_below_detection" for m in MEASURES)

CONTRACT = DatasetContract(
    name="water_quality",
    title_ko="수질 측정 자료",
    title_en="Water quality measurements",
    period_column="measured_on",
    cadence="weekly",
    # the 물환경정보시스템 export spreads months × parameters across columns
    budget=FileBudget(max_bytes=128 << 20, max_rows=1_000_000, max_columns=5_000, max_xlsx_cells=20_000_000),
    providers=frozenset({PROVINCE_CODE, *NAKDONG_SIGUN_CODES}),
    provider_code_column=None,  # rows carry a station, not a 시군 code
    unique_within_provider=(("station_code", "measured_on"),),
    columns=(
        Column("측정소코드", "station_code", T.TEXT, P.NON_PERSONAL, required=True),
        Column("측정소명", "station_name", T.TEXT, P.NON_PERSONAL, required=True),
        Column("수계", "basin", T.TEXT, P.NON_PERSONAL),
        Column("측정일자", "measured_on", T.DATE, P.NON_PERSONAL, required=True),
        *MEASURES,
    ),
    layouts=(NIER_TABLE_EXPORT,),
    rules=(
        QualityRule(
            # a row of no value (no parameter column read, or every cell empty) would replace the
            # values of the same station and day delivered before
            "measures_a_parameter", RuleKind.HOLDS, tuple(m.name for m in MEASURES),
            "a row names a station and a day, and a value (or a reading below the detection limit) "
            "in at least one parameter", sql=_MEASURED_SQL),
        QualityRule(
            # 2020A10 with 물금's name counted another station's samples in 남지's target
            "station_name_of_its_code", RuleKind.HOLDS, ("station_code", "station_name"),
            "측정소명 is the registry's name of 측정소코드 (reference/data/water_stations.csv, spaces "
            "aside): a code and a name of two stations leave the row's station unknown",
            sql="NOT list_contains($registered_station_codes, station_code) OR list_contains("
                "$registered_stations, station_code || ' ' || replace(station_name, ' ', ''))"),
        QualityRule(
            "measured_on_since_1990", RuleKind.HOLDS, ("measured_on",),
            "측정일자 is not before 1990: earlier dates are keying errors in this network",
            sql="measured_on >= DATE '1990-01-01'"),
        QualityRule(
            "tp_not_above_tn", RuleKind.HOLDS, ("tp_mg_l", "tn_mg_l"),
            "총인 above 총질소 is almost never seen in river water: swapped columns are likely",
            severity=Severity.WARN, sql="tp_mg_l <= tn_mg_l"),
        QualityRule(
            "do_plausible", RuleKind.BETWEEN, ("do_mg_l",),
            "용존산소 above 20 mg/L exceeds supersaturation seen in rivers: likely a unit error",
            severity=Severity.WARN, max_value=20),
    ),
)
