"""What the reports say, in Bahasa Indonesia: titles, meanings and follow-up steps per finding category,
and labels for outcomes and statuses.

Everything a Dinsos officer or a village operator reads lives here, so that wording can be reviewed in one
place. Code and docstrings stay in English; the strings are Indonesian in the official register.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pipelines import contract as c
from pipelines import registry


@dataclass(frozen=True)
class Guidance:
    """How the reports present one finding category."""

    code: str
    title: str  # short title, used as heading and in lists
    short: str  # column header in summary tables (a few words)
    meaning: str  # "Arti": what the finding means
    actions: tuple[str, ...]  # "Tindak lanjut": what the Dinsos officer should do, step by step
    desa_advice: str  # what the village operator should do (desa feedback file)


GUIDANCE: Final[dict[str, Guidance]] = {
    g.code: g
    for g in (
        Guidance(
            code=c.NIK_TIDAK_VALID,
            title="NIK tidak valid",
            short="NIK tidak valid",
            meaning=(
                "NIK pada usulan tidak mungkin merupakan NIK yang sah: kosong, tidak terdiri atas 16 angka, "
                "kode provinsi tidak dikenal, kode kabupaten/kecamatan 00, tanggal lahir yang tersandi di "
                "dalam NIK tidak mungkin, atau nomor urut 0000."
            ),
            actions=(
                (
                    "Minta operator desa mencocokkan NIK dengan KTP-el atau Kartu Keluarga warga yang "
                    "bersangkutan dan memperbaikinya pada usulan berikutnya."
                ),
                (
                    "Bila baris dapat dipadankan dengan Dukcapil melalui data lainnya, NIK dari Dukcapil "
                    "tercantum pada kolom 'Nilai yang disarankan' (juga di lembar 'NIK berbeda' atau "
                    "'Kemungkinan padan')."
                ),
                (
                    "Bila warga belum memiliki NIK, arahkan warga untuk merekam data kependudukan di Dinas "
                    "Kependudukan dan Pencatatan Sipil."
                ),
            ),
            desa_advice="Cocokkan NIK dengan KTP-el/KK warga dan tulis 16 angka NIK yang benar.",
        ),
        Guidance(
            code=c.NIK_TIDAK_DITEMUKAN,
            title="NIK tidak ditemukan di Dukcapil",
            short="NIK tidak ditemukan",
            meaning=(
                "NIK berformat benar, tetapi tidak terdapat dalam data Dukcapil kabupaten/kota ini, dan "
                "tidak ditemukan penduduk lain yang cukup mirip untuk dipadankan."
            ),
            actions=(
                (
                    "Minta operator desa mencocokkan NIK dengan KTP-el atau Kartu Keluarga warga; kesalahan "
                    "ketik satu atau dua angka adalah penyebab yang paling sering."
                ),
                (
                    "Bila NIK sudah sesuai dokumen, warga kemungkinan terdaftar di kabupaten/kota lain atau "
                    "datanya belum terekam: koordinasikan dengan Dinas Dukcapil."
                ),
            ),
            desa_advice="Cocokkan NIK dengan KTP-el/KK warga; bila sudah benar, laporkan ke Dinas Sosial.",
        ),
        Guidance(
            code=c.NIK_BERBEDA,
            title="NIK berbeda dengan Dukcapil",
            short="NIK berbeda",
            meaning=(
                "Baris ini dipadankan dengan seorang penduduk dalam data Dukcapil, tetapi NIK penduduk "
                "tersebut berbeda dengan NIK pada usulan (NIK yang kosong atau tidak valid juga dihitung "
                "berbeda). NIK menurut Dukcapil tercantum pada kolom 'Nilai yang disarankan'."
            ),
            actions=(
                (
                    "Pastikan orang pada usulan memang pemilik NIK yang disarankan, dengan mencocokkan nama,"
                    " tanggal lahir, dan nomor KK pada KTP-el/KK warga."
                ),
                (
                    "Bila benar, DTKS hasil pemutakhiran sudah memakai NIK Dukcapil; minta desa memakai NIK "
                    "tersebut pada usulan berikutnya."
                ),
                ("Bila ternyata bukan orang yang sama, laporkan kepada pengelola data agar padanan dibatalkan."),
            ),
            desa_advice=(
                "Gunakan NIK sesuai Dukcapil (lihat laporan Dinas Sosial) setelah dicocokkan dengan KTP-el/KK."
            ),
        ),
        Guidance(
            code=c.KK_BERBEDA,
            title="Nomor KK berbeda dengan Dukcapil",
            short="KK berbeda",
            meaning=(
                "Nomor KK pada usulan berbeda dengan nomor KK penduduk tersebut dalam data Dukcapil. Nomor "
                "KK menurut Dukcapil tercantum pada kolom 'Nilai yang disarankan'."
            ),
            actions=(
                (
                    "Tanyakan kepada keluarga melalui desa apakah telah menerima KK baru (misalnya karena "
                    "pisah KK, perkawinan, atau pindah)."
                ),
                (
                    "DTKS hasil pemutakhiran sudah memakai nomor KK Dukcapil; minta desa memakai nomor KK "
                    "tersebut untuk seluruh anggota keluarga pada usulan berikutnya."
                ),
            ),
            desa_advice=("Perbarui nomor KK sesuai KK terbaru warga (nomor KK Dukcapil ada di laporan Dinas Sosial)."),
        ),
        Guidance(
            code=c.IDENTITAS_TIDAK_SESUAI,
            title="Identitas tidak sesuai dengan Dukcapil",
            short="Identitas tidak sesuai",
            meaning=(
                "NIK terdapat di Dukcapil, tetapi nama, tanggal lahir, atau jenis kelamin pada usulan "
                "berbeda melebihi batas toleransi, atau NIK tersebut milik orang lain. Kolom 'Keterangan' "
                "menyebutkan data yang berbeda. Bila baris dipadankan dengan pemilik NIK dan tanggal "
                "lahirnya berbeda, tanggal lahir menurut Dukcapil tercantum pada kolom 'Nilai yang "
                "disarankan' dan sudah dipakai dalam DTKS hasil pemutakhiran. Tanggal lahir yang tidak "
                "masuk akal (di masa depan atau lebih dari 120 tahun lalu) pada baris yang dapat "
                "dipadankan juga dilaporkan di sini, tidak dikarantina."
            ),
            actions=(
                "Cocokkan data pada usulan dengan KTP-el atau Kartu Keluarga warga.",
                (
                    "Bila usulan yang keliru, minta desa memperbaikinya; bila dokumen warga sendiri berbeda "
                    "dengan Dukcapil, arahkan warga ke Dinas Dukcapil untuk perbaikan biodata."
                ),
                "Bila NIK ternyata milik orang lain, minta desa menuliskan NIK warga yang benar.",
            ),
            desa_advice=("Cocokkan nama, tanggal lahir, dan jenis kelamin dengan KTP-el/KK warga, lalu perbaiki."),
        ),
        Guidance(
            code=c.MENINGGAL,
            title="Meninggal dunia menurut Dukcapil",
            short="Meninggal",
            meaning=(
                "Penduduk yang dipadankan dengan baris ini tercatat telah meninggal dunia di Dukcapil. Di "
                "DTKS hasil pemutakhiran statusnya NONAKTIF dengan alasan MENINGGAL."
            ),
            actions=(
                ("Konfirmasikan kematian kepada desa atau keluarga (akta kematian atau surat keterangan kematian)."),
                (
                    "Hentikan penyaluran bantuan atas nama yang bersangkutan dan tinjau kembali susunan "
                    "keluarga penerima, misalnya pengurus keluarga yang baru."
                ),
                "Bila warga ternyata masih hidup, arahkan keluarga ke Dinas Dukcapil untuk perbaikan data.",
            ),
            desa_advice="Konfirmasikan kematian; bila masih hidup, minta warga menghubungi Dinas Dukcapil.",
        ),
        Guidance(
            code=c.GANDA,
            title="Data ganda",
            short="Data ganda",
            meaning=(
                "Orang yang sama diusulkan lebih dari satu kali pada triwulan ini, di desa yang sama atau di"
                " desa lain. Setiap baris dalam kelompok mendapat temuan ini; hanya satu baris yang "
                "diterbitkan, baris lainnya digabungkan. Kolom 'Keterangan' menunjuk baris lain dalam "
                "kelompok."
            ),
            actions=(
                (
                    "Periksa baris-baris dalam kelompok dan pastikan di desa mana orang tersebut benar-benar"
                    " berdomisili."
                ),
                "Minta desa yang keliru menghapus baris ganda dari usulannya.",
                (
                    "Bila orang tersebut tercatat menerima bantuan lebih dari satu kali, laporkan kepada "
                    "pengelola program."
                ),
            ),
            desa_advice="Usulkan setiap warga satu kali saja; hapus baris ganda dari usulan berikutnya.",
        ),
        Guidance(
            code=c.PEKERJAAN_TIDAK_LAYAK,
            title="Pekerjaan tidak layak menerima bantuan",
            short="Pekerjaan tidak layak",
            meaning=(
                "Pekerjaan penduduk menurut Dukcapil termasuk pekerjaan yang tidak layak menerima bantuan "
                "sosial (misalnya PNS, TNI, POLRI, karyawan BUMN/BUMD, perangkat desa). Di DTKS hasil "
                "pemutakhiran statusnya NONAKTIF."
            ),
            actions=(
                (
                    "Verifikasi pekerjaan warga saat ini melalui desa; data pekerjaan di Dukcapil dapat "
                    "sudah tidak mutakhir (misalnya sudah pensiun atau berhenti bekerja)."
                ),
                (
                    "Bila benar, hentikan penyaluran bantuan; bila pekerjaan sudah berubah, arahkan warga "
                    "memperbarui biodata di Dinas Dukcapil, lalu usulkan kembali."
                ),
            ),
            desa_advice=(
                "Periksa pekerjaan warga saat ini; bila sudah berubah, minta warga memperbarui biodata di Dukcapil."
            ),
        ),
        Guidance(
            code=c.PINDAH_DOMISILI,
            title="Domisili di desa lain menurut Dukcapil",
            short="Pindah domisili",
            meaning=(
                "Menurut Dukcapil, penduduk ini berdomisili di desa/kelurahan lain, bukan di desa yang "
                "mengusulkan. Lihat kolom 'Keterangan' untuk rinciannya."
            ),
            actions=(
                "Tanyakan kepada desa apakah warga masih tinggal di desa tersebut.",
                (
                    "Bila sudah pindah, desa asal mengusulkan NONAKTIF dengan alasan PINDAH dan desa tujuan "
                    "mengusulkan warga tersebut."
                ),
                (
                    "Bila warga masih tinggal di desa pengusul, arahkan warga mengurus perpindahan domisili "
                    "di Dinas Dukcapil."
                ),
            ),
            desa_advice=(
                "Pastikan warga masih tinggal di desa; bila sudah pindah, usulkan NONAKTIF dengan alasan PINDAH."
            ),
        ),
        Guidance(
            code=c.DATA_TIDAK_LENGKAP,
            title="Data tidak lengkap (dikarantina)",
            short="Data tidak lengkap",
            meaning=(
                "Kolom wajib selain NIK kosong (kode desa, nomor KK, nama, jenis kelamin, tanggal lahir, "
                "hubungan keluarga, status usulan), atau berkas tidak memiliki kolom wajib. Baris ini "
                "dikarantina: tidak dipadankan dan tidak diterbitkan."
            ),
            actions=(
                (
                    "Minta desa melengkapi data yang disebut pada kolom 'Keterangan' dan mengirim ulang "
                    "baris tersebut pada usulan berikutnya."
                ),
                (
                    "Bila seluruh baris satu berkas terkena, periksa lembar 'Berkas Bermasalah': kemungkinan"
                    " desa memakai templat yang keliru."
                ),
            ),
            desa_advice="Lengkapi kolom yang kosong dan kirim ulang baris ini pada usulan berikutnya.",
        ),
        Guidance(
            code=c.FORMAT_TIDAK_VALID,
            title="Format data tidak valid (dikarantina)",
            short="Format tidak valid",
            meaning=(
                "Isian tidak dapat dibaca: tanggal tidak sah atau formatnya tidak dikenal, nilai di luar "
                "pilihan yang berlaku, kode desa bukan 10 angka, atau nomor KK bukan 16 angka; atau "
                "tanggal lahir tidak masuk akal (di masa depan atau lebih dari 120 tahun lalu) dan baris "
                "tidak dapat dipadankan dengan Dukcapil untuk memperbaikinya. Baris ini dikarantina: "
                "tidak dipadankan dan tidak diterbitkan."
            ),
            actions=(
                (
                    "Minta desa memperbaiki isian yang disebut pada kolom 'Keterangan' (tanggal ditulis "
                    "HH-BB-TTTT, misalnya 17-08-1980; jenis kelamin L atau P) dan mengirim ulang baris "
                    "tersebut."
                ),
                (
                    "Ingatkan operator desa agar kolom NIK dan nomor KK diformat sebagai teks di Excel "
                    "supaya angkanya tidak berubah."
                ),
            ),
            desa_advice=("Perbaiki isian sesuai format yang berlaku (lihat kolom Alasan) dan kirim ulang baris ini."),
        ),
        Guidance(
            code=c.KEMUNGKINAN_PADAN,
            title="Kemungkinan padan (perlu verifikasi)",
            short="Kemungkinan padan",
            meaning=(
                "Baris ini mirip dengan seorang penduduk dalam data Dukcapil, tetapi kemiripannya belum "
                "cukup untuk dipadankan secara otomatis. NIK calon padanan tercantum pada kolom 'Nilai yang "
                "disarankan'."
            ),
            actions=(
                (
                    "Bandingkan baris usulan dengan data Dukcapil untuk NIK yang disarankan (nama, tanggal "
                    "lahir, nama ibu kandung, alamat)."
                ),
                (
                    "Bila orang yang sama, minta desa memakai NIK tersebut pada usulan berikutnya; bila "
                    "bukan, minta desa memastikan NIK warga dari KTP-el atau Kartu Keluarga."
                ),
            ),
            desa_advice="Pastikan NIK dan identitas warga sesuai KTP-el/KK; Dinas Sosial akan memverifikasi.",
        ),
        # The NIK's encoded birth date and sex against the row (issue 3); keyed by its code so the wording is
        # ready whether or not `pipelines.contract` lists the category yet.
        Guidance(
            code="BIODATA_TIDAK_SESUAI_NIK",
            title="Biodata tidak sesuai dengan NIK",
            short="Biodata tidak sesuai NIK",
            meaning=(
                "Tanggal lahir atau jenis kelamin pada usulan tidak sesuai dengan yang tersandi di dalam NIK "
                "(angka ke-7 sampai ke-12 NIK memuat tanggal, bulan, dan tahun lahir; untuk perempuan "
                "tanggalnya ditambah 40). Baris ini tetap diproses: temuan ini bukan alasan penolakan."
            ),
            actions=(
                "Cocokkan tanggal lahir dan jenis kelamin pada usulan dengan KTP-el atau Kartu Keluarga warga.",
                "Bila usulan yang keliru, minta desa memperbaikinya pada usulan berikutnya.",
                (
                    "Bila dokumen warga sendiri tidak sesuai dengan NIK-nya, arahkan warga ke Dinas Dukcapil "
                    "untuk perbaikan biodata (NIK tidak berubah)."
                ),
            ),
            desa_advice="Cocokkan tanggal lahir dan jenis kelamin dengan KTP-el/KK warga, lalu perbaiki bila keliru.",
        ),
    )
}


def guidance_for(category: str) -> Guidance:
    """The guidance for a category; a generic one for a category this module does not know yet."""
    known = GUIDANCE.get(category)
    if known is not None:
        return known
    return Guidance(
        code=category,
        title=category.replace("_", " ").capitalize(),
        short=category.replace("_", " ").capitalize(),
        meaning="Temuan lain dari proses pemutakhiran. Lihat kolom 'Keterangan' untuk rinciannya.",
        actions=("Periksa keterangan setiap baris dan koordinasikan perbaikannya dengan desa.",),
        desa_advice="Periksa keterangan temuan dan perbaiki data bila perlu.",
    )


# Outcomes of a submitted row (contract 3.1). The lower-case labels are what the village reads.
OUTCOME_LABELS: Final[dict[str, str]] = {
    c.OUTCOME_PUBLISHED: "diterima",
    c.OUTCOME_MERGED: "digabung sebagai data ganda",
    c.OUTCOME_QUARANTINED: "dikarantina",
}
OUTCOME_DESCRIPTIONS: Final[dict[str, str]] = {
    c.OUTCOME_PUBLISHED: "Diterima (masuk DTKS hasil pemutakhiran)",
    c.OUTCOME_MERGED: "Digabung sebagai data ganda",
    c.OUTCOME_QUARANTINED: "Dikarantina (tidak diterbitkan)",
}

# status_padan in words (contract 3.1).
STATUS_PADAN_LABELS: Final[dict[str, str]] = {
    c.PADAN: "padan (sesuai dengan data Dukcapil)",
    c.PADAN_DENGAN_KOREKSI: "padan dengan koreksi (NIK/KK disesuaikan dengan Dukcapil)",
    c.PERLU_VERIFIKASI: "perlu verifikasi petugas",
    c.TIDAK_PADAN: "tidak padan (tidak ditemukan kecocokan di Dukcapil)",
}
STATUS_PADAN_EMPTY: Final = "belum dipadankan"

# File-level statuses (file_problems.status): the ingest codes (pipelines.ingest) and their Indonesian
# forms. Unknown values are shown as they are.
FILE_STATUS_LABELS: Final[dict[str, str]] = {
    "ACCEPTED": "diterima dengan catatan",
    "DITERIMA": "diterima dengan catatan",
    "REJECTED": "ditolak (seluruh baris dikarantina)",
    "DITOLAK": "ditolak (seluruh baris dikarantina)",
    "UNREADABLE": "tidak dapat dibaca",
    "TIDAK TERBACA": "tidak dapat dibaca",
    "EMPTY": "kosong (tidak ada baris data)",
    "KOSONG": "kosong (tidak ada baris data)",
    "TIDAK DIBACA": "tidak dibaca (lihat keterangan)",
}

FILE_PROBLEMS_TITLE: Final = "Berkas usulan bermasalah"
FILE_PROBLEMS_MEANING: Final = (
    "Berkas usulan desa yang ditolak atau bermasalah pada tingkat berkas, misalnya tidak dapat dibuka atau "
    "tidak memiliki kolom wajib. Berkas yang tidak dapat dibaca sama sekali tidak menghasilkan baris apa "
    "pun: warga di dalamnya belum diproses pada triwulan ini."
)
FILE_PROBLEMS_ACTIONS: Final = (
    "Hubungi operator desa dan sampaikan masalah yang tercantum pada kolom 'Keterangan'.",
    "Minta desa mengirim ulang berkas memakai templat resmi (CSV UTF-8 atau XLSX, baris pertama berisi nama kolom).",
)

_ROMAN: Final = {"1": "I", "2": "II", "3": "III", "4": "IV"}


def quarter_label(quarter: str) -> str:
    """`2026Q3` -> `Triwulan III 2026`; anything else is returned unchanged."""
    m = c.QUARTER_PATTERN.match(quarter or "")
    if not m:
        return quarter
    return f"Triwulan {_ROMAN[m.group('q')]} {m.group('year')}"


def period_text(quarter: str) -> str:
    """`2026Q3` -> `Triwulan III 2026 (2026Q3)`."""
    label = quarter_label(quarter)
    return f"{label} ({quarter})" if label != quarter else quarter


def outcome_label(outcome: object) -> str:
    text = "" if outcome is None else str(outcome)
    return OUTCOME_LABELS.get(text, text)


def status_padan_label(status: object) -> str:
    text = "" if status is None else str(status).strip()
    if not text or text.lower() == "nan":
        return STATUS_PADAN_EMPTY
    return STATUS_PADAN_LABELS.get(text, text)


def file_status_label(status: object) -> str:
    text = "" if status is None else str(status).strip()
    return FILE_STATUS_LABELS.get(text.upper(), text)


# A finding's `detail` is shown to the village only for these categories: it describes the village's own
# row or the same person. IDENTITAS_TIDAK_SESUAI is left out on purpose: when the NIK belongs to someone
# else, its detail holds that other person's name and birth date (`feedback.desa_reason` names the fields
# instead). A category not listed here shows its title and advice only.
DESA_DETAIL_CATEGORIES: Final = frozenset(
    {
        c.NIK_TIDAK_VALID,
        c.NIK_TIDAK_DITEMUKAN,
        c.NIK_BERBEDA,
        c.KK_BERBEDA,
        c.MENINGGAL,
        c.GANDA,
        c.PEKERJAAN_TIDAK_LAYAK,
        c.PINDAH_DOMISILI,
        c.DATA_TIDAK_LENGKAP,
        c.FORMAT_TIDAK_VALID,
        c.KEMUNGKINAN_PADAN,
        c.BIODATA_TIDAK_SESUAI_NIK,
    }
)
IDENTITY_FIELDS: Final[dict[str, str]] = {
    "nama": "nama",
    "tanggal_lahir": "tanggal lahir",
    "jenis_kelamin": "jenis kelamin",
}
IDENTITY_REASON: Final = "Berbeda dengan data Dukcapil: {fields}."

# The run's summary, when kabupaten/kota failed their quality gate and the others published anyway.
HELD_BACK_TITLE: Final = "Kabupaten/kota yang ditahan"
HELD_BACK_NOTE: Final = (
    "Berkas kabupaten/kota berikut tidak lulus ambang mutu (quality gate). Datanya tidak diterbitkan pada "
    "triwulan ini, sedangkan kabupaten/kota lain tetap diterbitkan. Perbaiki berkasnya lalu jalankan ulang "
    "triwulan ini."
)

# A submission column in words, for everything a person reads: the column name with spaces, except where
# an abbreviation is written in capitals. Unknown names get the same treatment.
_FIELD_WORDS: Final[dict[str, str]] = {"nik": "NIK", "no_kk": "nomor KK", "id_dtks": "ID DTKS", "rt": "RT", "rw": "RW"}


def field_label(field: object) -> str:
    """`tanggal_lahir` -> `tanggal lahir`, `no_kk` -> `nomor KK`; empty -> `-`."""
    text = "" if field is None else str(field).strip()
    if not text:
        return "-"
    return _FIELD_WORDS.get(text.lower(), text.replace("_", " "))


# Stages of a run (time per stage in the HTML summary), as declared in the stage registry.
STAGE_LABELS: Final[dict[str, str]] = registry.labels_id()


def stage_label(stage: str) -> str:
    """`reports/5203` -> `Pembuatan laporan (5203)`."""
    base, _, kab = stage.partition("/")
    label = STAGE_LABELS.get(base, base)
    return f"{label} ({kab})" if kab else label


def format_count(n: int | float) -> str:
    """Indonesian thousands separator: 12345 -> `12.345`."""
    return f"{round(n):,}".replace(",", ".")


def format_share(part: int | float, whole: int | float) -> str:
    """`45,6%`; `0,0%` of nothing."""
    share = 100.0 * part / whole if whole else 0.0
    return f"{share:.1f}".replace(".", ",") + "%"


def format_seconds(seconds: float) -> str:
    """`0,8 detik`, `12 detik`, `3 menit 5 detik`, `1 jam 2 menit`."""
    if seconds < 10:
        return f"{seconds:.1f}".replace(".", ",") + " detik"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} jam {minutes} menit"
    return f"{minutes} menit {secs} detik" if minutes else f"{secs} detik"


# --- per finding, in the officer's workbook ----------------------------------------------------------------

STATUS_DTKS_QUARANTINED: Final = "belum masuk DTKS (dikarantina)"
STATUS_DTKS_VIA_OTHER_ROW: Final = " (lewat baris lain)"
GANDA_KEPT: Final = "Baris ini yang dipertahankan"

# alasan_nonaktif (contract 1.1 and 3.2) in words
ALASAN_LABELS: Final[dict[str, str]] = {
    "MENINGGAL": "meninggal",
    "PINDAH": "pindah",
    "MAMPU": "mampu",
    "GANDA": "data ganda",
    "TIDAK_DITEMUKAN": "tidak ditemukan",
    c.ALASAN_TIDAK_LAYAK: "pekerjaan tidak layak",
}


def alasan_label(reason: object) -> str:
    text = "" if reason is None else str(reason).strip()
    return ALASAN_LABELS.get(text.upper(), text.replace("_", " ").lower())


# What to do about one finding, in a sentence ("Tindakan"). Keyed by category and by what the pipeline
# knows of the row: "linked" (padan: the suggested value is the person's own), "unlinked", "candidate"
# (a possible link), "kept"/"merged" (a duplicate group's kept row and the others).
ROW_ACTIONS: Final[dict[tuple[str, str], str]] = {
    (c.NIK_TIDAK_VALID, "linked"): "Pakai NIK yang disarankan (Dukcapil); minta desa memperbaikinya.",
    (c.NIK_TIDAK_VALID, "candidate"): "Periksa NIK calon dari Dukcapil; bila orangnya sama, minta desa memakainya.",
    (c.NIK_TIDAK_VALID, "unlinked"): "Minta desa menulis NIK dari KTP-el atau KK warga.",
    (c.NIK_TIDAK_DITEMUKAN, "unlinked"): "Minta desa mencocokkan NIK dengan KTP-el atau KK warga.",
    (c.NIK_BERBEDA, "linked"): "Pastikan orangnya sama, lalu minta desa memakai NIK yang disarankan.",
    (c.KK_BERBEDA, "linked"): "Minta desa memakai nomor KK yang disarankan untuk keluarga ini.",
    (c.IDENTITAS_TIDAK_SESUAI, "linked"): "Minta desa memperbaiki data sesuai nilai yang disarankan (Dukcapil).",
    (c.IDENTITAS_TIDAK_SESUAI, "unlinked"): "NIK mungkin milik orang lain: minta desa memastikan NIK dari KTP-el/KK.",
    (c.MENINGGAL, "linked"): "Konfirmasikan kematian ke desa; hentikan bantuan atas nama ini.",
    (c.GANDA, "kept"): "Pertahankan baris ini; minta desa menghapus baris lain dalam kelompok.",
    (c.GANDA, "merged"): "Minta desa menghapus baris ini dari usulan berikutnya.",
    (c.PEKERJAAN_TIDAK_LAYAK, "linked"): "Verifikasi pekerjaan warga; bila benar, hentikan bantuan.",
    (c.PINDAH_DOMISILI, "linked"): "Tanyakan ke desa apakah warga masih tinggal di desa pengusul.",
    (c.DATA_TIDAK_LENGKAP, "unlinked"): "Minta desa melengkapi data dan mengirim ulang baris ini.",
    (c.FORMAT_TIDAK_VALID, "unlinked"): "Minta desa memperbaiki isian dan mengirim ulang baris ini.",
    (c.KEMUNGKINAN_PADAN, "unlinked"): "Bandingkan dengan data Dukcapil NIK yang disarankan; putuskan sama atau tidak.",
    (c.BIODATA_TIDAK_SESUAI_NIK, "linked"): "Minta desa memperbaiki data sesuai nilai yang disarankan (Dukcapil).",
    (c.BIODATA_TIDAK_SESUAI_NIK, "unlinked"): "Cocokkan tanggal lahir dan jenis kelamin dengan KTP-el/KK warga.",
}


def row_action(category: str, variant: str) -> str:
    """The action for one finding; the category's first follow-up step where no variant is worded."""
    for key in ((category, variant), (category, "linked"), (category, "unlinked")):
        if key in ROW_ACTIONS:
            return ROW_ACTIONS[key]
    return guidance_for(category).actions[0]


