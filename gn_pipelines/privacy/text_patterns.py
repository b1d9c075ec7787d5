"""The vocabulary the identifier kinds are written in: digit boundaries, separators, surnames,
titles, words that are not names. No kind is declared here: each kind is one entry of
`identifier_kinds.REGISTRY`, which builds its patterns from these pieces.

Written for Python `re` on text folded by `scrubber.fold_text` (ASCII digits and hyphens).
Formats follow the field notes ("Korean identifiers").
"""

from __future__ import annotations

import re

from gn_pipelines.contracts.identifiers import COMPOUND_SURNAME, FULL_NAME, SURNAMES  # noqa: F401 (the vocabulary of names)

NB, NA = r"(?<![0-9])", r"(?![0-9])"  # digit boundaries: `\b` fails next to Hangul


def any_of(patterns) -> str:
    """One pattern matching where any of `patterns` does (each grouped, so its own `|` stays its own)."""
    return "|".join(f"(?:{pattern})" for pattern in patterns)
# Between digit blocks: hyphen (or the jamo ㅡ), dot, underscore, slash, space or nothing (the
# audit corpus: 010_1234_5678, 850315/1234567); phones also a tilde (010~1234~5678), which
# elsewhere writes a range (100101~1000000원).
DIGIT_SEPARATORS = "-.ㅡ_/"
SEP = rf"(?:\s?[{DIGIT_SEPARATORS}]\s?|\s)?"
PHONE_SEP = rf"(?:\s?[{DIGIT_SEPARATORS}~]\s?|\s)?"
MASKED = r"[0-9*●xX]"
# 차량 등록번호 class letters (자동차 등록번호판 등의 기준에 관한 고시): private, commercial, rental.
PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주바사아자배하허호"
NAME = rf"(?:{COMPOUND_SURNAME}|[{SURNAMES}])[가-힣]{{1,2}}"
# Digits spelt in Hangul (공일공-1234-5678, 팔오공삼일오 일이삼사오육칠): read by _hangul_digits_kind.
HANGUL_DIGITS = "공영일이삼사오육륙칠팔구"
HANGUL_DIGIT_VALUE = str.maketrans("공영일이삼사오육륙칠팔구", "001234566789")
# What every Hangul-digit match holds (also the gate): three digit characters, one in Hangul.
HANGUL_DIGIT_RUN = re.compile(f"[{HANGUL_DIGITS}][{HANGUL_DIGITS}0-9]{{2}}|[0-9][{HANGUL_DIGITS}][{HANGUL_DIGITS}0-9]")
NAME_END = r"(?=씨|님|께|이[가-힣]|가|은|는|의|에게|을|를|과|와|입니다|이고|이며|[^가-힣]|$)"
# Counters after a number make it a count, not a building number: attached ("2곳"), or a unit
# after a space ("500 m"); a Hangul word after a space ("5 주택") is not a counter.
COUNTER = (r"(?:곳|개|건|차|회|명|대|년|월|일|시|분|초|세|살|만|천|억|원|층|호|번|가지|킬로|톤|리터|"
           r"마리|채|가구|세대|동|평|장|주|배|거리|개월|시간|미터)|\s?(?:%|km|m|kg|cm|mm|L)(?![A-Za-z])")
# Nor the first digits of a figure with thousands commas (도로 1,500,000원).
ADDRESS_NUMBER_END = (rf"(?![0-9]|{COUNTER}|,[0-9])"
                      r"(?=$|[^0-9가-힣A-Za-z%]|에|의|이고|이며|입니다|인데|앞|옆|뒤)")
# Numbers spelt in Hangul, digit by digit (일이삼사) or with place values (천이백삼십사).
HANGUL_NUMERALS = "공영일이삼사오육륙칠팔구십백천"
BUILDINGS = "아파트|빌라|맨션|오피스텔|APT|타운|하이츠|빌리지"
# Common words that the name patterns would otherwise take for names (surname + 1–2 syllables).
NOT_NAMES = frozenset("""
고객 선생 사장 이장 반장 시장 도지사 기사 주무관 공무원 부모 어머 장모 고모 이모 사모 부장 차장
원장 소장 국장 이사 전무 상무 주임 경찰관 소방관 구청장 동장 조합장 신부 하나 부처 예수 임금 왕자
공주 도련 서방 형수 제수 마음 주민 시민 여성 남성 노인 장애인 어민 조합원 임차인 민원인 주부
이웃 이분 이번 이곳 이쪽 이상 이후 이전 이유 이용 이름 이사장 관리인 경비원 수급자 대상자 신청자
고등학 조카 손자 손녀 사위 며느리 형님 누님 오빠 언니 동생 선배 후배 사촌 삼촌 이모부 고모부
동네 동료 주인 건물주 세입자 집주인 관리자 담당 담당자 위원 의원 위원장 회원 조합 교수 박사 원님
전문가 도우미 간호사 의사 변호사 기자 사회 복지사 사회복지사 요양보호사 보호사 상담사 방문자 차주
사는 어떤 모든 다른 같은 우리 저희 시골 마을 전임 신임 후임 해당 소속 전직 현직 여자 남자 고등 중등
초등 대학 임산부 상인 한부모 차상위 세대주 가장 방문객 피해자 대리인 배우자 노부부 부부 주무 과장
팀장 계장 실장 국장 선생님 학생 사장님 어르신 할머니 할아버지 여사 반장님 통장 이장님 경로 노인회
신규 현장 민원 도로 조경 안전 복지 문화 세무 하수 상수 공원 기획 감사 위생 경제 주택 지적 허가 정보
전산 홍보 유치원 복지원 연구원 방과후 경비 관리 청소 배달 택배 요양원 고등학 중학 초등학
명의자 명의인 사용자 화요일 금요일 목요일 화이팅 안녕히 반드시 정말로 고객님 감사함 부탁함
배달원 한의원 부동산 강아지 고양이 송아지 안내문
""".split())
# Titles, honorifics and kinship words that follow a name (박민수 주무관님, 김영희 어르신).
TITLES = ("주무관|과장|팀장|주임|계장|국장|실장|부장|차장|대리|소장|원장|반장|통장|이장|면장|동장|"
          "교장|교감|기사님|어르신|할머니|할아버지|선생|학생|사장|여사|어머님|아버님|대표님|"
          "담당자|고객님")
