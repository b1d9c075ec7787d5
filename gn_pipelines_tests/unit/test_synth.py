"""The synthetic drop generator: seeded, shaped by the contracts, honest about its defects."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from gn_pipelines.contracts import header_key

from gn_pipelines.datasets import get_contract
from gn_pipelines.reference.legal_dong import build_eup_myeon_dong
from gn_pipelines.reference.providers import (
    CHANGWON_DISTRICTS, PROVIDERS_BY_CODE, codes_allowed_for,
)
from gn_pipelines.synth import (
    CONTRACT_LAYOUT_DATASETS, DATASETS, SynthFile, complaint_table, synthesize_drops, write_civil_complaints_drop,
    write_welfare_recipients_drop,
)
from gn_pipelines.synth.command import main as synth_main
from gn_pipelines.synth.defects import EXTRA_COLUMN

DAY = date(2025, 3, 4)
SEED = 7
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y%m%d%H%M%S")
DATE_FORMATS = ("%Y-%m-%d", "%Y.%m.%d", "%Y%m%d")
MISSING = {"", "-", "NULL"}


def read_drop(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV drop as strings, headers as written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def canonical(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Rename written headers to canonical names the way the spec tolerates them."""
    names = {}
    for header in frame.columns:
        key = header_key(header)
        matches = [c.name for c in get_contract(dataset).columns if key in c.header_keys]
        names[header] = matches[0] if matches else header
    return frame.rename(columns=names)


def complaints(tmp_path: Path, provider: str = "48740", rows: int | None = 400, defects=(),
               name: str = "drop.csv") -> tuple[SynthFile, pd.DataFrame]:
    file = write_civil_complaints_drop(tmp_path / name, provider=provider, day=DAY, rows=rows,
                                       seed=SEED, defects=defects)
    return file, read_drop(file.path)


def parses(text: str, formats: tuple[str, ...]) -> bool:
    for fmt in formats:
        try:
            datetime.strptime(text, fmt)
            return True
        except ValueError:
            pass
    return False


def received_day(text: str) -> str:
    stamp = next(datetime.strptime(text, f) for f in TIMESTAMP_FORMATS if parses(text, (f,)))
    return stamp.date().isoformat()


def is_number(text: str) -> bool:
    return re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?", text) is not None


# ---------------------------------------------------------------- determinism and layout


def _all_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("defects", [(), ("xlsx", "header_variants", "bad_rows", "duplicates")])
def test_same_seed_gives_identical_bytes(tmp_path, defects):
    for run in ("a", "b"):
        synthesize_drops(tmp_path / run, datasets=DATASETS, providers=["48000", "48740", "48120"],
                         start=date(2025, 2, 27), end=date(2025, 3, 3), seed=SEED, defects=defects)
    first, second = _all_bytes(tmp_path / "a"), _all_bytes(tmp_path / "b")
    assert first and first == second


