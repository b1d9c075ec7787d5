"""인허가 업소: monthly LOCALDATA snapshots, shaped like the real standard file
(../shared/data/real/gyeongnam_lodging_localdata_cp949.csv): CP949, every field quoted, an empty
last column, 개방자치단체코드 as the 7-digit 행정기관코드, three date formats, EPSG:5174 coordinates.

A licence's life depends only on the seed, its 시군 and its number, so 48000's province-wide
file and a 시군's own agree, and a later month's snapshot continues an earlier one (closures
happen, new licences appear). Some sole proprietors trade under their own name (김영희민박).
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from gn_pipelines.reference.bundled import bundled_reference_file
from gn_pipelines.reference.coordinates import reproject
from gn_pipelines.reference.providers import PROVINCE_CODE, SIGUN_CODES
from gn_pipelines.synth.model import SynthFile

DATASET = "business_licences"
DEFAULT_LICENCES_PER_SIGUN = 40
FIRST_LICENCE = date(1975, 1, 1)

# LOCALDATA's common columns (the first 28 of every business type), one of the 숙박업 extras and
# the untitled last column every line ends with.
HEADERS = (
    "번호", "개방서비스명", "개방서비스ID", "개방자치단체코드", "관리번호", "인허가일자", "인허가취소일자",
    "영업상태구분코드", "영업상태명", "상세영업상태코드", "상세영업상태명", "폐업일자", "휴업시작일자",
    "휴업종료일자", "재개업일자", "소재지전화", "소재지면적", "소재지우편번호", "소재지전체주소",
    "도로명전체주소", "도로명우편번호", "사업장명", "최종수정시점", "데이터갱신구분", "데이터갱신일자",
    "업태구분명", "좌표정보(X)", "좌표정보(Y)", "위생업태명", "",
)


@dataclass(frozen=True)
class Service:
    name: str  # 개방서비스명
    service_id: str
    code: str  # the business-type part of 관리번호
    types: tuple[str, ...]  # 업태구분명
    suffixes: tuple[str, ...]  # how its businesses are named
    share: float


SERVICES = (
    Service("숙박업", "03_11_03_P", "214", ("여관업", "숙박업(생활)", "일반호텔"), ("모텔", "호텔", "여관", "민박"), 0.3),
    Service("일반음식점", "07_24_04_P", "101", ("한식", "분식", "중국식", "경양식"), ("식당", "분식", "반점", "국밥"), 0.5),
    Service("미용업", "05_18_01_P", "208", ("일반미용업", "네일미용업"), ("헤어", "미용실", "네일"), 0.2),
)
# 시군 centres (WGS84, approximate): licences are scattered a few km around them.
CENTRES = {
    "48120": (128.68, 35.23), "48170": (128.11, 35.18), "48220": (128.43, 34.85), "48240": (128.06, 35.00),
    "48250": (128.88, 35.23), "48270": (128.75, 35.50), "48310": (128.62, 34.88), "48330": (129.04, 35.34),
    "48720": (128.26, 35.32), "48730": (128.41, 35.27), "48740": (128.49, 35.54), "48820": (128.32, 34.97),
    "48840": (127.89, 34.84), "48850": (127.75, 35.07), "48860": (127.87, 35.42), "48870": (127.72, 35.52),
    "48880": (127.91, 35.69), "48890": (128.17, 35.57),
}
DONG = {"48120": ("창원시 의창구", "북면"), "48170": ("진주시", "평거동"), "48220": ("통영시", "광도면"),
        "48240": ("사천시", "사천읍"), "48250": ("김해시", "진영읍"), "48270": ("밀양시", "삼랑진읍"),
        "48310": ("거제시", "고현동"), "48330": ("양산시", "물금읍"), "48720": ("의령군", "의령읍"),
        "48730": ("함안군", "가야읍"), "48740": ("창녕군", "남지읍"), "48820": ("고성군", "고성읍"),
        "48840": ("남해군", "남해읍"), "48850": ("하동군", "하동읍"), "48860": ("산청군", "산청읍"),
        "48870": ("함양군", "함양읍"), "48880": ("거창군", "거창읍"), "48890": ("합천군", "합천읍")}
SURNAMES = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임")
GIVEN = ("영희", "민수", "서연", "지훈", "순자", "정호", "미경", "동현", "은주", "상철")
OWN_NAME_SHARE = 0.25  # sole proprietors trading under their own name
CLOSED_SHARE, SUSPENDED_SHARE = 0.18, 0.03


@lru_cache(maxsize=1)
def agency_codes() -> dict[str, str]:
    """시군 code → 행정기관코드, from the crosswalk the platform reads them back with."""
    with bundled_reference_file("admin_agency_codes_gyeongnam").open(encoding="utf-8") as handle:
        return {row["sigungu_code"]: row["agency_code"] for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class Licence:
    sigungu: str
    number: int
    service: Service
    business_type: str
    licensed_on: date
    closed_on: date | None
    suspended_from: date | None
    name: str
    area_m2: float
    lon: float
    lat: float


def _licences(sigungu: str, count: int, seed: int) -> list[Licence]:
    rng = np.random.default_rng([seed, zlib.crc32(f"{DATASET}:{sigungu}".encode())])
    span = (date(2025, 12, 31) - FIRST_LICENCE).days
    shares = np.array([s.share for s in SERVICES])
    licences = []
    for number in range(1, count + 1):
        service = SERVICES[rng.choice(len(SERVICES), p=shares / shares.sum())]
        licensed = FIRST_LICENCE + timedelta(days=int(span * rng.random() ** 0.7))
        closed = licensed + timedelta(days=int(rng.integers(200, 9000))) if rng.random() < CLOSED_SHARE else None
        suspended = licensed + timedelta(days=int(rng.integers(100, 3000))) if rng.random() < SUSPENDED_SHARE else None
        suffix = str(rng.choice(service.suffixes))
        own = rng.random() < OWN_NAME_SHARE
        name = (f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{suffix}" if own
                else f"{'가나다라마바사아자차'[number % 10]}{'동서남북중'[number % 5]}{suffix}")
        lon, lat = CENTRES[sigungu]
        licences.append(Licence(sigungu, number, service, str(rng.choice(service.types)), licensed, closed,
                                suspended, name, round(float(rng.uniform(20, 900)), 2),
                                lon + float(rng.normal(0, 0.03)), lat + float(rng.normal(0, 0.03))))
    return licences


def _row(licence: Licence, as_of: date, position: int, x: float | None, y: float | None) -> list[str]:
    closed = licence.closed_on if licence.closed_on and licence.closed_on <= as_of else None
    suspended = licence.suspended_from if licence.suspended_from and licence.suspended_from <= as_of and not closed else None
    status = ("03", "폐업", "02", "폐업") if closed else ("02", "휴업", "03", "휴업") if suspended else ("01", "영업/정상", "01", "영업")
    changed = max(d for d in (licence.licensed_on, closed, suspended) if d)
    modified = datetime.combine(changed, time(9)) + timedelta(minutes=licence.number % 480)
    agency = agency_codes()[licence.sigungu]
    place, dong = DONG[licence.sigungu]
    return [
        str(position), licence.service.name, licence.service.service_id, agency,
        # serials from 90001: a range no real licence uses, so a synthetic file never updates a real one
        f"{agency}-{licence.service.code}-{licence.licensed_on.year}-{90000 + licence.number:05d}",
        f"{licence.licensed_on:%Y%m%d}", "", status[0], status[1], status[2], status[3],
        f"{closed:%Y%m%d}" if closed else "", f"{suspended:%Y%m%d}" if suspended else "", "", "",
        f"055 {700 + licence.number % 99:03d} {licence.number:04d}" if licence.number % 3 else "",
        f"{licence.area_m2}", "", f"경상남도 {place} {dong} {100 + licence.number}-{licence.number % 7 + 1}",
        f"경상남도 {place} 중앙로{licence.number}번길 {licence.number % 40 + 1} ({dong})" if licence.number % 4 else "",
        "", licence.name, f"{modified:%Y%m%d%H%M%S}", "U", f"{changed + timedelta(days=2):%Y-%m-%d}",
        licence.business_type, "" if x is None else f"{x:.6f}", "" if y is None else f"{y:.6f}",
        licence.business_type, "",
    ]


def write_business_licences_drop(path: Path, *, provider: str, month: date, seed: int,
                                 licences_per_sigun: int | None = None) -> SynthFile:
    """The LOCALDATA snapshot at the end of `month`: every licence granted by then in the
    provider's 시군 (all 18 for 48000), in its state on that day."""
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    siguns = SIGUN_CODES if provider == PROVINCE_CODE else (provider,)
    count = licences_per_sigun or DEFAULT_LICENCES_PER_SIGUN
    alive = [licence for sigungu in siguns for licence in _licences(sigungu, count, seed)
             if licence.licensed_on <= month_end]
    # LOCALDATA delivers EPSG:5174; one licence in twelve has no coordinates
    xs, ys = reproject([l.lon for l in alive], [l.lat for l in alive], "EPSG:4326", "EPSG:5174")
    rows = [_row(licence, month_end, i + 1, None if licence.number % 12 == 0 else float(x),
                 None if licence.number % 12 == 0 else float(y))
            for i, (licence, x, y) in enumerate(zip(alive, xs, ys))]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="cp949", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return SynthFile(path=path, dataset=DATASET, provider=provider, rows=len(rows))


def licence_file_name(month: date) -> str:
    return f"localdata_{month:%Y%m}.csv"
