"""The real Dagster webserver on the project's definitions, after a real run: its GraphQL API shows
the asset graph we define, and the lineage page renders in headless Chromium (its screenshot goes to
the test's folder; `make docs-images` copies it to the README's docs/img/asset-graph.png)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import FIXTURES, Deployment, chromium_or_skip, screenshot

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[1]
ASSET_QUERY = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
    description
    kinds
    owners { ... on TeamAssetOwner { team } }
    isPartitioned
    partitionStats { numMaterialized numPartitions numFailed }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
    assetMaterializations(limit: 1) { metadataEntries { label } }
    metadataEntries { label }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    """Run the tiny fixture through `taobao-ops run`, then serve that DAGSTER_HOME."""
    root = tmp_path_factory.mktemp("ui")
    shutil.copytree(FIXTURES / "tiny", root / "raw")
    env = Deployment(root).environment()
    done = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import entry; entry()", "run", "--quiet"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log = (root / "webserver.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "pipelines.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the webserver did not start:\n" + (root / "webserver.log").read_text())
            time.sleep(1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_the_webserver_serves_the_asset_graph_we_define(webserver):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    expected = {
        key.to_user_string(): {parent.to_user_string() for parent in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(webserver, ASSET_QUERY)["assetNodes"]}
    served = {key: {"/".join(d["path"]) for d in n["dependencyKeys"]} for key, n in nodes.items()}
    assert served == expected
    assert len(served) == 33  # with raw/events, staging/event_days and marts/quarterly_funnel
    assert served["marts/quarterly_shop_kpis"] == {"staging/paid_orders", "staging/traffic", "staging/targets"}

    expected_checks = {
        (check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys
    }
    served_checks = {
        (key, check["name"]) for key, n in nodes.items() for check in n["assetChecksOrError"].get("checks", [])
    }
    assert served_checks == expected_checks

    for key, node in nodes.items():
        assert node["groupName"] == key.split("/")[0], key
        assert node["description"], key
        assert node["kinds"], key
        assert node["owners"] and node["owners"][0]["team"], key
        if key == "report/quarterly_report":
            continue  # written by its own job per quarter, not by the pipeline run
        # after a run, every asset of the pipeline shows its row count and column schema (a raw
        # asset's schema is in its definition: it does not change from run to run)
        labels = {e["label"] for e in node["assetMaterializations"][0]["metadataEntries"]}
        defined = {e["label"] for e in node["metadataEntries"]}
        assert "dagster/row_count" in labels, (key, labels)
        assert "dagster/column_schema" in labels | defined, (key, labels, defined)
        if key.startswith("raw/"):
            assert "dagster/column_schema" in defined, key

    # the dated sources are partitioned by batch date, and the run shows in their partitions
    for source in ("orders", "traffic", "courier"):
        node = nodes[f"raw/{source}"]
        assert node["isPartitioned"], source
        stats = node["partitionStats"]
        assert stats["numFailed"] == 0
        # the tiny fixture's batch dates 2024-06-20 … 2024-07-31, as one run
        assert stats["numMaterialized"] == 42, (source, stats)
    assert not nodes["raw/targets"]["isPartitioned"]


def test_the_lineage_page_renders_raw_to_report_left_to_right(webserver, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser = chromium_or_skip()
    try:
        browser.get(f"{webserver}/asset-groups")
        # the first visit's newsletter prompt would cover the graph
        browser.execute_script("window.localStorage.setItem('communityNux', '\"1\"')")
        browser.refresh()
        WebDriverWait(browser, 60).until(
            expected_conditions.presence_of_element_located((By.XPATH, "//button[normalize-space()='Hide navigation']"))
        ).click()

        def group_box(name: str):
            # the group nodes of the graph (the sidebar lists the groups too, further left)
            boxes = browser.find_elements(By.XPATH, f"//*[normalize-space(text())='{name}']")
            return max(boxes, key=lambda b: b.location["x"]) if boxes else None

        groups = ("raw", "staging", "marts", "publish", "report")
        WebDriverWait(browser, 60).until(lambda _: all(group_box(g) for g in groups))
        time.sleep(2)  # edges and status badges settle
        x = {g: group_box(g).location["x"] for g in groups}
        assert x["raw"] < x["staging"] < x["marts"] < x["publish"] < x["report"], x
        saved = screenshot(browser, tmp_path / "asset-graph.png")
    finally:
        browser.quit()
    assert saved.stat().st_size > 20_000
