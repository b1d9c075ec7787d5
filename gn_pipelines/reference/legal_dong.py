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
