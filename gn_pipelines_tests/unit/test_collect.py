"""collect_drop against real files and real DuckDB, without Dagster."""

import datetime as dt
import json

import duckdb
import pytest

from gn_pipelines.datasets import get_contract
from gn_pipelines.ingest.collect import collect_drop
from gn_pipelines_tests.drops import csv_bytes, drop, sample_rows, xlsx_bytes

COLLECTED_AT = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def collect(zones, dataset, payload, provider="48740", name="drop.csv"):
    path = zones.scratch / name
    path.write_bytes(payload)
    return collect_drop(path, contract=get_contract(dataset), provider_code=provider,
                        source_file=f"{provider}/{dataset}/{name}", content_sha256="0" * 64,
                        zones=zones, collected_at=COLLECTED_AT)


def rows_of(path, columns="*"):
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{path}') ORDER BY source_row_number").fetchall()


def test_timestamps_dates_null_tokens_and_lineage(zones):
    rows = sample_rows("civil_complaints", 4)
    rows[1]["접수일시"] = "2025.03.01 14:05:09"
    rows[2]["접수일시"] = "20250301140509"
    rows[3].update({"휴대전화번호": "-", "주민등록번호": "NULL", "처리완료일": "", "처리상태": "접수"})
    outcome = collect(zones, "civil_complaints", csv_bytes(rows))
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("collected", 4, 0)
    got = rows_of(outcome.collected_path, "received_at, phone, resident_reg_no, completed_on, "
                                          "provider_code, source_row_number, content_sha256")
    assert [r[0] for r in got] == [dt.datetime(2025, 3, 1, 14, 5), dt.datetime(2025, 3, 1, 14, 5, 9),
                                   dt.datetime(2025, 3, 1, 14, 5, 9), dt.datetime(2025, 3, 1, 14, 5)]
    assert got[3][1:4] == (None, None, None)
    assert got[0][3] == dt.date(2025, 3, 3)
    assert [r[5] for r in got] == [2, 3, 4, 5]  # spreadsheet rows: the header is row 1
    assert {r[4] for r in got} == {"48740"} and got[0][6] == "0" * 64


def test_midnight_written_as_24_00_is_the_next_day(zones):
    rows = sample_rows("civil_complaints", 3)
    rows[0]["접수일시"] = "2025-03-31 24:00"
    rows[1]["접수일시"] = "20250301240000"
    rows[2]["접수일시"] = "2025-03-01 24:30"  # not a time
    outcome = collect(zones, "civil_complaints", csv_bytes(rows))
    assert rows_of(outcome.collected_path, "received_at") == [
        (dt.datetime(2025, 4, 1, 0, 0),), (dt.datetime(2025, 3, 2, 0, 0),)]
    assert outcome.rejections_by_reason == {"invalid_timestamp:received_at": 1}


def test_unparseable_cells_and_other_sigungu_become_row_rejections_with_reasons(zones):
    rows = sample_rows("civil_complaints", 5)
    rows[1]["접수일시"] = "2025-13-45"
    rows[2]["시군구코드"] = "48170"
    rows[3]["처리완료일"] = "어제"
    outcome = collect(zones, "civil_complaints", csv_bytes(rows))
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_rejected) == (5, 2, 3)
    rejected = rows_of(outcome.rejected_rows_path, "source_row_number, reason, reason_codes, raw_values")
    assert [r[0] for r in rejected] == [3, 4, 5]
    assert rejected[0][1] == "접수일시: '2025-13-45' is not a date and time such as 2025-03-01 14:05"
    assert rejected[1][1] == "시군구코드 48170 is not the provider's own code (48740 창녕군)"
    assert rejected[2][2] == ["invalid_date:completed_on"]
    assert '"민원인성명":"홍길동"' in rejected[0][3]  # the engineer sees the row as delivered
    assert outcome.rejections_by_reason == {
        "invalid_timestamp:received_at": 1, "other_provider_code:sigungu_code": 1, "invalid_date:completed_on": 1}


def test_a_title_above_the_header_is_named_in_the_reason(zones):
    payload = "수질 측정 결과 (2025년 3월)\r\n\r\n".encode() + csv_bytes(sample_rows("water_quality", 2))
    outcome = collect(zones, "water_quality", payload, provider="48000")
    assert outcome.status == "rejected"
    assert outcome.reason.startswith("required headers missing for water_quality: 측정소코드")
    assert outcome.reason.endswith(". They are in row 3: the header must be the file's first row (delete the 2 "
                                   "row(s) above it, e.g. a title)"), outcome.reason


