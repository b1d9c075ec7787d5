"""The regular expressions of the free-text scrubber, one named group per surface form.

Written for Python `re` on text folded by `scrubber.fold_text` (ASCII digits and hyphens).
Formats follow the field notes ("Korean identifiers"); each group name maps to a kind.
"""

from __future__ import annotations

import re

NB, NA = r"(?<![0-9])", r"(?![0-9])"  # digit boundaries: `\b` fails next to Hangul
# Between digit blocks: hyphen (or the jamo ㅡ), dot, underscore, slash, space or nothing (the
# audit corpus: 010_1234_5678, 850315/1234567); phones also a tilde (010~1234~5678), which
# elsewhere writes a range (100101~1000000원).
DIGIT_SEPARATORS = "-.ㅡ_/"
SEP = rf"(?:\s?[{DIGIT_SEPARATORS}]\s?|\s)?"
PHONE_SEP = rf"(?:\s?[{DIGIT_SEPARATORS}~]\s?|\s)?"
MASKED = r"[0-9*●xX]"
# 차량 등록번호 class letters (자동차 등록번호판 등의 기준에 관한 고시): private, commercial, rental.
PLATE_LETTERS = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주바사아자배하허호"
SURNAMES = ("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진"
            "나지엄채원천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예"
            "경봉사부가복태목형피두감음빈동온호범좌팽승간상갈시단견당화창")
NAME = rf"(?:남궁|황보|제갈|선우|독고|사공|서문|[{SURNAMES}])[가-힣]{{1,2}}"
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
ADDRESS_NUMBER_END = rf"(?![0-9]|{COUNTER})(?=$|[^0-9가-힣A-Za-z%]|에|의|이고|이며|입니다|인데|앞|옆|뒤)"
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
FULL_NAME = rf"(?:(?:남궁|황보|제갈|선우|독고|사공|서문)[가-힣]{{1,2}}|[{SURNAMES}][가-힣]{{2}})"
# Names written syllable by syllable (성명 : 송 승 현, 김 철 수 씨), four-syllable given names after
# a label (제 이름은 강다니엘; not a verb: 모릅니다), romanised names after a label (Kim Minsu).
SPACED_NAME = rf"(?:남궁|황보|제갈|선우|독고|사공|서문|[{SURNAMES}])(?:\s[가-힣]){{1,2}}(?![가-힣])"
SPACED_FULL_NAME = rf"[{SURNAMES}]\s[가-힣]\s[가-힣](?![가-힣])"  # not 김 모 씨 (김 某 씨)
LONG_NAME = rf"[{SURNAMES}][가-힣]{{3}}(?<![다요죠음함임됨])(?=\s*[.,!)]|\s*$|입니다|이에요|예요)"
ROMAN_NAME = r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){1,2}(?![A-Za-z])|[A-Z]{2,}(?: [A-Z]{2,}){1,2}(?![A-Za-z])"
# Placeholders of identifiers already replaced (the record's own values go first).
PLACED = r"\[(?:전화번호|주민등록번호|외국인등록번호|이메일|카드번호|계좌번호)\]"
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

# What the scrubber writes over a found span (same length), so later passes see no identifier
# there; one held by a single person (a phone, not a plate or an address) gets its own filler,
# for the name passes look beside it (홍길동(010-…)). Private-use characters: never in real text.
FILLER, PERSONAL_FILLER = "\ue000", "\ue001"
PERSONAL_KINDS = frozenset({"phone", "rrn", "foreign_rrn", "email", "card", "account", "passport",
                            "driver_licence", "birth_date"})
RRN_KEYWORD = re.compile(r"주민|등록번호|생년|외국인")
# Right before the shorter forms (850315-1, 850315-1234 567), which 주민 alone (주민 의견) and
# document numbers (250315-1) would otherwise share.
RRN_NUMBER_KEYWORD = re.compile(r"주민\s?(?:등록)?\s?번호|등록\s?번호|주민등록")
YYMMDD = r"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
CARD_KEYWORD = re.compile(r"카드|card|CARD|Card")

EMAIL_DOT = r"(?:\s?[.,]\s?|\s*[(\[][Dd][Oo][Tt][)\]]\s*|\s(?:[Dd][Oo][Tt]|닷)\s?)"

