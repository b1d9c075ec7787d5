"""Red-team cases (source of redteam_cases.jsonl): forms a red team found surviving `scrub_text`,
written before the fixes they drove, as a fourth opinion next to hard, blind and audit cases.

Each string was verified to survive the scrubber as a complaint body whose own name is 배말순
(황보석진 for the spaced compound surname), own phone 010-8000-9000 and own RRN 520714-2345678:
the fourth element holds those own values (the "+own" line of the benchmark). The decoys are
look-alikes of the new forms (digit lists, blood types, a road with no number, counts, IDs that
are not a person's). Labelling as in blind_cases_source.py: the value is the part that identifies
the person (an address's detail below the 읍면동).

Not here: a phone split across title and body ("제 번호는 010-5566" / "-7788 입니다."): each text
is scrubbed alone, so no text holds the whole number.
Run this file to rewrite the JSON Lines.
"""

from __future__ import annotations

from pathlib import Path

OWN = {"own_name": "배말순", "own_phone": "010-8000-9000", "own_rrn": "520714-2345678"}
OWN_HWANGBO = {**OWN, "own_name": "황보석진"}

CASES = [
    # --- phones: spaced digit by digit, letter O for zero, read aloud in Hangul -----------------
    ("연락처 0 1 0 - 9 8 7 6 - 5 4 3 2 로 주세요.", [("phone", "0 1 0 - 9 8 7 6 - 5 4 3 2")], [], OWN),
    ("연락처 O1O-1111-2222", [("phone", "O1O-1111-2222")], [], OWN),
    ("전화 공일공에 일일일일에 이이이이 로 주세요", [("phone", "공일공에 일일일일에 이이이이")], [], OWN),
    # --- RRN spaced digit by digit (shares its date with the record's own RRN) ------------------
    ("옆집 주민번호가 5 2 0 7 1 4 - 2 3 4 5 6 7 9 라고 합니다.",
     [("rrn", "5 2 0 7 1 4 - 2 3 4 5 6 7 9"), ("rrn", "3 4 5 6 7 9")], [], OWN),
    # --- e-mail with a Korean (IDN) domain ------------------------------------------------------
    ("답변은 hong@한국.kr 으로 보내주세요.", [("email", "hong@한국.kr")], [], OWN),
    # --- the record's own name with a space, its given name alone -------------------------------
    ("황보 석진 으로도 씁니다.", [("name", "황보 석진")], [], OWN_HWANGBO),
    ("저는 배 말순 입니다.", [("name", "배 말순")], [], OWN),
    ("말순 이라고 불러 주세요.", [("name", "말순")], [], OWN),
    # --- a bare name repeated with no anchor ----------------------------------------------------
    ("홍길동 홍길동 홍길동 이 사람 신고합니다.", [("name", "홍길동")], [], OWN),
    # --- birth dates: in Korean numerals, without a year ----------------------------------------
    ("일구오이년 칠월 십사일생 입니다.", [("birth_date", "일구오이년 칠월 십사일")], [], OWN),
    ("생일은 7월 14일 입니다.", [("birth_date", "7월 14일")], [], OWN),
    # --- addresses: a building number in Korean numerals, with a thousands comma ----------------
    ("집은 물금읍 범어로 일이삼사 입니다.", [("address", "일이삼사")], ["물금읍"], OWN),
    ("주소는 천왕봉로 1,234 입니다.", [("address", "1,234")], [], OWN),
    # --- a messenger ID ------------------------------------------------------------------------
    ("카톡 아이디 malsoon1952 로 연락 주세요", [("messenger_id", "malsoon1952")], [], OWN),
    # --- the own name in hanja ------------------------------------------------------------------
    ("서명: 裵末順", [("name", "裵末順")], [], OWN),
    # --- decoys: look-alikes of the new forms ---------------------------------------------------
    ("순서는 0 1 2 3 4 5 6 7 8 9 입니다", [], ["0 1 2 3 4 5 6 7 8 9"], OWN),
    ("번호표 1 2 3 4 5 6 7 8 9 10 11 12 까지 배부", [], ["1 2 3 4 5 6 7 8 9 10 11 12"], OWN),
    ("O형 혈액이 부족하다고 합니다", [], ["O형 혈액"], OWN),
    ("범어로 가는 길이 막혔습니다", [], ["범어로 가는 길"], OWN),
    ("창원으로 이사 왔습니다. 이삼일 걸린다고 합니다", [], ["창원으로 이사", "이삼일 걸린다고"], OWN),
    ("중앙로 1,234명 참가, 도로 1,500,000원 배정", [], ["1,234명", "1,500,000원"], OWN),
    ("말순이네 가게 앞 민원입니다", [], [], OWN),
    ("생일 파티 장소 문의 (7월 행사)", [], ["7월 행사"], OWN),
    ("카톡 채널 추가 부탁드립니다. ID 카드 재발급 문의", [], ["카톡 채널 추가", "ID 카드"], OWN),
    ("일일이 확인해 주세요, 공일공 일이삼 번 버스", [], ["일일이 확인", "일이삼 번 버스"], OWN),
    ("도로 일일이 점검 바랍니다", [], ["도로 일일이 점검"], OWN),
    ("이 메일 hong@naver.com 말고 다른 곳으로", [("email", "hong@naver.com")], ["말고 다른 곳으로"], OWN),
]


if __name__ == "__main__":
    from case_file import write_cases  # run as a script, beside it

    print(write_cases(CASES, Path(__file__).with_name("redteam_cases.jsonl")), "cases")
