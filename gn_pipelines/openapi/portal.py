"""The open-data portal's pages: the list of open tables, one page per table, and the charts.

Rendered on the server from the release a request resolved; every asset is inline or served
by this server (no CDN, no web font), so the portal works on a closed network.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

from gn_pipelines.contracts.published import PortalListing
from gn_pipelines.openapi import charts
from gn_pipelines.openapi.keys import DEFAULT_DAILY_LIMIT
from gn_pipelines.openapi.query import PageRequest, camel_case, query_page, table_filters
from gn_pipelines.openapi.release import Release
from gn_pipelines.publish.tables import PUBLISHED_TABLES_BY_NAME
from gn_pipelines.water.standards import TARGET_GRADE, criterion

DEPARTMENT = "경상남도 빅데이터분석센터 데이터개방팀"
NAMJI_TABLE = "nakdong_namji_target"
GRADES_TABLE = "water_quality_station_grades"
COMPLAINTS_TABLE = "civil_complaints_monthly"
PREVIEW_ROWS = 10
GRADE_YEARS = 10  # the station grade matrix shows the last ten years held
COMPLAINT_MONTHS = 12



STYLE = """
body { font-family: "Malgun Gothic", "Apple SD Gothic Neo", "Noto Sans KR", sans-serif; margin: 0; color: #222;
       line-height: 1.55; }
