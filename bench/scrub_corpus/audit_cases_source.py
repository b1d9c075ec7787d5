"""Audit cases (source of audit_cases.jsonl): misses and over-scrubbing found by an independent
privacy audit of the scrubber, as a third-party corpus next to hard_cases and blind_cases.

The auditor gave exact strings that `scrub_text` left unchanged (names signed or in brackets,
phones and RRNs with `_` `/` `~` or an 82 prefix, lot numbers after a 동 or 리, e-mails spelt
out, plates with hyphens, birth dates before 생 or 태어나다, a bank name outside the keyword list)
and two room numbers that were wrongly replaced. Each string is set in a short sentence of the
kind residents write; the decoys are the auditor's plus look-alikes of the same shapes (room
numbers, slashed and dotted event dates, business numbers, routes, station codes, bus numbers).

Labelling as in blind_cases_source.py: the value is the part that identifies the person (an
e-mail's local part; an address's detail below the 읍면동, the 읍면동 itself may stay). A case
may carry the record's own values (a fourth element, the keyword arguments of scrub_text): the
audit's own-phone and own-RRN misses, measured by the "+own" line of the benchmark.
Run this file to rewrite the JSON Lines.

BEFORE the fixes (commit 459da1e): 2/59 identifiers caught (name 0/20, rrn 0/7, phone 1/10,
email 0/4, account 1/2, plate 0/2, address 0/10, birth_date 0/4), the same with the record's own
values; decoys kept 29/32 (the three room numbers lost).
AFTER: 53/59 from the rules alone (the three own-value cases need the record's values), 56/59 with
them; decoys kept 32/32. Left on purpose: a bare (김철수) at the end of a text ((신여권) and
(공유지) read the same), a bare 109-1101 (a lot, case or local phone number has that shape), and
(85.03.15) in brackets (an event date has that shape: (25.03.15~25.04.30)).
"""

from __future__ import annotations

from pathlib import Path

