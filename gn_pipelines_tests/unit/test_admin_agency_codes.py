"""The 행정기관코드 → 시군 crosswalk (reference/data/admin_agency_codes_gyeongnam.csv) is what its
PROVENANCE.md says: each `localdata+legal_dong` row re-derived from the two real files."""

import duckdb

from gn_pipelines.reference.bundled import bundled_reference_file
from gn_pipelines.reference.providers import PROVIDERS_BY_CODE


def _crosswalk():
    return duckdb.sql(f"SELECT * FROM read_csv('{bundled_reference_file('admin_agency_codes_gyeongnam')}', "
                      "all_varchar = true)").fetchall()


def test_every_provider_has_exactly_one_agency_code():
    rows = _crosswalk()
    assert sorted(code for _, _, code, _ in rows) == sorted(PROVIDERS_BY_CODE)
    assert len({agency for agency, *_ in rows}) == len(rows) == 19
    assert all(PROVIDERS_BY_CODE[code].name == name for _, name, code, _ in rows)


def test_the_rows_from_localdata_are_rederived_from_the_real_files(real_data, tmp_path):
    localdata, legal_dong = tmp_path / "localdata.csv", tmp_path / "legal_dong.csv"
    localdata.write_text((real_data / "gyeongnam_lodging_localdata_cp949.csv").read_bytes().decode("cp949"))
    legal_dong.write_text((real_data / "bjdong_code_kr_2020_cp949.csv").read_bytes().decode("cp949"))
    derived = duckdb.sql(f"""
        WITH named AS (
            SELECT DISTINCT 개방자치단체코드 AS agency_code,
                   split_part(coalesce(nullif(소재지전체주소, ''), 도로명전체주소), ' ', 2) AS sigun
            FROM read_csv('{localdata}', all_varchar = true)),
        codes AS (
            SELECT substr(법정동코드, 1, 5) AS sigungu_code, split_part(법정동명, ' ', 2) AS sigun
            FROM read_csv('{legal_dong}', all_varchar = true)
            WHERE 법정동명 = '경상남도 ' || split_part(법정동명, ' ', 2) AND 폐지여부 = '존재')
        SELECT agency_code, n.sigun, c.sigungu_code FROM named n JOIN codes c USING (sigun) ORDER BY 1""").fetchall()
    named_once = duckdb.sql(f"""SELECT count(*) FROM (SELECT 개방자치단체코드 FROM read_csv('{localdata}', all_varchar = true)
        GROUP BY 1 HAVING count(DISTINCT split_part(coalesce(nullif(소재지전체주소, ''), 도로명전체주소), ' ', 2)) > 1)""")
    assert named_once.fetchall() == [(0,)]  # each code's addresses name one 시군
    declared = sorted((agency, name, code) for agency, name, code, source in _crosswalk()
                      if source == "localdata+legal_dong")
    assert derived == declared and len(derived) == 18
