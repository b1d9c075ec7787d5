"""The free-text scrubber: surface forms, decoys, own values, DuckDB path, residual scan, corpus."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from gn_pipelines.privacy.scrubber import (
    count_residual_identifiers, find_identifiers, placeholder_counts, register_scrubber,
    scrub_text,
)
from gn_pipelines.synth.civil_complaints import complaint_table
from gn_pipelines_tests.conftest import REPO_ROOT

SURFACE_FORMS = [
    ("rrn", "주민번호 960101-1234567이야"), ("rrn", "번호는 9601011234567"),
    ("rrn", "주민번호 ９６０１０１－１２３４５６７"), ("rrn", "앞자리 780412-1******"),
    ("foreign_rrn", "외국인 900215-5123456"), ("phone", "연락처 010-1234-5678로"),
    ("phone", "01012345678"), ("phone", "+82 10 1234 5678"), ("phone", "010.1234.5678"),
    ("phone", "010-****-1234"), ("phone", "(055)234-5678"), ("phone", "전화 752-1234"),
    ("email", "kim_88@daum.net로"), ("card", "4111 1111 1111 1111"),
    ("card", "카드 1234-5678-9012-3456"), ("account", "농협 계좌 351-1234-5678-93"),
    ("passport", "여권 M123A4567"), ("driver_licence", "면허 11-12-345678-90"),
    ("plate", "12가3456 차량"), ("plate", "경남 123호 4567"),
    ("address", "푸르지오아파트 109동 803호"), ("address", "창녕8길 48 앞"),
    ("address", "사창리 494-8"), ("birth_date", "생년월일 1985.03.05"),
    ("name", "민원인 김현지씨께"), ("name", "성명: 남궁민수"), ("name", "(박수빈님)"),
    ("name", "저는 창녕읍에 사는 이영순입니다"),
]
DECOYS = ["과태료 1,500,000원", "국도 14호선", "제3조 2항", "3월 5일에", "남지 2020A10",
          "1588-1234", "2025년", "도로 2곳", "10시 30분", "지방도 1022호선", "고객님", "주무관님",
          "상품 바코드 8801234567893", "15조 2000억원"]


# Forms found by the blind corpus (bench/scrub_corpus/blind_cases.jsonl): text → expected output.
BLIND_FORMS = [
    ("주민번호 앞자리 850315 뒷자리 1234567 입니다",
     "주민번호 앞자리 [주민등록번호] 뒷자리 [주민등록번호] 입니다"),
    ("주민등록번호 앞자리는 790822이고 뒷자리는 2345671입니다",
     "주민등록번호 앞자리는 [주민등록번호]이고 뒷자리는 [주민등록번호]입니다"),
    ("외국인등록번호 앞자리 900215 뒷자리 5123456",
     "외국인등록번호 앞자리 [외국인등록번호] 뒷자리 [외국인등록번호]"),
    ("주민번호 820707ㅡ2233445 맞나요", "주민번호 [주민등록번호] 맞나요"),
    ("주민번호 팔오공삼일오 일이삼사오육칠 로", "주민번호 [주민등록번호] 로"),
    ("제 번호는 공일공-1234-5678 입니다", "제 번호는 [전화번호] 입니다"),
    ("연락처 공일공 구팔칠육 오사삼이 로", "연락처 [전화번호] 로"),
    ("핸드폰 공1공-4444-5555 로", "핸드폰 [전화번호] 로"),
    ("휴대폰 010 - 3333 - 4444 입니다", "휴대폰 [전화번호] 입니다"),
    ("민원인 이철수(010-2222-3333) 방문", "민원인 [이름]([전화번호]) 방문"),
    ("담당 공무원 박민수 주무관님께", "담당 공무원 [이름] 주무관님께"),
    ("김영희 어르신이 혼자 사십니다", "[이름] 어르신이 혼자 사십니다"),
    ("남궁민호 주무관 덕분에", "[이름] 주무관 덕분에"),
    ("이정호과장님이 오셨습니다", "[이름]과장님이 오셨습니다"),
    ("어머니 김말순 명의로", "어머니 [이름] 명의로"),
    ("남편 박성철이 대신 방문", "남편 [이름]이 대신 방문"),
    ("딸 정하은(12세)이", "딸 [이름](12세)이"),
    ("저 장보람인데요", "저 [이름]인데요"),
    ("신청인: 백승호 / 대리인: 유나래", "신청인: [이름] / 대리인: [이름]"),
    ("메일 hong123 @ naver.com 입니다", "메일 [이메일] 입니다"),
    ("이메일 kimys77(at)daum.net 으로", "이메일 [이메일] 으로"),
    ("답변은 parkjs[at]gmail.com 으로", "답변은 [이메일] 으로"),
    ("메일 lee.minsu82 골뱅이 nate.com 로", "메일 [이메일] 로"),
    ("이메일 주소 : sunny.kang@gmail. com", "이메일 주소 : [이메일]"),
    ("계좌: 기업은행 010-1234-5678-90", "계좌: 기업은행 [계좌번호]"),
]
# Words next to the new anchors that are not identifiers.
BLIND_DECOYS = [
    "접수번호 2025-0312-001 건", "제2024-123호 공고", "공영주차장 앞", "남편 차량이 견인되었습니다",
    "어머니 명의로 된 집", "안전 팀장님께", "경로당 할머니들이", "이웃집 할머니가", "고객님 선생님 모두",
    "도시계획과 과장님", "사이사이 공사 중", "이삼일 걸린다고", "좌석 앞자리 12개", "차량 뒷번호 1234",
    "주차장 앞 대리점 사장님", "방과후 선생님", "저 주민인데요", "공공시설 1577-1234",
    "1985년생 동갑", "주민번호 앞자리 6자리", "85세 이상 어르신 3명",
]


def _corpus():
    path = REPO_ROOT / "bench" / "scrub_corpus" / "corpus.py"
    spec = importlib.util.spec_from_file_location("scrub_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file loads
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind,text", SURFACE_FORMS)
def test_each_kind_is_caught_in_its_surface_forms(kind, text):
    result = scrub_text(text)
    assert result.found.get(kind) == 1, result
    assert not any(c.isdigit() for c in result.text.replace("2020", "")) or kind == "name"


@pytest.mark.parametrize("text", DECOYS)
def test_decoys_survive(text):
    assert scrub_text(text).text == text


def test_own_name_phone_and_address_are_replaced_anywhere():
    text = "김영수 드림. 연락 0 1 0 - 5 5 5 5 - 1 2 1 2, 경상남도 창녕군 창녕읍 교상리 672 거주"
    result = scrub_text(text, own_name="김영수", own_phone="010-5555-1212",
                        own_address="경상남도 창녕군 창녕읍 교상리 672")
    assert result.text == "[이름] 드림. 연락 [전화번호], [주소] 거주"
    assert result.found == {"name": 1, "phone": 1, "address": 1}


def test_find_identifiers_gives_spans_of_the_original_text():
    text = "전화 ０１０-1234-5678 김철수씨"
    assert [(f.kind, text[f.start:f.end]) for f in find_identifiers(text)] == [
        ("phone", "０１０-1234-5678"), ("name", "김철수")]


@pytest.mark.parametrize("text,expected", BLIND_FORMS)
def test_blind_corpus_forms(text, expected):
    assert scrub_text(text).text == expected


@pytest.mark.parametrize("text", BLIND_DECOYS)
def test_blind_corpus_decoys_survive(text):
    assert scrub_text(text).text == text


def test_residual_scan_sees_the_blind_forms():
    """The RE2 pre-filter lets every new form through to the detector."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest($texts) AS body",
                {"texts": [text for text, _ in BLIND_FORMS]})
    residual = count_residual_identifiers(con, "t", ["body"])
    expected = sum((Counter(scrub_text(text).found) for text, _ in BLIND_FORMS), Counter())
    assert residual == {k: expected.get(k, 0) for k in residual}
    assert sum(residual.values()) >= len(BLIND_FORMS)