GROUPS: dict[str, str] = {  # group name → regular expression, in order of priority
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    # Written to dodge spam filters: spaces around @, (at), [at], " at ", 골뱅이; a space after a
    # dot, a comma for a dot, (dot), " dot ", 닷 (hong 골뱅이 naver 닷컴).
    "email_spelt": r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*[A-Za-z0-9]"
                   r"(?:\s?@\s?|\s*[(\[][Aa][Tt][)\]]\s*|\s골뱅이\s|\s[Aa][Tt]\s)"
                   rf"[A-Za-z0-9\-]+(?:{EMAIL_DOT}[A-Za-z0-9\-]+)*{EMAIL_DOT}"
                   r"(?:[A-Za-z]{2,}(?![A-Za-z])|컴|넷|케이알)",
    "card": rf"{NB}(?:[0-9]{{4}}(?P<card_sep>[-_ ]?)[0-9*]{{4}}(?P=card_sep)[0-9*]{{4}}(?P=card_sep)[0-9]{{4}}"
            rf"|[0-9]{{4}}[- ]?[0-9]{{6}}[- ]?[0-9]{{5}}){NA}",
    # The back block may be split once (850315-1234 567): checked by _rrn_kind (13 digits, a
    # keyword before).
    "rrn": rf"{NB}{YYMMDD}{SEP}"
           rf"(?:[0-9]{{7}}|[0-9]{MASKED}{{6}}|[*●xX]{{7}}"
           rf"|(?P<rrn_split>[0-9]{{3,4}}[ -][0-9]{{3,4}})){NA}",
    # The date and the sex digit alone (주민번호 850315-1): after a keyword (_rrn_short_kind).
    "rrn_short": rf"{NB}(?P<rrn_short_date>{YYMMDD})\s?[{DIGIT_SEPARATORS}]\s?(?P<rrn_short_g>[0-9])"
                 rf"(?![0-9*●xX]|\s?[{DIGIT_SEPARATORS}]\s?[0-9])",
    "driver_licence": rf"{NB}(?:(?:1[1-9]|2[0-6]|28){SEP}[0-9]{{2}}{SEP}[0-9]{{6}}{SEP}[0-9]{{2}}"
                      rf"|[0-9]{{2}}-[0-9]{{6}}-[0-9]{{2}}){NA}",
    # Country code written +82, (+82), 0082, or a bare 82 before a separator (82-10-1234-5678).
    "phone": rf"{NB}(?:(?:\(\+82\)|\+82|0082|82(?=\s?[{DIGIT_SEPARATORS}]|\s)){SEP}(?:\(0\))?{SEP}0?"
             rf"|\((?=0[0-9]{{1,2}}\))0|0)"
             rf"(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|50[2-8])(?:\)\s?|{PHONE_SEP})"
             rf"{MASKED}{{3,4}}{PHONE_SEP}{MASKED}{{4}}(?P<phone_tail>-[0-9]{{2,3}})?{NA}",
    "account": rf"(?P<account_kw>(?:계좌|통장|입금|송금|환불|환급|예금주|은행|농협|국민|신한|우리|하나|"
               rf"기업|새마을금고|우체국|카카오뱅크|케이뱅크|토스|수협|신협|축협|SC제일|씨티|증권|"
               rf"{BANK_ABBREVIATIONS})[^0-9\n]{{0,15}}?)"
               rf"{NB}(?P<account_no>[0-9](?:[0-9-]|\s(?=[0-9])){{8,24}}){NA}",
    "phone_local": rf"(?P<phone_kw>(?:전화|연락처|연락|번호|핸드폰|휴대폰|폰|[Tt]el|TEL|☎)[^0-9\n]{{0,8}}?)"
                   rf"{NB}(?!1[5-8][0-9]{{2}})[2-9][0-9]{{2,3}}-[0-9]{{4}}{NA}(?!\s?[-.]\s?[0-9])",
    # 주민번호 앞자리 850315 뒷자리 1234567: each half after its word (checked by _rrn_part_kind).
    "rrn_part": rf"(?P<rrn_part_kw>(?:앞|뒷|뒤)\s?(?:[67]\s?)?(?:자리|번호)(?:는|은|가|이)?\s*:?\s*)"
                rf"{NB}(?P<rrn_part_no>[0-9]{{6,7}}){NA}",
    # 공일공-1234-5678, 팔오공삼일오 일이삼사오육칠: read as digits, then as a phone or RRN.
    "hangul_digits": rf"(?<![가-힣0-9])[0-9{HANGUL_DIGITS}]{{2,7}}(?:{SEP}[0-9{HANGUL_DIGITS}]{{3,8}}){{1,3}}"
                     rf"(?![0-9])",
    "passport": r"(?<![A-Za-z0-9])[MSRODmsrod](?:[0-9]{8}|[0-9]{3}[A-Za-z][0-9]{4})(?![0-9A-Za-z])",
    "plate": rf"(?<![0-9제])[0-9]{{2,3}}(?:\s?-\s?|\s)?[{PLATE_LETTERS}](?:\s?-\s?|\s)?[0-9]{{4}}"
             rf"(?![0-9]|\s?[만천억원])",
    "birth_kw": rf"(?P<birth_prefix>(?:생년월일|생일|출생일?|DOB)\s*(?:은|는|이|:)?\s*)"
                rf"{NB}(?:(?:19|20)?[0-9]{{2}}\s*[년./-]\s*[0-9]{{1,2}}\s*[월./-]\s*[0-9]{{1,2}}\s*일?"
                rf"|(?:19|20)?[0-9]{{6}})(?![0-9]|\s?[-.]\s?[0-9])",
    "birth_suffix": rf"{NB}(?:(?:19|20)?[0-9]{{2}}\s*[년./-]\s*[0-9]{{1,2}}\s*[월./-]\s*[0-9]{{1,2}}\s*일?"
                    rf"|(?:19|20)?{YYMMDD})"
                    r"(?=\s?(?:생(?![산활각기선수명태])|출생|에 태어|태생))",
    "address_unit": rf"(?:[가-힣A-Za-z0-9]+(?:{BUILDINGS})\s*)?"
                    rf"{NB}[0-9]{{1,4}}\s*동\s*[0-9]{{1,5}}\s*호(?![0-9선])",
    # 101동 1203 without 호: a building number of two digits or more, then three or four.
    "address_unit_bare": rf"{NB}[0-9]{{2,4}}\s*동\s*[0-9]{{3,4}}{ADDRESS_NUMBER_END}",
    "address_unit_dash": rf"(?<![0-9제])[0-9]{{3,4}}-[0-9]{{3,4}}\s*호(?![0-9선])",
    # 302호, B01호 (basement); not a room of a public building (_room_kind: 501호 회의실).
    "address_room": rf"(?:(?<![0-9제-])[0-9]{{3,5}}|(?<![0-9A-Za-z제-])[Bb]\s?[0-9]{{1,4}})"
                    rf"\s*호(?![0-9선기])",
    # An apartment's building (한신아파트 109동) or its 동-호 written with a hyphen (109-1101).
    "address_building": rf"(?:[가-힣A-Za-z0-9]*(?:{BUILDINGS})\s*)"
                        rf"{NB}(?:[0-9]{{1,4}}\s*동(?=$|[^0-9가-힣]|에|의|앞|옆|뒤|쪽|주민|입구|은|는)"
                        rf"|[0-9]{{2,4}}-[0-9]{{3,4}}(?![0-9]|\s?[-.]\s?[0-9]|{COUNTER}))",
    "address_lot": rf"{NB}(?:산\s?)?[0-9]{{1,5}}(?:-[0-9]{{1,4}})?\s*번지",
    "address_road": rf"(?<![가-힣0-9])[가-힣][가-힣0-9]{{0,15}}?(?:로|길)"
                    rf"(?:\s?[0-9]{{1,4}}번?(?:가|길))?\s?{NB}[0-9]{{1,4}}(?:-[0-9]{{1,4}})?"
                    rf"{ADDRESS_NUMBER_END}",
    # Road names that start with a date (3.15대로 123): a pass of their own, for the plain road
    # pattern keeps its first-character scan.
    "address_road_dated": rf"(?<![0-9.])[0-9]{{1,2}}\.[0-9]{{1,2}}[가-힣][가-힣0-9]{{0,15}}?(?:로|길)"
                          rf"(?:\s?[0-9]{{1,4}}번?(?:가|길))?\s?{NB}[0-9]{{1,4}}(?:-[0-9]{{1,4}})?"
                          rf"{ADDRESS_NUMBER_END}",
    "address_ri": rf"(?<![가-힣0-9])(?!(?:거|우|관|처|수|요|소|머|자|유|경|무|정|논|원|권|조|의|진|마|심|물|"
                  rf"세|주|대|다|보|도|기)리)[가-힣]{{1,5}}리\s(?:산\s?)?{NB}[0-9]{{1,4}}(?:-[0-9]{{1,4}})?"
                  rf"{ADDRESS_NUMBER_END}",
    # A lot number after a 동 (상남동 55-2, 사림동 산 1-1): the 동 stays, the number goes. A hyphen
    # is required (상남동 55 could be a count), and not a zone (중앙동 3-4 구역).
    "address_dong": rf"(?P<address_dong_kw>(?<![가-힣0-9])(?!(?:{NOT_DONG})동)[가-힣]{{1,5}}동\s?)"
                    rf"(?P<address_dong_no>(?:산\s?)?{NB}[0-9]{{1,4}}-[0-9]{{1,4}}){ADDRESS_NUMBER_END}"
                    r"(?!\s?(?:구역|구간|블록|지구|단지|공구|차))",
    "name_label": rf"(?P<name_label_kw>(?:성명|이름|성함|민원인|신청인|작성자|제보자|신고인|신고자|청구인|"
                  rf"보호자|대표자|예금주|수취인|피해자|고객명|환자명?|의뢰인|세대주|본인|대리인)\s*"
                  rf"(?:은|는|이|:|-|\()?\s*)"
                  rf"(?P<name_v1>{NAME}{NAME_END}|{SPACED_NAME}|{LONG_NAME}|{ROMAN_NAME})",
    # The official in charge: 담당: 이수진, 담당자(이수진), 담당자는 이수진입니다.
    "name_role": rf"(?P<name_role_kw>(?<![가-힣])(?:담당자?|담당 공무원|담당 주무관)(?:\s?[:(]\s?|(?:은|는)\s))"
                 rf"(?P<name_v6>{FULL_NAME})(?=\)|입니다|이고|이며|이에요|예요|이라고|라고"
                 rf"|\s?(?:씨|님|{TITLES})|\s*[,./\n]|\s*$)",
    "name_self": rf"(?P<name_self_kw>(?:저는|저|제 이름은|제 이름|본인은|사는|살고 있는|거주하는)\s+)"
                 rf"(?P<name_v2>{NAME})(?=입니다|이라고|라고|이고|이며|예요|이에요|인데|\s?씨|\s?님)",
    "name_kin": rf"(?P<name_kin_kw>(?<![가-힣])(?:{KIN})(?:은|는|:)?\s+)(?P<name_v5>{FULL_NAME})"
                rf"(?=이[가는를의]?(?![가-힣])|[은는가의을를과와](?![가-힣])|에게|\s?씨|\s?님|[(,)]|\s명의|$)",
    "name_title": rf"(?<![가-힣])(?P<name_v4>{FULL_NAME})(?=\s(?:{TITLES})|{TITLES_GLUED})",
    "name_hon": rf"(?<![가-힣])(?P<name_v3>{NAME}|{SPACED_FULL_NAME})(?=\s?(?:씨|님))",
    # Signatures: 김민지 드림, 김철수 올림 after a sentence (not 관련 안내문 드림); a full name (or one
    # in brackets) ending the text after thanks: 감사합니다. 김철수. A bare (김철수) at the end is
    # not taken: (신여권), (공유지) read the same.
    "name_sign": rf"(?P<name_sign_kw>(?:^|\n|[.!?~]|[다요]\s)\s*)(?P<name_v7>{FULL_NAME})"
                 rf"(?=\s?(?:드림|올림)\s*(?:[.!]|$))",
    "name_closing": rf"(?P<name_closing_kw>(?:{CLOSINGS})[.!~]{{0,3}}\s{{1,3}}\(?)"
                    rf"(?P<name_v8>{FULL_NAME})(?=\)?\s{{0,3}}[.!]?\s{{0,3}}$)",
    # Beside an identifier already found, or sex and age: 홍길동(010-…), 농협 352-… (홍길동),
    # 김영수(남, 65세).
    "name_by_id": rf"(?<![가-힣])(?P<name_v10>{FULL_NAME})(?=\s?\(\s?(?:{PERSONAL_FILLER}|{PLACED}"
                  rf"|[남여](?:성|자)?\s?[,/·)]|[0-9]{{1,3}}\s?(?:세|살)))",
    "name_after_id": rf"(?P<name_after_id_kw>(?:{PERSONAL_FILLER}|{PLACED})\s?\()"
                     rf"(?P<name_v11>{FULL_NAME})(?=\))",
}
KIND_OF_GROUP = {
    "email": "email", "card": "card", "rrn": "rrn", "driver_licence": "driver_licence",
    "phone": "phone", "account": "account", "phone_local": "phone", "passport": "passport",
    "email_spelt": "email", "rrn_part": "rrn", "hangul_digits": "phone", "rrn_short": "rrn",
    "plate": "plate", "birth_kw": "birth_date", "birth_suffix": "birth_date",
    **{g: "address" for g in GROUPS if g.startswith("address_")},
    **{g: "name" for g in GROUPS if g.startswith("name_")},
}
NAME_GROUPS = {"name_label": "name_v1", "name_self": "name_v2", "name_hon": "name_v3",
               "name_kin": "name_v5", "name_title": "name_v4", "name_role": "name_v6",
               "name_sign": "name_v7", "name_closing": "name_v8",
               "name_by_id": "name_v10", "name_after_id": "name_v11"}