def test_dates_in_digits_of_another_length_are_rejected_not_guessed(zones):
    # strptime read 2025113 as 2025-11-03, where 2025-01-13 is as likely
    rows = sample_rows("civil_complaints", 4)
    rows[1]["처리완료일"] = "2025113"
    rows[2]["접수일시"] = "2025030114051"
    rows[3]["처리완료일"] = "20250303"
    outcome = collect(zones, "civil_complaints", csv_bytes(rows))
    assert outcome.rejections_by_reason == {"invalid_date:completed_on": 1, "invalid_timestamp:received_at": 1}
    rejected = rows_of(outcome.rejected_rows_path, "reason")
    assert rejected[0][0] == "처리완료일: '2025113' is not a date such as 2025-03-04"
    assert rows_of(outcome.collected_path, "completed_on") == [(dt.date(2025, 3, 3),)] * 2
    welfare = sample_rows("welfare_recipients", 2, 시군구코드="48170")
    welfare[1]["기준년월"] = "20253"
    assert collect(zones, "welfare_recipients", csv_bytes(welfare), provider="48170",
                   name="w.csv").rejections_by_reason == {"invalid_month:reference_month": 1}


def test_changwon_rows_may_carry_a_district_code(zones):
    rows = sample_rows("civil_complaints", 3, 시군구코드="48120")
    rows[1]["시군구코드"] = "48125"  # 마산합포구
    rows[2]["시군구코드"] = "48170"
    outcome = collect(zones, "civil_complaints", csv_bytes(rows), provider="48120")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (2, 1)


def test_a_file_of_many_row_groups_is_staged_in_file_order(zones):
    """Typing is projections in the file's order, with no sort: DuckDB's IN-list rewrite made
    창원시's own codes a join, which reordered rows read on several threads. 300,000 rows (three
    of DuckDB's row groups), one in a thousand rejected: both staged files keep the file's order."""
    rows = sample_rows("civil_complaints", 1000, 시군구코드="48120")
    rows[10]["시군구코드"] = "48125"  # 마산합포구
    rows[500]["시군구코드"] = "48170"
    header, *lines = csv_bytes(rows).split(b"\r\n")
    outcome = collect(zones, "civil_complaints", b"\r\n".join([header, *lines[:-1] * 300, b""]), provider="48120")
    assert (outcome.rows_read, outcome.rows_rejected) == (300_000, 300)
    for path, rows in ((outcome.collected_path, 299_700), (outcome.rejected_rows_path, 300)):
        assert duckdb.sql(
            f"SELECT count(*), bool_and(source_row_number > previous) FROM (SELECT source_row_number, "
            f"lag(source_row_number, 1, 0) OVER () AS previous FROM read_parquet('{path}'))").fetchall() == [(rows, True)]


def test_numbers_with_separators_and_below_detection_values(zones):
    rows = sample_rows("water_quality", 3)
    rows[1]["총인(T-P)(mg/L)"] = "ND"
    rows[2]["클로로필-a(mg/㎥)"] = "불검출"
    rows[2]["생물화학적산소요구량(BOD)(mg/L)"] = "abc"
    outcome = collect(zones, "water_quality", csv_bytes(rows), provider="48000")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (2, 1)
    got = rows_of(outcome.collected_path, "total_coliform_100ml, chlorophyll_a_mg_m3, "
                  "chlorophyll_a_mg_m3_below_detection, chlorophyll_a_mg_m3_detection_limit, "
                  "tp_mg_l, tp_mg_l_below_detection, tp_mg_l_detection_limit")
    assert got[0] == (1200.0, None, True, 0.1, 0.035, False, None)
    assert got[1][4:] == (None, True, None)  # ND: below detection, limit unknown, never zero


def test_welfare_month_formats_and_amounts(zones):
    rows = sample_rows("welfare_recipients", 2, 시군구코드="48170")
    rows[1]["기준년월"] = "202503"
    outcome = collect(zones, "welfare_recipients", csv_bytes(rows), provider="48170")
    got = rows_of(outcome.collected_path, "reference_month, monthly_amount_krw, household_size")
    assert got == [("2025-03", 713102, 2), ("2025-03", 713102, 2)]


