"""Typed settings: defaults < the YAML file of DTKS_CONFIG < the run conf, each validated as it is applied,
errors naming the source and the key path but never the value, the person-key secret held as a secret and
refused on its public default outside the demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.config import (
    DEMO_KEY_ENV,
    DEMO_PERSON_KEY_SECRET,
    INELIGIBLE_OCCUPATIONS,
    PERSON_KEY_ENV,
    PipelineConfig,
    SettingsError,
    load_config,
    person_key_secret,
    settings_dict,
)
from pipelines.settings_doc import BEGIN, END, markdown_table

ROOT = Path(__file__).resolve().parent.parent
# A value that must never be echoed back by an error: it could be a secret pasted into the wrong place.
MARKER = "Zq7-never-echo-this-value"


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """Write a YAML settings file and point DTKS_CONFIG at it."""

    def write(text: str) -> Path:
        path = tmp_path / "dtks.yaml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("DTKS_CONFIG", str(path))
        return path

    monkeypatch.delenv("DTKS_CONFIG", raising=False)
    return write


def refused(overrides=None) -> str:
    with pytest.raises(SettingsError) as info:
        load_config(overrides)
    return str(info.value)


# ------------------------------------------------------------------------------------------- the types


def test_a_string_is_never_split_into_characters():
    message = refused({"ineligible_occupations": "PETANI/PEKEBUN"})
    assert "ineligible_occupations: Input should be a list, got str" in message
    config = load_config({"ineligible_occupations": ["PETANI/PEKEBUN", "NELAYAN/PERIKANAN"]})
    assert config.ineligible_occupations == ("PETANI/PEKEBUN", "NELAYAN/PERIKANAN")
    assert load_config().ineligible_occupations == INELIGIBLE_OCCUPATIONS
    assert "ineligible_occupations.1: Input should be a valid string, got int" in refused(
        {"ineligible_occupations": ["PETANI/PEKEBUN", 7]}
    )


@pytest.mark.parametrize("value", ["false", "False", "no", "0", "", 0, 1, None])
def test_a_boolean_is_true_or_false_only(value):
    """'false' would have been True (bool of a non-empty string): anything but a boolean is refused."""
    message = refused({"delivery": {"enabled": value}})
    assert f"delivery.enabled: Input should be a valid boolean, got {type(value).__name__}" in message
    if isinstance(value, str):
        assert "without quotes" in message


def test_booleans_from_yaml(settings_file):
    settings_file("delivery:\n  enabled: false\n  attach_desa_feedback: true\n")
    config = load_config()
    assert config.delivery.enabled is False and config.delivery.attach_desa_feedback is True
    path = settings_file('delivery:\n  enabled: "false"\n')
    message = refused()
    assert f"settings file {path} (DTKS_CONFIG)" in message and "delivery.enabled" in message


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"link": {"link_threshold": "0.9"}}, "link.link_threshold: Input should be a valid number, got str"),
        ({"link": {"seed": 1.5}}, "link.seed: Input should be a valid integer, got float"),
        ({"link": {"em_max_iterations": True}}, "link.em_max_iterations: Input should be a valid integer, got bool"),
        ({"quality_gate": {"max_file_quarantine_share": 1.5}}, "quality_gate.max_file_quarantine_share:"),
        ({"landing": {"max_depth": 0}}, "landing.max_depth: Input should be greater than or equal to 1, got int"),
        ({"intake": {"dukcapil": {"max_rows": "many"}}}, "intake.dukcapil.max_rows: Input should be a valid integer"),
        ({"quality_gate": 5}, "quality_gate: Input should be a valid dictionary"),
        ({"link": {"review_threshold": 0.95}}, "link: review_threshold must not be above link_threshold"),
        ({"delivery": {"recipients": {"52": ["a@b"]}}}, "delivery.recipients: '52' is not a 4-digit kode"),
        ({"delivery": {"cc": ["x@ntb.go.id", 3]}}, "delivery.cc.1: Input should be a valid string, got int"),
    ],
)
def test_a_wrong_type_names_the_key_path_and_the_type(overrides, line):
    message = refused(overrides)
    assert message.startswith("Settings from the run conf ('config') are not valid:\n")
    assert line in message


def test_unknown_keys_are_refused_at_any_depth():
    message = refused(
        {"lnk": {"link_threshold": 0.8}, "link": {"treshold": 0.8}, "intake": {"submission": {"rows": 1}}}
    )
    for path in ("lnk", "link.treshold", "intake.submission.rows"):
        assert f"  {path}: unknown setting" in message
    assert len(message.splitlines()) == 4  # every problem at once


def test_no_value_is_echoed_in_an_error(settings_file):
    for overrides in (
        {"link": {"link_threshold": MARKER}},
        {"delivery": {"enabled": MARKER}},
        {"ineligible_occupations": MARKER},
        {MARKER: MARKER},
        {"person_key_secret": MARKER},
    ):
        message = refused(overrides)
        assert MARKER not in message.replace(f"{MARKER}: unknown setting", "")
    settings_file(f"link:\n  link_threshold: [{MARKER}\n")  # broken YAML around the value
    assert MARKER not in refused()


# ------------------------------------------------------------------------------------------ the sources


def test_each_source_overrides_the_one_before_key_by_key(settings_file):
    settings_file(
        "link:\n  link_threshold: 0.95\n  review_threshold: 0.6\nquality_gate:\n  max_file_quarantine_share: 0.3\n"
    )
    config = load_config({"link": {"link_threshold": 0.97}, "intake": {"submission": {"max_rows": 80_000}}})
    assert config.link.link_threshold == 0.97  # the run conf over the file
    assert config.link.review_threshold == 0.6  # the file's other key of the section stays
    assert config.link.em_max_iterations == 60  # the default
    assert config.quality_gate.max_file_quarantine_share == 0.3
    assert config.intake.submission.max_rows == 80_000 and config.intake.submission.max_columns == 256
    # The stored effective settings load back to the same settings (each stage reloads them).
    assert load_config(settings_dict(config)) == config


def test_one_error_format_for_the_file_and_the_run_conf(settings_file):
    path = settings_file("link:\n  link_threshold: '0.9'\n")
    from_file = refused()
    settings_file("")
    from_conf = refused({"link": {"link_threshold": "0.9"}})
    assert from_file == from_conf.replace("the run conf ('config')", f"settings file {path} (DTKS_CONFIG)")


def test_a_bad_file_is_named(settings_file, tmp_path, monkeypatch):
    path = settings_file("link: [unclosed\n")
    message = refused()
    assert message.startswith(f"Settings from settings file {path} (DTKS_CONFIG) are not valid YAML: ")
    assert re.search(r"at line \d+, column \d+", message)
    settings_file("- a list\n- not a mapping\n")
    assert "the file must hold a mapping, got list" in refused()
    settings_file("")
    assert load_config() == load_config({})  # an empty file changes nothing
    missing = tmp_path / "nowhere.yaml"
    monkeypatch.setenv("DTKS_CONFIG", str(missing))
    assert refused() == f"Settings from settings file {missing} (DTKS_CONFIG) cannot be read: FileNotFoundError"


def test_a_file_error_stops_the_run_at_start(settings_file, tmp_path, monkeypatch):
    from pipelines.stages import make_context

    path = settings_file("quality_gate:\n  max_quarter_quarantine_share: '5%'\n")
    conf = {"quarter": "2026Q3", "landing": str(tmp_path), "work": str(tmp_path / "work")}
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    with pytest.raises(SettingsError, match=re.escape(f"settings file {path} (DTKS_CONFIG)")):
        make_context(conf, "manual__bad_file")


# ------------------------------------------------------------------------------------------ the secret


def test_the_secret_is_never_shown(monkeypatch):
    monkeypatch.setenv(PERSON_KEY_ENV, MARKER)
    config = load_config({"link": {"link_threshold": 0.95}})
    assert config.person_key_secret.get_secret_value() == MARKER
    for text in (repr(config), str(config), config.model_dump_json(), json.dumps(settings_dict(config))):
        assert MARKER not in text
    assert "person_key_secret" not in settings_dict(config)
    from pipelines.stages.context import config_dict

    assert "person_key_secret" not in config_dict(config)


@pytest.mark.parametrize("where", ["file", "run conf"])
def test_a_secret_is_refused_in_a_file_or_the_run_conf(where, settings_file):
    if where == "file":
        settings_file(f"person_key_secret: {MARKER}\n")
        message = refused()
    else:
        message = refused({"person_key_secret": MARKER})
    assert "person_key_secret: a secret is not a setting" in message and PERSON_KEY_ENV in message
    assert MARKER not in message


def test_the_public_default_is_refused_outside_the_demo(monkeypatch):
    monkeypatch.delenv(PERSON_KEY_ENV)
    config = load_config()
    assert config.person_key_secret.get_secret_value() == DEMO_PERSON_KEY_SECRET
    with pytest.raises(SettingsError, match=f"person-key secret is not set.*{PERSON_KEY_ENV}"):
        person_key_secret(config)
    monkeypatch.setenv(PERSON_KEY_ENV, DEMO_PERSON_KEY_SECRET)  # set, but to the public value
    with pytest.raises(SettingsError, match="public demo key"):
        person_key_secret(load_config())
    monkeypatch.setenv(PERSON_KEY_ENV, "short")
    with pytest.raises(SettingsError, match="shorter than 16"):
        person_key_secret(load_config())
    monkeypatch.setenv(PERSON_KEY_ENV, "   ")  # docker compose passes an unset variable as empty
    with pytest.raises(SettingsError, match="not set"):
        person_key_secret(load_config())


def test_the_demo_may_use_the_public_default(monkeypatch):
    monkeypatch.delenv(PERSON_KEY_ENV)
    monkeypatch.setenv(DEMO_KEY_ENV, "1")
    assert person_key_secret(load_config()) == DEMO_PERSON_KEY_SECRET
    monkeypatch.setenv(PERSON_KEY_ENV, "a-real-key-of-the-province-0001")  # a key set wins, demo or not
    assert person_key_secret(load_config()) == "a-real-key-of-the-province-0001"


def small_conf(tmp_path: Path, monkeypatch) -> dict:
    from pipelines.synth import SynthConfig, generate
    from pipelines.warehouse.connection import environment_variable

    landing = tmp_path / "landing"
    generate(landing, "2026Q3", SynthConfig(kab_codes=("5203",), persons=1_500, seed=41))
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(*environment_variable(f"sqlite:///{tmp_path / 'warehouse.sqlite'}"))
    return {
        "quarter": "2026Q3",
        "landing": str(landing),
        "work": str(tmp_path / "work"),
        "reports": str(tmp_path / "reports"),
        "config": {"quality_gate": {"max_file_quarantine_share": 1.0, "max_quarter_quarantine_share": 1.0}},
    }


@pytest.mark.slow
def test_a_run_without_the_key_stops_at_start_and_with_it_stores_no_secret(tmp_path, monkeypatch):
    from sqlalchemy import text

    from pipelines.stages import run_all
    from pipelines.warehouse import connect

    conf = small_conf(tmp_path, monkeypatch)
    monkeypatch.delenv(PERSON_KEY_ENV)
    result = run_all(conf, "manual__no_key")
    assert (result["status"], result["failed_stage"]) == ("FAILED", "start")
    assert result["message"].startswith("The person-key secret is not set") and PERSON_KEY_ENV in result["message"]
    assert not (tmp_path / "work" / "2026Q3" / "manual__no_key" / "ingest").exists()  # no work done

    monkeypatch.setenv(PERSON_KEY_ENV, MARKER)
    result = run_all(conf, "manual__with_key")
    assert result["status"] == "PUBLISHED"
    engine = connect(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    with engine.connect() as c:
        record = c.execute(text("SELECT config FROM run WHERE run_id = 'manual__with_key'")).scalar_one()
        attempts = c.execute(text("SELECT message FROM run_attempt")).scalars().all()
    engine.dispose()
    assert json.loads(record)["link"]["link_threshold"] == 0.9 and "person_key_secret" not in json.loads(record)
    assert any("person-key secret is not set" in (m or "") for m in attempts)  # the refused run is recorded
    for path in (tmp_path / "work").rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path


def test_a_worker_without_the_key_stops_at_decide(tmp_path, monkeypatch):
    """The key is read from each worker's environment: one without it must not pseudonymise with the demo key."""
    from pipelines.stages import decide
    from pipelines.workspace import RunContext

    monkeypatch.delenv(PERSON_KEY_ENV)
    ctx = RunContext("manual__x", "2026Q3", str(tmp_path), "dtks_warehouse", str(tmp_path), str(tmp_path), {}, "0")
    with pytest.raises(SettingsError, match="not set"):
        decide(ctx, "5203")


