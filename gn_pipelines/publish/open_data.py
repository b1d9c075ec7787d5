"""Open-data exports under `open/`: Parquet and Excel-ready CSV per published table, the catalog
(`catalog.json`) and a static `index.html`, each file written atomically (temp file + rename).

`open/` holds only 익명정보 and 통계 (개인정보 보호법; spec "Privacy classes"): aggregates and
non-personal tables as published, and the 가명정보 record-level tables only as their public
release (`tables.PublicRelease`): keys and free text withheld, quasi-identifiers generalised
again to k = 10 by the same local-recoding engine, the risk measured on the file written.

Reads only the published warehouse, through a read-only attach, so it runs beside analysts.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Collection, Mapping, Sequence
from zoneinfo import ZoneInfo


from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.ingest.parquet_io import scratch_connection
from gn_pipelines.publish.catalog import CATALOG_PUBLISHER
from gn_pipelines.publish.spreadsheet_safety import formula_safe_select
from gn_pipelines.publish.tables import (
    CATALOG_TABLE,
    LICENCE,
    OPEN_DATA_TABLES,
    OPEN_PRIVACY_CLASSES,
    PublishedTable,
    published_table,
)
from gn_pipelines.unfinished_writes import fsync_path

# Korean Excel reads a CSV as CP949 unless it starts with a UTF-8 byte order mark.
UTF8_BOM = b"\xef\xbb\xbf"
# Timestamps in the exports are local time for the public.
EXPORT_TIME_ZONE = "Asia/Seoul"
TEMP_MARKER = ".tmp-"


@dataclass(frozen=True)
class Attachment:
    """An extra file published with a table (e.g. the 남지 chart PNG)."""

    path: Path
    title: str


@dataclass(frozen=True)
class OpenDataExport:
    open_dir: Path
    files: tuple[Path, ...]  # every file written, catalog.json and index.html last
    catalog: tuple[dict, ...]  # catalog.json's dataset entries
    catalog_rows: tuple[dict, ...]  # the same entries as rows of the `data_catalog` table
    disclosure_risk: dict[str, dict]  # per anonymised record-level table: k, risk, suppression


def export_open_data(published_db: Path, open_dir: Path, *,
                     attachments: Mapping[str, Sequence[Path | Attachment]] | None = None,
                     reuse_from: Path | None = None, unchanged: Collection[str] = (),
                     scratch: Path | None = None) -> OpenDataExport:
    """Export every published table to `open_dir` and write its catalog and index page.

    Tables in `unchanged` (the same rows as in the release whose open data is `reuse_from`, and
    exported by the same code) take that export's files (hard links: exports are never written
    in place) and catalog entry instead of being exported again. DuckDB spills to `scratch`
    (the data root's scratch zone) beyond its memory limit.
    """
    open_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(open_dir)
    reusable = _reusable_entries(reuse_from, unchanged)
    with scratch_connection(scratch) as connection:
        connection.execute(f"SET TimeZone = {sql_text(EXPORT_TIME_ZONE)}")
        connection.execute(f"ATTACH {sql_text(str(published_db))} AS published (READ_ONLY)")
        rows = _catalog_rows(connection)
        files, entries, risks = [], [], {}
        for row in rows:
            previous = reusable.get(row["table_name"])
            if previous is not None:
                table_files = _link_downloads(reuse_from, open_dir, previous)
                risk = previous.get("disclosure_risk")
            else:
                table_files, risk = _export_table(connection, row["table_name"], open_dir, rows)
            extra = _attach(open_dir, (attachments or {}).get(row["table_name"], ()))
            files += table_files + [a.path for a in extra]
            entries.append(_entry(row, table_files, extra, risk))
            if risk is not None:
                risks[row["table_name"]] = risk
    _remove_unlisted(open_dir, {p.name for p in files} | {"catalog.json", "index.html"})
    # the export's own time in the zone of every other time people read (the host's may be UTC)
    generated_at = datetime.now(ZoneInfo(EXPORT_TIME_ZONE)).isoformat(timespec="seconds")
    files.append(_write_text(open_dir / "catalog.json", catalog_json(entries, generated_at)))
    files.append(_write_text(open_dir / "index.html", index_html(entries, generated_at)))
    return OpenDataExport(open_dir, tuple(files), tuple(entries), tuple(rows), risks)


def _reusable_entries(reuse_from: Path | None, unchanged: Collection[str]) -> dict[str, dict]:
    """Catalog entries of an earlier export, for the unchanged tables whose files are all there."""
    catalog = reuse_from / "catalog.json" if reuse_from is not None else None
    if not unchanged or catalog is None or not catalog.exists():
        return {}
    entries = json.loads(catalog.read_text(encoding="utf-8"))["datasets"]
    return {e["table_name"]: e for e in entries if e["table_name"] in unchanged
            and all((reuse_from / d["href"]).is_file() for d in e["downloads"])}


def _link_downloads(reuse_from: Path, open_dir: Path, entry: dict) -> list[Path]:
    """The earlier export's files of one table, linked (or copied) into `open_dir`."""
    linked = []
    for download in entry["downloads"]:
        source, target = reuse_from / download["href"], open_dir / download["href"]
        temp = target.with_name(f".{target.name}{TEMP_MARKER}{uuid.uuid4().hex[:12]}")
        try:
            try:
                os.link(source, temp)
            except OSError:  # another file system, or links not allowed: a copy says the same
                shutil.copyfile(source, temp)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        linked.append(target)
    return linked


def _remove_unlisted(open_dir: Path, kept: set[str]) -> None:
    """Remove table files of an earlier export that are no longer opened (e.g. the record-level
    가명정보 copies published before the privacy classes): open/ holds what the catalog lists."""
    for path in open_dir.iterdir():
        if path.is_file() and path.suffix in (".csv", ".parquet") and path.name not in kept:
            path.unlink()


def _catalog_rows(connection) -> list[dict]:
    present = {n for (n,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'published' AND schema_name = 'main'").fetchall()}
    if CATALOG_TABLE not in present:
        raise FileNotFoundError(f"the published warehouse has no {CATALOG_TABLE} table: publish first")
    cursor = connection.execute(f'SELECT * FROM published.main."{CATALOG_TABLE}"')
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    order = [t.name for t in OPEN_DATA_TABLES]  # 가명정보 without a public release is never opened
    return sorted((r for r in rows if r["table_name"] in present and r["table_name"] in order),
                  key=lambda r: order.index(r["table_name"]))


def _export_table(connection, name: str, open_dir: Path, catalog_rows: list[dict]) -> tuple[list[Path], dict | None]:
    table = published_table(name)
    if table.open_privacy_class not in OPEN_PRIVACY_CLASSES:
        raise ValueError(f"{name} is {table.privacy_class} and has no public release: never opened")
    risk = None
    if table.public_release is not None:
        source, risk = _public_release(connection, table)
    elif name == CATALOG_TABLE:
        source = _open_catalog(connection, catalog_rows)
    else:
        withheld = ", ".join(f'"{c}"' for c in table.open_data_withheld)
        excluded = f"EXCLUDE ({withheld})" if withheld else ""
        source = f'SELECT * {excluded} FROM published.main."{name}"'
    parquet = _atomic(open_dir / f"{name}.parquet", lambda temp: connection.execute(
        f"COPY ({source}) TO {sql_text(str(temp))} (FORMAT parquet, COMPRESSION zstd)"))
    csv = _atomic(open_dir / f"{name}.csv", lambda temp: write_csv_with_bom(connection, source, temp))
    return [parquet, csv], risk


def _public_release(connection, table: PublishedTable) -> tuple[str, dict]:
    """The 익명정보 copy of a 가명정보 table in the in-memory `public_<name>`, and its measured risk."""
    from gn_pipelines.privacy.anonymity import anonymise, class_stats

    release = table.public_release
    columns = list(table.open_column_names)
    # a withheld quasi-identifier or sensitive column is not published, so the copy is not made
    # k-anonymous or l-diverse over it (welfare's sex: see datasets/model.py)
    ladders = [ladder for ladder in release.quasi_identifiers if set(ladder.outputs) & set(columns)]
    cut = [ladder.name for ladder in ladders if not set(ladder.outputs) <= set(columns)]
    if cut:  # its published outputs would go out without the ladder's generalisation
        raise ValueError(f"{table.name}: quasi-identifier(s) {', '.join(cut)} withheld in part only")
    sensitive = [column for column in release.sensitive if column in columns]
    generalised = {out for ladder in ladders for out in ladder.outputs}
    source, target = f"public_source_{table.name}", f"public_{table.name}"
    keep = [c for c in columns if c not in generalised and c not in release.partition_by
            and c not in sensitive]
    # the person's key is read to count people, and left out of the copy (`select` below)
    person = [release.person] if release.person else []
    read = [*columns, *person]
    connection.execute(f'CREATE OR REPLACE TEMP TABLE {source} AS '
                       f'SELECT {", ".join(chr(34) + c + chr(34) for c in read)} FROM published.main."{table.name}"')
    report = anonymise(connection, source, target, quasi_identifiers=ladders,
                       sensitive=sensitive, k=release.k, l=release.l,
                       partition_by=list(release.partition_by), keep=[*keep, *person],
                       max_suppression=1.0,  # a small table suppresses much: reported, not refused
                       person=release.person)
    connection.execute(f"DROP TABLE {source}")
    typed = ", ".join(
        f'CAST(nullif(CAST("{c}" AS VARCHAR), \'*\') AS {table.column(c).type}) AS "{c}"' if c in generalised
        else f'"{c}"' for c in columns)
    select = f"SELECT {typed} FROM {target}"
    # measured on the rows as written: every class of the quasi-identifiers (and partition) counts
    keys = [*release.partition_by, *sorted(generalised, key=columns.index)]
    k_reached, _ = class_stats(connection, target, keys, person=release.person)
    classes = connection.execute(f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(keys)} FROM {target})").fetchone()[0]
    rows = connection.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    risk = {"k_required": release.k, "k_reached": k_reached, "l_required": report.l_required,
            "l_reached": report.l_reached, "records_in": report.records_in, "records_out": rows,
            "records_suppressed": report.records_suppressed, "equivalence_classes": classes,
            "quasi_identifiers": keys, "max_reidentification_risk": round(1 / k_reached, 4) if k_reached else 0.0,
            "average_reidentification_risk": round(classes / rows, 4) if rows else 0.0,
            "withheld_columns": list(table.open_data_withheld), "levels": report.levels,
            "k_counts": report.k_counted}
    return select, risk


def write_csv_with_bom(connection, source: str, target: Path) -> None:
    """COPY a query to CSV behind a UTF-8 BOM (streamed, so big tables never sit in memory),
    every text cell formula-safe: the file is meant to open directly in Excel."""
    body = target.with_name(target.name + ".body")
    try:
        safe = formula_safe_select(connection, source)
        connection.execute(f"COPY ({safe}) TO {sql_text(str(body))} (FORMAT csv, HEADER true)")
        with open(target, "wb") as out, open(body, "rb") as data:
            out.write(UTF8_BOM)
            shutil.copyfileobj(data, out, 1 << 20)
    finally:
        body.unlink(missing_ok=True)


def _attach(open_dir: Path, files: Sequence[Path | Attachment]) -> list[Attachment]:
    copied = []
    for item in files:
        attachment = item if isinstance(item, Attachment) else Attachment(Path(item), Path(item).name)
        target = open_dir / attachment.path.name
        _atomic(target, lambda temp, source=attachment.path: shutil.copyfile(source, temp))
        copied.append(Attachment(target, attachment.title))
    return copied


def _open_titles(table) -> tuple[str, str]:
    """A table's titles as its open copy's: `…(가명정보)` becomes `…(익명정보)`."""
    return (table.title_ko.replace(f"({table.privacy_class})", f"({table.open_privacy_class})"),
            table.title_en.replace("(pseudonymised)", "(anonymised)"))


def _open_columns(table, columns_json: str) -> list[dict]:
    return [c for c in json.loads(columns_json) if c["name"] not in table.open_data_withheld]


def _open_catalog(connection, catalog_rows: list[dict]) -> str:
    """The `data_catalog` the public gets: a row per open table (never one of a table kept from
    the public), each describing its open copy (title, class, columns) as catalog.json does."""
    connection.execute(f'CREATE OR REPLACE TEMP TABLE open_data_catalog AS SELECT * FROM published.main."{CATALOG_TABLE}" '
                       "WHERE list_contains($names, table_name)", {"names": [r["table_name"] for r in catalog_rows]})
    for row in catalog_rows:
        table = published_table(row["table_name"])
        title_ko, title_en = _open_titles(table)
        connection.execute("UPDATE open_data_catalog SET title_ko = $ko, title_en = $en, columns = $columns, "
                           "privacy_class = $class WHERE table_name = $name",
                           {"ko": title_ko, "en": title_en, "class": table.open_privacy_class, "name": table.name,
                            "columns": json.dumps(_open_columns(table, row["columns"]), ensure_ascii=False)})
    order = ", ".join(sql_text(r["table_name"]) for r in catalog_rows)
    return f"SELECT * FROM open_data_catalog ORDER BY list_position([{order}], table_name)"


def _entry(row: dict, files: list[Path], attachments: list[Attachment], risk: dict | None) -> dict:
    table = published_table(row["table_name"])
    title_ko, title_en = _open_titles(table)
    return {
        "table_name": table.name, "title_ko": title_ko, "title_en": title_en,
        "privacy_class": table.open_privacy_class, "source_privacy_class": table.privacy_class,
        "description_ko": table.description_ko, "description_en": table.description_en, "grain": table.grain,
        "columns": _open_columns(table, row["columns"]),
        "withheld_columns": list(table.open_data_withheld), "row_count": row["row_count"],
        "last_updated": row["last_updated"].isoformat(timespec="seconds"),
        "providers": row["providers"], "licence": row["licence"], "privacy_treatment": row["privacy_treatment"],
        "downloads": [{"format": p.suffix.lstrip("."), "href": p.name, "bytes": p.stat().st_size} for p in files],
        "attachments": [{"title": a.title, "href": a.path.name} for a in attachments],
        **({"disclosure_risk": risk} if risk is not None else {}),
    }


def catalog_json(entries: list[dict], generated_at: str) -> str:
    """The machine-readable catalog: publisher, licence and one entry per dataset."""
    return json.dumps({"publisher": CATALOG_PUBLISHER, "licence": LICENCE, "generated_at": generated_at,
                       "datasets": entries}, ensure_ascii=False, indent=2) + "\n"


def index_html(entries: list[dict], generated_at: str) -> str:
    """A static Korean page listing the datasets with their download links (no external assets)."""
    sections = "\n".join(_dataset_html(e) for e in entries)
    return f"""<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>경상남도 공공데이터 개방 목록</title>
<style>
body {{ font-family: "Malgun Gothic", "Apple SD Gothic Neo", "Noto Sans KR", sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.6; color: #222; }}
section {{ border-top: 1px solid #ccc; padding: 0.5rem 0 1rem; }}
dt {{ font-weight: bold; }} dd {{ margin: 0 0 0.4rem 0; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }} td, th {{ border: 1px solid #ddd; padding: 0.2rem 0.5rem; }}
a.download {{ display: inline-block; margin-right: 1rem; }}
</style>
</head>
<body>
<h1>경상남도 공공데이터 개방 목록</h1>
<p>{html.escape(CATALOG_PUBLISHER)}가 개방하는 데이터입니다. 이용허락: <strong>{html.escape(LICENCE)}</strong>
(출처를 표시하면 상업적 이용과 변경을 포함해 자유롭게 이용할 수 있습니다).
CSV는 UTF-8(BOM)로 저장되어 엑셀에서 바로 열립니다. 기계 판독용 목록: <a href="catalog.json">catalog.json</a>.</p>
<p>개인정보 보호법에 따라 이곳에는 <strong>익명정보</strong>와 <strong>통계</strong>만 공개합니다. 가명정보(가명키·민원 원문 포함)는
센터 분석실과 심사를 거친 데이터 안심구역 반출로만 제공합니다.</p>
<p>갱신 시각: {html.escape(generated_at)}</p>
{sections}
</body>
</html>
"""


def _dataset_html(entry: dict) -> str:
    e = {k: html.escape(str(v)) for k, v in entry.items() if isinstance(v, (str, int))}
    links = " ".join(f'<a class="download" href="{html.escape(d["href"])}">{d["format"].upper()} 내려받기</a>'
                     for d in entry["downloads"])
    links += " ".join(f'<a class="download" href="{html.escape(a["href"])}">{html.escape(a["title"])}</a>'
                      for a in entry["attachments"])
    columns = "".join(f"<tr><td><code>{html.escape(c['name'])}</code></td><td>{html.escape(c['type'])}</td>"
                      f"<td>{html.escape(c['comment_ko'])}</td></tr>" for c in entry["columns"])
    return f"""<section id="{e['table_name']}">
<h2>{e['title_ko']} <small>({e['title_en']})</small></h2>
<p>{e['description_ko']}</p>
<dl>
<dt>개인정보 분류</dt><dd><strong class="privacy-class">{e['privacy_class']}</strong>{_source_class_html(entry)}</dd>
<dt>단위</dt><dd>{e['grain']}</dd>
<dt>행 수</dt><dd>{entry['row_count']:,}</dd>
<dt>최종 갱신</dt><dd>{e['last_updated']}</dd>
<dt>제공 기관</dt><dd>{e['providers']}</dd>
<dt>개인정보 처리</dt><dd>{e['privacy_treatment']}{_withheld_html(entry)}</dd>
<dt>이용허락</dt><dd>{e['licence']}</dd>
</dl>
<p>{links}</p>
<details><summary>컬럼 {len(entry['columns'])}개</summary>
<table><tr><th>이름</th><th>형식</th><th>설명</th></tr>{columns}</table>
</details>
</section>"""


def _source_class_html(entry: dict) -> str:
    risk = entry.get("disclosure_risk")
    if not risk:
        return ""
    return (f" (분석용 {html.escape(entry['source_privacy_class'])}에서 공개용으로 재처리: "
            f"k = {risk['k_reached']} (요구 {risk['k_required']}), 최대 재식별 위험 {risk['max_reidentification_risk']}, "
            f"평균 재식별 위험 {risk['average_reidentification_risk']}, 삭제된 레코드 {risk['records_suppressed']:,}건)")


def _withheld_html(entry: dict) -> str:
    if not entry["withheld_columns"]:
        return ""
    names = ", ".join(f"<code>{html.escape(c)}</code>" for c in entry["withheld_columns"])
    return f" 공개 파일에는 가명키와 자유기재 항목({names})을 싣지 않습니다."


def _write_text(path: Path, text: str) -> Path:
    return _atomic(path, lambda temp: temp.write_text(text, encoding="utf-8"))


def _atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through a sibling temp file, fsync it and rename it over `path` (never half a file)."""
    temp = path.with_name(f".{path.name}{TEMP_MARKER}{uuid.uuid4().hex[:12]}")
    try:
        write(temp)
        fsync_path(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def remove_stale_temp_files(open_dir: Path) -> list[Path]:
    """Remove temp files of an export that was killed (one exporter at a time, as the publisher)."""
    stale = [p for p in open_dir.glob(f".*{TEMP_MARKER}*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
