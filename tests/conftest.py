"""Shared fixtures and helpers: a throwaway deployment (raw folder, state, warehouse) per test.

Test modules import the helpers here as `from conftest import ...`, the one way: pytest puts tests/
on sys.path (its default "prepend" import mode, tests/ having no __init__.py), so that is the module
pytest itself loaded. `from tests.conftest import ...` would load this file a second time, as
another module with its own copies of everything in it; a child process that needs a helper gets
tests/ on its PYTHONPATH."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
PII_KEY = "test-key"
# `make docs-images` names docs/img here: the browser tests copy their screenshots there (the README's
# pictures), and what they need (Chromium, a CJK font) fails them instead of skipping them.
DOCS_IMG = os.environ.get("TAOBAO_OPS_DOCS_IMG")
# Every process a test starts, and every import of the definitions, uses this key: none makes a key
# file in the project's own data/state (assets/lib/pii_key.py).
os.environ.setdefault("TAOBAO_OPS_PII_KEY", PII_KEY)


@dataclass
class Deployment:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def environment(self) -> dict[str, str]:
        """The environment of a `taobao-ops` or Dagster process on this deployment."""
        return {
            **os.environ,
            "TAOBAO_OPS_RAW_DIR": str(self.raw),
            "TAOBAO_OPS_STATE_DIR": str(self.state),
            "TAOBAO_OPS_WAREHOUSE": str(self.warehouse),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
        }

    def settings(self, **overrides):
        from assets.resources import PipelineSettings

        values = dict(
            raw_dir=str(self.raw), state_dir=str(self.state), warehouse_path=str(self.warehouse),
            pii_key=PII_KEY,
        )
        values.update(overrides)
        return PipelineSettings(**values)

    def run(self, instance=None, first: str | None = None, last: str | None = None, **overrides):
        """Run the job in process, as `taobao-ops run` does, on this deployment's folders: the
        batch dates from `first` to `last`, by default those with files not loaded yet, in one run;
        None (no run) when nothing is new since the last publication."""
        import datetime as dt

        from dagster import DagsterInstance
        from dagster_duckdb import DuckDBResource

        from pipelines.batches import plan_run
        from pipelines.definitions import UNPARTITIONED, build_defs, fed_by

        settings = self.settings(**overrides)
        plan = plan_run(
            settings, UNPARTITIONED, first and dt.date.fromisoformat(first), last and dt.date.fromisoformat(last),
            fed_by,
        )
        if plan.current:  # nothing new: `taobao-ops run` starts no run either
            return None
        from assets.lib import gx_worker

        gx_worker.start_for(plan.new_bytes, self.state, os.environ.get("TAOBAO_OPS_DUCKDB_MEMORY_LIMIT", "1GB"))
        defs = build_defs(settings, DuckDBResource(database=str(self.state / "pipeline.duckdb")))
        return defs.resolve_job_def("pipeline").execute_in_process(
            instance=instance or DagsterInstance.ephemeral(), raise_on_error=False, **plan.arguments
        )

    def query(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def rows(self, sql: str, params=None) -> list[dict]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            rel = con.execute(sql, params)
            names = [d[0] for d in rel.description]
            return [dict(zip(names, row)) for row in rel.fetchall()]

    def drop(self, relative: str, content: str | bytes) -> Path:
        path = self.raw / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path


_WORKER_MAX_BYTES: list[int] = []  # the module's own bound, while the session sets it to 0


@pytest.fixture(scope="session", autouse=True)
def suites_in_process():
    """Every suite runs in the test's own process (tests replace suites and thresholds there); the
    tests of the GX worker turn it on (`gx_worker_on`)."""
    from assets.lib import gx_worker

    _WORKER_MAX_BYTES.append(gx_worker.WORKER_MAX_BYTES)
    gx_worker.WORKER_MAX_BYTES = 0
    yield
    gx_worker.WORKER_MAX_BYTES = _WORKER_MAX_BYTES.pop()
    gx_worker.stop()


@pytest.fixture
def gx_worker_on():
    """Small batches and checks judged in the GX worker, stopped afterwards."""
    from assets.lib import gx_worker

    saved, gx_worker.WORKER_MAX_BYTES = gx_worker.WORKER_MAX_BYTES, _WORKER_MAX_BYTES[0]
    yield gx_worker
    gx_worker.stop()
    gx_worker.WORKER_MAX_BYTES = saved


def build_modes(result) -> dict[str, str]:
    """How a run built each incremental table: asset key -> rebuild, merge or unchanged."""
    return {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata["build"].value
        for e in result.get_asset_materialization_events()
        if "build" in e.step_materialization_data.materialization.metadata
    }


def golden_with_events(raw: Path) -> Path:
    """The golden fixture (tests/fixtures/marts: orders, traffic, courier, reference) and two of the
    sample's event logs (a Parquet and a .csv.gz) in `raw`: every kind of source, in a few files, for
    the tests that run the whole pipeline more than once to compare two ways of running it."""
    shutil.copytree(FIXTURES / "marts", raw)
    events = Path(__file__).resolve().parents[1] / "data" / "raw" / "events" / "shop01"
    (raw / "events" / "shop01").mkdir(parents=True)
    for name in ("events_2024-07-07.parquet", "events_2024-07-14.csv.gz"):
        shutil.copy(events / name, raw / "events" / "shop01" / name)
    return raw


@pytest.fixture
def tiny(tmp_path: Path) -> Deployment:
    """The hand-made fixture of tests/fixtures/tiny in a fresh deployment."""
    deployment = Deployment(tmp_path)
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    return deployment


@pytest.fixture
def empty(tmp_path: Path) -> Deployment:
    deployment = Deployment(tmp_path)
    deployment.raw.mkdir(parents=True)
    return deployment


@pytest.fixture(scope="session")
def tiny_published(tmp_path_factory) -> Deployment:
    """The tiny fixture, run once per session: a deployment with a published warehouse."""
    deployment = Deployment(tmp_path_factory.mktemp("tiny-published"))
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run().success
    return deployment


@pytest.fixture
def built(tmp_path: Path, tiny_published: Deployment) -> Deployment:
    """A copy of the published tiny deployment (raw files, state, warehouse) to change at will."""
    deployment = Deployment(tmp_path / "copy")
    shutil.copytree(tiny_published.root, deployment.root)
    return deployment


def orders_batch(**changes):
    """One parsed order as the lake holds it (a Polars frame), with `changes` to its columns."""
    import datetime as dt
    from decimal import Decimal

    import polars as pl

    from assets.lib.parse import LAKE_SCHEMAS, LINEAGE_SCHEMA

    row = {
        "shop_id": "A", "order_id": "1", "buyer_id": "a" * 64, "status": "paid",
        "created_at": dt.datetime(2024, 7, 1, 9), "paid_at": dt.datetime(2024, 7, 1, 9, 5),
        "shipped_at": None, "completed_at": None, "total_amount": Decimal("10.00"),
        "paid_amount": Decimal("10.00"), "refund_amount": Decimal("0.00"), "item_count": 1,
        "category": None, "channel": None, "is_mobile": True, "province": None, "city": None,
        "district": None, "courier": None, "tracking_no": None, "rural_station_id": None,
        "batch_date": dt.date(2024, 7, 1), "file_name": "f.csv", "line": 2,
    }
    row.update(changes)
    return pl.DataFrame([row], schema={**LAKE_SCHEMAS["orders"], **LINEAGE_SCHEMA})


def generate_bad_input(kind: str, path: Path) -> None:
    """Write a case of the bad-input corpus too large or too binary to ship (its expected.json
    names the kind)."""
    import gzip

    import polars as pl

    header = "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,category"
    if kind == "ten_megabyte_field":
        good = "z16,Z,zb16,paid,2024-08-01 09:00,2024-08-01 09:05,10,10,0,茶叶"
        huge = "z160,Z,zb160,paid,2024-08-01 09:00,2024-08-01 09:05,10,10,0," + "长" * (10 * 1024 * 1024 // 3)
        path.write_text(f"{header}\n{good}\n{huge}\n", encoding="utf-8")
    elif kind == "zero_bytes":
        path.write_bytes(b"")
    elif kind == "gzip_bomb":
        member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
        path.write_bytes(member * 64)
    elif kind == "wide_header":
        path.write_bytes(b",".join(b"c%d" % i for i in range(20_000)) + b"\n1\n")
    elif kind == "parquet_wrong_types":
        pl.DataFrame({
            "order_id": ["z20", "z200"], "buyer_id": ["zb20", "zb200"], "status": ["paid", "paid"],
            "created_at": [20240801, 20240802],  # an integer, not a timestamp
            "total_amount": [True, False],  # a boolean, not money
        }).write_parquet(path)
    else:  # pragma: no cover - a typo in expected.json
        raise ValueError(kind)


def unavailable(reason: str):
    """Skip a test for want of something the machine lacks; under `make docs-images`, fail it."""
    (pytest.fail if DOCS_IMG else pytest.skip)(reason)


def chromium_or_skip(window: str = "1800,900"):
    """A headless Chromium driven by selenium, or a skip that says how to get one."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        unavailable(
            f"headless Chromium not installed ({CHROMIUM}, {CHROMEDRIVER}): on Debian `apt-get install "
            "chromium chromium-driver` (.ci/browser does), or set CHROMIUM and CHROMEDRIVER"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={window}",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def screenshot(browser, path: Path) -> Path:
    """The browser's window saved as `path`, in the test's own folder: a test never writes into the
    project. Under `make docs-images`, copied into docs/img under the same name."""
    assert browser.save_screenshot(str(path))
    if DOCS_IMG:
        shutil.copyfile(path, Path(DOCS_IMG) / path.name)
    return path
