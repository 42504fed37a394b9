"""The settings of one deployment as a plain typed object, without Dagster.

`assets/resources.py` makes the same fields a Dagster resource (each asset receives it, the UI
shows it); planning a run, which must not import Dagster when there is nothing new, uses this.
The defaults are the fields' own, inside the project, so a cron line works from any directory;
`pipelines/settings.py` reads the environment into it once per process and writes nothing there."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError, field_validator

from .lake import LakeRoot, is_url
from .limits import DEFAULT_LIMITS, LIMIT_SETTINGS, ReadLimits
from .thresholds import SummaryRules
from .storage import DEFAULT as STORAGE_DEFAULT, LATEST, VERSION, tag_of as storage_tag
from .pii_key import KEY_ENV, deployment_key

if TYPE_CHECKING:
    from .parse import ParseOptions

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("duckdb", "spark")


def _threshold(name: str):
    """A setting of the report's thresholds: SummaryRules' field `name`, its default and description
    (its range is checked by SummaryRules, in Settings.summary_rules)."""
    rule = SummaryRules.model_fields[name]
    return Field(default=rule.default, description=rule.description)


class Settings(BaseModel):
    """Folders and options of one deployment; two deployments with other folders never meet."""

    raw_dir: str = Field(
        default=str(PROJECT_ROOT / "data" / "raw"),
        description="Drop folder of raw exports (orders/, traffic/, courier/, events/, reference/).",
    )
    state_dir: str = Field(
        default=str(PROJECT_ROOT / "data" / "state"),
        description="What the pipeline keeps between runs: working database, lake.",
    )
    lake_root: str | None = Field(
        default=None,
        description="Root of the Parquet lake (docs/lake.md): a local folder or an s3://bucket/prefix URL; unset, <state>/lake.",
    )
    warehouse_path: str = Field(
        default=str(PROJECT_ROOT / "data" / "warehouse.duckdb"),
        description="The analysts' DuckDB file, replaced atomically on publish.",
    )
    warehouse_storage_version: str = Field(
        default=STORAGE_DEFAULT,
        description="DuckDB storage format of the working database and so of the analysts' file: v1.5.0 (read by "
        "DuckDB 1.5 and later clients, the registry's duckdb-cli among them), an older vX.Y.Z, or `latest` (2.0's own).",
    )
    reports_dir: str = Field(
        default=str(PROJECT_ROOT / "reports"), description="Where the quarterly reports are written."
    )
    pii_key: str | None = Field(
        default=None,
        description="Secret key of the buyer pseudonyms (HMAC-SHA256); unset, the deployment's own, <state>/pii.key.",
    )
    default_shop: str = Field(default="default", description="shop_id of files without a shop column.")
    fiscal_year_start_month: int = Field(
        default=1, description="Month the fiscal year starts: 1 = calendar quarters; 4 = Alibaba's."
    )
    events_max_age_days: int = Field(
        default=31, ge=0,
        description="Events more than this many days before their file's batch date are rejected (contract §8).",
    )
    first_batch_date: str = Field(
        default="2024-01-01",
        description="First day of the batch-date partitions, YYYY-MM-DD; files dated earlier belong to it.",
    )

    @field_validator("engine", mode="before")
    @classmethod
    def _an_engine(cls, value: str) -> str:
        # the resource may hold Dagster's EnvVar (a str naming the variable): the value itself was
        # checked when the deployment read the environment into Settings
        if type(value) is str and value not in ENGINES:
            raise ValueError(f"{VARIABLES['engine']} must be one of {', '.join(ENGINES)}, not {value!r}")
        return value

    @field_validator("warehouse_storage_version", mode="before")
    @classmethod
    def _a_storage_version(cls, value: str) -> str:
        # as the engine's: the resource may hold Dagster's EnvVar, checked when the environment was read
        if type(value) is str and value != LATEST:
            if not VERSION.match(value):
                raise ValueError(
                    f"{VARIABLES['warehouse_storage_version']} must be a DuckDB version like v1.5.0, or latest, not {value!r}"
                )
            try:
                storage_tag(value)
            except ValueError as exc:
                raise ValueError(f"{VARIABLES['warehouse_storage_version']}: {str(exc).split(', valid options')[0]}") from None
        return value

    @field_validator("first_batch_date")
    @classmethod
    def _a_day(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{VARIABLES['first_batch_date']} must be a day as YYYY-MM-DD, not {value!r}") from None
        return value
    engine: str = Field(
        default="duckdb",
        description="What builds staging and marts: `duckdb` (embedded, incremental) or `spark` (Spark SQL over "
        "the lake, every table whole; `pip install 'taobao-ops[spark]'`, docs/scale-out.md).",
    )
    spark_master: str = Field(
        default="local[*]",
        description="Where Spark runs with engine `spark`: local[N], spark://host:7077, k8s://https://host:443, "
        "or a Spark Connect sc://host:15002 URL.",
    )
    spark_conf: str = Field(
        default="",
        description="More Spark settings for engine `spark`, `key=value` separated by spaces "
        "(e.g. spark.driver.memory=8g spark.sql.shuffle.partitions=64).",
    )
    # What the report's 数据总结 counts as large or alarming: thresholds.SummaryRules' fields, by
    # its defaults and words (docs/report.md).
    report_large_change: float = _threshold("large_change")
    report_top_changes: int = _threshold("top_changes")
    report_channel_shift: float = _threshold("channel_shift")
    report_roi_low: float = _threshold("roi_low")
    report_roi_high: float = _threshold("roi_high")
    report_late_rate_alarm: float = _threshold("late_rate_alarm")
    report_return_rate_alarm: float = _threshold("return_rate_alarm")
    # What one raw file may hold before it is quarantined unread (files.ReadLimits).
    max_file_mb: int = Field(default=DEFAULT_LIMITS.max_file_mb, description="Largest text of one raw file (unpacked), MiB.")
    max_columns: int = Field(default=DEFAULT_LIMITS.max_columns, description="Most fields in a raw file's header line.")
    max_line_kb: int = Field(default=DEFAULT_LIMITS.max_line_kb, description="Longest physical line of a raw file, KiB.")
    max_gzip_ratio: int = Field(
        default=DEFAULT_LIMITS.max_gzip_ratio, description="Most unpacked bytes per packed byte of a compressed file."
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], **overrides: str | Path | None) -> Settings:
        """`overrides` that are not None (command-line options), else the variables set (an empty
        one counts as unset), else the defaults. A relative path given is taken from the current
        directory, so every process of a run agrees on it."""
        values = set_variables(environ, VARIABLES)
        values.update({field: str(value) for field, value in overrides.items() if value is not None})
        for field in PATHS & values.keys():
            if not is_url(values[field]):
                values[field] = str(Path(values[field]).resolve())
        return cls(**values)

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def state(self) -> Path:
        return Path(self.state_dir)

    @property
    def lake_dir(self) -> LakeRoot:
        """The lake's root: a local folder as a Path, an object store's as its URL."""
        if self.lake_root is None:
            return self.state / "lake"
        return self.lake_root.rstrip("/") if is_url(self.lake_root) else Path(self.lake_root)

    @property
    def spark_dir(self) -> Path:
        """The tables the Spark engine builds, as Parquet (assets/lib/spark_engine.py)."""
        return self.state / "spark"

    @property
    def working_db(self) -> Path:
        return self.state / "pipeline.duckdb"

    @property
    def warehouse(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir)

    def sql_params(self) -> dict:
        month = self.fiscal_year_start_month
        if not 1 <= month <= 12:
            raise ValueError(f"fiscal_year_start_month must be 1..12, not {month}")
        return {"fiscal_start_month": month}

    def parse_options(self) -> ParseOptions:
        from .parse import ParseOptions

        return ParseOptions(
            pii_key=self.buyer_key(), default_shop=self.default_shop, events_max_age_days=self.events_max_age_days,
            limits=self.read_limits(),
        )

    def buyer_key(self) -> str:
        """The pseudonym key: `pii_key`, else the deployment's own from its state folder, made on its
        first run (assets/lib/pii_key.py). Read when a run needs it, so that loading the definitions
        writes no file and the Dagster UI never holds the key."""
        if self.pii_key:
            return self.pii_key
        key, message = deployment_key(self.state)
        if message:
            print(message, file=sys.stderr)
        return key

    def summary_rules(self) -> SummaryRules:
        """The report's thresholds; a value out of its range is refused by its variable's name."""
        try:
            return SummaryRules(**{name: getattr(self, f"report_{name}") for name in SummaryRules.model_fields})
        except ValidationError as error:
            problems = "; ".join(
                (f"{VARIABLES['report_' + str(e['loc'][0])]}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
                for e in error.errors()
            )
            raise ValueError(f"the report's thresholds are not valid: {problems}") from None

    def read_limits(self) -> ReadLimits:
        for field in ("max_file_mb", "max_columns", "max_line_kb", "max_gzip_ratio"):
            if getattr(self, field) < 1:
                raise ValueError(f"{field} must be at least 1, not {getattr(self, field)}")
        return ReadLimits(
            max_file_mb=self.max_file_mb, max_columns=self.max_columns,
            max_line_kb=self.max_line_kb, max_gzip_ratio=self.max_gzip_ratio,
        )


# Each field's environment variable (README, "Settings").
VARIABLES = {
    "raw_dir": "TAOBAO_OPS_RAW_DIR",
    "state_dir": "TAOBAO_OPS_STATE_DIR",
    "lake_root": "TAOBAO_OPS_LAKE",
    "warehouse_path": "TAOBAO_OPS_WAREHOUSE",
    "warehouse_storage_version": "TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION",
    "reports_dir": "TAOBAO_OPS_REPORTS_DIR",
    "pii_key": KEY_ENV,
    "default_shop": "TAOBAO_OPS_DEFAULT_SHOP",
    "fiscal_year_start_month": "TAOBAO_OPS_FISCAL_YEAR_START_MONTH",
    "first_batch_date": "TAOBAO_OPS_FIRST_BATCH_DATE",
    "events_max_age_days": "TAOBAO_OPS_EVENTS_MAX_AGE_DAYS",
    "engine": "TAOBAO_OPS_ENGINE",
    "spark_master": "TAOBAO_OPS_SPARK_MASTER",
    "spark_conf": "TAOBAO_OPS_SPARK_CONF",
    **{f"report_{name}": f"TAOBAO_OPS_REPORT_{name.upper()}" for name in SummaryRules.model_fields},
    **LIMIT_SETTINGS,
}
# Resolved from the current directory when relative (a URL is taken as it is).
PATHS = {"raw_dir", "state_dir", "lake_root", "warehouse_path", "reports_dir"}


def set_variables(environ: Mapping[str, str], variables: dict[str, str]) -> dict[str, str]:
    """{field: value} of the `variables` (field -> variable name) set in `environ`, not empty."""
    return {field: environ[name] for field, name in variables.items() if environ.get(name)}