# ------------------------------------------------------------------------------------------ the listing


def test_the_settings_table_in_the_docs_is_current():
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    start, end = doc.index(BEGIN), doc.index(END) + len(END)
    assert doc[start:end] == markdown_table(), "run `dtks config doc` and paste its output into docs/settings.md"
    for name in PipelineConfig.model_fields:
        assert f"`{name}" in doc


def test_dtks_config_shows_checks_and_lists(tmp_path, capsys, monkeypatch):
    from pipelines.cli import main

    monkeypatch.setenv(PERSON_KEY_ENV, MARKER)
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert '"link_threshold": 0.9' in out and "person_key_secret: set" in out and MARKER not in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"link": {"link_threshold": "high"}}))
    assert main(["config", "--config", str(bad)]) == 2
    assert "link.link_threshold: Input should be a valid number, got str" in capsys.readouterr().err
    assert main(["config", "doc"]) == 0 and capsys.readouterr().out.strip() == markdown_table()
    assert main(["config", "schema"]) == 0 and json.loads(capsys.readouterr().out)["additionalProperties"] is False


def test_each_stage_reloads_the_settings_the_run_started_with(settings_file, tmp_path, monkeypatch):
    from pipelines.stages import make_context, pipeline_config

    settings_file("link:\n  link_threshold: 0.95\n")
    conf = {"quarter": "2026Q3", "landing": str(tmp_path), "work": str(tmp_path / "work")}
    monkeypatch.setenv("DTKS_HOME", str(tmp_path / "home"))
    ctx = make_context(conf | {"config": {"link": {"review_threshold": 0.7}}}, "manual__stored")
    settings_file("link: [edited while the run goes on\n")
    config = pipeline_config(ctx)
    assert (config.link.link_threshold, config.link.review_threshold) == (0.95, 0.7)
    assert config.person_key_secret.get_secret_value() == person_key_secret(config)  # from the environment
    with pytest.raises(SettingsError, match=r"Settings from the run's stored settings are not valid"):
        pipeline_config(type(ctx)(**{**ctx.to_dict(), "config": {"link": {"seed": "x"}}}))
