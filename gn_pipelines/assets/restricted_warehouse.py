"""The restricted warehouse (warehouse/restricted.duckdb): reference tables, and views over the
Parquet files that collection runs stage, so drops never wait for the database file's lock."""

import dagster as dg

from gn_pipelines.assets.metadata import markdown_table
from gn_pipelines.ingest.casting import sql_text
from gn_pipelines.resources import RESTRICTED_WAREHOUSE_POOL, RestrictedWarehouseResource
from gn_pipelines.resources.zones import DataZonesResource

REFERENCE_GROUP = "reference"
WAREHOUSE_SETUP_JOB = "setup_restricted_warehouse"


def _replace_table(connection, table: str, frame, comment: str) -> int:
    connection.execute("CREATE SCHEMA IF NOT EXISTS reference")
    connection.register("incoming_frame", frame)
    connection.execute(f"CREATE OR REPLACE TABLE reference.{table} AS SELECT * FROM incoming_frame")
    connection.unregister("incoming_frame")
    connection.execute(f"COMMENT ON TABLE reference.{table} IS {sql_text(comment)}")
    return len(frame)


def _reference_asset(table: str, description: str, build):
    @dg.asset(name=table, key_prefix=["reference"], group_name=REFERENCE_GROUP,
              pool=RESTRICTED_WAREHOUSE_POOL, kinds={"duckdb"}, description=description)
    def reference_table(warehouse: RestrictedWarehouseResource) -> dg.MaterializeResult:
        frame = build()
        with warehouse.connect() as connection:
            rows = _replace_table(connection, table, frame, description)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": rows,
            "dagster/table_name": f"restricted.reference.{table}",
            "preview": dg.MetadataValue.md(markdown_table(frame.head(10).to_dict("records"))),
        })

    return reference_table


def _providers():
    from gn_pipelines.reference.legal_dong import providers_frame

    return providers_frame()


def _districts():
    from gn_pipelines.reference.legal_dong import districts_frame

    return districts_frame()


def _eup_myeon_dong():
    from gn_pipelines.reference.legal_dong import build_eup_myeon_dong

    return build_eup_myeon_dong()


def _water_stations():
    from gn_pipelines.reference.water_stations import water_stations

    return water_stations()


REFERENCE_ASSETS = [
    _reference_asset("providers", "The 19 data providers (경상남도 and its 18 시군) by 시군구 code.", _providers),
    _reference_asset("changwon_districts", "창원시's five districts (구), which deliver under 48120.", _districts),
    _reference_asset("eup_myeon_dong", "Every existing 읍면동 of the 18 시군, from the 법정동코드 table.",
                     _eup_myeon_dong),
    _reference_asset("water_stations", "The province's registry of water-quality stations (NIER codes, names, "
                     "대권역) that 물환경정보시스템 exports are matched to by name.", _water_stations),
]


@dg.asset(
    key="restricted_warehouse_views",
    group_name=REFERENCE_GROUP,
    pool=RESTRICTED_WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="Views in restricted.duckdb over staged Parquet: collected_<dataset>, "
                "rejected_rows, drop_log and drop_rejections. They see new drops without a rebuild.",
)
def restricted_warehouse_views(zones: DataZonesResource,
                               warehouse: RestrictedWarehouseResource) -> dg.MaterializeResult:
    from gn_pipelines.restricted_views import create_restricted_views

    with warehouse.connect() as connection:
        views = create_restricted_views(connection, zones.zones)
    return dg.MaterializeResult(metadata={"views": ", ".join(views)})

