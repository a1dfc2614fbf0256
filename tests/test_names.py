import pandas as pd
import pytest

from pipelines.names import distinct_words_agree, names_agree, normalise_name, normalise_names


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Hj. Siti Aminah, S.Pd", "SITI AMINAH"),
        ("Moh. Djoko Soetjipto", "MUHAMMAD JOKO SUCIPTO"),
        ("M. Ali", "MUHAMMAD ALI"),
        ("Muhamad  Rizki", "MUHAMMAD RIZKI"),
        ("Mochammad Rizki", "MUHAMMAD RIZKI"),
        ("Abd. Rahman", "ABDUL RAHMAN"),
        ("Drs. H. Ahmad Chairul M.Si", "AHMAD KHAIRUL"),
        ("TGH. Lalu Sjarifuddin", "LALU SYARIFUDDIN"),
        ("Njoman Soekarno", "NYOMAN SUKARNO"),
        ("I Gusti Ayu A.Md.Keb", "I GUSTI AYU"),
        ("H", "H"),  # a one-word name is never eaten as a title
        ("  baiq\u00a0nurul ", "BAIQ NURUL"),
        (None, ""),
    ],
)
def test_normal_form(raw, normal):
    assert normalise_name(raw) == normal


def test_column_version_matches_scalar():
    values = pd.Series(["Hj. Siti", None, "Hj. Siti", "M. Ali"])
    assert normalise_names(values).tolist() == ["SITI", "", "SITI", "MUHAMMAD ALI"]


def test_tolerance():
    a = pd.Series(["SITI", "SITI AMINAH", "MUHAMMAD RIZKI", "BUDI", "NURUL HIDAYATI", "", "ABDURRAHMAN WAHID"])
    b = pd.Series(["SITU", "AMINAH SITI", "MUHAMMAD RIZKY", "SARI", "NURLU HIDAYATI", "", "ABDURAHMAN WAHIT"])
    assert names_agree(a, b).tolist() == [True, True, True, False, True, False, True]


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("MUHAMMAD HASAN", "MUHAMMAD HUSEN", False),  # twins: the distinguishing words differ
        ("MUHAMMAD HASAN", "MUHAMMAD HUSEIN", False),
        ("SITI AMINAH", "SITI AMINA", True),  # a typo in the distinguishing word
        ("SKUARDI", "SUKARDI", True),  # two letters swapped: one edit
        ("HASAN", "MUHAMMAD HASAN", True),  # one name inside the other
        ("AMINAH SITI", "SITI AMINAH", True),
        ("BAIQ NURUL", "BAIQ NURIL", True),
        ("LALU AHMAD", "LALU AMIR", False),
    ],
)
def test_distinct_words_agree(a, b, agree):
    assert distinct_words_agree(a, b) is agree
