"""Indonesian person names by naming tradition, composed for a whole population at once.

Traditions: Sasak (Lombok: LALU/BAIQ for noble families, AMAQ/INAQ teknonyms for elders), Arabic-origin
(MUHAMMAD/AHMAD/ABDUL, SITI/NUR), Balinese (I/NI + birth-order name), Javanese, Sundanese, and the modern
pan-Indonesian names common among the young. Many people carry one word only, and pools are drawn with
Zipf-like weights, so common names repeat and a name alone does not identify a person.
Dukcapil holds modern (EYD) spelling: no OE/DJ/TJ/SJ/CH in these pools (tests check it).
"""

from __future__ import annotations

import numpy as np

from pipelines import regions

SASAK, ARAB, BALI, JAWA, SUNDA, UMUM = range(6)
TRADITIONS = ("SASAK", "ARAB", "BALI", "JAWA", "SUNDA", "UMUM")


def _pool(words: str) -> np.ndarray:
    return np.array(words.split(), dtype=object)


SASAK_M = _pool(
    "SUPARDI JUNAIDI SAHNAN MUNAWIR SAPARUDIN MAHSUN RUSDI SAHIDIN HAERUDIN SAMSUL MARZUKI ZAINUDIN MUHLIS "
    "SUKARDI SUHAIMI NURHADI SAHABUDIN HAMDI ZULKIFLI JUMAHIR SAPOAN RAMLI AMIR SARIP MAHNAN SALIM HERMAN "
    "SAHRUDIN KASIM MUSTAHIP SAHRUL NASRI HADI SUPRIADI BURHAN MAHMUD RAWIT SAREP AMAN SANUSI SUHARDI "
    "MURSID SAMIN MAHRUP SAHDI RIADI HAMDAN SAHLAN SAPII MUKSIN LUKMAN SUKRI NASRUDIN JAMALUDIN ABIDIN "
    "SUHAILI SAHWAN ZAKARIA SAPRUDIN AHYAR MURDANI SAMSUDIN HASAN KHAIRUL SULAIMAN SAHID ROSIDI ASMUNI "
    "MAHYUDIN SAMIUN AMRULLAH HULAIMI SAPRI RUSMAN SAHNUN MAJID ZOHRI KAMARUDIN"
)
SASAK_F = _pool(
    "SRIANI SUKMAWATI NURHAYATI HAERANI RUMINAH MAHNIM SAENAH RAHMI HUSNAH JUMENAH NURMAH ROHANI MARIANI "
    "SALMAH MUNAH RABIAH HAJAR SITI RAHMAH MULIANI SUNIATI HARTINI NURHASANAH SAMSIAH MARNI ZAENAB SAHRIAH "
    "MAESAROH HALIMAH SUMIATI RUSNI NURIANI SAPIAH MAHRIAH INDAH SAFIAH HERNI SUHARNI ROHMI JUMARNI "
    "HULAILAH NURUL ERNI WARTINI SALMIAH MURNI SUKINAH ASMAH INAWATI SAKDIAH RUSMINI MASNAH NURSIAH "
    "HAMDIAH SUMIRAH SAHNIM PAOZIAH RAHMAWATI"
)
ARAB_M = _pool(
    "RIDWAN FAUZI ZAINUDDIN HASAN HUSAIN ALI ISMAIL IBRAHIM YUSUF SALEH ARIF HAMZAH MAHFUD RAHMAT HIDAYAT "
    "SYAMSUL SYARIF FATHURRAHMAN FAISAL HAFIZ IQBAL ILHAM IMRAN JAMIL KHALID LUTFI MAHDI MANSUR NAJIB "
    "RASYID RIZAL SAIFUL SYAFII TAUFIK ZAKI ZULFIKAR ANWAR AMINUDIN BAHRUDIN FAHMI FIKRI HABIBI HAMID "
    "KHAIRUL NASIR NURDIN QOMARUDIN SAFRUDIN SUFYAN UMAR USMAN YAHYA YASIN ZAINAL AKBAR ASHARI AZHAR "
    "FAJRI FUAD GAZALI HAKIM HALIM MUSLIM SOLIHIN IDRIS"
)
ABDUL_TAILS = _pool(
    "RAHMAN HAMID MAJID LATIF KADIR AZIZ GANI HALIM KARIM WAHAB MALIK RAZAK ROHIM SAMAD JALIL ROSYID MUIN "
    "SYUKUR HADI MANAF"
)
ARAB_F = _pool(
    "AMINAH FATIMAH KHADIJAH AISYAH HALIMAH ZAHRA MARYAM SALMA ZAINAB RUKAYAH NAFISAH HAFSAH MUNAWAROH "
    "MASITAH ROHMAH SAKINAH SYARIFAH ULFAH HABIBAH LATIFAH NURJANAH HASANAH MAIMUNAH RAHMAWATI SOLIHAH "
    "JAMILAH KHOLIFAH MARHAMAH MUTMAINAH NADIA NURLAILA QOMARIAH RAUDAH SALAMAH SUAIBAH UMAIRAH WARDAH "
    "ZULAIKHA ASIAH AZIZAH"
)
# Spellings of Muhammad and Abdul as Dukcapil records them (without dots), with their weights.
MUHAMMAD_FORMS = (("MUHAMMAD", 0.75), ("MUHAMAD", 0.10), ("MOHAMMAD", 0.07), ("MOHAMAD", 0.04), ("MUH", 0.04))
ABDUL_FORMS = (("ABDUL", 0.95), ("ABD", 0.05))

