"""The bundled 행정동 ↔ 법정동 crosswalk (derived from 행정안전부 KIKmix 2023-05-01)."""

from gn_pipelines.reference import PROVIDERS_BY_CODE
from gn_pipelines.reference.admin_dong import admin_legal_dong, legal_eup_myeon_dong_of
from gn_pipelines.reference.legal_dong import build_eup_myeon_dong


def test_the_crosswalk_covers_every_sigun_and_names_real_legal_eup_myeon_dong():
    crosswalk = admin_legal_dong()
    assert (len(crosswalk), crosswalk["admin_dong_code"].nunique()) == (593, 306)
    assert set(crosswalk["provider_code"]) == set(PROVIDERS_BY_CODE) - {"48000"}
    assert not crosswalk.duplicated(["admin_dong_code", "legal_dong_code"]).any()
    assert (crosswalk["admin_dong_code"].str[:5] == crosswalk["sigungu_code"]).all()
    # every legal 읍면동 is a 읍면동 of the 법정동 reference, in the same 시군 (by name: 창원 moved
    # eight 법정동 from 의창구 to 성산구 after the 2020 table, with new codes)
    legal = build_eup_myeon_dong()
    known = set(zip(legal["provider_code"], legal["eup_myeon_dong"]))
    assert set(zip(crosswalk["provider_code"], crosswalk["legal_eup_myeon_dong"])) <= known
    assert (~crosswalk["legal_dong_code"].isin(legal["legal_dong_code"])).sum() == 8
    counts = crosswalk.groupby("admin_dong_code")["legal_dong_code"].transform("size")
    assert (counts == crosswalk["legal_dong_count"]).all() and (crosswalk.drop_duplicates("admin_dong_code")["legal_dong_count"] > 1).sum() == 84


def test_a_hangjeongdong_name_gives_the_legal_eup_myeon_dong_it_covers():
    assert legal_eup_myeon_dong_of("48740", "남지읍") == ("남지읍",)
    assert set(legal_eup_myeon_dong_of("48123", "가음정동")) == {"가음정동", "대방동", "가음동", "남양동"}
    assert set(legal_eup_myeon_dong_of("48120", "가음정동")) == {"가음정동", "대방동", "가음동", "남양동"}
    assert legal_eup_myeon_dong_of("48740", "가음정동") == ()
