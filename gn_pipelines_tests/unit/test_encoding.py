import codecs

import pytest

from gn_pipelines.ingest.encoding import UndecodableFile, detect_encoding, transcode_to_utf8

TEXT = "측정소명,측정일자\r\n남지,2025-03-04\r\n물금,2025-03-04\r\n"


@pytest.mark.parametrize(("payload", "expected"), [
    (TEXT.encode("utf-8"), "utf_8"),
    (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("cp949"), "cp949"),
])
def test_detects_the_spec_encodings(tmp_path, payload, expected):
    path = tmp_path / "drop.csv"
    path.write_bytes(payload)
    assert detect_encoding(path) == expected


def test_real_cp949_files(real_data, tmp_path):
    for name in ("bjdong_code_kr_2020_cp949.csv", "nier_wq_download_hangang_tributaries_2025_cp949.csv",
                 "gyeongnam_lodging_localdata_cp949.csv"):
        assert detect_encoding(real_data / name) == "cp949", name
    copy = transcode_to_utf8(real_data / "bjdong_code_kr_2020_cp949.csv", tmp_path / "u.csv", "cp949")
    assert copy.read_text(encoding="utf-8").startswith("법정동코드,법정동명,폐지여부")


def test_utf16_with_its_bom_is_text(tmp_path):
    """Notepad's "Unicode" and Excel's 유니코드 텍스트: UTF-16 with a byte order mark."""
    path = tmp_path / "u16.csv"
    for bom_order in ("utf-16-le", "utf-16-be"):
        bom = codecs.BOM_UTF16_LE if bom_order.endswith("le") else codecs.BOM_UTF16_BE
        path.write_bytes(bom + "측정소명,측정일자\r\n남지,2025-03-02\r\n".encode(bom_order))
        assert detect_encoding(path) == "utf-16"


def test_cp949_character_split_across_chunks_still_decodes(tmp_path):
    # 1 MiB chunks: make a multi-byte character straddle the boundary
    path = tmp_path / "big.csv"
    path.write_bytes(b"a" * ((1 << 20) - 1) + "남지\n".encode("cp949"))
    assert detect_encoding(path) == "cp949"


@pytest.mark.parametrize("payload", [
    bytes(range(256)) * 20,  # binary
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    codecs.BOM_UTF16_LE + b"\x00\x00a\x00",  # UTF-16 holding a NUL character: binary all the same
    "남지".encode("utf-16")[:-1],  # half a character
])
def test_undecodable_files_are_refused_with_a_reason(tmp_path, payload):
    path = tmp_path / "drop.csv"
    path.write_bytes(payload)
    with pytest.raises(UndecodableFile, match="UTF-8|binary"):
        detect_encoding(path)
