"""The OpenAPI 3 document of the API, written from the release being served: one path per open
table, its filters and its item fields."""

from __future__ import annotations

from gn_pipelines.openapi.convention import ResultCode
from gn_pipelines.openapi.portal import metadata, service_info
from gn_pipelines.openapi.query import DEFAULT_ROWS, MAX_ROWS, camel_case, table_filters
from gn_pipelines.openapi.release import Release

_TYPES = {"VARCHAR": {"type": "string"}, "DATE": {"type": "string", "format": "date"},
          "BOOLEAN": {"type": "boolean"}, "DOUBLE": {"type": "number"}, "FLOAT": {"type": "number"},
          "INTEGER": {"type": "integer"}, "BIGINT": {"type": "integer"}, "SMALLINT": {"type": "integer"}}
_FILTER_SCHEMAS = {"code": {"type": "string", "pattern": "^[0-9]{5}$"},
                   "month": {"type": "string", "pattern": "^[0-9]{4}-?(0[1-9]|1[0-2])$"},
                   "year": {"type": "integer", "minimum": 1900, "maximum": 2100},
                   "date": {"type": "string"}, "bool": {"type": "boolean"}, "text": {"type": "string", "maxLength": 100}}


def _common_parameters() -> list[dict]:
    return [
        {"name": "pageNo", "in": "query", "description": "페이지 번호", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "numOfRows", "in": "query", "description": "한 페이지 결과 수 (1–1000)",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS, "default": DEFAULT_ROWS}},
        {"name": "resultType", "in": "query", "description": "응답 형식",
         "schema": {"type": "string", "enum": ["json", "xml"], "default": "json"}},
    ]


def _error_table() -> str:
    return "\n".join(f"| {r.code} | {r.message} | {r.message_ko} |" for r in ResultCode)


def openapi_document(release: Release) -> dict:
    paths, schemas = {}, {
        "Header": {"type": "object", "properties": {
            "resultCode": {"type": "string", "example": "00"},
            "resultMsg": {"type": "string", "example": "NORMAL SERVICE."}}},
    }
    for table, entry in release.open_tables.items():
        item = f"{camel_case(table)[:1].upper()}{camel_case(table)[1:]}Item"
        schemas[item] = {"type": "object", "properties": {
            camel_case(name): {**_TYPES.get(type_, {"type": "string"}), "nullable": True}
            for name, type_ in release.columns[table]}}
        filters = [{"name": f.parameter, "in": "query", "description": f"{f.description} (컬럼 {f.column})",
                    "schema": _FILTER_SCHEMAS[f.kind]} for f in table_filters(release.columns[table]).values()]
        meta = "\n".join(f"- **{k}**: {v}" for k, v in metadata(entry, None) if k not in ("등록일",))
        paths[f"/api/{table}"] = {"get": {
            "tags": [service_info(table).classification],
            "summary": entry.get("title_ko", table),
            "description": f"{entry.get('description_ko', '')}\n\n{meta}",
            "operationId": f"get_{table}",
            "security": [{"serviceKey": []}],
            "parameters": _common_parameters() + filters,
            "responses": {"200": {
                "description": "결과 (오류도 200으로 resultCode와 함께 응답합니다)",
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": {"response": {
                        "type": "object", "properties": {
                            "header": {"$ref": "#/components/schemas/Header"},
                            "body": {"type": "object", "properties": {
                                "items": {"type": "object", "properties": {"item": {
                                    "type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}}},
                                "numOfRows": {"type": "integer"}, "pageNo": {"type": "integer"},
                                "totalCount": {"type": "integer"}}}}}}}},
                    "application/xml": {"schema": {"type": "string"}}}}},
        }}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "경상남도 빅데이터분석센터 공공데이터 OpenAPI",
            "version": release.release_id,
            "description": ("공공데이터포털(data.go.kr) 방식의 OpenAPI입니다. `serviceKey`(인증키)는 발급받은 키를 "
                            "URL 인코딩해 보내며, 두 번 인코딩된 키도 받습니다. 일일 한도를 넘으면 22를 응답합니다.\n\n"
                            "| 코드 | 메시지 | 설명 |\n|---|---|---|\n" + _error_table()),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "serviceKey": {"type": "apiKey", "in": "query", "name": "serviceKey",
                           "description": "발급받은 인증키"}}},
    }