# Groups whose leading keyword stays in the text; only what follows it is replaced.
KEPT_PREFIX = {"account": "account_kw", "phone_local": "phone_kw", "birth_kw": "birth_prefix",
               "name_label": "name_label_kw", "name_self": "name_self_kw",
               "rrn_part": "rrn_part_kw", "name_kin": "name_kin_kw", "address_dong": "address_dong_kw",
               "name_role": "name_role_kw", "name_closing": "name_closing_kw",
               "name_after_id": "name_after_id_kw", "name_sign": "name_sign_kw"}

# Each group is its own pass, in GROUPS order: one alternation of all of them is 3–4× slower in
# Python `re` (measured: it defeats the engine's first-character scan). A pass runs only if its
# cheap gate finds what every match needs.
# Gates shared by several passes are computed once per text (scrubber._findings): they depend on
# nothing an earlier pass replaces with its filler.
LONG_DIGITS = re.compile(rf"[0-9*●xX](?:{PHONE_SEP}[0-9*●xX]){{6}}").search
SPELT_AT = re.compile(r"[(\[\s][Aa][Tt][)\]\s]")
DONG_LOT = re.compile(r"동\s?(?:산\s?)?[0-9]{1,4}-[0-9]")
DONG_UNIT = re.compile(r"[0-9]\s*동\s*[0-9]{3}")
BUILDING = re.compile(BUILDINGS)
DATED_ROAD = re.compile(r"[0-9]\.[0-9]{1,2}[가-힣]")
CLOSING_AT_END = re.compile(rf"(?:{CLOSINGS})[.!~]{{0,3}}\s{{1,3}}\(?[가-힣]{{2,4}}\)?"
                            rf"\s{{0,3}}[.!]?\s{{0,3}}$")
