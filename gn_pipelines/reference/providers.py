"""The 19 data providers (행정표준코드 시군구 codes) and 창원시's five districts."""

from __future__ import annotations

from dataclasses import dataclass

PROVINCE_CODE = "48000"
CHANGWON_CODE = "48120"


@dataclass(frozen=True)
class Provider:
    code: str
    name: str
    romanized: str
    kind: str  # province, city or county


PROVIDERS: tuple[Provider, ...] = (
    Provider("48000", "경상남도", "Gyeongsangnam-do", "province"),
    Provider("48120", "창원시", "Changwon", "city"),
    Provider("48170", "진주시", "Jinju", "city"),
    Provider("48220", "통영시", "Tongyeong", "city"),
    Provider("48240", "사천시", "Sacheon", "city"),
    Provider("48250", "김해시", "Gimhae", "city"),
    Provider("48270", "밀양시", "Miryang", "city"),
    Provider("48310", "거제시", "Geoje", "city"),
    Provider("48330", "양산시", "Yangsan", "city"),
    Provider("48720", "의령군", "Uiryeong", "county"),
    Provider("48730", "함안군", "Haman", "county"),
    Provider("48740", "창녕군", "Changnyeong", "county"),
    Provider("48820", "고성군", "Goseong", "county"),
    Provider("48840", "남해군", "Namhae", "county"),
    Provider("48850", "하동군", "Hadong", "county"),
    Provider("48860", "산청군", "Sancheong", "county"),
    Provider("48870", "함양군", "Hamyang", "county"),
    Provider("48880", "거창군", "Geochang", "county"),
    Provider("48890", "합천군", "Hapcheon", "county"),
)

PROVIDERS_BY_CODE: dict[str, Provider] = {p.code: p for p in PROVIDERS}
SIGUN_CODES: tuple[str, ...] = tuple(p.code for p in PROVIDERS if p.kind != "province")
# 시군 along the Nakdong mainstream in 경남: with 48000, they deliver water quality.
NAKDONG_SIGUN_CODES: tuple[str, ...] = ("48120", "48250", "48270", "48330", "48720", "48730", "48740", "48890")

# 창원시 delivers under 48120; a row may carry one of these district codes instead.
CHANGWON_DISTRICTS: dict[str, str] = {
    "48121": "의창구",
    "48123": "성산구",
    "48125": "마산합포구",
    "48127": "마산회원구",
    "48129": "진해구",
}


def provider_of_sigungu(sigungu_code: str) -> str:
    """Roll a 시군구 code up to the provider that delivers it (창원 districts → 48120)."""
    return CHANGWON_CODE if sigungu_code in CHANGWON_DISTRICTS else sigungu_code


def codes_allowed_for(provider_code: str) -> frozenset[str]:
    """The 시군구 codes a provider's rows may carry: its own, plus 창원's districts for 창원."""
    if provider_code == CHANGWON_CODE:
        return frozenset({CHANGWON_CODE, *CHANGWON_DISTRICTS})
    return frozenset({provider_code})
