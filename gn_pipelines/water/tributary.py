"""Convert the real 경남 tributary workbook (NIER 수질측정망, 84 stations, 1992–2016) into
water_quality drops of provider 48000, one CSV per year, so it goes through the platform.

The workbook is wide (see ../shared/data/real/PROVENANCE.md, item 2): one sheet per parameter,
columns `년, 월, <station…>`; `년` only on January rows; missing values are empty or '' cells.
Choices the source leaves open:
- measured_on is the 15th of the month (contracts/water_quality.MONTHLY_VALUE_DAY, as for the
  물환경정보시스템 export): the sheet holds one value per month, not its day.
- station_code is `GNT-` + the first 6 hex digits of SHA-256 of the NFC station name: the file
  has names only; a hash of the name is stable when columns are reordered or stations added.
- the `EC` sheet is left out (electrical conductivity is not in the water_quality contract),
  as is the empty `Sheet1`. 수계 (basin) is left empty: the file does not say it.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

import pandas as pd

from gn_pipelines.contracts.water_quality import CONTRACT, MONTHLY_VALUE_DAY
from gn_pipelines.reference import PROVINCE_CODE

SHEET_PARAMETERS: dict[str, str] = {
    "TEMP": "water_temp_c", "pH": "ph", "DO": "do_mg_l", "BOD": "bod_mg_l", "COD": "cod_mg_l",
    "SS": "ss_mg_l", "TN": "tn_mg_l", "TP": "tp_mg_l", "TOC": "toc_mg_l", "CHL a": "chlorophyll_a_mg_m3",
}
STATION_CODE_PREFIX = "GNT-"
DATASET = "water_quality"


def tributary_station_code(name: str) -> str:
    """The stable code given to a tributary station known only by its name."""
    digest = hashlib.sha256(unicodedata.normalize("NFC", name.strip()).encode("utf-8")).hexdigest()
    return STATION_CODE_PREFIX + digest[:6].upper()


def read_parameter_sheet(rows: list[list[object]], parameter: str) -> pd.DataFrame:
    """One wide sheet as long rows (station_name, year, month, parameter, value)."""
    header, body = [str(h).strip() for h in rows[0]], rows[1:]
    frame = pd.DataFrame(body, columns=header).rename(columns={"년": "year", "월": "month"})
    frame["year"] = pd.to_numeric(frame["year"].replace("", None), errors="coerce").ffill()
    frame["month"] = pd.to_numeric(frame["month"].replace("", None), errors="coerce")
    frame = frame.dropna(subset=["year", "month"])  # TEMP's trailing blank rows
    long = frame.melt(id_vars=["year", "month"], var_name="station_name", value_name="value")
    long["value"] = pd.to_numeric(long["value"].replace("", None), errors="coerce")
    long = long.dropna(subset=["value"]).astype({"year": int, "month": int})
    return long.assign(parameter=parameter)


def read_tributary_workbook(xlsx: Path) -> pd.DataFrame:
    """All parameter sheets as one frame, one row per station × month (wide by parameter)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(xlsx))
    long = pd.concat([read_parameter_sheet(workbook.get_sheet_by_name(sheet).to_python(), parameter)
                      for sheet, parameter in SHEET_PARAMETERS.items()], ignore_index=True)
    wide = long.pivot_table(index=["station_name", "year", "month"], columns="parameter",
                            values="value", aggfunc="first").reset_index()
    return wide.reindex(columns=["station_name", "year", "month", *SHEET_PARAMETERS.values()])


def as_drop_rows(wide: pd.DataFrame) -> pd.DataFrame:
    """The drop's columns, headed as in the municipal drop spec (the contract's headers)."""
    codes = {name: tributary_station_code(name) for name in wide["station_name"].unique()}
    if len(set(codes.values())) != len(codes):
        raise ValueError("two tributary station names share a code; lengthen the hash")
    drop = pd.DataFrame({
        "station_code": wide["station_name"].map(codes),
        "station_name": wide["station_name"],
        "basin": "",
        "measured_on": [f"{y:04d}-{m:02d}-{MONTHLY_VALUE_DAY:02d}" for y, m in zip(wide["year"], wide["month"])],
    })
    for parameter in SHEET_PARAMETERS.values():
        drop[parameter] = wide[parameter]
    headers = {c.name: c.header for c in CONTRACT.columns}
    drop = drop.reindex(columns=[c.name for c in CONTRACT.columns])
    return drop.rename(columns=headers).assign(year=wide["year"].to_numpy())


def convert_tributary_workbook(xlsx: Path, landing_dir: Path) -> list[Path]:
    """Write one drop per year to `<landing_dir>/48000/water_quality/tributary_<year>.csv`."""
    target_dir = Path(landing_dir) / PROVINCE_CODE / DATASET
    target_dir.mkdir(parents=True, exist_ok=True)
    drop = as_drop_rows(read_tributary_workbook(xlsx))
    written = []
    for year, rows in drop.groupby("year", sort=True):
        target = target_dir / f"tributary_{year}.csv"
        partial = target.with_name(target.name + ".part")  # the landing sensor skips .part files
        rows.drop(columns="year").to_csv(partial, index=False, encoding="utf-8-sig")
        os.replace(partial, target)
        written.append(target)
    return written
