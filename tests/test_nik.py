import numpy as np
import pandas as pd
import pytest
from lokal import parse_nik as lokal_parse_nik

from pipelines import nik


@pytest.mark.parametrize(
    ("value", "problem", "sex"),
    [
        ("3201011508950001", None, "L"),
        ("3201015508950001", None, "P"),  # day + 40: a woman
        ("5203012902000001", None, "L"),  # 29 Feb 2000
        ("5203012902010001", nik.BAD_DATE, None),  # 29 Feb 2001 does not exist
        ("3201010230950001", nik.BAD_DATE, None),  # month 30
        ("3201013508950001", nik.BAD_DATE, None),  # day 35: neither a man's nor a woman's day
        ("9901011508950001", nik.UNKNOWN_PROVINCE, None),
        ("3200011508950001", nik.ZERO_REGION, None),
        ("3201011508950000", nik.ZERO_SERIAL, None),
        ("320101150895000", nik.NOT_16_DIGITS, None),
        ("32010115089500a1", nik.NOT_16_DIGITS, None),
        (None, nik.EMPTY, None),
    ],
)
def test_structure_rules(value, problem, sex):
    parsed = nik.parse_nik(pd.Series([value], dtype=object)).iloc[0]
    assert parsed["problem"] == problem
    assert bool(parsed["valid"]) is (problem is None)
    assert (parsed["sex"] if isinstance(parsed["sex"], str) else None) == sex


def test_agrees_with_lokal_id_on_random_numbers():
    """The vectorised rules and lokal-id's row-by-row parser must accept exactly the same NIKs."""
    rng = np.random.default_rng(7)
    prefixes = np.array(["3201", "5203", "9901", "1100", "3276"])
    days = rng.integers(0, 75, 5000)
    values = [
        f"{rng.choice(prefixes)}{rng.integers(0, 100):02d}{d:02d}{rng.integers(0, 14):02d}"
        f"{rng.integers(0, 100):02d}{rng.integers(0, 10000):04d}"
        for d in days
    ]
    ours = nik.parse_nik(pd.Series(values))["valid"].tolist()
    theirs = [lokal_parse_nik(v).valid for v in values]
    assert ours == theirs
    assert 0.05 < np.mean(ours) < 0.95  # the sample holds both kinds


def test_encode_round_trip():
    value = nik.encode_nik("520301", "1985-03-12", "P", 42)
    assert value == "5203015203850042"
    parsed = nik.parse_nik(pd.Series([value])).iloc[0]
    assert (parsed["day"], parsed["month"], parsed["yy"], parsed["sex"]) == (12, 3, 85, "P")


def test_pemekaran_code_is_a_warning_not_an_error():
    # 52.03.99 is no current kecamatan: the NIK stays valid, the flag says the code is unknown today.
    parsed = nik.parse_nik(pd.Series(["5203991508950001"])).iloc[0]
    assert parsed["valid"] and not parsed["kecamatan_known"]


def test_birth_date_agreement():
    parsed = nik.parse_nik(pd.Series(["3201015508950001", "3201015508950001", None]))
    agrees = nik.birth_date_agrees(parsed, pd.Series(["1995-08-15", "1995-08-16", "1995-08-15"]))
    assert agrees.tolist() == [True, False, pd.NA]
