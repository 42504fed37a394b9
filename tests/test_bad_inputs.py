"""The corpus of bad inputs (tests/fixtures/bad/): every case ends with its stated outcome."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest

from conftest import FIXTURES, Deployment, generate_bad_input

pytestmark = pytest.mark.slow
CORPUS = FIXTURES / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").exists())


def expected(case: str) -> dict:
    return json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("corpus"))
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run().success
    published = deployment.query("select * from marts.quarterly_shop_kpis order by all")
    for case in CASES:
        spec = expected(case)
        target = deployment.raw / spec["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if "generate" in spec:
            generate_bad_input(spec["generate"], target)
        else:
            shutil.copyfile(CORPUS / case / spec["file"], target)
    result = deployment.run()
    return deployment, result, published


def load_row(deployment, file: str) -> dict:
    source, name = file.split("/", 1)
    rows = deployment.rows(
        "select * from audit.loads where source = ? and file_name = ? order by loaded_at desc limit 1", [source, name]
    )
    assert rows, f"{file} has no audit.loads row"
    return rows[0]


def test_the_corpus_has_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES)
def test_each_bad_input_ends_with_its_stated_outcome(corpus_run, case):
    deployment, _, _ = corpus_run
    spec = expected(case)
    row = load_row(deployment, spec["file"])
    assert row["outcome"] == spec["outcome"], row["error"]
    assert row["rows_read"] == row["rows_loaded"] + row["rows_rejected"]
    if spec["outcome"] == "failed":
        assert spec["error"] in row["error"] and row["error"].startswith(spec["file"].split("/", 1)[1])
        assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (0, 0, 0)
        return
    for field in ("rows_read", "rows_loaded", "rows_rejected"):
        if field in spec:
            assert row[field] == spec[field], field
    source, name = spec["file"].split("/", 1)
    reasons = " | ".join(
        r for (r,) in deployment.query(
            "select reason from audit.rejects where source = ? and file_name = ?", [source, name]
        )
    )
    for reason in spec.get("reasons", []):
        assert reason in reasons
    if "warning" in spec:
        assert spec["warning"] in (row["warning"] or "")
    if "unmapped" in spec:
        kind, value = spec["unmapped"]
        assert deployment.query(
            "select count(*) from audit.unmapped_values where kind = ? and value = ?", [kind, value]
        ) == [(1,)]


def test_the_run_fails_naming_the_quarantined_files_and_still_publishes(corpus_run):
    deployment, result, _ = corpus_run
    assert not result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["all_files_readable"].passed is False
    quarantined = checks["all_files_readable"].metadata["quarantined"].value
    for case in CASES:
        if expected(case)["outcome"] == "failed":
            assert expected(case)["file"] in quarantined


def test_every_file_reconciles(corpus_run):
    deployment, _, _ = corpus_run
    assert deployment.query(
        "select count(*) from audit.loads where rows_read <> rows_loaded + rows_rejected"
    ) == [(0,)]


def test_the_good_data_is_intact_and_no_quarantined_row_is_used(corpus_run):
    deployment, _, before = corpus_run
    shops = [r for r in deployment.query("select * from marts.quarterly_shop_kpis order by all") if r[1] != "Z"]
    assert shops == [r for r in before if r[1] != "Z"]
    failed_files = [name for (name,) in deployment.query("select file_name from audit.loads where outcome = 'failed'")]
    used = deployment.query(
        "select count(*) from staging.orders where file_name in (select unnest(?::varchar[]))", [failed_files]
    )
    assert used == [(0,)]
    assert deployment.query("select gmv from marts.quarterly_shop_kpis where quarter = '2024Q3' and shop_id = 'A'") == [
        (Decimal("430.00"),)
    ]
