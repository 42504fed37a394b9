"""The deployment's settings: read once from the environment into one typed object, never written
back; Dagster's resource names the variables a deployment set and holds the defaults of the rest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import build_resources

from assets.lib.settings import Settings
from pipelines.settings import Deployment

PROJECT = Path(__file__).resolve().parents[1]


def test_loading_the_definitions_changes_nothing_in_the_process(tmp_path):
    """As the webserver, the daemon and each run worker load them. Polars sets its allocator's
    variable when it is imported, a library's own doing: the snapshot is taken after it."""
    code = (
        "import json, os, polars\n"
        "before = dict(os.environ)\n"
        "from pipelines.definitions import defs\n"
        "defs.get_repository_def().get_all_jobs()\n"
        "after = dict(os.environ)\n"
        "print(json.dumps({k: [before.get(k), after.get(k)] for k in before.keys() | after.keys()"
        " if before.get(k) != after.get(k)}))\n"
    )
    # neither the key nor Dagster's home set: the variables the old definitions filled in
    env = {k: v for k, v in os.environ.items() if k not in ("TAOBAO_OPS_PII_KEY", "DAGSTER_HOME")}
    env["TAOBAO_OPS_STATE_DIR"] = str(tmp_path / "state")
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}
    assert not (tmp_path / "state").exists()  # nor a key file made: a run makes it when it needs it


def test_the_defaults_are_the_documented_ones():
    deployment = Deployment.from_environment({})
    settings = deployment.settings
    assert (settings.raw_dir, settings.state_dir, settings.warehouse_path, settings.reports_dir) == (
        f"{PROJECT}/data/raw", f"{PROJECT}/data/state", f"{PROJECT}/data/warehouse.duckdb", f"{PROJECT}/reports"
    )
    assert settings.pii_key is None  # the deployment's own, <state>/pii.key, read when a run needs it
    assert (settings.default_shop, settings.fiscal_year_start_month) == ("default", 1)
    assert (settings.max_file_mb, settings.max_columns, settings.max_line_kb, settings.max_gzip_ratio) == (
        128, 1000, 1024, 100
    )
    assert deployment.duckdb_memory_limit == "1GB"
    assert deployment.dagster_home == PROJECT / ".dagster"
    automation = deployment.automation
    assert (automation.starts, automation.schedule, automation.timezone) == ("off", "0 6 * * *", "Asia/Shanghai")
    assert deployment.named == frozenset()


def test_options_then_variables_then_defaults_and_relative_paths_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {
        "TAOBAO_OPS_RAW_DIR": "drop", "TAOBAO_OPS_STATE_DIR": "kept", "TAOBAO_OPS_DEFAULT_SHOP": "",
        "TAOBAO_OPS_FISCAL_YEAR_START_MONTH": "4", "TAOBAO_OPS_DUCKDB_MEMORY_LIMIT": "3GB", "DAGSTER_HOME": "runs",
        "TAOBAO_OPS_AUTOMATION": " Sensor ", "TAOBAO_OPS_SCHEDULE": "30 7 * * *",
    }
    deployment = Deployment.from_environment(environ, raw_dir=Path("elsewhere"), state_dir=None)
    settings = deployment.settings
    assert settings.raw_dir == str(tmp_path / "elsewhere")  # the option
    assert settings.state_dir == str(tmp_path / "kept")  # no option: the variable
    assert settings.working_db == tmp_path / "kept" / "pipeline.duckdb"
    assert settings.warehouse_path == f"{PROJECT}/data/warehouse.duckdb"  # neither: the default
    assert settings.default_shop == "default"  # an empty variable counts as unset
    assert settings.fiscal_year_start_month == 4
    assert deployment.duckdb_memory_limit == "3GB"
    assert deployment.dagster_home == tmp_path / "runs"
    assert deployment.automation.enabled("sensor") and not deployment.automation.enabled("schedule")
    assert (deployment.automation.schedule, deployment.automation.timezone) == ("30 7 * * *", "Asia/Shanghai")
    assert deployment.named == {"state_dir", "fiscal_year_start_month"}


def test_an_unknown_automation_is_refused_by_its_variable_name():
    with pytest.raises(ValueError, match="TAOBAO_OPS_AUTOMATION must be off, on, schedule or sensor, not 'sometimes'"):
        Deployment.from_environment({"TAOBAO_OPS_AUTOMATION": "sometimes"})