def test_header_variants_extra_columns_and_column_order(zones):
    rows = [{"비고": "x", " 측정일자 ": "2025.03.04", "BOD (mg/L)": "1.9", "측정소명": "남지",
             "측정소코드": "2020A10", "T-P": "0.041", "수온": "9.5"}]
    outcome = collect(zones, "water_quality", csv_bytes(rows, "utf-8-sig"), provider="48000")
    assert outcome.status == "collected" and outcome.unknown_columns == ["비고"]
    assert rows_of(outcome.collected_path, "measured_on, bod_mg_l, tp_mg_l, water_temp_c, ph") == [
        (dt.date(2025, 3, 4), 1.9, 0.041, 9.5, None)]


def rename(rows: list[dict[str, str]], header: str, delivered: str) -> list[dict[str, str]]:
    return [{delivered if name == header else name: value for name, value in row.items()} for row in rows]


@pytest.mark.parametrize("dataset, header, delivered, provider", [
    ("welfare_recipients", "월지급액", "월지급액(원)", "48170"),
    ("welfare_recipients", "가구원수", "가구원수 (명)", "48170"),
    ("water_quality", "총인(T-P)(mg/L)", "총인(T-P) (mg/ℓ)", "48000"),
    # the spec: a unit "with or without the parentheses"; unread, the values were dropped silently
    ("water_quality", "생물화학적산소요구량(BOD)(mg/L)", "BOD mg/L", "48000"),
    ("water_quality", "수온(℃)", "수온 ℃", "48000"),
    ("water_quality", "수소이온농도(pH)", "pH(-)", "48000"),
    # a count per 100 mL: the contract's 총대장균군수/100mL (the whole file was rejected for it)
    ("water_quality", "총대장균군(총대장균군수/100mL)", "총대장균군(개/100㎖)", "48000"),
])
def test_a_unit_in_a_header_is_accepted_when_it_is_the_contracts(zones, dataset, header, delivered, provider):
    rows = rename(sample_rows(dataset, 2, **({"시군구코드": provider} if dataset != "water_quality" else {})),
                  header, delivered)
    outcome = collect(zones, dataset, csv_bytes(rows), provider=provider)
    assert outcome.status == "collected" and outcome.rows_rejected == 0 and outcome.unknown_columns == []


@pytest.mark.parametrize("dataset, header, delivered, provider, said", [
    # 766 in 천원 is 766,000 원: loaded as 766 원 it was a thousand times too small
    ("welfare_recipients", "월지급액", "월지급액(천원)", "48170", "values in 천원"),
    ("welfare_recipients", "월지급액", "월지급액(천원/월)", "48170", "values in 천원/월"),
    # 38 ㎍/L is 0.038 mg/L: loaded as 38 mg/L it graded 남지 VI
    ("water_quality", "총인(T-P)(mg/L)", "총인(T-P)(㎍/L)", "48000", "the contract's 총인(T-P)(mg/L) is in mg/l"),
    ("water_quality", "총인(T-P)(mg/L)", "T-P ㎍/L", "48000", "the contract's 총인(T-P)(mg/L) is in mg/l"),
])
def test_a_unit_that_would_change_the_values_rejects_the_file_saying_so(zones, dataset, header, delivered,
                                                                        provider, said):
    rows = rename(sample_rows(dataset, 2, **({"시군구코드": provider} if dataset != "water_quality" else {})),
                  header, delivered)
    outcome = collect(zones, dataset, csv_bytes(rows), provider=provider)
    assert outcome.status == "rejected" and outcome.collected_path is None
    assert "units other than the contract's" in outcome.reason and said in outcome.reason
    assert delivered in outcome.reason
    assert "required headers missing" not in outcome.reason  # it is there, in another unit


def test_malformed_rows_are_rejected_not_the_file(zones):
    rows = sample_rows("water_quality", 3)
    payload = csv_bytes(rows).decode()
    lines = payload.split("\r\n")
    lines[2] = ",".join(lines[2].split(",")[:5])  # too few fields
    lines[3] += ",extra"  # too many
    outcome = collect(zones, "water_quality", "\r\n".join(lines).encode(), provider="48000")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 2)
    assert outcome.rejections_by_reason == {"too_few_fields": 1, "too_many_fields": 1}


