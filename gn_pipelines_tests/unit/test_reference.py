from gn_pipelines.reference import CHANGWON_DISTRICTS, PROVIDERS, SIGUN_CODES, codes_allowed_for, provider_of_sigungu
from gn_pipelines.reference.legal_dong import build_eup_myeon_dong


def test_nineteen_providers_eighteen_sigun():
    assert len(PROVIDERS) == 19 and len(SIGUN_CODES) == 18
    assert all(provider_of_sigungu(code) == "48120" for code in CHANGWON_DISTRICTS)
    assert codes_allowed_for("48120") == {"48120", "48121", "48123", "48125", "48127", "48129"}
    assert codes_allowed_for("48740") == {"48740"}


def test_eup_myeon_dong_from_the_real_national_file(real_data):
    bundled = build_eup_myeon_dong()
    national = build_eup_myeon_dong(real_data / "bjdong_code_kr_2020_cp949.csv")
    assert bundled.equals(national)
    assert set(bundled["provider_code"]) == set(SIGUN_CODES)
    namji = bundled[bundled["eup_myeon_dong"] == "남지읍"]
    assert namji[["legal_dong_code", "provider_code", "kind"]].values.tolist() == [["4874025300", "48740", "읍"]]
    # 창원's 읍면동 sit under its districts and roll up to 48120; abolished 4811x codes are gone
    changwon = bundled[bundled["provider_code"] == "48120"]
    assert set(changwon["sigungu_code"]) == set(CHANGWON_DISTRICTS)
    assert not bundled["legal_dong_code"].str.startswith("4811").any()
    assert bundled["legal_dong_code"].str.len().eq(10).all()