def sheet_title(category: str) -> str:
    """The tab of a category's sheet: its short label in words (Excel allows 31 characters)."""
    return guidance_for(category).short[:31]


# "Nilai yang disarankan" on the "Semua Temuan" sheet, where a row's suggestions stand one per line
SUGGESTION_LABELS: Final[dict[str, str]] = {
    c.NIK_TIDAK_VALID: "NIK: ",
    c.NIK_BERBEDA: "NIK: ",
    c.KEMUNGKINAN_PADAN: "NIK calon: ",
    c.KK_BERBEDA: "No. KK: ",
    c.MENINGGAL: "Status: ",
    c.PEKERJAAN_TIDAK_LAYAK: "Status: ",
    c.PINDAH_DOMISILI: "Domisili: ",
}


def suggestion_label(category: str) -> str:
    return SUGGESTION_LABELS.get(category, "")


ALL_FINDINGS_NOTE: Final = (
    "Setiap baris usulan yang memiliki temuan tercantum sekali; rincian per kategori ada pada lembar kategorinya."
)

# --- households (KK) since the previous published quarter ------------------------------------------------

CHANGE_IN: Final = "masuk"
CHANGE_OUT: Final = "keluar"
CHANGE_CHANGED: Final = "berubah"
CHANGE_LABELS: Final[dict[str, str]] = {
    CHANGE_IN: "Masuk (keluarga baru di DTKS)",
    CHANGE_OUT: "Keluar (tidak lagi aktif di DTKS)",
    CHANGE_CHANGED: "Berubah (KK, anggota, atau status berubah)",
}
CHANGES_FIRST_QUARTER: Final = (
    "Triwulan ini adalah triwulan pertama yang diterbitkan: belum ada triwulan sebelumnya untuk "
    "dibandingkan, sehingga belum ada keluarga yang masuk, keluar, atau berubah."
)
CHANGES_NOTE: Final = (
    "Satu baris per keluarga (nomor KK) yang masuk, keluar, atau berubah, dengan alasannya. Keluarga "
    "dihitung aktif bila sedikitnya satu anggotanya AKTIF di DTKS."
)