# Glued to the name only these (공영주차장, 대리점 hold 차장 and 대리 inside words).
TITLES_GLUED = "주무관|팀장|계장|주임|과장님|어르신|할머니|할아버지|선생님|사장님|여사|기사님"
# Last syllables of words (not names) before a title: departments (도시과 과장), adnominals
# (소중한 고객님), places and sites (김해시, 공사장, 시공사, 노인회, 부동산, 편의점), adverbs
# (조속히), 부재중.
NOT_NAME_ENDINGS = frozenset("과실팀국청처계부단는던된할될의에를을로도만께서와관당터집소님씨분들"
                             "한시히중사회장산점")
# Words after which a full name (three syllables) follows: kin, spouse, agent.
KIN = ("어머니|아버지|어머님|아버님|엄마|아빠|남편|아내|부인|와이프|아들|딸|손자|손녀|배우자|"
       "남동생|여동생|동생|오빠|언니|누나|며느리|사위|시어머니|시아버지|장모|장인|조카|대리인|"
       "담당자|담당 공무원|할머니|할아버지|이장|반장|사는|살고 있는|거주하는")
# The kin words themselves are never names (어머니(75세), 어머님 010-…).
KIN_WORDS = frozenset(KIN.split("|"))
# Names written syllable by syllable (성명 : 송 승 현, 김 철 수 씨), four-syllable given names after
# a label (제 이름은 강다니엘; not a verb: 모릅니다), romanised names after a label (Kim Minsu).
SPACED_NAME = rf"(?:{COMPOUND_SURNAME}|[{SURNAMES}])(?:\s[가-힣]){{1,2}}(?![가-힣])"
SPACED_FULL_NAME = rf"[{SURNAMES}]\s[가-힣]\s[가-힣](?![가-힣])"  # not 김 모 씨 (김 某 씨)
LONG_NAME = rf"[{SURNAMES}][가-힣]{{3}}(?<![다요죠음함임됨])(?=\s*[.,!)]|\s*$|입니다|이에요|예요)"
ROMAN_NAME = r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){1,2}(?![A-Za-z])|[A-Z]{2,}(?: [A-Z]{2,}){1,2}(?![A-Za-z])"
# Words of thanks or request that close a text before its signature (감사합니다. 김철수).
CLOSINGS = "감사합니다|고맙습니다|수고하세요|수고하십시오|부탁드립니다|부탁합니다|바랍니다"
# Rooms of public buildings: a number before or after one is a room, not a home (501호 회의실).
ROOMS = re.compile(r"회의실|강의실|세미나실|교육장|교육실|강당|실습실|민원실|상담실|열람실|회의장|"
                   r"연구실|교실|전시실|대기실")
# Places end a word in brackets or before a signature as often as names do: (상남동), (창녕군).
# Beside an identifier a name is likelier (홍길동(010-…)): only the larger areas are left out.
PLACE_ENDINGS = frozenset("동리읍면군구로길층")
AREA_ENDINGS = frozenset("읍면군구로길층")
# Bank names as residents abbreviate them (IBK 123-456789-01-012).
BANK_ABBREVIATIONS = r"(?<![A-Za-z])(?:IBK|KB|NH|BNK|DGB|KEB|SC)(?![A-Za-z])"
# Words ending in 동 that are not places (자동, 활동); 이동 and 선동 are 법정동 names and stay out.
NOT_DONG = ("자|운|활|행|작|가|노|공|변|출|감|소|충|난|연|진|수|파|폭|협|합|거|발|유|부|약|태|역|"
            "격|기|구|아|원|등|재가|자가")

# Written over a found span (same length), so later passes see no identifier there; one held by
# a single person (a phone, not a plate or an address) gets its own filler, for the name passes
# look beside it (홍길동(010-…)). Private-use characters: never in real text.
FILLER, PERSONAL_FILLER = "\ue000", "\ue001"
