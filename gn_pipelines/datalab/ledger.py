"""The processing ledger of 가명정보 (개인정보 보호법 시행령 제29조의5: 가명정보의 처리 기록).

One record per 가명정보 release (the published warehouse for the center's analysts) and per
가명정보 extract (a reviewed data-lab request): purpose, items, recipient, period, reviewer and
verdict, key id, destruction date. A destruction is recorded as its own entry pointing at the
extract. Entries live in the restricted zone (data engineers only), one JSON file each, written
under a fresh name and never rewritten: append-only by construction, and writers never contend
for a lock. `register()` folds them into the register an auditor asks for.

Every release adds entries (several publications a day: hundreds of thousands of files in ten
years, all read by every release to find the pruned ones), so each release also folds the
months before the previous one into `<YYYY-MM>.parquet` in the same folder, as the event logs
are folded (`ingest/log_compaction.py`: written whole before the month's files go, one row per
entry id): no entry is rewritten or lost.
"""

from __future__ import annotations

import csv
import functools
import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path

from gn_pipelines.publish.spreadsheet_safety import formula_safe
from gn_pipelines.seoul_time import now_in_seoul, today_in_seoul
from gn_pipelines.settings import DataZones
from gn_pipelines.unfinished_writes import write_text_atomically

LEDGER_DIR = "processing_ledger"
RELEASE, EXTRACT, DESTRUCTION = "release", "extract", "destruction"
REGISTER_COLUMNS = ("entry_id", "recorded_at", "kind", "reference", "purpose", "items", "recipient",
                    "period_start", "period_end", "reviewer", "verdict", "key_id", "destruction_due",
                    "destroyed_on")
# Korean headers of the register (the CSV an auditor reads in Excel)
REGISTER_HEADERS_KO = ("기록번호", "기록시각", "구분", "대상", "처리 목적", "처리 항목", "제공받는 자",
                       "이용 시작일", "이용 종료일", "적정성 검토자", "검토 결과", "추가정보(키) ID",
                       "파기 예정일", "파기일")


@dataclass(frozen=True)
class LedgerEntry:
    kind: str  # release, extract or destruction
    reference: str  # the release (published time) or the data-lab request id
    purpose: str
    items: tuple[str, ...] = ()  # tables and columns processed
    recipient: str = ""
    period_start: str | None = None  # ISO dates
    period_end: str | None = None
    reviewer: str | None = None
    verdict: str | None = None
    key_id: str | None = None
    destruction_due: str | None = None
    destroyed_on: str | None = None
    entry_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    recorded_at: str = field(default_factory=lambda: now_in_seoul().isoformat(timespec="seconds"))


def ledger_dir(zones: DataZones) -> Path:
    return zones.restricted / LEDGER_DIR


def append_entry(zones: DataZones, entry: LedgerEntry) -> Path:
    """Write one entry as a new file, whole and on disk (a reader never sees half of it)."""
    folder = ledger_dir(zones)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = entry.recorded_at.replace(":", "").replace("-", "")[:15]
    target = folder / f"{stamp}-{entry.kind}-{entry.entry_id}.json"
    write_text_atomically(target, json.dumps(asdict(entry), ensure_ascii=False), durable=True, owner_only=True)
    return target


# the entries' DuckDB types: every field is text (ISO dates and times), `items` a list of it
LEDGER_COLUMNS = {f.name: "VARCHAR[]" if f.name == "items" else "VARCHAR" for f in fields(LedgerEntry)}
ENTRY_ID = "entry_id"


def entries(zones: DataZones) -> list[dict]:
    """Every entry, in the order recorded."""
    found = _query(zones, "SELECT * FROM {records}")
    # by instant: entries of earlier versions carry UTC offsets, newer ones KST
    return sorted(found, key=lambda e: (datetime.fromisoformat(e["recorded_at"]), e["entry_id"]))


def fold_past_months(zones: DataZones) -> list[Path]:
    """Fold the entries of the months before the previous one into one Parquet file per month."""
    from gn_pipelines.ingest.log_compaction import fold_past_months as fold

    return fold(ledger_dir(zones), LEDGER_COLUMNS, today_in_seoul(), id_column=ENTRY_ID)


def _query(zones: DataZones, sql: str) -> list[dict]:
    """`sql` over the ledger's entries (`{records}`: its JSON files and folded months), as dicts."""
    import duckdb

    from gn_pipelines.ingest.log_compaction import present_records, reading

    folder = ledger_dir(zones)
    with reading(folder), duckdb.connect() as connection:  # no fold removes an entry listed here
        records = present_records(folder, LEDGER_COLUMNS, ENTRY_ID) if folder.is_dir() else None
        if records is None:
            return []
        cursor = connection.execute(sql.format(records=records))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def register(zones: DataZones) -> list[dict]:
    """One row per 가명정보 release and extract, with the date it was destroyed (if it was)."""
    recorded = entries(zones)
    destroyed = {e["reference"]: e["destroyed_on"] for e in recorded if e["kind"] == DESTRUCTION}
    rows = []
    for entry in recorded:
        if entry["kind"] == DESTRUCTION:
            continue
        row = {name: entry.get(name) for name in REGISTER_COLUMNS}
        row["items"] = ", ".join(entry.get("items") or ())
        row["destroyed_on"] = destroyed.get(entry["reference"])
        rows.append(row)
    return rows