def test_a_row_that_lost_a_field_before_an_unmapped_last_column_is_rejected_not_shifted(zones):
    rows = [dict(row, 비고="") for row in sample_rows("water_quality", 3)]
    lines = csv_bytes(rows).decode().split("\r\n")
    fields = lines[2].split(",")
    lines[2] = ",".join(fields[:7] + fields[8:])  # its BOD lost with its comma: COD read as BOD…
    lines[3] = lines[3][:-1]  # its empty 비고 cut: short too
    lines = [line + ",," for line in lines[:1]] + [line + ",," for line in lines[1:2]] + lines[2:]
    # ^ two empty columns without a header after 비고 (an Excel export's), cut from the last two rows
    outcome = collect(zones, "water_quality", "\r\n".join(lines).encode(), provider="48000")
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 2)
    assert outcome.rejections_by_reason == {"too_few_fields": 2}


def test_xlsx_and_cp949_give_the_same_rows_as_utf8(zones):
    rows = sample_rows("welfare_recipients", 3, 시군구코드="48170")
    outcomes = [collect(zones, "welfare_recipients", payload, provider="48170", name=name)
                for name, payload in [("a.csv", csv_bytes(rows)), ("b.csv", csv_bytes(rows, "cp949")),
                                      ("c.xlsx", xlsx_bytes(rows))]]
    assert [o.encoding for o in outcomes] == ["utf_8", "cp949", "xlsx"]
    columns = "reference_month, recipient_no, name, eup_myeon_dong, monthly_amount_krw, enrolled_on"
    assert rows_of(outcomes[0].collected_path, columns) == rows_of(outcomes[1].collected_path, columns) \
        == rows_of(outcomes[2].collected_path, columns)
    # UTF-16 with its BOM (Notepad's "Unicode", Excel's 유니코드 텍스트): "binary, not CSV text" before
    utf16 = collect(zones, "welfare_recipients", csv_bytes(rows, "utf-16"), provider="48170", name="d.csv")
    assert utf16.encoding == "utf-16" and utf16.rows_rejected == 0, utf16.reason
    assert rows_of(utf16.collected_path, columns) == rows_of(outcomes[0].collected_path, columns)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "empty"),
    (b"\r\n\r\n", "no header row"),
    (bytes(range(0x80, 0x100)) * 4, "neither valid UTF-8 nor CP949"),
    (bytes(range(256)) * 4, "binary"),
    ("접수번호,접수일시\r\n1,2025-03-01 10:00\r\n".encode("cp949"), "required headers missing for civil_complaints"),
    # lines ended by CR alone (the parser child failed: "exit status 1", no reason)
    ("접수번호,접수일시\r1,2025-03-01 10:00\r".encode("cp949"), "the header rows cannot be read as CSV "
                                                         "(new-line character seen in unquoted field); lines must end"),
])
def test_whole_file_rejections(zones, payload, reason):
    outcome = collect(zones, "civil_complaints", payload)
    assert outcome.status == "rejected" and reason in outcome.reason
    assert outcome.collected_path is None


def test_excel_dates_at_midnight_and_months_typed_as_dates_are_read(zones):
    """Excel stores dates as datetimes and its reader gives a date for one at 00:00: a 접수일시 at
    midnight was rejected as no timestamp; a 기준년월 typed as 2025-06 is stored as 2025-06-01 and
    was no month."""
    complaints = [dict(row) for row in sample_rows("civil_complaints", 2)]
    complaints[0]["접수일시"] = dt.datetime(2025, 3, 2, 0, 0)
    complaints[1]["접수일시"] = dt.datetime(2025, 3, 2, 14, 5)
    for row in complaints:
        row["처리완료일"] = dt.datetime(2025, 3, 4)
    outcome = collect(zones, "civil_complaints", xlsx_bytes(complaints), name="c.xlsx")
    assert outcome.rows_rejected == 0, outcome.rejections_by_reason
    assert rows_of(outcome.collected_path, "received_at, completed_on") == [
        (dt.datetime(2025, 3, 2, 0, 0), dt.date(2025, 3, 4)), (dt.datetime(2025, 3, 2, 14, 5), dt.date(2025, 3, 4))]
    welfare = [dict(row) for row in sample_rows("welfare_recipients", 1, 시군구코드="48170")]
    welfare[0]["기준년월"] = dt.datetime(2025, 6, 1)
    outcome = collect(zones, "welfare_recipients", xlsx_bytes(welfare), provider="48170", name="w.xlsx")
    assert outcome.rows_rejected == 0, outcome.rejections_by_reason
    assert rows_of(outcome.collected_path, "reference_month") == [("2025-06",)]
    welfare[0]["기준년월"] = dt.datetime(2025, 6, 15)  # a day, not a month: still refused
    outcome = collect(zones, "welfare_recipients", xlsx_bytes(welfare), provider="48170", name="w2.xlsx")
    assert outcome.rows_rejected == 1


