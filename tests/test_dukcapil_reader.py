"""The Dukcapil extract's fast reader (Arrow) reads exactly what pandas' reader reads, or steps aside."""

import pytest

from pipelines.ingest.intake import _arrow_frame, _dukcapil_frame, _pandas_frame
from pipelines.ingest.readers import UnreadableFile

HEADER = b"NIK,NO_KK,NAMA_LGKP,TGL_LHR"
ROW = b"3201011508950001,3201010101090001,SITI AMINAH,1995-08-15"

PLAIN = {
    "lf": HEADER + b"\n" + ROW + b"\n" + ROW + b"\n",
    "crlf": HEADER + b"\r\n" + ROW + b"\r\n",
    "bom": b"\xef\xbb\xbf" + HEADER + b"\n" + ROW + b"\n",
    "no final newline": HEADER + b"\n" + ROW,
    "blank lines": HEADER + b"\n\n" + ROW + b"\n\n\n" + ROW + b"\n",
    "empty fields": HEADER + b"\n,,,\n" + ROW + b"\n",
    "quoted comma and quote": HEADER + b'\n1,2,"SITI, ""ANI""",1995-08-15\n',
    "quoted line break": HEADER + b'\n1,2,"SITI\nAMINAH",1995-08-15\n',
    "header only": HEADER + b"\n",
    "spaces kept": HEADER + b"\n 1 ,2,  SITI ,x\n",
    "multibyte": HEADER + "\n1,2,ŞİTİ ĀMİNAH,x\n".encode(),
}
ODD = {
    "short row": HEADER + b"\n1,2,3\n",
    "long row": HEADER + b"\n1,2,3,4,5\n",
    "repeated header name": b"NIK,NIK,NAMA_LGKP,TGL_LHR\n" + ROW + b"\n",
    "unnamed column": b"NIK,,NAMA_LGKP,TGL_LHR\n" + ROW + b"\n",
    "quoted header": b'"NIK",NO_KK,NAMA_LGKP,TGL_LHR\n' + ROW + b"\n",
    "mac line ends": HEADER + b"\r" + ROW + b"\r",
    "not utf-8": HEADER + b"\n1,2,SIT\xcd,x\n",
    "empty": b"",
}


@pytest.mark.parametrize("case", PLAIN)
def test_arrow_reads_a_plain_extract_as_pandas_does(case):
    fast, slow = _arrow_frame(PLAIN[case]), _pandas_frame(PLAIN[case])
    assert fast is not None
    assert list(fast.columns) == list(slow.columns)
    assert fast.astype(object).equals(slow.astype(object))


@pytest.mark.parametrize("case", ODD)
def test_anything_else_is_left_to_pandas(case):
    assert _arrow_frame(ODD[case]) is None


def test_what_pandas_refuses_is_still_refused_with_its_reason():
    with pytest.raises(UnreadableFile) as caught:
        _dukcapil_frame(ODD["not utf-8"], _limits())
    assert caught.value.code == "berkas_rusak"
    with pytest.raises(UnreadableFile) as caught:
        _dukcapil_frame(ODD["empty"] + b" ", _limits())
    assert caught.value.code in ("berkas_kosong", "berkas_rusak")
    short = _dukcapil_frame(ODD["short row"], _limits())
    assert short.iloc[0, 3] == ""  # padded by pandas, as before


def _limits():
    from pipelines.config import DUKCAPIL_LIMITS

    return DUKCAPIL_LIMITS