CASES = [
    # --- names: signatures, brackets, roles, neighbours, spaced and romanised -----------------
    ("답변 기다리겠습니다. 김민지 드림", [("name", "김민지")], []),
    ("빠른 처리 부탁드립니다. 김철수 올림", [("name", "김철수")], []),
    ("늘 수고가 많으십니다. 감사합니다. 김철수", [("name", "김철수")], []),
    ("마을 입구 가로등이 꺼져 있습니다 (김철수)", [("name", "김철수")], []),
    ("민원인(김철수)이 다시 방문했습니다", [("name", "김철수")], []),
    ("담당자(이수진)에게 전화했지만 받지 않습니다", [("name", "이수진")], []),
    ("통화해 보니 담당자는 이수진입니다", [("name", "이수진")], []),
    ("이수진 담당자가 답변을 미루고 있습니다", [("name", "이수진")], []),
    ("처리 결과 통보 / 담당: 이수진", [("name", "이수진")], []),
    ("앞집 사는 김영수가 쓰레기 투기를 계속합니다", [("name", "김영수")], ["앞집"]),
    ("마을 이장 박영수가 농로 포장을 막고 있습니다", [("name", "박영수")], []),
    ("홍길동(010-1234-5678) 으로 연락 바랍니다",
     [("name", "홍길동"), ("phone", "010-1234-5678")], []),
    ("환불은 농협 352-1234-5678-13 (홍길동) 으로 해 주세요",
     [("account", "352-1234-5678-13"), ("name", "홍길동")], []),
    ("김영수(남, 65세) 독거 어르신 방문 요청", [("name", "김영수")], []),
    ("윤서연 고객님 요청하신 자료를 보내 드립니다", [("name", "윤서연")], []),
    ("성명 : 송 승 현", [("name", "송 승 현")], []),
    ("성명 : 권 혁 주", [("name", "권 혁 주")], []),
    ("김 철 수 씨가 신고했습니다", [("name", "김 철 수")], []),
    ("성명: Kim Minsu", [("name", "Kim Minsu")], []),
    ("제 이름은 강다니엘", [("name", "강다니엘")], []),
    # --- phones ------------------------------------------------------------------------------
    ("010_1234_5678 로 문자 주세요", [("phone", "010_1234_5678")], []),
    ("연락은 010/1234/5678 으로 부탁드립니다", [("phone", "010/1234/5678")], []),
    ("해외 체류 중이라 82-10-1234-5678 로 연락 바랍니다", [("phone", "82-10-1234-5678")], []),
    ("82 10 1234 5678 로 카톡 주세요", [("phone", "82 10 1234 5678")], []),
    ("0082-10-1234-5678 (국제전화) 입니다", [("phone", "0082-10-1234-5678")], []),
    ("(+82)10-1234-5678 로 연락 주세요", [("phone", "(+82)10-1234-5678")], []),
    ("010~1234~5678 번으로 전화 주세요", [("phone", "010~1234~5678")], []),
    # --- 주민등록번호 -------------------------------------------------------------------------
    ("주민번호 850315_1234567 입니다", [("rrn", "850315_1234567")], []),
    ("주민번호 850315/1234567 로 조회해 주세요", [("rrn", "850315/1234567")], []),
    ("주민번호 850315-1 이고 뒷자리는 모릅니다", [("rrn", "850315-1")], []),
    ("주민등록번호 850315-1234 567 입니다", [("rrn", "850315-1234 567")], []),
    # --- addresses: detail below the 읍면동 --------------------------------------------------
    ("상남동 55-2 앞 하수구가 막혔습니다", [("address", "55-2")], ["상남동"]),
    ("경남 창원시 의창구 사림동 1-1 에 삽니다", [("address", "1-1")], ["의창구 사림동"]),
    ("남지읍 남지리 산 12 밭에 쓰레기가 버려져 있습니다", [("address", "산 12")], ["남지읍"]),
    ("남지리 산12-3 묘지 옆 불법 소각", [("address", "산12-3")], []),
    ("마산합포구 3.15대로 123 앞 횡단보도가 지워졌습니다", [("address", "3.15대로 123")],
     ["마산합포구"]),
    ("109-1101 에서 밤마다 소음이 납니다", [("address", "109-1101")], []),
    ("한신아파트 109-1101 천장에서 물이 샙니다", [("address", "109-1101")], []),
    ("101동 1203 에서 담배 냄새가 올라옵니다", [("address", "101동 1203")], []),
    ("한신아파트 109동 앞 주차 문제입니다", [("address", "109동")], []),
    ("지하 B01호 상가에서 악취가 납니다", [("address", "B01호")], []),
    # --- e-mails -----------------------------------------------------------------------------
    ("답장은 hong@naver,com 으로 주세요", [("email", "hong")], []),
    ("메일 hong 골뱅이 naver 닷컴 으로 보내 주세요", [("email", "hong")], []),
    ("이메일 hong(at)naver(dot)com 입니다", [("email", "hong")], []),
    ("결과는 hong at naver.com 으로 부탁드립니다", [("email", "hong")], []),
    # --- plates ------------------------------------------------------------------------------
    ("12가-3456 차량이 매일 인도에 주차합니다", [("plate", "12가-3456")], []),
    ("흰색 트럭 12-가-3456 신고합니다", [("plate", "12-가-3456")], []),
    # --- birth dates -------------------------------------------------------------------------
    ("저는 1985년 3월 15일에 태어났습니다", [("birth_date", "1985년 3월 15일")], []),
    ("850315생 남자입니다", [("birth_date", "850315")], []),
    ("19850315생 여성입니다", [("birth_date", "19850315")], []),
    ("신청서 맨 위에 (85.03.15) 라고 적었습니다", [("birth_date", "85.03.15")], []),
    # --- accounts ----------------------------------------------------------------------------
    ("IBK 123-456789-01-012 로 보내 주세요", [("account", "123-456789-01-012")], []),
    # --- the record's own values (matched with any separators) ------------------------------
    ("제 번호는 010_3333_4444", [("phone", "010_3333_4444")], [],
     {"own_phone": "010-3333-4444"}),
    ("연락 010 = 3333 = 4444 로 주세요", [("phone", "010 = 3333 = 4444")], [],
     {"own_phone": "010-3333-4444"}),
    ("주민번호 900202_2234562 로 조회 바랍니다", [("rrn", "900202_2234562")], [],
     {"own_rrn": "900202-2234562"}),
    ("주민번호 9 0 0 2 0 2 - 2 2 3 4 5 6 2 입니다", [("rrn", "9 0 0 2 0 2 - 2 2 3 4 5 6 2")], [],
     {"own_rrn": "900202-2234562"}),
    ("주민번호 뒷자리만 2234562 적습니다", [("rrn", "2234562")], [],
     {"own_rrn": "900202-2234562"}),
    # --- decoys: the auditor's, then look-alikes of the same shapes --------------------------
    ("시청 501호 회의실에서 설명회가 열립니다", [], ["501호 회의실"]),
    ("203호 강의실 에어컨이 고장났습니다", [], ["203호 강의실"]),
    ("주민센터 2층 회의실 301호 대관 문의", [], ["회의실 301호"]),
    ("보상금 1,234,567원 중 일부만 받았습니다", [], ["1,234,567원"]),
    ("국도 2호선 확장 공사로 통행이 막혔습니다", [], ["국도 2호선"]),
    ("지방도 1080호선 낙석 위험 신고", [], ["지방도 1080호선"]),
    ("조례 제15조에 따라 지원해 주세요", [], ["제15조"]),
    ("2025년 3월 15일에 공사가 시작됐습니다", [], ["2025년 3월 15일"]),
    ("2025/03/15 집회 때문에 도로가 통제됩니다", [], ["2025/03/15"]),
    ("공사 기간 (25.03.15~25.04.30) 동안 우회하세요", [], ["25.03.15~25.04.30"]),
    ("3.15 의거 기념탑 앞 도로 보수 요청", [], ["3.15 의거"]),
    ("창녕함안보 2020A32 측정소 수질 자료 요청", [], ["창녕함안보 2020A32"]),
    ("102번 버스가 30분째 오지 않습니다", [], ["102번 버스", "30분째"]),
    ("고객센터 1588-1234 는 연결이 안 됩니다", [], ["1588-1234"]),
    ("IBK 기업은행 고객센터 1566-2566 도 불통입니다", [], ["1566-2566"]),
    ("담당자는 전화를 받지 않습니다", [], ["담당자는 전화를"]),
    ("담당자 연락이 없습니다", [], ["담당자 연락이"]),
    ("마을 이장 선거 일정 문의", [], ["이장 선거"]),
    ("앞집 사는 주민들이 불편을 겪고 있습니다", [], ["사는 주민들이"]),
    ("어머니(75세) 모시고 방문하겠습니다", [], ["어머니(75세)"]),
    ("소중한 고객님 의견을 반영하겠습니다", [], ["소중한 고객님"]),
    ("관련 자료 보내 드림", [], ["보내 드림"]),
    ("지하 B1층 주차장 조명이 어둡습니다", [], ["B1층"]),
    ("상남동 일대 2곳에서 공사 중입니다", [], ["상남동 일대 2곳"]),
    ("상가 앞 불법 적치물 신고합니다 (월요일)", [], ["(월요일)"]),
    ("점수 82 대 10 으로 이긴 경기 주차 민원", [], ["82 대 10"]),
]


if __name__ == "__main__":
    from case_file import write_cases  # run as a script, beside it

    print(write_cases(CASES, Path(__file__).with_name("audit_cases.jsonl")), "cases")