def test_another_process_gives_identical_bytes(tmp_path):
    """Nothing may hang on hash order or on what an earlier call left in a cache."""
    arguments = ["--datasets", "civil_complaints", "water_quality", "--providers", "48000", "48120",
                 "--start", "2025-03-01", "--end", "2025-03-03", "--seed", str(SEED),
                 "--defect", "header_variants", "--defect", "duplicates"]
    synth_main(["--landing", str(tmp_path / "here"), *arguments])
    subprocess.run([sys.executable, "-m", "gn_pipelines.synth.command",
                    "--landing", str(tmp_path / "there"), *arguments],
                   check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert _all_bytes(tmp_path / "here") == _all_bytes(tmp_path / "there")


def test_another_seed_gives_other_data(tmp_path):
    one, _ = complaints(tmp_path, name="one.csv")
    other = write_civil_complaints_drop(tmp_path / "other.csv", provider="48740", day=DAY, rows=400,
                                        seed=SEED + 1)
    assert one.path.read_bytes() != other.path.read_bytes()


def test_landing_layout_and_default_providers(tmp_path):
    files = synthesize_drops(tmp_path, datasets=DATASETS, start=date(2025, 3, 1),
                             end=date(2025, 3, 3))
    by_dataset = {d: {f.provider for f in files if f.dataset == d} for d in DATASETS}
    assert len(by_dataset["civil_complaints"]) == 18 and len(by_dataset["welfare_recipients"]) == 18
    assert by_dataset["water_quality"] == {"48000"}
    for file in files:
        assert file.path.parent == tmp_path / file.provider / file.dataset
    names = {f.path.name for f in files}
    assert {"2025-03-01.csv", "2025-03-03.csv", "2025-03.csv", "20250303_weekly.csv"} <= names


@pytest.mark.parametrize("dataset", CONTRACT_LAYOUT_DATASETS)
def test_headers_are_the_contract_headers_in_order(tmp_path, dataset):
    files = synthesize_drops(tmp_path, datasets=[dataset], providers=["48000", "48740"],
                             start=DAY, end=DAY, seed=SEED)
    assert files
    for file in files:
        header = file.path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == [c.header for c in get_contract(dataset).columns]
        assert len(read_drop(file.path)) == file.rows > 0


def test_rows_per_file_is_honoured(tmp_path):
    files = synthesize_drops(tmp_path, datasets=["civil_complaints", "welfare_recipients"],
                             providers=["48860"], start=DAY, end=DAY, rows_per_file=37)
    assert [f.rows for f in files] == [37, 37]
    assert all(len(read_drop(f.path)) == 37 for f in files)


def test_default_volumes_are_modest_and_larger_in_cities(tmp_path):
    files = synthesize_drops(tmp_path, datasets=["civil_complaints"], providers=["48120", "48860"],
                             start=date(2025, 3, 3), end=date(2025, 3, 7))
    mean = {p: np.mean([f.rows for f in files if f.provider == p]) for p in ("48120", "48860")}
    assert 10 <= mean["48860"] <= 80
    assert mean["48120"] > 3 * mean["48860"]


# ---------------------------------------------------------------- civil complaints content


def test_resident_numbers_have_valid_dates_and_century_digits(tmp_path):
    _, frame = complaints(tmp_path, rows=2000)
    numbers = frame["주민등록번호"][frame["주민등록번호"] != ""]
    assert len(numbers) > 1800
    for number in numbers:
        match = re.fullmatch(r"(\d{6})-?([1-4])\d{6}", number)
        assert match, number
        century = 1900 if match.group(2) in "12" else 2000
        born = datetime.strptime(f"{century + int(number[:2])}{number[2:6]}", "%Y%m%d").date()
        age = (DAY - born).days / 365.25
        assert 18.9 <= age < 92, number


def test_phones_are_mobile_numbers_or_empty(tmp_path):
    _, frame = complaints(tmp_path, rows=1000)
    phones = frame["휴대전화번호"]
    assert 0.05 < (phones == "").mean() < 0.25
    assert phones[phones != ""].str.fullmatch(r"010-[2-9]\d{3}-\d{4}").all()


@pytest.mark.parametrize("provider", ["48740", "48120", "48170", "48890"])
def test_addresses_lie_in_a_real_eup_myeon_dong_of_the_provider(tmp_path, provider):
    _, frame = complaints(tmp_path, provider=provider, rows=500)
    dongs = build_eup_myeon_dong().query("provider_code == @provider")
    district_of = dict(zip(dongs["eup_myeon_dong"] + dongs["district_name"].fillna(""),
                           dongs["sigungu_code"]))
    name = PROVIDERS_BY_CODE[provider].name
    for address, code in zip(frame["주소"], frame["시군구코드"]):
        assert address.startswith(f"경상남도 {name} "), address
        tokens = set(re.split(r"[\s,()]+", address))
        found = tokens & set(dongs["eup_myeon_dong"])
        assert found, address
        assert code in codes_allowed_for(provider)
        if code in CHANGWON_DISTRICTS:  # a district code names the district of the address
            district = CHANGWON_DISTRICTS[code]
            assert f" {district} " in address
            assert any(district_of.get(dong + district) == code for dong in found), address


def test_lot_and_road_addresses_both_occur(tmp_path):
    _, frame = complaints(tmp_path, rows=500)
    road = frame["주소"].str.contains(r"(?:로|길) \d+")
    lot = frame["주소"].str.contains(r"리 \d+(?:-\d+)?$")
    assert road.mean() > 0.3 and lot.mean() > 0.2
    assert frame["주소"].str.contains(r"\d+동 \d+호").any()


def test_receipts_are_unique_across_days_and_times_lie_within_the_day(tmp_path):
    files = synthesize_drops(tmp_path, datasets=["civil_complaints"], providers=["48740"],
                             start=date(2025, 3, 1), end=date(2025, 3, 5))
    frames = [read_drop(f.path).assign(day=f.path.stem) for f in files]
    frame = pd.concat(frames)
    assert frame["접수번호"].is_unique
    assert frame["접수번호"].str.fullmatch(r"2025-48740-\d{6}").all()
    assert (frame["접수일시"].map(received_day) == frame["day"]).all()
    assert frame["접수일시"].str.fullmatch(r"\d{14}").any()  # formats vary a bit
    assert frame["접수일시"].str.contains(r"\.").any()


def test_categories_statuses_and_completion_dates(tmp_path):
    _, frame = complaints(tmp_path, rows=1000)
    contract = get_contract("civil_complaints")
    assert set(frame["민원분야"]) <= set(contract.column("category").allowed_values)
    assert set(frame["처리상태"]) == set(contract.column("status").allowed_values)
    completed = frame["처리상태"] == "처리완료"
    assert (frame.loc[completed, "처리완료일"] != "").all()
    assert (frame.loc[~completed, "처리완료일"] == "").all()
    received = frame.loc[completed, "접수일시"].map(received_day)
    assert (frame.loc[completed, "처리완료일"] >= received).all()


def test_about_one_text_in_ten_carries_personal_data_and_some_carry_decoys(tmp_path):
    _, frame = complaints(tmp_path, rows=3000)
    text = frame["민원제목"] + " " + frame["민원내용"]
    own_name = pd.Series([n in t for n, t in zip(frame["민원인성명"], text)])
    phone = text.str.contains(r"01[0-9]-?\d{4}-?\d{4}")
    rrn = text.str.contains(r"\d{6}-[1-4]\d{6}")
    email = text.str.contains(r"[\w.]+@[\w.]+")
    plate = text.str.contains(r"(?<!\d)\d{2,3}[가-힣]\d{4}(?!\d)")
    detail = text.str.contains(r"\d+동 \d+호")
    personal = own_name | phone | rrn | email | plate | detail
    assert 0.06 < personal.mean() < 0.16
    assert all(s.any() for s in (own_name, phone, rrn, email, plate, detail))
    assert text.str.contains(r"씨|님").any()
    assert text.str.contains(r"\d{1,3}(?:,\d{3})+원").any()
    assert text.str.contains(r"국도 \d+호선").any()
    assert text.str.contains(r"제\d+조").any()


def test_complaint_table_is_the_file_with_ground_truth_of_personal_data(tmp_path):
    file, frame = complaints(tmp_path, rows=1500)
    table = complaint_table("48740", DAY, 1500, SEED).to_pandas()
    written = canonical(frame, "civil_complaints")
    pd.testing.assert_frame_equal(table.drop(columns="personal_data_in_text").fillna(""), written)
    truth = table["personal_data_in_text"].fillna("")
    text = table["title"] + " " + table["body"]
    assert 0.07 < (truth != "").mean() < 0.13
    for kinds, name, phone, number, said in zip(truth, table["complainant_name"], table["phone"],
                                                table["resident_reg_no"], text):
        assert ("name" in kinds) == (name in said)
        if "phone" in kinds:
            assert phone in said or phone.replace("-", "") in said
        if "rrn" in kinds:
            assert number in said


# ---------------------------------------------------------------- welfare recipients


def test_welfare_snapshots_are_stable_across_months(tmp_path):
    files = synthesize_drops(tmp_path, datasets=["welfare_recipients"], providers=["48740"],
                             start=date(2025, 1, 1), end=date(2025, 3, 31))
    frames = [read_drop(f.path) for f in files]
    assert [f.path.name for f in files] == ["2025-01.csv", "2025-02.csv", "2025-03.csv"]
    people = pd.concat(frames)
    assert all(f["수급자번호"].is_unique for f in frames)
    assert (people.groupby("수급자번호")[["성명", "주민등록번호"]].nunique() == 1).all().all()
    shared = set(frames[0]["수급자번호"]) & set(frames[2]["수급자번호"])
    assert len(shared) > 0.8 * len(frames[0])


def test_welfare_values_are_plausible(tmp_path):
    file = write_welfare_recipients_drop(tmp_path / "2025-03.csv", provider="48120",
                                         month=date(2025, 3, 1), rows=None, seed=SEED)
    frame = read_drop(file.path)
    contract = get_contract("welfare_recipients")
    dongs = build_eup_myeon_dong().query("provider_code == '48120'")
    assert set(frame["기준년월"]) <= {"2025-03", "202503"}
    assert set(frame["읍면동"]) <= set(dongs["eup_myeon_dong"])
    assert all(d in a for d, a in zip(frame["읍면동"], frame["주소"]))
    size = frame["가구원수"].astype(int)
    assert size.between(1, 20).all() and size.isin([1, 2, 3, 4]).mean() > 0.85
    assert set(frame["급여종류"]) == set(contract.column("benefit_type").allowed_values)
    amount = frame["월지급액"].astype(int)
    assert (amount >= 0).all()
    livelihood = amount[frame["급여종류"] == "생계급여"]
    assert livelihood.between(100_000, 4_000_000).all()
    assert set(frame["장애여부"]) == {"Y", "N"}
    assert (frame["선정일자"] <= "2025-03-31").all()


# ---------------------------------------------------------------- water quality


def _water_year(tmp_path: Path, provider: str) -> pd.DataFrame:
    files = synthesize_drops(tmp_path, datasets=["water_quality"], providers=[provider],
                             start=date(2025, 1, 1), end=date(2025, 12, 31), seed=SEED)
    return canonical(pd.concat([read_drop(f.path) for f in files]), "water_quality")


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.replace(",", ""), errors="coerce")