BALI_ORDER_M = (("WAYAN", "PUTU", "GEDE"), ("MADE", "KADEK", "NENGAH"), ("NYOMAN", "KOMANG"), ("KETUT",))
BALI_ORDER_F = (("WAYAN", "PUTU", "LUH"), ("MADE", "KADEK", "NENGAH"), ("NYOMAN", "KOMANG"), ("KETUT",))
BALI_M = _pool(
    "SUDARMA ARTAWAN SUWITRA ADNYANA WIRAWAN SUKADANA SUARJANA MERTAYASA SUDIARTA SUKARSA ARDANA PARWATA "
    "SUARTANA SUPARTA DARMAWAN ASTAWA SUARDIKA SUDANA SUMERTA SUWENDRA GUNAWAN ARIMBAWA MUDITA WIRATA "
    "SUJANA SUASTIKA SUARSANA JULIARTA SUTAMA SUARDANA"
)
BALI_F = _pool(
    "SRI ARTINI SUARNI DEWI ASTITI SUMERTI RATNI SUCIATI SUARTINI MARIANI SUKERNI WIDIASTUTI PURNAMI "
    "SUDARMI RASMINI ARIANI SUPARTINI SUWARNI YULIANTARI SUDIANI PARWATI KARIASIH SUARDANI WARDANI "
    "SUMARIANI"
)
JAWA_M = _pool(
    "SUPARMAN SUGIYONO PAIJO WAGIMAN SUKIMAN SUTRISNO BAMBANG AGUS BUDI JOKO SLAMET SURYADI SUPRIYADI "
    "HARYANTO SUTARNO SUPARNO SUKARNO SUNARTO SUMARNO KUSNADI PURWANTO HERU PRIYO WAHYU SETIAWAN PRASETYO "
    "NUGROHO SANTOSO WIBOWO HARTONO SUBAGYO GIYANTO MARYONO TUKIMAN SARIMAN TUKINO KASIMIN PONIMAN SARDI "
    "SURATMAN WARSITO WIDODO YULIANTO ARIS ANTON DARSONO SURONO"
)
JAWA_ORDINALS = _pool("EKO DWI TRI")
JAWA_F = _pool(
    "SUMARNI SUKINAH TUKIYEM SITI WAHYUNI LESTARI SUPARTI SUMIYATI PARTINAH SUGIYEM PAINEM SARINAH "
    "MULYANI NGATINI KASIYEM SUMINAH SUWARNI TUMINAH RUSMINI SUKARSIH WARSINI YATMI SUNARSIH ENDANG ANI "
    "RATNA YULIANI KUSMIATI WIDOWATI PURWANTI RINI NINGSIH RAHAYU SETYOWATI HARTATI MURNI KARTINI UMI "
    "WULANDARI PUJI ASTUTI DEWI YANTI SUSANTI HANDAYANI WINARSIH SULASTRI"
)
SUNDA_M = _pool(
    "ASEP UJANG DEDEN CECEP ENCEP DADANG TATANG ENDANG NANANG YAYAN DEDE OMAN MAMAN UDIN JAJANG AEP IWAN "
    "HERMAN SUHENDAR KOSASIH SUPRIATNA RUKMANA HIDAYAT SUNANDAR SUHERMAN KURNIA SAEPUL ROHMAT ADE ENJANG "
    "DIDI DODI YANA RUDI ENGKOS JUHANA MULYANA SOPYAN KOMARUDIN JUJUN WAWAN"
)
SUNDA_F = _pool(
    "IIS EUIS NENG IMAS YAYAH EUTIK ENTIN ENOK CUCU EPON ENENG IKAH ONAH TITIN NINING YANTI ELIS ROHAYATI "
    "KOKOM NUNUNG DEDEH ICIH ENUNG NENDEN ELAH RINA SITI NURHAYATI YULIA LILIS TINI MIMIN HERNI KARSIH "
    "WIWIN"
)
UMUM_M = _pool(
    "RIZKY ADITYA DIMAS FAJAR ALIF RAFI ARYA BAYU DANI FIRMAN GILANG HENDRA IRFAN KEVIN RANGGA REZA RIFKI "
    "SATRIA YOGA ANDIKA ARDI DENI EKA FERDI GALIH INDRA JEFRI PUTRA PRATAMA SAPUTRA RAMADAN FIRMANSYAH "
    "KURNIAWAN MAULANA NUGRAHA PERDANA WIJAYA"
)
UMUM_F = _pool(
    "PUTRI NABILA INDAH AYU ANISA SALSABILA ZAHRA DEVI DINDA FITRI INTAN KHAIRUNNISA MELATI NADIA NOVI "
    "RATNA RINA SARI SELVI TIARA WULAN YUNITA AULIA AMELIA CITRA DIAN ELSA FADILA HANA JULIA KARTIKA "
    "LESTARI MAHARANI NURUL OKTAVIA PERMATA RAHMAWATI SEPTIANI SAFITRI PRATIWI"
)