header { background: #0b4a8b; color: #fff; padding: 0.8rem 1.5rem; }
header a { color: #fff; margin-right: 1.2rem; }
main { max-width: 72rem; margin: 1rem auto; padding: 0 1rem; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.5rem 0; }
td, th { border: 1px solid #d5d5d5; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f1f4f8; }
dl.meta { display: grid; grid-template-columns: 10rem 1fr; gap: 0.2rem 1rem; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
.badge { display: inline-block; padding: 0 0.4rem; border-radius: 0.3rem; background: #e3f0e3; font-size: 0.8rem; }
section { margin: 1.5rem 0; } svg.chart { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
.preview { overflow-x: auto; }
"""


# A table of an older release that is no longer declared still gets a page.
UNDECLARED_LISTING = PortalListing("일반공공행정 - 정보화", ("경상남도", "공공데이터"))


def service_info(table: str) -> PortalListing:
    """The table's 분류체계 and 키워드, as its declaration gives them."""
    declared = PUBLISHED_TABLES_BY_NAME.get(table)
    return declared.portal if declared else UNDECLARED_LISTING


def _page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><link rel="icon" href="data:,"><style>{STYLE}</style></head>
<body><header><strong>경상남도 공공데이터 개방 포털</strong> &nbsp;
<a href="/">데이터 목록</a><a href="/docs">OpenAPI 문서</a><a href="/catalog.json">catalog.json</a>
<a href="/health">상태</a></header>
<main>{body}</main></body></html>"""


def _licence_scope(licence: str) -> str:
    scopes = {"제1유형": "출처표시 (상업적 이용 및 변경 가능)", "제2유형": "출처표시 + 상업적 이용금지",
              "제3유형": "출처표시 + 변경금지", "제4유형": "출처표시 + 상업적 이용금지 + 변경금지"}
    return next((scope for kind, scope in scopes.items() if kind in licence), licence)


def metadata(entry: dict, registered: str | None) -> list[tuple[str, str]]:
    """The fields data.go.kr shows on an API page, from the catalog entry and the portal."""
    info = service_info(entry["table_name"])
    licence = entry.get("licence", "")
    return [
        ("분류체계", info.classification),
        ("제공기관", f"경상남도 빅데이터분석센터 (원천: {entry.get('providers', '')})"),
        ("관리부서", DEPARTMENT),
        ("키워드", ", ".join(info.keywords)),
        ("등록일", registered or "-"),
        ("수정일", entry.get("last_updated", "-")),
        ("단위", entry.get("grain", "")),
        ("행 수", f"{entry.get('row_count', 0):,}"),
        ("개인정보 구분", entry.get("privacy_class", "-") + (
            f" (원천 {entry['source_privacy_class']}에서 공개용으로 재처리)"
            if entry.get("source_privacy_class") not in (None, entry.get("privacy_class")) else "")),
        ("개인정보 처리", entry.get("privacy_treatment", "")),
        ("공공누리 유형", licence),
        ("이용허락범위", _licence_scope(licence)),
        ("트래픽", f"개발계정 {DEFAULT_DAILY_LIMIT:,}건/일 (키마다 발급 시 일일 한도를 정함)"),
    ]


def index_page(release: Release, registered: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td><a href=\"/datasets/{quote(name)}\">{html.escape(entry['title_ko'])}</a><br>"
        f"<code>{html.escape(name)}</code></td><td>{html.escape(service_info(name).classification)}</td>"
        f"<td><span class=\"badge\">{html.escape(entry.get('privacy_class', ''))}</span></td>"
        f"<td>{entry.get('row_count', 0):,}</td><td>{html.escape(entry.get('last_updated', ''))}</td>"
        f"<td>{html.escape(entry.get('licence', ''))}</td>"
        f"<td>{_download_links(entry)}</td></tr>"
        for name, entry in release.open_tables.items())
    listing = (f"<table class=\"datasets\"><tr><th>데이터</th><th>분류체계</th><th>구분</th><th>행 수</th>"
               f"<th>수정일</th><th>이용허락</th><th>내려받기</th></tr>{rows}</table>"
               if rows else "<p>개방된 데이터가 아직 없습니다.</p>")
    body = f"""<h1>경상남도 공공데이터</h1>
<p>경상남도 빅데이터분석센터가 개방하는 익명정보와 통계입니다. 파일(Parquet, 엑셀에서 바로 열리는 CSV)로
내려받거나 OpenAPI로 조회할 수 있습니다. 인증키는 센터에 신청하면 발급됩니다. 공개 배포판: <code>{html.escape(release.release_id)}</code></p>
<section><h2>데이터 목록</h2>{listing}</section>
<section id="charts"><h2>한눈에 보기</h2>
<h3>낙동강 남지 수질: 목표 등급({TARGET_GRADE}) 대비</h3>{namji_charts(release)}
<h3>측정소별 종합 등급(BOD·T-P 중 나쁜 등급)</h3>{station_grade_chart(release)}
<h3>시군별 월별 민원 접수</h3>{complaints_chart(release)}
</section>"""
    return _page("경상남도 공공데이터 개방 포털", body)


def _download_links(entry: dict) -> str:
    links = [f'<a href="/files/{quote(d["href"])}">{html.escape(d["format"].upper())}</a>'
             for d in entry.get("downloads", [])]
    links += [f'<a href="/files/{quote(a["href"])}">{html.escape(a["title"])}</a>' for a in entry.get("attachments", [])]
    return " · ".join(links)


def dataset_page(release: Release, table: str, registered: str | None, base_url: str) -> str:
    entry = release.open_tables[table]
    fields = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>" for k, v in metadata(entry, registered))
    filters = table_filters(release.columns[table])
    filter_rows = "".join(f"<tr><td><code>{html.escape(f.parameter)}</code></td><td><code>{html.escape(f.column)}</code>"
                          f"</td><td>{html.escape(f.description)}</td></tr>" for f in filters.values())
    comments = {c["name"]: c.get("comment_ko", "") for c in entry.get("columns", [])}
    columns = "".join(f"<tr><td><code>{html.escape(camel_case(name))}</code></td><td><code>{html.escape(name)}</code>"
                      f"</td><td>{html.escape(type_)}</td><td>{html.escape(comments.get(name, ''))}</td></tr>"
                      for name, type_ in release.columns[table])
    preview = query_page(release, table, PageRequest(1, PREVIEW_ROWS, "json", ()))
    head = "".join(f"<th>{html.escape(n)}</th>" for n in (preview.items[0] if preview.items else {}))
    body_rows = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in item.values()) + "</tr>"
                        for item in preview.items)
    url = f"{base_url.rstrip('/')}/api/{table}?serviceKey=인증키&pageNo=1&numOfRows=10&resultType=json"
    curl = (f"curl -G '{base_url.rstrip('/')}/api/{table}' --data-urlencode \"serviceKey=$SERVICE_KEY\" "
            "-d pageNo=1 -d numOfRows=10 -d resultType=json")
    python = (f"import requests\n\nresponse = requests.get(\"{base_url.rstrip('/')}/api/{table}\", params={{\n"
              f"    \"serviceKey\": SERVICE_KEY,  # 발급받은 키 (디코딩된 키 그대로)\n"
              f"    \"pageNo\": 1, \"numOfRows\": 100, \"resultType\": \"json\"}})\n"
              f"body = response.json()[\"response\"][\"body\"]\nrows = body[\"items\"][\"item\"]")
    body = f"""<h1>{html.escape(entry['title_ko'])} <small>({html.escape(entry.get('title_en', ''))})</small></h1>
<p>{html.escape(entry.get('description_ko', ''))}</p>
<section><h2>메타데이터</h2><dl class="meta">{fields}</dl></section>
<section><h2>내려받기</h2><p>{_download_links(entry)}</p></section>
<section><h2>미리보기 (처음 {PREVIEW_ROWS}행, 전체 {preview.total_count:,}행)</h2>
<div class="preview"><table class="preview-table"><tr>{head}</tr>{body_rows}</table></div></section>
<section><h2>OpenAPI</h2>
<p>요청 주소: <code>GET /api/{html.escape(table)}</code> — 공통 파라미터 <code>serviceKey</code>, <code>pageNo</code>,
<code>numOfRows</code>(1–1000), <code>resultType</code>(json 기본, xml). 자세한 명세는 <a href="/docs">OpenAPI 문서</a>.</p>
<p>요청 예시:</p><pre class="sample-call">{html.escape(url)}</pre>
<pre>{html.escape(curl)}</pre><pre>{html.escape(python)}</pre>
<h3>검색 조건</h3><table><tr><th>파라미터</th><th>컬럼</th><th>형식</th></tr>{filter_rows}</table>
<h3>응답 항목</h3><table><tr><th>항목</th><th>컬럼</th><th>형식</th><th>설명</th></tr>{columns}</table></section>"""
    return _page(entry["title_ko"], body)


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _rows(release: Release, sql: str) -> list[tuple]:
    cursor = release.cursor()
    try:
        return cursor.execute(sql).fetchall()
    finally:
        cursor.close()


def namji_charts(release: Release) -> str:
    """남지 BOD and T-P annual means across every year held, against the target grade's limits."""
    if not release.is_open(NAMJI_TABLE):
        return "<p>남지 자료가 개방되지 않았습니다.</p>"
    rows = _rows(release, f'SELECT year, bod_mean_mg_l, tp_mean_mg_l FROM "{NAMJI_TABLE}" ORDER BY year')
    if not rows:
        return "<p>남지 자료가 없습니다.</p>"
    return (charts.series_against_target("남지 BOD 연평균", [(y, b) for y, b, _ in rows],
                                         criterion("bod_mg_l", TARGET_GRADE).upper, "mg/L", css_class="chart namji-bod")
            + charts.series_against_target("남지 T-P 연평균", [(y, t) for y, _, t in rows],
                                           criterion("tp_mg_l", TARGET_GRADE).upper, "mg/L", css_class="chart namji-tp"))


def station_grade_chart(release: Release) -> str:
    """Each station's overall grade per year, for the last years held."""
    if not release.is_open(GRADES_TABLE):
        return "<p>측정소 등급 자료가 개방되지 않았습니다.</p>"
    rows = _rows(release, f"""
        WITH years AS (SELECT DISTINCT year FROM "{GRADES_TABLE}" ORDER BY year DESC LIMIT {GRADE_YEARS})
        SELECT station_name, year, grade FROM "{GRADES_TABLE}"
        WHERE parameter = 'overall' AND grade IS NOT NULL AND year IN (SELECT year FROM years)
        ORDER BY station_name, year""")
    if not rows:
        return "<p>측정소 등급 자료가 없습니다.</p>"
    stations = sorted({s for s, _, _ in rows})
    years = [str(y) for y in sorted({y for _, y, _ in rows})]
    grades = {(s, str(y)): g for s, y, g in rows}
    return charts.grade_matrix("측정소 × 연도 종합 등급", stations, years, grades, css_class="chart station-grades")


def complaints_chart(release: Release) -> str:
    """Complaints per 시군 and month (the last months held), summing the published cells."""
    if not release.is_open(COMPLAINTS_TABLE):
        return "<p>민원 통계가 개방되지 않았습니다.</p>"
    rows = _rows(release, f"""
        WITH months AS (SELECT DISTINCT month FROM "{COMPLAINTS_TABLE}" ORDER BY month DESC LIMIT {COMPLAINT_MONTHS})
        SELECT sigungu_name, month, coalesce(sum(complaints) FILTER (WHERE NOT coalesce(suppressed, false)), 0),
               bool_or(coalesce(suppressed, false))
        FROM "{COMPLAINTS_TABLE}" WHERE month IN (SELECT month FROM months) GROUP BY ALL ORDER BY ALL""")
    if not rows:
        return "<p>민원 통계가 없습니다.</p>"
    places = sorted({p for p, *_ in rows})
    months = sorted({m for _, m, *_ in rows})
    counts = {(p, m): (int(c), bool(s)) for p, m, c, s in rows}
    return charts.count_heatmap("시군 × 월 민원 접수 건수", places, months, counts, css_class="chart complaints")


def catalog_json_bytes(release: Release) -> bytes:
    return json.dumps(release.public_catalog(), ensure_ascii=False, indent=2).encode("utf-8")
