"""A dataset's records as they stand: a record delivered again replaces its earlier delivery.

A provider may send a record twice in different files: a complaint again once it is completed
(same 접수번호, new 처리상태), a month's welfare snapshot corrected under a new name
(`2025-03_수정.csv`). The contract says the record's key is unique within the provider, so the
later delivery is the record; counting both would publish the complaint twice. Every delivery
stays in the restricted zone as it came: only the readers of all drops (the release and the
aggregates) see the current records.

The newest delivery is the one collected last, then the file whose name sorts last (daily and
corrected names: `2025-03-04.csv` after `2025-03-03.csv`, `2025-03_수정.csv` after
`2025-03.csv`), then the later row. Records without a key (no value to match) all stand.
"""

from __future__ import annotations

from typing import Sequence

from gn_pipelines.contracts.generalisation import quote
from gn_pipelines.ingest.casting import sql_text

PROVIDER_COLUMN = "provider_code"


def create_current_records_view(connection, view: str, glob: str, record_key: Sequence[str]) -> int:
    """Create `view` over the pseudonymised drops `glob`, each record (provider + `record_key`) in its
    newest delivery only; returns how many earlier deliveries it leaves out. Without duplicates (the
    usual case, checked on hashes first) the view is the drops as they are, in their order; with
    them, the rows come in the order of their files and rows."""
    delivered = f"read_parquet({sql_text(glob)}, union_by_name = true)"
    if not record_key:
        connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {delivered}")
        return 0
    key = ", ".join(quote(c) for c in (PROVIDER_COLUMN, *record_key))
    keyed = " AND ".join(f"{quote(c)} IS NOT NULL" for c in record_key)
    # a shared hash can only send the drops through the exact path below
    repeated = connection.execute(
        f"SELECT count(*) - count(DISTINCT hash({key})) FROM {delivered} WHERE {keyed}").fetchone()[0]
    if not repeated:
        connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {delivered}")
        return 0
    connection.execute(f"""CREATE OR REPLACE VIEW {view} AS
        SELECT * EXCLUDE (__delivery) FROM (
            SELECT *, CASE WHEN {keyed} THEN row_number() OVER (PARTITION BY {key}
                ORDER BY collected_at DESC, source_file DESC, source_row_number DESC) ELSE 1 END AS __delivery
            FROM {delivered})
        WHERE __delivery = 1 ORDER BY source_file, source_row_number""")
    return repeated