def test_namji_follows_its_reported_levels_and_the_seasons(tmp_path):
    frame = _water_year(tmp_path, "48740")
    assert set(frame["station_code"]) == {"2020A10"} and set(frame["basin"]) == {"낙동강"}
    assert 50 <= len(frame) <= 53
    bod, tp = _numbers(frame["bod_mg_l"]), _numbers(frame["tp_mg_l"])
    assert 1.6 <= bod.mean() <= 2.0
    assert bod.quantile(0.1) >= 1.2 and bod.quantile(0.9) <= 2.6
    assert 0.03 <= tp.mean() <= 0.05
    temp, oxygen = _numbers(frame["water_temp_c"]), _numbers(frame["do_mg_l"])
    assert temp.min() < 7 and temp.max() > 25
    assert temp.corr(oxygen) < -0.8
    assert _numbers(frame["ph"]).between(7.0, 8.5).all()


def test_province_delivers_all_stations_with_below_detection_values(tmp_path):
    frame = _water_year(tmp_path, "48000")
    assert frame["station_code"].nunique() == 8
    assert not frame.duplicated(["station_code", "measured_on"]).any()
    chlorophyll = frame["chlorophyll_a_mg_m3"]
    assert chlorophyll.isin(["<0.1", "ND", "불검출"]).any()
    measured = ("bod_mg_l", "cod_mg_l", "toc_mg_l", "total_coliform_100ml")
    values = pd.concat([frame[c] for c in measured])
    assert (values == "").any()
    assert values[values != ""].map(is_number).all()