@pytest.fixture(scope="module")
def complaints() -> pa.Table:
    return complaint_table("48740", date(2025, 3, 3), 3000, 11)


def test_duckdb_path_equals_python_path(complaints):
    con = duckdb.connect()
    con.register("src", complaints)
    register_scrubber(con)
    rows = con.execute("SELECT title, body, complainant_name, phone, address, "
                       "scrub(title, complainant_name, phone, address), "
                       "scrub(body, complainant_name, phone, address) FROM src").fetchall()
    for title, body, name, phone, address, title_out, body_out in rows:
        own = {"own_name": name, "own_phone": phone, "own_address": address}
        assert (title_out, body_out) == (scrub_text(title, **own).text, scrub_text(body, **own).text)


def test_replacement_counts_and_residual_scan(complaints):
    con = duckdb.connect()
    con.register("src", complaints)
    register_scrubber(con)
    con.execute("CREATE TABLE deid AS SELECT receipt_no, scrub(title, complainant_name, phone, "
                "address) AS title, scrub(body, complainant_name, phone, address) AS body FROM src")
    counts = placeholder_counts(con, "deid", ["title", "body"])
    planted = sum(1 for k in complaints["personal_data_in_text"].to_pylist() if k)
    assert sum(counts.values()) >= planted > 0
    assert count_residual_identifiers(con, "deid", ["title", "body"]) == dict.fromkeys(counts, 0)
    con.execute("UPDATE deid SET body = body || ' 연락처 010-2345-6789, 주민 900101-1234567' "
                "WHERE receipt_no = (SELECT min(receipt_no) FROM deid)")
    residual = count_residual_identifiers(con, "deid", ["title", "body"])
    assert (residual["phone"], residual["rrn"], sum(residual.values())) == (1, 1, 2)


def test_corpus_meets_the_recall_targets():
    corpus = _corpus()
    structured = ("rrn", "foreign_rrn", "phone", "email", "card", "account", "passport",
                  "driver_licence", "plate")
    for cases in (corpus.hard_cases(), corpus.blind_cases(), corpus.generated_cases(rows=1500)):
        score = corpus.score(cases, lambda c: scrub_text(c.text).text)
        for kind in structured:
            assert score.recall(kind) in (None, 1.0), (kind, score.misses)
        assert score.recall("name") >= 0.95, score.misses
        assert score.decoy_survival >= 0.95, score.destroyed
    assert len(corpus.hard_cases()) >= 120
