"""하천 생활환경기준 (환경정책기본법 시행령 별표1, 하천): the grade table as data.

Each criterion is a closed interval [lower, upper]; None means unbounded. A value's grade is
the best grade whose interval holds it. VI has no criterion in the law ("—", or "above V"), so
every value meets it. For SS the V criterion is "쓰레기 등이 떠 있지 않을 것", which is not a
number: SS above 100 mg/L therefore grades V, never VI.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES: tuple[str, ...] = ("Ia", "Ib", "II", "III", "IV", "V", "VI")
TARGET_GRADE = "Ib"  # 경상남도 plan target for 남지 (BOD and T-P), see field-notes


@dataclass(frozen=True)
class Criterion:
    parameter: str  # canonical column name of the water_quality contract
    grade: str
    lower: float | None  # value must be ≥ lower (DO, pH)
    upper: float | None  # value must be ≤ upper (BOD, COD, TOC, T-P, SS, pH)

    @property
    def rank(self) -> int:
        return GRADES.index(self.grade)


def _upper_limits(parameter: str, *limits: float | None) -> list[Criterion]:
    return [Criterion(parameter, grade, None, limit) for grade, limit in zip(GRADES, (*limits, None))]


def _lower_limits(parameter: str, *limits: float | None) -> list[Criterion]:
    return [Criterion(parameter, grade, limit, None) for grade, limit in zip(GRADES, (*limits, None))]


def _ph_ranges() -> list[Criterion]:
    good, fair = (6.5, 8.5), (6.0, 8.5)
    ranges = (good, good, good, good, fair, fair, (None, None))
    return [Criterion("ph", grade, low, high) for grade, (low, high) in zip(GRADES, ranges)]


STANDARDS: tuple[Criterion, ...] = (
    *_upper_limits("bod_mg_l", 1, 2, 3, 5, 8, 10),
    *_upper_limits("cod_mg_l", 2, 4, 5, 7, 9, 11),
    *_upper_limits("toc_mg_l", 2, 3, 4, 5, 6, 8),
    *_upper_limits("tp_mg_l", 0.02, 0.04, 0.1, 0.2, 0.3, 0.5),
    *_upper_limits("ss_mg_l", 25, 25, 25, 25, 100, None),
    *_lower_limits("do_mg_l", 7.5, 5.0, 5.0, 5.0, 2.0, 2.0),
    *_ph_ranges(),
)
GRADED_PARAMETERS: tuple[str, ...] = tuple(dict.fromkeys(c.parameter for c in STANDARDS))

# Annual means are judged as reported: BOD, COD, TOC, SS, DO and pH to 0.1, T-P to 0.001
# (the precision of 물환경정보시스템 and the 환경통계연감; e.g. 남지 2024 BOD 1.6, T-P 0.035).
REPORTING_DIGITS: dict[str, int] = {
    "bod_mg_l": 1, "cod_mg_l": 1, "toc_mg_l": 1, "tp_mg_l": 3, "ss_mg_l": 1, "do_mg_l": 1, "ph": 1,
}
# Averages of 0.1-step values land exactly on .x5 (e.g. 24.6 / 12); the nudge makes those ties
# round half up whatever the last floating-point bit of the sum is.
ROUNDING_NUDGE = 1e-9


def criterion(parameter: str, grade: str) -> Criterion:
    """The criterion of `grade` for `parameter` (e.g. the Ib limit for the 남지 gap)."""
    return next(c for c in STANDARDS if c.parameter == parameter and c.grade == grade)

