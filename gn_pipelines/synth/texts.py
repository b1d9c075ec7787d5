"""Complaint titles and bodies: per-category templates, decoys, and the personal data people write.

About one text in ten carries the complainant's personal data (the scrubber must find it); some
carry decoys that look like identifiers but are not (amounts, road and article numbers, dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from gn_pipelines.datasets.civil_complaints import COMPLAINT_CATEGORIES
from gn_pipelines.reference.providers import PROVIDERS_BY_CODE
from gn_pipelines.synth.columns import strings
from gn_pipelines.synth.pools import address_pool, apartment_detail, email_pool, rng_for

TEXTS_PER_CATEGORY = 160
PERSONAL_SHARE = 0.10

# (titles, bodies) per category; {dong} {road} {sigun} {place} and the decoys {amount} {route}
# {article} {event_date} are filled from the provider's own places.
TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "도로·교통": (
        ("{dong} {road} 도로 파손 보수 요청", "{dong} 불법 주정차 단속 요청",
         "{road} 교차로 신호등 고장 신고", "{dong} 버스 배차 간격 개선 요청", "{route} 낙석 위험 신고"),
        ("{dong} {road} 인근 도로에 포트홀이 생겨 차량 통행이 위험합니다. 빠른 보수 부탁드립니다.",
         "출퇴근 시간마다 {road} 일대 불법 주정차 때문에 버스가 지나가지 못합니다. 단속을 요청합니다.",
         "{road} 교차로 신호등이 며칠째 점멸만 하고 있습니다. 사고가 나기 전에 점검해 주세요.",
         "{dong}에서 {sigun}청 방면 버스가 한 시간에 한 대뿐이라 불편합니다. 증편을 검토해 주십시오.",
         "{route} {dong} 구간 비탈면에서 돌이 떨어지고 있습니다. 안전 조치 바랍니다.",
         "주정차 위반 과태료 {amount}이 부과되었는데 당시 화물 하역 중이었습니다. 의견 제출합니다."),
    ),
    "환경·위생": (
        ("{dong} 쓰레기 무단투기 신고", "{place} 주변 악취 민원", "{dong} 공사장 비산먼지 민원",
         "{road} 음식물 쓰레기 수거 요청"),
        ("{dong} {place} 옆 공터에 쓰레기가 계속 버려지고 있습니다. CCTV 설치를 요청합니다.",
         "여름마다 {dong} 축사에서 악취가 심하게 납니다. 현장 점검 부탁드립니다.",
         "{road} 공사 현장에서 먼지가 날려 빨래를 널 수 없습니다. 살수 조치 바랍니다.",
         "{road} 음식물 쓰레기 수거함이 일주일째 비워지지 않아 냄새가 납니다.",
         "폐기물관리법 {article}에 따른 처리 기준을 지키지 않는 업체가 있습니다. 확인 바랍니다."),
    ),
    "복지": (
        ("기초연금 신청 문의", "{dong} 경로당 난방비 지원 요청", "장애인 활동지원 서비스 문의",
         "긴급복지 지원 신청 관련 문의"),
        ("어머니 기초연금 신청 서류가 무엇인지 알고 싶습니다. {dong} 행정복지센터에서 가능한가요?",
         "{dong} 경로당 난방비가 부족해 겨울에 어르신들이 추위에 떠십니다. 지원 부탁드립니다.",
         "장애인 활동지원 시간이 줄어 생활이 어렵습니다. 재심사 절차를 안내해 주세요.",
         "갑자기 실직해서 생계가 막막합니다. 긴급복지 생계지원금 {amount} 신청이 가능한지 문의합니다.",
         "{event_date}에 열리는 {sigun} 복지박람회 참가 방법을 알려 주세요."),
    ),
    "건축·주택": (
        ("{dong} 불법 건축물 신고", "{road} 인근 공사 소음 민원", "{dong} 빈집 정비 요청",
         "건축허가 처리 기간 문의"),
        ("{dong} {road} 주택 옥상에 허가 없이 가건물을 올리고 있습니다. 확인 바랍니다.",
         "{road} 신축 공사장이 아침 6시부터 작업을 해서 잠을 잘 수 없습니다.",
         "{dong} 마을 빈집이 무너질 것 같아 위험합니다. 빈집 정비 사업 대상인지 알려 주세요.",
         "건축법 시행령 {article}에 따른 허가 처리 기간이 지났는데 연락이 없습니다."),
    ),
    "세무·재정": (
        ("재산세 고지 금액 문의", "자동차세 이중 부과 정정 요청", "지방세 환급 신청 문의",
         "취득세 감면 대상 문의"),
        ("올해 재산세가 {amount} 나왔는데 작년보다 많이 올랐습니다. 산정 근거를 알고 싶습니다.",
         "차량을 이미 팔았는데 자동차세 {amount}이 다시 고지되었습니다. 정정 부탁드립니다.",
         "지방세 과오납금 환급 신청은 어떻게 하나요? {dong} 주민입니다.",
         "생애최초 주택 취득세 감면이 지방세특례제한법 {article}에 해당하는지 문의합니다."),
    ),
    "상하수도": (
        ("{dong} 수도 요금 과다 청구", "{road} 상수도 누수 신고", "{dong} 하수구 막힘 신고",
         "{dong} 단수 예정 안내 요청"),
        ("이번 달 수도 요금이 {amount}로 평소의 세 배입니다. 계량기 점검을 요청합니다.",
         "{road} 보도 아래에서 물이 계속 새어 나옵니다. 누수 같습니다.",
         "비만 오면 {dong} {place} 앞 하수구가 역류합니다. 준설 부탁드립니다.",
         "{event_date} 공사로 단수된다고 들었는데 {dong}도 해당되는지 알려 주세요.",
         "수돗물에서 흙냄새가 납니다. {dong} 지역 수질 검사 결과를 알고 싶습니다."),
    ),
    "안전·재난": (
        ("{road} 가로등 고장 신고", "{place} 앞 CCTV 설치 요청", "{dong} 옹벽 균열 신고",
         "{dong} 침수 피해 우려 민원"),
        ("{road} 가로등 세 개가 꺼져 있어 밤길이 무섭습니다. 수리 부탁드립니다.",
         "{dong} {place} 앞 골목이 어두워 아이들 등하교가 걱정됩니다. CCTV를 설치해 주세요.",
         "{dong} 마을 뒤 옹벽에 금이 가고 있습니다. 장마 전에 점검해 주세요.",
         "지난 {event_date} 집중호우 때 {road} 일대가 침수되었습니다. 배수 시설 개선을 요청합니다."),
    ),
    "문화·관광": (
        ("{sigun} 축제 주차 안내 요청", "{dong} 작은도서관 운영 시간 문의", "관광 안내판 오류 신고",
         "체육관 대관 신청 문의"),
        ("{event_date} {sigun} 축제에 가려는데 주차장 위치와 셔틀버스 시간을 알려 주세요.",
         "{dong} 작은도서관이 주말에 문을 닫아 아쉽습니다. 운영 시간 연장을 건의합니다.",
         "{road} 관광 안내판의 영문 표기가 틀렸습니다. 수정 바랍니다.",
         "{place} 체육관 대관료 {amount}이 적정한지 문의합니다."),
    ),
    "농림·수산": (
        ("{dong} 멧돼지 농작물 피해 신고", "{dong} 농로 정비 요청", "농약 구입비 지원 문의",
         "병해충 공동방제 일정 문의"),
        ("{dong} 고구마 밭을 멧돼지가 다 파헤쳤습니다. 피해 보상과 포획을 요청합니다.",
         "{dong} 농로가 패여서 경운기가 다니기 어렵습니다. 포장 부탁드립니다.",
         "농약 구입비 지원이 {amount}까지 된다고 들었는데 신청 기간을 알려 주세요.",
         "{event_date} 병해충 공동방제를 한다는데 {dong}도 포함되는지 궁금합니다."),
    ),
    "기타": (
        ("민원 회신 지연 관련", "행정정보 공개 청구", "{dong} 행정복지센터 직원 칭찬",
         "주민등록 등본 발급 문의"),
        ("지난주에 넣은 민원에 아직 답이 없습니다. 처리 상황을 알려 주세요.",
         "{sigun} 조례 {article} 개정 경위에 대한 자료 공개를 청구합니다.",
         "{dong} 행정복지센터 직원분이 친절하게 도와주셔서 감사 인사 드립니다.",
         "무인민원발급기에서 등본 발급 수수료가 {amount}인지 궁금합니다."),
    ),
}

_PLACES = ("경로당", "마을회관", "초등학교", "버스정류장", "공영주차장", "어린이공원", "농협", "보건지소")
_ROUTES = ("국도 14호선", "국도 20호선", "국도 24호선", "국도 5호선", "지방도 1022호선",
           "지방도 1008호선", "지방도 60호선")
_AMOUNTS = ("35,000원", "40,000원", "12,500원", "128,000원", "1,500,000원", "3만원", "300,000원")
_ARTICLES = ("제3조", "제12조", "제5조제2항", "제27조", "제8조의2")
_CLOSINGS = ("", "", " 빠른 조치 부탁드립니다.", " 검토 부탁드립니다.", " 회신 바랍니다.")


@dataclass(frozen=True)
class ComplaintTexts:
    """Rendered texts of one provider; text `c * TEXTS_PER_CATEGORY + k` is of category c."""

    titles: pa.Array
    bodies: pa.Array


def _event_date(rng: np.random.Generator) -> str:
    return f"{rng.integers(2023, 2027)}년 {rng.integers(1, 13)}월 {rng.integers(1, 29)}일"


def _fill(template: str, provider: str, places: tuple[tuple[str, ...], tuple[str, ...]],
          rng: np.random.Generator) -> str:
    dongs, roads = places
    return template.format(
        dong=dongs[rng.integers(len(dongs))], road=roads[rng.integers(len(roads))],
        sigun=PROVIDERS_BY_CODE[provider].name, place=_PLACES[rng.integers(len(_PLACES))],
        route=_ROUTES[rng.integers(len(_ROUTES))], amount=_AMOUNTS[rng.integers(len(_AMOUNTS))],
        article=_ARTICLES[rng.integers(len(_ARTICLES))], event_date=_event_date(rng),
    )


@lru_cache(maxsize=32)
def complaint_texts(seed: int, provider: str) -> ComplaintTexts:
    """TEXTS_PER_CATEGORY (title, body) pairs per category, in COMPLAINT_CATEGORIES order."""
    rng = rng_for(seed, 102, int(provider))
    addresses = address_pool(seed, provider)
    places = (addresses.dong_names, addresses.road_names)
    titles, bodies = [], []
    for category in COMPLAINT_CATEGORIES:
        title_templates, body_templates = TEMPLATES[category]
        for _ in range(TEXTS_PER_CATEGORY):
            title = title_templates[rng.integers(len(title_templates))]
            body = _fill(body_templates[rng.integers(len(body_templates))], provider, places, rng)
            titles.append(_fill(title, provider, places, rng))
            bodies.append(body + _CLOSINGS[rng.integers(len(_CLOSINGS))])
    return ComplaintTexts(strings(titles), strings(bodies))


# ---------------------------------------------------------------- personal data in free text


@dataclass(frozen=True)
class Complainant:
    """What a complainant may write about themselves."""

    name: str
    phone: str | None
    resident_no: str | None
    dong: str


_PLATE_CLASSES = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주"


def vehicle_plate(rng: np.random.Generator) -> str:
    """12가3456, 123가4567, or an older plate with a region prefix (경남 12가3456)."""
    digits = rng.integers(10, 100) if rng.random() < 0.6 else rng.integers(100, 1000)
    letter = _PLATE_CLASSES[rng.integers(len(_PLATE_CLASSES))]
    plate = f"{digits}{letter}{rng.integers(1000, 10000)}"
    return ("경남 " if rng.random() < 0.15 else "") + plate


def _phone_text(phone: str, rng: np.random.Generator) -> str:
    return phone if rng.random() < 0.5 else phone.replace("-", "")


def personal_sentence(kind: str, person: Complainant, seed: int, rng: np.random.Generator) -> str:
    """One sentence revealing one kind of personal data: name, phone, rrn, email, plate, address."""
    if kind == "name":
        honorific = "씨" if rng.random() < 0.5 else "님"
        return (f"저는 {person.dong}에 사는 {person.name}입니다.",
                f"민원인 {person.name}{honorific}께 회신 바랍니다.",
                f"{person.name}{honorific} 댁 앞의 일입니다.")[rng.integers(3)]
    if kind == "phone":
        phone = _phone_text(person.phone, rng)
        return (f"연락처는 {phone}입니다.", f"처리 결과는 {phone} 번호로 문자 주세요.")[rng.integers(2)]
    if kind == "rrn":
        return f"본인 확인용 주민등록번호는 {person.resident_no}입니다."
    if kind == "email":
        emails = email_pool(seed)
        return f"답변은 {emails[rng.integers(len(emails))]}로 보내 주세요."
    if kind == "plate":
        return f"{vehicle_plate(rng)} 차량이 매일 같은 자리에 주차합니다."
    return f"저희 집은 {apartment_detail(rng, person.dong)}입니다."


PERSONAL_KINDS = ("name", "phone", "rrn", "email", "plate", "address")
_KIND_WEIGHTS = np.array([0.3, 0.25, 0.1, 0.1, 0.15, 0.1])


def personal_kinds(person: Complainant, rng: np.random.Generator) -> tuple[str, ...]:
    """One or two kinds of personal data for a text, among those the complainant has."""
    missing = {"phone": person.phone is None, "rrn": person.resident_no is None}
    weights = _KIND_WEIGHTS * [not missing.get(kind, False) for kind in PERSONAL_KINDS]
    count = 1 if rng.random() < 0.7 else 2
    chosen = rng.choice(len(PERSONAL_KINDS), count, replace=False, p=weights / weights.sum())
    return tuple(PERSONAL_KINDS[i] for i in sorted(chosen))