PROFILE = re.compile(r"\(\s?(?:[남여]|[0-9]{1,3}\s?[세살])")


def _ho(text: str) -> bool:
    return "호" in text


def _beside_an_identifier(text: str) -> bool:
    """A bracket next to an identifier found by an earlier pass (its filler), a placeholder, or
    sex and age: never shared, since it looks for what earlier passes wrote."""
    return "(" in text and (PERSONAL_FILLER in text or "[" in text or PROFILE.search(text) is not None)


def _closing_at_end(text: str) -> bool:
    """Every closing ends in 니다, 세요 or 시오, at most 20 characters before the end."""
    tail = text[-24:]
    return (("니다" in tail or "세요" in tail or "시오" in tail)
            and CLOSING_AT_END.search(text, max(0, len(text) - 40)) is not None)


SHARED_GATES = frozenset({LONG_DIGITS, _ho})
GATES = {
    "email": lambda t: "@" in t,
    "email_spelt": lambda t: "@" in t or "골뱅이" in t or (("t" in t or "T" in t) and SPELT_AT.search(t)),
    "rrn_part": lambda t: "자리" in t or "번호" in t, "hangul_digits": HANGUL_DIGIT_RUN.search,
    **{g: LONG_DIGITS for g in ("card", "rrn", "driver_licence", "phone", "account",
                                 "phone_local")},
    "rrn_short": lambda t: ("번호" in t or "주민등록" in t) and LONG_DIGITS(t),
    "birth_suffix": lambda t: "생" in t or "태어" in t,
    "address_unit": _ho, "address_unit_dash": _ho, "address_room": _ho,
    "address_lot": lambda t: "번지" in t,
    "address_unit_bare": DONG_UNIT.search, "address_dong": DONG_LOT.search,
    "address_building": lambda t: ("동" in t or "-" in t) and BUILDING.search(t),
    "address_road_dated": lambda t: "." in t and DATED_ROAD.search(t),
    "name_hon": lambda t: "씨" in t or "님" in t,
    "name_role": lambda t: "담당" in t, "name_sign": lambda t: "드림" in t or "올림" in t,
    "name_closing": _closing_at_end,
    "name_by_id": _beside_an_identifier, "name_after_id": _beside_an_identifier,
    "name_title": re.compile(TITLES).search, "name_kin": re.compile(KIN).search,
}
# (name, gate, regex, whether the gate is shared)
PASSES = tuple((name, GATES.get(name), re.compile(f"(?P<{name}>{regex})"),
                GATES.get(name) in SHARED_GATES) for name, regex in GROUPS.items())