def test_a_hidden_first_sheet_is_passed_over_and_said(zones):
    """A person opening the workbook sees its first visible sheet: that one is the delivery; a
    hidden sheet before it (here older figures) was loaded instead."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    old = workbook.active
    old.title, old.sheet_state = "2019", "hidden"
    delivered = workbook.create_sheet("2025-03")
    for sheet, bod in ((old, "9.9"), (delivered, "1.8")):
        rows = sample_rows("water_quality", 1, **{"생물화학적산소요구량(BOD)(mg/L)": bod})
        sheet.append(list(rows[0]))
        sheet.append(list(rows[0].values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    outcome = collect(zones, "water_quality", buffer.getvalue(), provider="48000", name="w.xlsx")
    assert rows_of(outcome.collected_path, "bod_mg_l") == [(1.8,)]
    assert outcome.warnings == ["read sheet '2025-03', the first visible one; passed over hidden '2019'"]


def test_later_sheets_with_data_are_said_empty_ones_are_not(zones):
    """Months on three sheets of one workbook: only the first is the delivery (the spec), but the
    other two months were lost without a word."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "3월"
    for title in ("4월", "5월", "비고"):
        workbook.create_sheet(title)
    for title, rows in (("3월", 2), ("4월", 3), ("5월", 1)):
        sheet = workbook[title]
        delivered = sample_rows("water_quality", rows)
        sheet.append(list(delivered[0]))
        for row in delivered:
            sheet.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    outcome = collect(zones, "water_quality", buffer.getvalue(), provider="48000", name="w.xlsx")
    assert outcome.rows_accepted == 2
    assert outcome.warnings == ["read sheet '3월' only; passed over the other sheet(s) with data '4월' (4 rows), "
                                "'5월' (2 rows): deliver each as its own file"]
    # a later sheet that cannot be read does not stop the first one from being the drop
    import zipfile

    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            target.writestr(item, b"<worksheet><sheetData><row" if item.filename.endswith("sheet2.xml") else content)
    outcome = collect(zones, "water_quality", broken.getvalue(), provider="48000", name="w2.xlsx")
    assert outcome.rows_accepted == 2 and "'4월' (unreadable)" in outcome.warnings[0], outcome.warnings


def test_a_long_file_name_is_staged_under_a_shortened_stem(zones):
    """80 Hangul syllables (240 bytes) is a legal name; `<name>.parquet` and its writer's partial
    name were not ("File name too long", reported as a CSV problem). Short names keep their stem."""
    from gn_pipelines.ingest.collect import staged_name

    name = "경상남도" * 20 + ".csv"
    outcome = collect(zones, "water_quality", csv_bytes(sample_rows("water_quality", 2)), provider="48000", name=name)
    assert outcome.status == "collected" and outcome.rows_accepted == 2, outcome.reason
    assert len(outcome.collected_path.name.encode()) <= 140 and outcome.collected_path.name.startswith("경상남도")
    assert staged_name(name) != staged_name("경상남도" * 20 + "_.csv")  # the digest tells long names apart
    assert staged_name("2025-03-01.csv") == "2025-03-01.csv"  # a safe name is its own stem


def test_two_names_the_safe_form_would_merge_are_staged_apart(zones):
    """`2025-03-01 오전.csv` and `2025-03-01_오전.csv` both became `2025-03-01_오전.csv`: one file's
    rows replaced the other's, silently, while the drop log showed both collected."""
    from gn_pipelines.ingest.collect import staged_name

    names = ("2025-03-01 오전.csv", "2025-03-01_오전.csv", "2025-03-01(오전).csv", "2025-03-01)오전(.csv")
    assert len({staged_name(n) for n in names}) == len(names)
    first, second = (collect(zones, "water_quality", csv_bytes(sample_rows("water_quality", rows)), provider="48000",
                             name=name) for rows, name in ((2, names[0]), (3, names[1])))
    assert first.collected_path != second.collected_path
    assert (len(rows_of(first.collected_path)), len(rows_of(second.collected_path))) == (2, 3)


