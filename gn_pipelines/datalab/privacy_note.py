"""The privacy note that goes with every extract: what was asked, what was applied, what was hidden."""

from __future__ import annotations

from datetime import date, datetime

from gn_pipelines.datalab.request import ExtractRequest
from gn_pipelines.publish.tables import LICENCE, SMALL_CELL_THRESHOLD, PublishedTable
from gn_pipelines.seoul_time import seoul_text


def _filters(request: ExtractRequest) -> str:
    if not request.filters:
        return "  - 없음 (none)"
    return "\n".join(f"  - `{f.column} {f.operator} {f.value!r}`" for f in request.filters)


def privacy_note(request: ExtractRequest, table: PublishedTable, rows: int, primary: int, secondary: int,
                 last_updated: datetime | None, *, expires_on: date | None = None,
                 reviewer: str | None = None) -> str:
    """Markdown in Korean and English, written beside the extract."""
    grouped = bool(request.group_by)
    shape = (f"집계표 (group by {', '.join(request.group_by)}; `count` = 행 수)" if grouped
             else f"레코드 단위 (columns {', '.join(request.columns)})")
    under_ko, people_en = ((f"{SMALL_CELL_THRESHOLD} 미만이거나 사람 수(한 사람이 여러 건일 수 있음)가 "
                            f"{SMALL_CELL_THRESHOLD}명 미만인", " or people (one person can make several records)")
                           if table.person is not None else (f"{SMALL_CELL_THRESHOLD} 미만인", ""))
    suppression = (
        f"- 소표본 억제: `count`가 {under_ko} 셀 {primary}개를 비공개 (primary)\n"
        f"- 2차 억제: 합계(한 group-by 열에 대한 소계)에서 비공개 셀이 하나뿐이면 가장 작은 공개 셀도 "
        f"비공개, {secondary}개 (secondary)\n"
        "- 합계 행은 제공하지 않습니다. 없는 조합은 0건입니다. 비공개 셀은 `count`가 비어 있고 "
        "`suppressed` = true 입니다.\n"
        f"- Cells counting fewer than {SMALL_CELL_THRESHOLD} records{people_en} are hidden (primary); wherever a margin over one group-by "
        "column would hold a single hidden cell, its smallest visible cell is hidden too (secondary). "
        "No totals are included." if grouped else
        f"- 레코드 단위 제공: {table.privacy_treatment}\n"
        "- Record level: " + ("가명정보, released after an adequacy review by someone other than the requester."
                               if reviewer else "a table allowed at record level (non-personal, or an aggregate already suppressed)."))
    return f"""# 개인정보 보호 조치 안내 (privacy note): {request.request_id}

## 요청 (what was asked)
- 요청자 (requester): {request.requester}
- 소속 (organisation): {request.organisation}
- 목적 (purpose): {request.purpose}
- 개인정보 분류 (privacy class): {request.privacy_class}
- 이용 기간 (use period): {request.period_days}일, {expires_on or '—'}에 파기 (destroyed on that date)
- 적정성 검토 (adequacy review): {f"적정, 검토자 {reviewer}" if reviewer else "해당 없음 (통계 또는 비개인 자료, 자동 검사)"}
- 테이블 (table): `{table.name}` — {table.title_ko} ({table.title_en})
- 형태 (shape): {shape}
- 조건 (filters):
{_filters(request)}

## 적용한 조치 (what was applied)
- 원천: 공개 웨어하우스(`published.duckdb`)만 읽기 전용으로 사용; 테이블 최종 갱신 {seoul_text(last_updated) if last_updated else '알 수 없음'}
- 원천 테이블의 개인정보 처리: {table.privacy_treatment}
- 가명키와 자유기재 항목(제목, 내용)은 선택, 조건, 집계에 사용할 수 없습니다.
{suppression}

## 결과 (result)
- 행 수 (rows): {rows}
- 비공개 셀 (suppressed cells): {primary + secondary} (primary {primary}, secondary {secondary})
- 이용 조건: 요청 목적 외 이용, 제3자 제공, 재식별 시도를 금지합니다. 공개 자료의 이용허락은 {LICENCE}.
"""