def test_a_sigun_and_the_province_agree_on_a_shared_station(tmp_path):
    kwargs = dict(datasets=["water_quality"], start=date(2025, 3, 1), end=date(2025, 3, 31),
                  seed=SEED)
    own = synthesize_drops(tmp_path / "own", providers=["48740"], **kwargs)
    province = synthesize_drops(tmp_path / "province", providers=["48000"], **kwargs)
    assert own[0].path.name == "20250303_namji.csv"
    namji = pd.concat([read_drop(f.path) for f in own]).reset_index(drop=True)
    rows = pd.concat([read_drop(f.path) for f in province])
    from_province = rows[rows["측정소코드"] == "2020A10"].reset_index(drop=True)
    if not namji["측정일자"].equals(from_province["측정일자"]):  # date styles may differ per file
        namji = namji.drop(columns="측정일자")
        from_province = from_province.drop(columns="측정일자")
    pd.testing.assert_frame_equal(namji, from_province)


# ---------------------------------------------------------------- defects


def test_cp949_bytes_decode_as_cp949_and_not_utf8(tmp_path):
    file, _ = complaints(tmp_path, name="clean.csv")
    data = write_civil_complaints_drop(tmp_path / "cp.csv", provider="48740", day=DAY, rows=400,
                                       seed=SEED, defects=["cp949"]).path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\r\n" in data  # exported from Windows office software
    assert data.decode("cp949").replace("\r\n", "\n") == file.path.read_text(encoding="utf-8")


