"""The 읍면동 of every 시군, built from the real 법정동코드 table (only codes still 존재)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from gn_pipelines.reference.providers import CHANGWON_DISTRICTS, PROVIDERS_BY_CODE, provider_of_sigungu

BUNDLED_SOURCE = "legal_dong_codes_gyeongnam_2020_cp949.csv"


def bundled_legal_dong_file() -> Path:
    return Path(str(resources.files("gn_pipelines.reference") / "data" / BUNDLED_SOURCE))


def read_legal_dong_codes(source: Path | None = None) -> pd.DataFrame:
    """The 법정동코드 file as strings (codes overflow int32 and must keep every digit)."""
    return pd.read_csv(source or bundled_legal_dong_file(), encoding="cp949", dtype=str)


def build_eup_myeon_dong(source: Path | None = None) -> pd.DataFrame:
    """One row per existing 읍면동 of the 18 시군, with the provider it rolls up to.

    A 10-digit code is 시도(2) + 시군구(3) + 읍면동(3) + 리(2); a 읍면동 row has a non-zero
    읍면동 part and 리 = 00. Abolished (폐지) codes are dropped: 창원시 has both.
    """
    codes = read_legal_dong_codes(source)
    codes.columns = ["legal_dong_code", "legal_dong_name", "status"]
    code = codes["legal_dong_code"]
    rows = codes[
        (codes["status"] == "존재")
        & code.str.startswith("48")
        & (code.str[5:8] != "000")
        & (code.str[8:] == "00")
    ].copy()
    rows["sigungu_code"] = rows["legal_dong_code"].str[:5]
    rows["provider_code"] = rows["sigungu_code"].map(provider_of_sigungu)
    rows = rows[rows["provider_code"].isin(PROVIDERS_BY_CODE)]
    rows["provider_name"] = rows["provider_code"].map(lambda c: PROVIDERS_BY_CODE[c].name)
    rows["district_name"] = rows["sigungu_code"].map(CHANGWON_DISTRICTS)
    rows["eup_myeon_dong"] = rows["legal_dong_name"].str.split().str[-1]
    rows["kind"] = rows["eup_myeon_dong"].str[-1].map({"읍": "읍", "면": "면"}).fillna("동")
    columns = ["legal_dong_code", "sigungu_code", "provider_code", "provider_name",
               "district_name", "eup_myeon_dong", "kind", "legal_dong_name"]
    return rows[columns].sort_values("legal_dong_code").reset_index(drop=True)


def providers_frame() -> pd.DataFrame:
    return pd.DataFrame([vars(p) for p in PROVIDERS_BY_CODE.values()])


def districts_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"district_code": list(CHANGWON_DISTRICTS), "district_name": list(CHANGWON_DISTRICTS.values()),
         "provider_code": "48120"}
    )


def build_ri(source: Path | None = None) -> pd.DataFrame:
    """One row per existing 리 (법정리) of 경남: its code, name and 시군구 code."""
    codes = read_legal_dong_codes(source)
    codes.columns = ["legal_dong_code", "legal_dong_name", "status"]
    code = codes["legal_dong_code"]
    rows = codes[(codes["status"] == "존재") & code.str.startswith("48") & (code.str[8:] != "00")].copy()
    rows["sigungu_code"] = rows["legal_dong_code"].str[:5]
    rows["ri"] = rows["legal_dong_name"].str.split().str[-1]
    return rows[["legal_dong_code", "sigungu_code", "ri"]].reset_index(drop=True)


def sigungu_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names of the 18 시군, names of 창원's five 구), as people write them in a text."""
    sigun = tuple(p.name for p in PROVIDERS_BY_CODE.values() if p.kind != "province")
    return sigun, tuple(CHANGWON_DISTRICTS.values())


def changwon_dong_districts(source: Path | None = None) -> tuple[list[str], list[str]]:
    """(읍면동 names, 구 codes) of 창원's 읍면동 whose name only one 구 has: a row delivered under
    48120 naming one of them lies in that 구 (the reference lists them only under the 구 codes)."""
    dongs = build_eup_myeon_dong(source)
    changwon = dongs[dongs["sigungu_code"].isin(CHANGWON_DISTRICTS)]
    unique = changwon.groupby("eup_myeon_dong")["sigungu_code"].agg(lambda c: c.iloc[0] if c.nunique() == 1 else None)
    unique = unique.dropna().sort_index()
    return list(unique.index), list(unique.values)
