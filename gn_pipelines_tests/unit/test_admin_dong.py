"""The 행정동 ↔ 법정동 crosswalk builder, on a small workbook in KIKmix's layout (made here: the
real workbook is not among the project's real files)."""

from openpyxl import Workbook

from gn_pipelines.reference.admin_dong import build_admin_legal_crosswalk, legal_eup_myeon_dong_of

HEADER = ["행정동코드", "시도명", "시군구명", "읍면동명", "법정동코드", "동리명", "생성일자", "말소일자"]
ROWS = [
    # 남지읍 (창녕) administers the 읍 itself and two of its 리: one legal 읍면동
    ["4874025000", "경상남도", "창녕군", "남지읍", "4874025000", "남지읍", "19880423", ""],
    ["4874025000", "경상남도", "창녕군", "남지읍", "4874025021", "남지리", "19880423", ""],
    ["4874025000", "경상남도", "창녕군", "남지읍", "4874025022", "동포리", "19880423", ""],
    # 가음정동 (성산구) covers four legal 동
    ["4812363000", "경상남도", "창원시 성산구", "가음정동", "4812312100", "가음정동", "20100701", ""],
    ["4812363000", "경상남도", "창원시 성산구", "가음정동", "4812312200", "대방동", "20100701", ""],
    ["4812363000", "경상남도", "창원시 성산구", "가음정동", "4812312300", "가음동", "20100701", ""],
    ["4812363000", "경상남도", "창원시 성산구", "가음정동", "4812312400", "남양동", "20100701", ""],
    # abolished pairs, a branch office on the 시군's own code and another province: all left out
    ["4812363000", "경상남도", "창원시 성산구", "가음정동", "4812312500", "외동", "20100701", "20200101"],
    ["4827000000", "경상남도", "밀양시", "삼랑진임천출장소", "4827000000", "밀양시", "19950101", ""],
    ["2611053000", "부산광역시", "중구", "중앙동", "2611011700", "중앙동1가", "19950301", ""],
    # the legal 읍 names come from their own rows (시군구-level rows carry no 읍면동명)
    ["4874000000", "경상남도", "창녕군", "", "4874000000", "창녕군", "19880423", ""],
]


def _kikmix(path):
    book = Workbook()
    sheet = book.active
    sheet.title = "KIKmix"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    book.save(path)
    return path


def test_the_crosswalk_reduces_codes_to_legal_eup_myeon_dong_in_force(tmp_path):
    crosswalk = build_admin_legal_crosswalk(_kikmix(tmp_path / "KIKmix.xlsx"))
    assert list(zip(crosswalk["admin_dong_name"], crosswalk["legal_eup_myeon_dong"])) == [
        ("가음정동", "가음정동"), ("가음정동", "대방동"), ("가음정동", "가음동"), ("가음정동", "남양동"),
        ("남지읍", "남지읍")]
    assert dict(zip(crosswalk["admin_dong_name"], crosswalk["legal_dong_count"])) == {"가음정동": 4, "남지읍": 1}
    assert set(crosswalk["provider_code"]) == {"48120", "48740"}


def test_a_hangjeongdong_name_gives_the_legal_eup_myeon_dong_it_covers(tmp_path):
    crosswalk = build_admin_legal_crosswalk(_kikmix(tmp_path / "KIKmix.xlsx"))
    assert legal_eup_myeon_dong_of(crosswalk, "48740", "남지 읍") == ("남지읍",)
    assert set(legal_eup_myeon_dong_of(crosswalk, "48123", "가음정동")) == {"가음정동", "대방동", "가음동", "남양동"}
    assert set(legal_eup_myeon_dong_of(crosswalk, "48120", "가음정동")) == {"가음정동", "대방동", "가음동", "남양동"}
    assert legal_eup_myeon_dong_of(crosswalk, "48740", "가음정동") == ()