def test_formulas_saved_without_their_values_reject_the_workbook_saying_so(zones):
    """openpyxl (and other writers that do not calculate) save `=1+0.7` with no value: the reader
    saw an empty cell and BOD was loaded as NULL, silently. Computed formulas are read as values."""
    import io

    from openpyxl import Workbook

    rows = sample_rows("water_quality", 2)
    header = list(rows[0])
    bod = header.index("생물화학적산소요구량(BOD)(mg/L)")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        values = list(row.values())
        values[bod] = "=1+0.7"
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    outcome = collect(zones, "water_quality", buffer.getvalue(), provider="48000", name="f.xlsx")
    assert outcome.status == "rejected" and outcome.collected_path is None
    assert "2 formula cell(s) of sheet 'Sheet' were saved without a computed value" in outcome.reason


def test_broken_xlsx_is_rejected(zones):
    outcome = collect(zones, "civil_complaints", b"PK\x03\x04 not really a workbook", name="x.xlsx")
    assert outcome.status == "rejected" and "xlsx" in outcome.reason


def test_a_two_row_header_near_the_nier_layout_is_rejected_naming_it(zones, real_data):
    # the real export with its first column renamed: not the layout, and told so
    text = (real_data / "nier_wq_download_hangang_tributaries_2025_cp949.csv").read_bytes().decode("cp949")
    payload = text.replace("구분(1)", "권역").encode("cp949")
    outcome = collect(zones, "water_quality", payload, provider="48000")
    assert outcome.status == "rejected" and outcome.encoding == "cp949"
    assert "two-row header" in outcome.reason and "'2025.03'" in outcome.reason
    assert "물환경정보시스템 table export begins both rows with 구분(1)" in outcome.reason


def test_real_parks_file_is_not_mistaken_for_a_dataset(zones, real_data):
    payload = (real_data / "gyeongnam_parks_by_sigun_20240731_cp949.csv").read_bytes()
    outcome = collect(zones, "welfare_recipients", payload, provider="48000")
    assert outcome.status == "rejected" and "required headers missing" in outcome.reason


def test_preview_masks_personal_values(zones):
    outcome = collect(zones, "civil_complaints", csv_bytes(sample_rows("civil_complaints", 2)))
    first = outcome.preview[0]
    assert first["complainant_name"] == "홍**" and "1234567" not in first["resident_reg_no"]
    assert first["body"].startswith("<") and first["category"] == "환경·위생"


def test_only_formulas_without_a_computed_value_are_counted(tmp_path):
    from gn_pipelines.ingest.excel import uncomputed_formulas
    from gn_pipelines_tests.hostile import _SHEET_HEAD, _workbook

    cells = ('<c r="A1"><f>1+0.7</f><v>1.7</v></c>'  # computed (Excel): a value
             '<c r="B1" t="str"><f>IF(A1&gt;0,"","x")</f><v></v></c>'  # computed, an empty text
             '<c r="C1"><f>1+0.7</f><v /></c>'  # openpyxl: no value
             '<c r="D1"><f t="shared" si="0"/></c>')  # a shared formula's cell, no value
    path = _workbook(tmp_path / "f.xlsx", [_SHEET_HEAD, f'<sheetData><row r="1">{cells}</row></sheetData></worksheet>'],
                     sheet_path="xl/data/s.xml")
    assert uncomputed_formulas(path, 0) == 2
    assert uncomputed_formulas(path, 3) == 0  # no such sheet: nothing to say