ALL_POOLS = (
    SASAK_M, SASAK_F, ARAB_M, ABDUL_TAILS, ARAB_F, BALI_M, BALI_F, JAWA_M, JAWA_ORDINALS, JAWA_F,
    SUNDA_M, SUNDA_F, UMUM_M, UMUM_F,
)  # fmt: skip


def _zipf(n: int, exponent: float = 0.6) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def pick(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    """`n` words from `pool`, earlier words more common (Zipf-like)."""
    return pool[rng.choice(len(pool), size=n, p=_zipf(len(pool)))]


def _pick_weighted(rng: np.random.Generator, forms: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    words = np.array([w for w, _ in forms], dtype=object)
    p = np.array([p for _, p in forms])
    return words[rng.choice(len(words), size=n, p=p / p.sum())]


def _join(*parts: np.ndarray) -> np.ndarray:
    """Joins word arrays with spaces, skipping empty parts."""
    out = parts[0].copy()
    for part in parts[1:]:
        out = np.where(part == "", out, np.where(out == "", part, out + " " + part))
    return out


def _maybe(rng: np.random.Generator, words: np.ndarray, p: float) -> np.ndarray:
    return np.where(rng.random(len(words)) < p, words, "").astype(object)


def _by_sex(rng: np.random.Generator, female: np.ndarray, male_pool: np.ndarray, female_pool: np.ndarray):
    n = len(female)
    return np.where(female, pick(rng, female_pool, n), pick(rng, male_pool, n))


def _sasak(rng, female, age, noble):
    n = len(female)
    name = _join(_by_sex(rng, female, SASAK_M, SASAK_F), _maybe(rng, _by_sex(rng, female, SASAK_M, SASAK_F), 0.4))
    # Elders are often registered by a teknonym: AMAQ/INAQ + a child's name ("father/mother of ...").
    teknonym = ~noble & (age >= 50) & (rng.random(n) < 0.15)
    child = np.where(rng.random(n) < 0.5, pick(rng, SASAK_M, n), pick(rng, SASAK_F, n))
    name = np.where(teknonym, np.where(female, "INAQ ", "AMAQ ") + child, name)
    return np.where(noble, np.where(female, "BAIQ ", "LALU ") + name, name)


def _arab(rng, female, age, noble):
    n = len(female)
    u = rng.random(n)
    tail = pick(rng, ARAB_M, n)
    male = np.select(
        [u < 0.30, u < 0.40, u < 0.52],
        [
            _pick_weighted(rng, MUHAMMAD_FORMS, n) + " " + tail,
            "AHMAD " + tail,
            _pick_weighted(rng, ABDUL_FORMS, n) + " " + pick(rng, ABDUL_TAILS, n),
        ],
        default=_join(tail, _maybe(rng, pick(rng, ARAB_M, n), 0.25)),
    )
    v = rng.random(n)
    fem_tail = pick(rng, ARAB_F, n)
    fem = np.select(
        [v < 0.25, v < 0.37],
        ["SITI " + fem_tail, "NUR " + fem_tail],
        default=_join(fem_tail, _maybe(rng, pick(rng, ARAB_F, n), 0.3)),
    )
    return np.where(female, fem, male).astype(object)


def _bali(rng, female, age, noble, birth_order):
    n = len(female)
    order = np.minimum(birth_order % 4, 3)
    order_m = np.empty(n, dtype=object)
    order_f = np.empty(n, dtype=object)
    for k in range(4):
        at = order == k
        order_m[at] = np.array(BALI_ORDER_M[k], dtype=object)[rng.integers(0, len(BALI_ORDER_M[k]), at.sum())]
        order_f[at] = np.array(BALI_ORDER_F[k], dtype=object)[rng.integers(0, len(BALI_ORDER_F[k]), at.sum())]
    caste = rng.random(n) < 0.06
    prefix = np.where(
        female,
        np.where(caste, np.where(rng.random(n) < 0.5, "IDA AYU", "GUSTI AYU"), "NI"),
        np.where(caste, np.where(rng.random(n) < 0.5, "IDA BAGUS", "GUSTI"), "I"),
    ).astype(object)
    luh = np.where(female & ~caste & (order_f != "LUH") & (rng.random(n) < 0.25), "LUH", "").astype(object)
    given = _by_sex(rng, female, BALI_M, BALI_F)
    second = _maybe(rng, _by_sex(rng, female, BALI_M, BALI_F), 0.4)
    return _join(prefix, luh, np.where(female, order_f, order_m), given, second)


def _jawa(rng, female, age, noble):
    n = len(female)
    ordinal = ~female & (rng.random(n) < 0.12)
    male = np.where(
        ordinal,
        pick(rng, JAWA_ORDINALS, n) + " " + pick(rng, JAWA_M, n),
        _join(pick(rng, JAWA_M, n), _maybe(rng, pick(rng, JAWA_M, n), 0.4)),
    )
    fem = _join(
        np.where(rng.random(n) < 0.15, "SRI", "").astype(object),
        pick(rng, JAWA_F, n),
        _maybe(rng, pick(rng, JAWA_F, n), 0.25),
    )
    return np.where(female, fem, male).astype(object)


def _sunda(rng, female, age, noble):
    return _join(_by_sex(rng, female, SUNDA_M, SUNDA_F), _maybe(rng, _by_sex(rng, female, SUNDA_M, SUNDA_F), 0.45))


def _umum(rng, female, age, noble):
    return _join(_by_sex(rng, female, UMUM_M, UMUM_F), _maybe(rng, _by_sex(rng, female, UMUM_M, UMUM_F), 0.6))


_COMPOSERS = {SASAK: _sasak, ARAB: _arab, JAWA: _jawa, SUNDA: _sunda, UMUM: _umum}


def compose_names(
    rng: np.random.Generator,
    tradition: np.ndarray,
    female: np.ndarray,
    age: np.ndarray,
    birth_order: np.ndarray,
    noble: np.ndarray,
) -> np.ndarray:
    """One full name per person (upper case, modern spelling).

    `tradition` holds the codes above; the young (under 25) outside Bali get a modern pan-Indonesian name
    a third of the time. `noble` only matters for Sasak (LALU/BAIQ), `birth_order` only for Balinese.
    """
    n = len(tradition)
    modern = (age < 25) & (tradition != BALI) & (rng.random(n) < 0.35)
    effective = np.where(modern, UMUM, tradition)
    names = np.empty(n, dtype=object)
    for code in range(len(TRADITIONS)):
        at = np.flatnonzero(effective == code)
        if not len(at):
            continue
        if code == BALI:
            names[at] = _bali(rng, female[at], age[at], noble[at], birth_order[at])
        else:
            names[at] = _COMPOSERS[code](rng, female[at], age[at], noble[at])
    # A modern name keeps the Sasak noble prefix: the title is inherited, not chosen.
    keep_title = modern & noble & (tradition == SASAK)
    names[keep_title] = np.where(female[keep_title], "BAIQ ", "LALU ") + names[keep_title]
    return names


def tradition_mix(kode_kab: str) -> np.ndarray:
    """Share of each naming tradition among families of a kabupaten/kota (index = tradition code)."""
    mix = np.zeros(len(TRADITIONS))
    province = kode_kab[:2]
    name = (regions.region_name(kode_kab) or "").upper()
    if province == "52" and ("LOMBOK" in name or "MATARAM" in name):
        bali = 0.12 if ("BARAT" in name or "MATARAM" in name) else 0.03
        mix[[SASAK, ARAB, UMUM, BALI, JAWA]] = [0.57 - bali, 0.30, 0.09, bali, 0.04]
    elif province == "52":  # Sumbawa, Dompu, Bima: Muslim Malay-Bugis naming, Arabic-origin mostly
        mix[[ARAB, UMUM, SASAK, JAWA]] = [0.60, 0.22, 0.10, 0.08]
    elif province == "51":
        mix[[BALI, JAWA, ARAB, UMUM]] = [0.85, 0.07, 0.05, 0.03]
    elif province in ("32", "36"):
        mix[[SUNDA, ARAB, UMUM, JAWA]] = [0.55, 0.25, 0.12, 0.08]
    elif province in ("33", "34", "35"):
        mix[[JAWA, ARAB, UMUM]] = [0.60, 0.25, 0.15]
    elif province == "31":
        mix[[JAWA, SUNDA, ARAB, UMUM]] = [0.30, 0.20, 0.30, 0.20]
    else:
        mix[[ARAB, UMUM, JAWA]] = [0.40, 0.35, 0.25]
    return mix / mix.sum()