def test_the_resource_names_the_variables_set_and_steps_read_them(tmp_path, monkeypatch):
    environ = {
        "TAOBAO_OPS_PII_KEY": "the-secret", "TAOBAO_OPS_MAX_COLUMNS": "50",
        "TAOBAO_OPS_RAW_DIR": str(tmp_path / "ignored"), "TAOBAO_OPS_STATE_DIR": str(tmp_path / "state"),
        "TAOBAO_OPS_ENGINE": "spark", "TAOBAO_OPS_REPORT_ROI_LOW": "2.5", "TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION": "latest",
    }
    resource = Deployment.from_environment(environ, raw_dir=tmp_path / "raw").resource()
    # its config as Dagster records it and the UI shows it: the variables set by name (never the
    # secret's value), the option, the defaults and every path by value (resolved once, so that
    # each process of the run agrees on a relative one)
    assert resource._convert_to_config_dictionary() == {
        "raw_dir": str(tmp_path / "raw"),
        "state_dir": str(tmp_path / "state"),
        "warehouse_path": f"{PROJECT}/data/warehouse.duckdb",
        "warehouse_storage_version": {"env": "TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION"},
        "reports_dir": f"{PROJECT}/reports",
        "pii_key": {"env": "TAOBAO_OPS_PII_KEY"},
        "default_shop": "default",
        "fiscal_year_start_month": 1,
        "events_max_age_days": 31,
        "first_batch_date": "2024-01-01",
        "max_file_mb": 128,
        "max_columns": {"env": "TAOBAO_OPS_MAX_COLUMNS"},
        "max_line_kb": 1024,
        "max_gzip_ratio": 100,
        "engine": {"env": "TAOBAO_OPS_ENGINE"},
        "spark_master": "local[*]",
        "spark_conf": "",
        "report_large_change": 0.1,
        "report_top_changes": 3,
        "report_channel_shift": 0.02,
        "report_roi_low": 2.5,  # by value: Dagster's EnvVar holds no fractions
        "report_roi_high": 5.0,
        "report_late_rate_alarm": 0.05,
        "report_return_rate_alarm": 0.03,
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with build_resources({"settings": resource}) as resources:
        settings = resources.settings
    assert (settings.pii_key, settings.max_columns, settings.state_dir) == ("the-secret", 50, str(tmp_path / "state"))
    assert settings.raw_dir == str(tmp_path / "raw")
    assert settings.engine == "spark"
    assert settings.summary_rules().roi_band == (2.5, 5.0)
    assert settings.warehouse_storage_version == "latest"


def test_an_unknown_engine_is_refused_by_its_variable(tmp_path):
    with pytest.raises(ValueError, match="TAOBAO_OPS_ENGINE must be one of duckdb, spark, not 'sparkk'"):
        Deployment.from_environment({"TAOBAO_OPS_ENGINE": "sparkk"}, state_dir=tmp_path)


def test_without_the_key_variable_the_resource_holds_no_key(tmp_path):
    resource = Deployment.from_environment({}, state_dir=tmp_path / "state").resource()
    assert "pii_key" not in resource._convert_to_config_dictionary()  # None: no value to show
    with build_resources({"settings": resource}) as resources:
        settings = resources.settings
    assert settings.pii_key is None
    assert settings.buyer_key() == (tmp_path / "state" / "pii.key").read_text().strip()


def test_the_command_says_which_setting_it_cannot_read():
    from click.testing import CliRunner

    from pipelines.cli import main

    done = CliRunner().invoke(main, ["report", "2024Q4"], env={"TAOBAO_OPS_AUTOMATION": "sometimes"})
    assert done.exit_code == 1
    assert "TAOBAO_OPS_AUTOMATION must be off, on, schedule or sensor, not 'sometimes'" in done.output
    assert done.exc_info[0] is SystemExit  # a message, not a traceback


def test_the_first_batch_date_is_a_setting_the_partitions_start_from():
    script = "from assets.partitions import BATCH_DATES, first_key; print(BATCH_DATES.start.date(), first_key())"
    env = {**os.environ, "TAOBAO_OPS_FIRST_BATCH_DATE": "2024-06-01"}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2024-06-01", "2024-06-01"], done.stderr
    with pytest.raises(ValueError, match="TAOBAO_OPS_FIRST_BATCH_DATE must be a day as YYYY-MM-DD, not '2024-13-01'"):
        Settings.from_environment({"TAOBAO_OPS_FIRST_BATCH_DATE": "2024-13-01"})


def test_the_lake_is_below_the_state_unless_set_a_folder_from_here_a_url_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings.from_environment({"TAOBAO_OPS_STATE_DIR": "kept"}).lake_dir == tmp_path / "kept" / "lake"
    assert Settings.from_environment({"TAOBAO_OPS_LAKE": "elsewhere"}).lake_dir == tmp_path / "elsewhere"
    remote = Deployment.from_environment({"TAOBAO_OPS_LAKE": "s3://bucket/lake/"})
    assert remote.settings.lake_dir == "s3://bucket/lake"
    assert remote.resource()._convert_to_config_dictionary()["lake_root"] == "s3://bucket/lake/"  # by value, like a path
    # unset, it follows the state folder of a copy with another one
    settings = Settings(state_dir=str(tmp_path / "a"))
    assert settings.model_copy(update={"state_dir": str(tmp_path / "b")}).lake_dir == tmp_path / "b" / "lake"


@pytest.mark.parametrize(("environ", "message"), [
    ({"TAOBAO_OPS_REPORT_ROI_LOW": "6"}, "TAOBAO_OPS_REPORT_ROI_HIGH: the ROI band's high end 5.0 is below its low end 6.0"),
    ({"TAOBAO_OPS_REPORT_LARGE_CHANGE": "0"}, "TAOBAO_OPS_REPORT_LARGE_CHANGE: Input should be greater than 0"),
    ({"TAOBAO_OPS_REPORT_TOP_CHANGES": "0"}, "TAOBAO_OPS_REPORT_TOP_CHANGES: Input should be greater than or equal to 1"),
])
def test_the_reports_thresholds_out_of_range_are_refused_by_their_variable(tmp_path, environ, message):
    settings = Deployment.from_environment(environ, state_dir=tmp_path).settings
    with pytest.raises(ValueError, match=re.escape(message)):
        settings.summary_rules()


def test_an_unknown_storage_version_is_refused_by_its_variable(tmp_path):
    with pytest.raises(ValueError, match="TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION must be a DuckDB version like v1.5.0, or latest, not '1.5'"):
        Deployment.from_environment({"TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION": "1.5"}, state_dir=tmp_path)
