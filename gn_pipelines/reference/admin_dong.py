"""행정동 ↔ 법정동: which legal 읍면동 each administrative 읍면동 (행정동) of 경상남도 covers.

Population and welfare data come by 행정동, addresses and the generalisation hierarchy by
법정동 (reference.eup_myeon_dong); the two are many-to-many (field notes). The crosswalk is built
from 행정안전부's 행정기관코드-법정동코드 mapping (KIKmix). No copy ships with the package: the
workbook is not among the project's real files (`../shared/data/real/`), and data taken from
other repositories is not committed here; once it is added there, `build_admin_legal_crosswalk`
turns it into the reference table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gn_pipelines.reference.providers import PROVIDERS_BY_CODE, provider_of_sigungu

COLUMNS = ["admin_dong_code", "sigungu_code", "provider_code", "admin_dong_name",
           "legal_dong_code", "legal_eup_myeon_dong", "legal_dong_count"]


def build_admin_legal_crosswalk(kikmix_xlsx: Path, province: str = "경상남도") -> pd.DataFrame:
    """One row per (행정동, legal 읍면동) pair in force in a KIKmix workbook (말소일자 empty).

    KIKmix lists every 법정동 and 리 code under the 행정동 that administers it; a 리 belongs to
    the legal 읍면동 of its first 8 digits. `legal_dong_count` is how many legal 읍면동 the
    행정동 covers (1: the names can be swapped one for one).
    """
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(kikmix_xlsx)).get_sheet_by_index(0).to_python()
    mix = pd.DataFrame(rows[1:], columns=[str(h).strip() for h in rows[0]]).astype(str)
    mix = mix.apply(lambda column: column.str.strip())
    current = mix[mix["말소일자"].isin(["", "nan", "None"])]
    in_province = current[(current["시도명"] == province) & (current["읍면동명"] != "")]
    legal_names = current[current["법정동코드"].str[8:] == "00"].drop_duplicates("법정동코드")
    legal_names = dict(zip(legal_names["법정동코드"], legal_names["동리명"]))
    pairs = in_province.assign(legal_dong_code=in_province["법정동코드"].str[:8] + "00")
    pairs = pairs.rename(columns={"행정동코드": "admin_dong_code", "읍면동명": "admin_dong_name"})
    # 출장소 (branch offices such as 삼랑진임천출장소) are listed against the 시군's own code: no land
    pairs = pairs[pairs["legal_dong_code"].str[5:8] != "000"]
    pairs = pairs[["admin_dong_code", "admin_dong_name", "legal_dong_code"]].drop_duplicates()
    pairs["sigungu_code"] = pairs["admin_dong_code"].str[:5]
    pairs["provider_code"] = pairs["sigungu_code"].map(provider_of_sigungu)
    pairs = pairs[pairs["provider_code"].isin(PROVIDERS_BY_CODE)]
    pairs["legal_eup_myeon_dong"] = pairs["legal_dong_code"].map(legal_names)
    pairs["legal_dong_count"] = pairs.groupby("admin_dong_code")["legal_dong_code"].transform("size")
    return pairs[COLUMNS].sort_values(["admin_dong_code", "legal_dong_code"]).reset_index(drop=True)


def legal_eup_myeon_dong_of(crosswalk: pd.DataFrame, sigungu_code: str, admin_dong_name: str) -> tuple[str, ...]:
    """The legal 읍면동 a 행정동 (named within its 시군구, or a 시군's code for 창원's 구) covers."""
    name = "".join(admin_dong_name.split())
    matches = crosswalk[(crosswalk["admin_dong_name"] == name)
                        & ((crosswalk["sigungu_code"] == sigungu_code) | (crosswalk["provider_code"] == sigungu_code))]
    return tuple(matches["legal_eup_myeon_dong"])