def test_a_file_gone_before_its_batch_archived_it_is_set_aside_and_the_batch_goes_on(zones):
    """A sync tool replacing a file between planning and archiving failed the whole batch (every
    other provider's file of the month waited for the next night)."""
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.ingest.collect_batch import VANISHED, collect_batch

    for provider in ("48740", "48720"):
        drop(zones.landing, f"{provider}/civil_complaints/2025-03-01.csv",
             csv_bytes(sample_rows("civil_complaints", 3, 시군구코드=provider)))
    files = [BatchFile(f"{p}/civil_complaints/2025-03-01.csv", "0" * 64, p) for p in ("48740", "48720")]
    (zones.landing / files[1].relative).unlink()
    kept, gone = collect_batch(get_contract("civil_complaints"), files, zones=zones, run_id="run-1")
    assert kept.outcome.status == "collected" and kept.outcome.rows_accepted == 3 and not kept.vanished
    assert gone.vanished and gone.outcome.reason == VANISHED and gone.archive_path is None
    logged = [json.loads(p.read_text()) for p in (zones.restricted / "drop_log").glob("*.json")]
    assert [r["source_file"] for r in logged] == [files[0].relative]  # nothing read, nothing recorded


NOTES = ("※ ND: 불검출 / 자료: 창녕군 환경과", "출처: 국립환경과학원 물환경정보시스템")


def test_note_lines_under_the_data_are_skipped_and_said_not_read_as_rows(zones):
    """Korean office tables end with notes: one line of 10 was a bad row (9 % of the file), and the
    file was quarantined whole."""
    lines = csv_bytes(sample_rows("water_quality", 10), encoding="cp949").decode("cp949").split("\r\n")
    width = lines[0].count(",")
    payload = "\r\n".join([*lines[:-1], NOTES[0], "", NOTES[1] + "," * width, ""]).encode("cp949")
    outcome = collect(zones, "water_quality", payload, provider="48000")
    assert (outcome.status, outcome.rows_accepted, outcome.rows_rejected) == ("collected", 10, 0)
    assert f"2 note line(s) under the data skipped, not read as rows (the first: {NOTES[0]!r})" in outcome.warnings


def test_a_note_line_amid_the_data_is_still_a_row_too_short_and_each_file_of_a_batch_counts_its_own(zones):
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.ingest.collect_batch import collect_batch

    def water(*notes_after: int) -> bytes:
        lines = csv_bytes(sample_rows("water_quality", 4)).decode().split("\r\n")[:-1]
        for position in sorted(notes_after, reverse=True):
            lines.insert(position + 1, NOTES[0])  # after the header and `position` rows
        return "\r\n".join([*lines, ""]).encode()

    files = {"amid.csv": water(2, 4), "under.csv": water(4), "clean.csv": water()}
    for name, payload in files.items():
        drop(zones.landing, f"48000/water_quality/{name}", payload)
    batch = collect_batch(get_contract("water_quality"),
                          [BatchFile(f"48000/water_quality/{name}", "0" * 64, "48000") for name in files],
                          zones=zones, run_id="run-1")
    outcomes = {c.outcome.source_file.rsplit("/", 1)[1]: c.outcome for c in batch}
    assert {name: (o.rows_accepted, o.rows_rejected, o.rejections_by_reason) for name, o in outcomes.items()} == {
        "amid.csv": (4, 1, {"too_few_fields": 1}), "under.csv": (4, 0, {}), "clean.csv": (4, 0, {})}
    assert [len([w for w in o.warnings if "note line" in w]) for o in outcomes.values()] == [1, 1, 0]


def test_a_quote_not_doubled_runs_on_into_the_next_records_and_the_reason_says_so(zones):
    import csv
    import io

    from gn_pipelines.ingest.collect import RUN_ON_QUOTE

    def quoted(rows: list[dict[str, str]]) -> str:  # every field quoted, as LOCALDATA exports are
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    rows = sample_rows("civil_complaints", 5)
    rows[1]["민원제목"] = "도로 파손"
    payload = quoted(rows)
    assert payload.count('"도로 파손"') == 1
    outcome = collect(zones, "civil_complaints", payload.replace('"도로 파손"', '"도로" 파손"').encode())
    assert outcome.rejections_by_reason.get("unpaired_quote") == 1, outcome.rejections_by_reason
    assert (outcome.rows_accepted, outcome.rows_rejected) == (1, 1)  # rows 3 to 5 are inside row 2
    (reason,) = [r[0] for r in rows_of(outcome.rejected_rows_path, "reason")]
    assert RUN_ON_QUOTE in reason
    rows[3]["민원내용"] = "첫 줄\n둘째 줄"  # a line break in a well-formed field: a row like any other
    clean = collect(zones, "civil_complaints", quoted(rows).encode(), name="clean.csv")
    assert (clean.rows_accepted, clean.rows_rejected) == (5, 0)
