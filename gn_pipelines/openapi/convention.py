"""The data.go.kr OpenAPI convention: result codes, their messages and the response envelope.

Response: {"response": {"header": {"resultCode", "resultMsg"}, "body": {"items": {"item": [...]},
"numOfRows", "pageNo", "totalCount"}}}, or the same tree as XML (`resultType=xml`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Sequence
from xml.sax.saxutils import escape


class ResultCode(Enum):
    """Codes and messages as 공공데이터포털 answers them (the Korean text is the portal's own)."""

    NORMAL = ("00", "NORMAL SERVICE.", "정상")
    NO_DATA = ("03", "NODATA_ERROR", "데이터없음 에러")  # here: nothing published yet
    INVALID_REQUEST_PARAMETER = ("10", "INVALID_REQUEST_PARAMETER_ERROR", "잘못된 요청 파라미터")
    NO_OPENAPI_SERVICE = ("12", "NO_OPENAPI_SERVICE_ERROR", "해당 오픈API 서비스가 없거나 폐기됨")
    SERVICE_ACCESS_DENIED = ("20", "SERVICE_ACCESS_DENIED_ERROR", "서비스 접근 거부")
    LIMITED_NUMBER_OF_REQUESTS = ("22", "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
                                  "서비스 요청 제한 횟수 초과")
    KEY_NOT_REGISTERED = ("30", "SERVICE_KEY_IS_NOT_REGISTERED_ERROR", "등록되지 않은 서비스키")
    UNKNOWN = ("99", "UNKNOWN_ERROR", "기타 에러")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def message(self) -> str:
        return self.value[1]

    @property
    def message_ko(self) -> str:
        return self.value[2]


class ApiError(Exception):
    """A request answered with an error code instead of rows; `detail` says why (never a key)."""

    def __init__(self, result: ResultCode, detail: str = ""):
        super().__init__(f"{result.code} {result.message}: {detail}")
        self.result = result
        self.detail = detail


@dataclass(frozen=True)
class Page:
    items: Sequence[dict[str, Any]]
    num_of_rows: int
    page_no: int
    total_count: int


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def render_json(page: Page | None, result: ResultCode = ResultCode.NORMAL) -> bytes:
    header = {"resultCode": result.code, "resultMsg": result.message}
    response: dict[str, Any] = {"header": header}
    if page is not None:
        response["body"] = {"items": {"item": [{k: _plain(v) for k, v in item.items()} for item in page.items]},
                            "numOfRows": page.num_of_rows, "pageNo": page.page_no,
                            "totalCount": page.total_count}
    return json.dumps({"response": response}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def item_json(item: dict[str, Any]) -> str:
    return json.dumps({k: _plain(v) for k, v in item.items()}, ensure_ascii=False, separators=(",", ":"))


def render_json_items(items_json: Sequence[str], num_of_rows: int, page_no: int, total_count: int) -> bytes:
    """The JSON envelope of a page whose items are already JSON text (a page is then a join)."""
    return (f'{{"response":{{"header":{{"resultCode":"{ResultCode.NORMAL.code}","resultMsg":'
            f'"{ResultCode.NORMAL.message}"}},"body":{{"items":{{"item":[{",".join(items_json)}]}},'
            f'"numOfRows":{num_of_rows},"pageNo":{page_no},"totalCount":{total_count}}}}}}}').encode("utf-8")


def _xml_value(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def render_xml(page: Page | None, result: ResultCode = ResultCode.NORMAL) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
             f"<response><header><resultCode>{result.code}</resultCode>"
             f"<resultMsg>{escape(result.message)}</resultMsg></header>"]
    if page is not None:
        parts.append("<body><items>")
        for item in page.items:
            fields = "".join(f"<{name}>{_xml_value(value)}</{name}>" for name, value in item.items())
            parts.append(f"<item>{fields}</item>")
        parts.append(f"</items><numOfRows>{page.num_of_rows}</numOfRows><pageNo>{page.page_no}</pageNo>"
                     f"<totalCount>{page.total_count}</totalCount></body>")
    parts.append("</response>")
    return "".join(parts).encode("utf-8")


def render(page: Page | None, result_type: str, result: ResultCode = ResultCode.NORMAL) -> tuple[bytes, str]:
    """The body and its media type for `resultType` (json or xml)."""
    if result_type == "xml":
        return render_xml(page, result), "application/xml; charset=utf-8"
    return render_json(page, result), "application/json; charset=utf-8"