def test_utf8_bom(tmp_path):
    file, frame = complaints(tmp_path, defects=["utf8_bom"])
    assert file.path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_drop(file.path, "utf-8-sig").columns[0] == "접수번호"


@pytest.mark.parametrize("dataset", CONTRACT_LAYOUT_DATASETS)
def test_xlsx_opens_with_the_header_in_row_one(tmp_path, dataset):
    files = synthesize_drops(tmp_path, datasets=[dataset], providers=["48000", "48740"],
                             start=DAY, end=DAY, defects=["xlsx", "cp949"])
    file = files[0]
    assert file.path.suffix == ".xlsx" and "cp949" not in file.defects
    rows = list(openpyxl.load_workbook(file.path, read_only=True).worksheets[0].values)
    assert list(rows[0]) == [c.header for c in get_contract(dataset).columns]
    assert len(rows) - 1 == file.rows


def test_partial_drop_has_a_temporary_name(tmp_path):
    file, _ = complaints(tmp_path, defects=["partial"])
    assert file.path.name == "drop.csv.part"
    assert [p.name for p in tmp_path.iterdir()] == ["drop.csv.part"]


def _differing_rows(clean: pd.DataFrame, defective: pd.DataFrame) -> pd.DataFrame:
    """Cells of `defective` that differ from its clean twin, as (row, column) pairs."""
    differ = clean.ne(defective)
    return differ.stack()[lambda s: s].index.to_frame(index=False, name=["row", "column"])


@pytest.mark.parametrize("dataset, provider, rows", [
    ("civil_complaints", "48120", 450), ("welfare_recipients", "48740", 300),
    ("water_quality", "48000", None),
])
def test_bad_rows_are_exact_and_each_has_one_unparseable_cell(tmp_path, dataset, provider, rows):
    kwargs = dict(datasets=[dataset], providers=[provider], start=DAY, end=DAY, rows_per_file=rows)
    clean = synthesize_drops(tmp_path / "clean", **kwargs)[0]
    bad = synthesize_drops(tmp_path / "bad", defects=["bad_rows"], **kwargs)[0]
    assert bad.bad_rows >= 1 and bad.rows == clean.rows
    cells = _differing_rows(canonical(read_drop(clean.path), dataset),
                            canonical(read_drop(bad.path), dataset))
    assert cells["row"].nunique() == bad.bad_rows == len(cells)  # one cell per bad row
    frame = canonical(read_drop(bad.path), dataset)
    contract = get_contract(dataset)
    for row, column in cells.itertuples(index=False):
        value, kind = frame.at[row, column], contract.column(column).type.value
        if kind in ("date", "timestamp"):
            assert not parses(value, TIMESTAMP_FORMATS + DATE_FORMATS), value
        else:
            assert not is_number(value), value