# The structured kinds alone, to re-read a number found after an account keyword.
STRUCTURED = re.compile("|".join(f"(?P<{name}>{GROUPS[name]})"
                                 for name in ("card", "rrn", "driver_licence", "phone")))

# RE2 (DuckDB) necessary condition of every pass, on unfolded text: rows that fail it hold no
# identifier, so the residual scan hands only the rest to the Python passes.
_D = "[0-9０-９]"
_DM = "[0-9０-９*●xXｘＸ＊]"
_DASH = "[-. ‐‑‒–—―−﹣－．　ㅡ_/~＿／～]"
_H = HANGUL_DIGITS
CANDIDATE_RE2 = "|".join([
    "[@＠]|[(\\[][Aa][Tt][)\\]]|골뱅이|\\s[Aa][Tt]\\s", f"{_DM}(\\s?{_DASH}?\\s?{_DM}){{6}}",
    f"[{_H}][{_H}0-9０-９]{{2}}|{_D}[{_H}][{_H}0-9０-９]", "(앞|뒷|뒤)\\s?([67]\\s?)?(자리|번호)",
    f"[{SURNAMES}][가-힣]{{1,3}}\\s?({TITLES})", f"({KIN})(은|는|:)?\\s+[가-힣]{{3}}", f"[A-Za-zＡ-Ｚａ-ｚ]{_D}{{3}}",
    f"{_D}\\s?{_DASH}?\\s?[{PLATE_LETTERS}]\\s?{_DASH}?\\s?{_D}{{4}}", "생년월일|생일|출생|DOB",
    f"{_D}\\s*일?\\s?(생|출생|에 태어|태생)", f"{_D}\\s*호", "번지",
    f"(로|길)\\s?{_D}", f"리\\s(산\\s?)?{_D}", "씨|님", f"{_D}\\s*동", f"동\\s?(산\\s?)?{_D}",
    f"[가-힣]\\s?\\(\\s?([남여]|{_D}{{1,3}}\\s?[세살])", "드림|올림|담당",
    f"({CLOSINGS})[.!~]*\\s+\\(?[가-힣]{{2,4}}\\)?\\s*[.!]?\\s*$",
    "성명|이름|성함|민원인|신청인|작성자|제보자|신고인|신고자|청구인|보호자|대표자|예금주|수취인|"
    "피해자|고객명|환자|의뢰인|세대주|본인|대리인|저는|저\\s|제 이름|사는|살고 있는|거주하는",
])