def export_register_csv(zones: DataZones, target: Path) -> int:
    """The register as a CSV for Korean Excel (UTF-8 with BOM, Korean then English headers,
    formula-safe cells)."""
    rows = register(zones)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REGISTER_HEADERS_KO)
        writer.writerow(REGISTER_COLUMNS)
        for row in rows:
            # purposes and names come from requests: formula-safe, as every spreadsheet export
            writer.writerow(["" if row[c] is None else formula_safe(row[c]) for c in REGISTER_COLUMNS])
    return len(rows)


# A release of the published warehouse goes to the center's analysts, read-only, for analysis and
# statistics; it is replaced by the next release (kept releases are pruned by the publisher).
RELEASE_PURPOSE = "센터 분석가의 통계작성·과학적 연구(분석용 공개 웨어하우스, 읽기 전용)"
RELEASE_RECIPIENT = "경상남도 빅데이터분석센터 분석가"


def record_release(zones: DataZones, release_dir: Path) -> list[Path]:
    """One ledger entry per 가명정보 table of a release that just became current; and the
    destruction of earlier releases the publisher has pruned since."""
    record_pruned_releases(zones, release_dir.parent)
    from gn_pipelines.privacy.deidentify import release_key_id
    from gn_pipelines.publish.tables import PSEUDONYMOUS, PUBLISHED_TABLES

    fold_past_months(zones)
    manifest = json.loads((release_dir / "release.json").read_text(encoding="utf-8"))
    start = (manifest.get("completed_at") or now_in_seoul().isoformat())[:10]
    written = []
    key_id_of = functools.cache(lambda dataset: release_key_id(zones, dataset))  # reads every drop's sidecar
    for table in PUBLISHED_TABLES:
        if table.privacy_class != PSEUDONYMOUS or table.name not in manifest.get("tables", {}):
            continue
        key_ids = sorted({k for d in table.source_datasets if (k := key_id_of(d))})
        written.append(append_entry(zones, LedgerEntry(
            RELEASE, f"{table.name}@{release_dir.name}", RELEASE_PURPOSE,
            items=tuple(f"{table.name}.{c}" for c in table.column_names), recipient=RELEASE_RECIPIENT,
            period_start=start, verdict="적정(자동 검사: k-익명성, l-다양성, 잔여 식별자)",
            key_id=", ".join(key_ids) or None)))
    return written


def record_release_if_missing(zones: DataZones, release_dir: Path) -> list[Path]:
    """`record_release` for a current release the ledger does not hold: a run killed right after
    its release became current never wrote the entries its hook would have (checked by every
    `process` and publication, so the gap closes on the next one)."""
    from gn_pipelines.publish.tables import PSEUDONYMOUS, PUBLISHED_TABLES

    manifest = json.loads((release_dir / "release.json").read_text(encoding="utf-8"))
    if not any(t.privacy_class == PSEUDONYMOUS and t.name in manifest.get("tables", {}) for t in PUBLISHED_TABLES):
        return []
    suffix = "@" + release_dir.name.replace("'", "''")
    recorded = _query(zones, f"SELECT count(*) AS n FROM {{records}} WHERE kind = '{RELEASE}' "
                             f"AND ends_with(reference, '{suffix}')")
    return [] if recorded and recorded[0]["n"] else record_release(zones, release_dir)


def record_pruned_releases(zones: DataZones, releases_dir: Path) -> list[Path]:
    """A destruction entry for every recorded release whose directory is gone (pruned or rolled
    back by the publisher); the date is the day it was found gone."""
    live = _query(zones, f"""
        SELECT reference, any_value(purpose) AS purpose, any_value(recipient) AS recipient FROM {{records}}
        WHERE kind = '{RELEASE}' AND contains(reference, '@') AND reference NOT IN (
            SELECT reference FROM {{records}} WHERE kind = '{DESTRUCTION}' AND reference IS NOT NULL)
        GROUP BY reference ORDER BY reference""")
    written = []
    for entry in live:
        reference = entry["reference"]
        if not (releases_dir / reference.split("@", 1)[1]).exists():
            written.append(append_entry(zones, LedgerEntry(
                DESTRUCTION, reference, entry["purpose"], recipient=entry["recipient"],
                destroyed_on=today_in_seoul().isoformat())))
    return written