def test_other_sigungu_rows_are_exact_and_otherwise_valid(tmp_path):
    clean, clean_frame = complaints(tmp_path, provider="48120", name="clean.csv")
    file, frame = complaints(tmp_path, provider="48120", defects=["other_sigungu"])
    foreign = ~frame["시군구코드"].isin(codes_allowed_for("48120"))
    assert foreign.sum() == file.other_sigungu_rows >= 1
    cells = _differing_rows(clean_frame, frame)
    assert set(cells["column"]) == {"시군구코드"} and len(cells) == file.other_sigungu_rows


@pytest.mark.parametrize("dataset, keys", [
    ("civil_complaints", ["receipt_no"]), ("welfare_recipients", ["recipient_no"]),
    ("water_quality", ["station_code", "measured_on"]),
])
def test_duplicate_rows_are_exact(tmp_path, dataset, keys):
    file = synthesize_drops(tmp_path, datasets=[dataset], providers=["48000", "48250"],
                            start=DAY, end=DAY, rows_per_file=300, defects=["duplicates"])[0]
    frame = canonical(read_drop(file.path), dataset)
    assert frame.duplicated(keys).sum() == file.duplicate_rows >= 1


def test_header_variants_are_tolerated_spellings(tmp_path):
    file = synthesize_drops(tmp_path, datasets=["water_quality"], providers=["48000"], start=DAY,
                            end=DAY, defects=["header_variants"])[0]
    headers = list(read_drop(file.path).columns)
    contract = get_contract("water_quality")
    matched = [[c.name for c in contract.columns if header_key(h) in c.header_keys]
               for h in headers]
    assert all(len(m) == 1 for h, m in zip(headers, matched) if h != EXTRA_COLUMN)
    assert sorted(m[0] for m in matched if m) == sorted(c.name for c in contract.columns)
    assert EXTRA_COLUMN in headers
    assert any(h != h.strip() for h in headers)
    assert headers != [c.header for c in contract.columns]
    assert any(h not in {c.header for c in contract.columns} and h.strip() == h for h in headers)


@pytest.mark.parametrize("defect", ["missing_headers", "wrong_headers"])
@pytest.mark.parametrize("dataset", CONTRACT_LAYOUT_DATASETS)
def test_header_defects_leave_a_required_header_missing(tmp_path, dataset, defect):
    files = synthesize_drops(tmp_path, datasets=[dataset], providers=["48000", "48890"],
                             start=date(2025, 3, 1), end=date(2025, 3, 9), defects=[defect])
    contract = get_contract(dataset)
    for file in files:
        keys = {header_key(h) for h in read_drop(file.path).columns}
        missing = [c for c in contract.required_columns if not keys & c.header_keys]
        assert missing if defect == "wrong_headers" else len(missing) == 1


def test_null_tokens_replace_empty_cells(tmp_path):
    _, frame = complaints(tmp_path, defects=["null_tokens"])
    assert (frame == "").sum().sum() == 0
    assert set(frame["휴대전화번호"]) & {"-", "NULL"} == {"-", "NULL"}


def test_thousands_separators_in_numbers(tmp_path):
    file = write_welfare_recipients_drop(tmp_path / "w.csv", provider="48740", month=DAY, rows=200,
                                         seed=SEED, defects=["thousands"])
    amounts = read_drop(file.path)["월지급액"]
    assert amounts.str.fullmatch(r"\d{1,3}(,\d{3})*").all()
    assert amounts.str.contains(",").mean() > 0.5


def test_unknown_or_conflicting_defects_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown defect"):
        synthesize_drops(tmp_path, datasets=DATASETS, start=DAY, end=DAY, defects=["nonsense"])
    with pytest.raises(ValueError, match="exclude"):
        synthesize_drops(tmp_path, datasets=DATASETS, start=DAY, end=DAY,
                         defects=["cp949", "utf8_bom"])


def test_command_prints_one_line_per_file_and_a_total(tmp_path, capsys):
    code = synth_main(["--landing", str(tmp_path), "--datasets", "civil_complaints",
                       "--providers", "48740", "48720", "--start", "2025-03-01",
                       "--end", "2025-03-02", "--rows", "5", "--defect", "bad_rows"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and len(lines) == 5
    assert lines[-1].startswith("4 files, 20 rows")
    assert "1 bad" in lines[0]
