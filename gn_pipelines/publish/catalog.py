"""Rows of the `data_catalog` table, computed from the declarations and the tables as published."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Mapping

from gn_pipelines.datasets import get_contract
from gn_pipelines.publish.tables import CATALOG_TABLE, LICENCE, PUBLISHED_TABLES, PublishedTable
from gn_pipelines.reference.providers import PROVIDERS_BY_CODE, provider_of_sigungu

CATALOG_PUBLISHER = "경상남도 빅데이터분석센터"


def columns_json(table: PublishedTable) -> str:
    """The column definitions of a table as JSON text (name, type, Korean and English comment)."""
    return json.dumps([{"name": c.name, "type": c.type, "comment_ko": c.comment_ko,
                        "comment_en": c.comment_en} for c in table.columns], ensure_ascii=False)


def _provider_codes(connection, table: PublishedTable, present: set[str]) -> list[str]:
    if table.provider_column is None or table.name not in present:
        return []
    rows = connection.execute(
        f'SELECT DISTINCT "{table.provider_column}" FROM main."{table.name}" '
        f'WHERE "{table.provider_column}" IS NOT NULL').fetchall()
    codes = {provider_of_sigungu(str(code)) for (code,) in rows}
    # a row generalised to the province carries 48000, which names no provider of that dataset
    allowed = {code for d in table.source_datasets for code in (get_contract(d).providers or PROVIDERS_BY_CODE)}
    return sorted(codes & allowed if allowed else codes)


def providers_of(connection, table: PublishedTable, present: set[str]) -> list[str]:
    """Codes of the providers whose rows a table holds (through the tables it is derived from)."""
    codes = set(_provider_codes(connection, table, present))
    for parent in table.derived_from:
        codes |= set(providers_of(connection, _by_name(parent), present))
    return sorted(codes)


def providers_text(codes: list[str]) -> str:
    if not codes:
        return CATALOG_PUBLISHER
    return ", ".join(f"{c} {PROVIDERS_BY_CODE[c].name}" if c in PROVIDERS_BY_CODE else c for c in codes)


def _by_name(name: str) -> PublishedTable:
    return next(t for t in PUBLISHED_TABLES if t.name == name)


def catalog_rows(connection, last_updated: Mapping[str, datetime]) -> list[tuple]:
    """One row per published table present in the connection's `main` schema, in contract order.

    `last_updated` gives each table's publication time; the catalog describes itself too.
    """
    present = {name for (name,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main'").fetchall()} | {CATALOG_TABLE}
    tables = [t for t in PUBLISHED_TABLES if t.name in present]
    rows = []
    for table in tables:
        if table.name == CATALOG_TABLE:
            count = len(tables)
        else:
            count = connection.execute(f'SELECT count(*) FROM main."{table.name}"').fetchone()[0]
        rows.append((table.name, table.title_ko, table.title_en, table.description_ko,
                     columns_json(table), count, last_updated[table.name],
                     providers_text(providers_of(connection, table, present)),
                     LICENCE, table.privacy_treatment, table.privacy_class, table.open_privacy_class))
    return rows
