"""Hand-made drops for tests that need exact, readable rows (synth covers volume and realism)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from gn_pipelines.datasets import get_contract

COMPLAINT_ROW = {
    "접수번호": "2025-48740-000001", "접수일시": "2025-03-01 14:05", "시군구코드": "48740",
    "민원인성명": "홍길동", "주민등록번호": "900101-1234567", "휴대전화번호": "010-2345-6789",
    "주소": "경상남도 창녕군 남지읍 동포로 12", "민원분야": "환경·위생", "민원제목": "하천 악취",
    "민원내용": "남지읍 하천에서 악취가 납니다.", "처리부서": "환경과", "처리상태": "처리완료",
    "처리완료일": "2025-03-03",
}
WELFARE_ROW = {
    "기준년월": "2025-03", "수급자번호": "R-0001", "성명": "김영희", "주민등록번호": "450302-2345678",
    "시군구코드": "48170", "읍면동": "상대동", "주소": "경상남도 진주시 상대동 123-4", "가구원수": "2",
    "급여종류": "생계급여", "월지급액": "713,102", "장애여부": "N", "선정일자": "2019-05-02",
}
WATER_ROW = {
    "측정소코드": "2020A10", "측정소명": "남지", "수계": "낙동강", "측정일자": "2025-03-04",
    "수온(℃)": "8.2", "수소이온농도(pH)": "7.9", "용존산소(DO)(mg/L)": "11.2",
    "생물화학적산소요구량(BOD)(mg/L)": "1.8", "화학적산소요구량(COD)(mg/L)": "5.1",
    "부유물질(SS)(mg/L)": "6.4", "총질소(T-N)(mg/L)": "2.9", "총인(T-P)(mg/L)": "0.035",
    "총유기탄소(TOC)(mg/L)": "3.4", "총대장균군(총대장균군수/100mL)": "1,200",
    "클로로필-a(mg/㎥)": "<0.1",
}
LICENCE_ROW = {  # the contract's own table (a 시군's delivery; LOCALDATA's layout has no 시군구코드)
    "개방서비스명": "숙박업", "개방서비스ID": "03_11_03_P", "개방자치단체코드": "5310000", "시군구코드": "48170",
    "관리번호": "5310000-214-2019-00001", "인허가일자": "20190222", "인허가취소일자": "",
    "영업상태구분코드": "01", "영업상태명": "영업/정상", "폐업일자": "", "휴업시작일자": "", "휴업종료일자": "",
    "재개업일자": "", "소재지전화": "055 760 9600", "소재지면적": "4875",
    "소재지전체주소": "경상남도 진주시 동성동 212-11", "사업장명": "골든튤립호텔남강",
    "최종수정시점": "20210607162452", "데이터갱신일자": "2021-06-09", "업태구분명": "숙박업(생활)",
    "좌표정보(X)": "298885.61", "좌표정보(Y)": "188589.63",
}
SAMPLE_ROWS = {"civil_complaints": COMPLAINT_ROW, "welfare_recipients": WELFARE_ROW, "water_quality": WATER_ROW,
               "business_licences": LICENCE_ROW}
KEY_COLUMN = {"civil_complaints": "접수번호", "welfare_recipients": "수급자번호", "water_quality": "측정일자",
              "business_licences": "관리번호"}


def sample_rows(dataset: str, count: int, **overrides: str) -> list[dict[str, str]]:
    """`count` valid rows of `dataset`, each with its own key and, where rows are people, its own
    person (RRN and phone differ after the birth date and sex; k counts people, not records)."""
    rows = []
    for i in range(count):
        row = dict(SAMPLE_ROWS[dataset], **overrides)
        key = KEY_COLUMN[dataset]
        row[key] = f"2025-03-{i + 1:02d}" if dataset == "water_quality" else f"{row[key][:-4]}{i + 1:04d}"
        if "주민등록번호" in row and "주민등록번호" not in overrides:
            rrn = row["주민등록번호"]
            row["주민등록번호"] = f"{rrn[:8]}{(int(rrn[8:]) + i) % 1_000_000:06d}"
        if "휴대전화번호" in row and "휴대전화번호" not in overrides:
            phone = row["휴대전화번호"]
            row["휴대전화번호"] = f"{phone[:-4]}{(int(phone[-4:]) + i) % 10_000:04d}"
        rows.append(row)
    return rows


def csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, object]]) -> bytes:
    """An xlsx of `rows`, each value kept as its Python type (a datetime is an Excel date)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def drop(landing: Path, relative: str, content: bytes, *, mtime: float | None = None) -> Path:
    """Deliver a file as providers do: write under a temporary name, then rename."""
    target = landing / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(content)
    os.replace(partial, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def headers_of(dataset: str) -> list[str]:
    return [column.header for column in get_contract(dataset).columns]


def land_many_tiny_files(landing: Path, count: int) -> list[str]:
    """`count` empty files spread over every provider × dataset folder, created with os.open
    (100k in a few seconds); returns their relative paths."""
    from gn_pipelines.datasets import CONTRACTS
    from gn_pipelines.reference import PROVIDERS_BY_CODE

    folders = [f"{provider}/{dataset}" for dataset, contract in CONTRACTS.items()
               for provider in sorted(contract.providers or PROVIDERS_BY_CODE)]
    for folder in folders:
        (landing / folder).mkdir(parents=True, exist_ok=True)
    relatives = [f"{folders[number % len(folders)]}/{number:07d}.csv" for number in range(count)]
    for relative in relatives:
        os.close(os.open(landing / relative, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644))
    return relatives
