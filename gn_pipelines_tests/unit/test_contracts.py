from gn_pipelines.contracts import ColumnType, PrivacyClass, header_key
from gn_pipelines.datasets import CONTRACTS, get_contract
from gn_pipelines.ingest.headers import map_headers


def test_header_key_tolerates_spaces_bom_and_units():
    variants = ["BOD(mg/L)", "BOD (mg/L)", " BOD ", "\ufeffBOD", "ＢＯＤ", "bod"]
    assert {header_key(v) for v in variants} == {"bod"}


def test_no_two_columns_share_a_header_variant():
    for contract in CONTRACTS.values():
        keys = [key for column in contract.columns for key in column.header_keys]
        assert len(keys) == len(set(keys)), contract.name


def test_every_column_has_a_privacy_class_and_personal_columns_are_not_public():
    complaints = get_contract("civil_complaints")
    assert {c.privacy for c in complaints.columns} >= {PrivacyClass.DIRECT_IDENTIFIER, PrivacyClass.FREE_TEXT}
    assert complaints.column("resident_reg_no").privacy == PrivacyClass.DIRECT_IDENTIFIER
    welfare = get_contract("welfare_recipients")
    assert {c.name for c in welfare.columns_of(PrivacyClass.SENSITIVE)} == {
        "benefit_type", "monthly_amount_krw", "disability"}
    assert all(c.privacy == PrivacyClass.NON_PERSONAL for c in get_contract("water_quality").columns)


def test_spec_header_variants_map_to_canonical_names():
    water = get_contract("water_quality")
    headers = ["측정소코드", "측정소명", "측정일자", "BOD (mg/L)", "생물화학적산소요구량(BOD)", "pH", "T-P", "비고"]
    mapping = map_headers(water, [headers])
    assert mapping.duplicated  # two headers both mean BOD
    mapping = map_headers(water, [[h for h in headers if h != "BOD (mg/L)"]])
    assert mapping.acceptable
    assert set(mapping.canonical_by_position.values()) == {
        "station_code", "station_name", "measured_on", "bod_mg_l", "ph", "tp_mg_l"}
    assert mapping.unknown == ("비고",)


def test_missing_required_headers_are_named_in_korean():
    mapping = map_headers(get_contract("civil_complaints"), [["접수번호", "접수일시"]])
    assert not mapping.acceptable
    assert "시군구코드" in mapping.problems[0] and "민원인성명" in mapping.problems[0]


def test_below_detection_only_on_measurements():
    water = get_contract("water_quality")
    assert all(c.below_detection == (c.type == ColumnType.DECIMAL) for c in water.columns)


def test_a_semicolon_separated_file_is_explained():
    mapping = map_headers(get_contract("civil_complaints"), [["접수번호;접수일시;시군구코드"]])
    assert "separated by ';'" in mapping.problems[0]


def test_only_units_are_optional_in_parentheses():
    water = get_contract("water_quality")
    mapping = map_headers(water, [["측정소코드", "측정소명", "측정일자", "생물화학적산소요구량", "수소이온농도",
                                   "총대장균군 (총대장균군수/100㎖)", "수온 (℃ )"]])
    assert mapping.acceptable and set(mapping.canonical_by_position.values()) >= {
        "bod_mg_l", "ph", "total_coliform_100ml", "water_temp_c"}
    # a parenthesised word that is not a unit keeps two headers apart (real LOCALDATA file)
    assert header_key("좌표정보(X)") != header_key("좌표정보(Y)")
    assert header_key("면적(제곱미터)") == header_key("면적") == "면적"
