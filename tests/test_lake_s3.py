"""The lake on an object store (docs/lake.md): with its root an `s3://` URL, on an S3 that moto serves
on 127.0.0.1 for this module, the lake's files keep the layout of a local lake, and the pipeline on
the shipped sample publishes the same marts as with a local one."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from conftest import Deployment, build_modes, golden_with_events, orders_batch

moto_server = pytest.importorskip(
    "moto.server", reason="moto is not installed (it is in the `dev` extra): no local S3 server to put a lake on"
)
s3fs = pytest.importorskip("s3fs", reason="s3fs is not installed (the `s3` extra): no lake on s3:// without it")

from assets.lib import lake  # noqa: E402 - after the skips: s3fs is what it reaches s3:// through
from assets.lib.parse import lake_schema  # noqa: E402
from assets.lib.schema import SOURCES  # noqa: E402

BUCKET = "taobao-ops-test"


@pytest.fixture(scope="module")
def s3():
    """An S3 server on a free port of 127.0.0.1 with one bucket, reached through the standard
    variables (the filesystems of an earlier endpoint forgotten)."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with pytest.MonkeyPatch.context() as env:
            for name, value in {
                "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
            }.items():
                env.setenv(name, value)
            s3fs.S3FileSystem.clear_instance_cache()
            lake._object_store.cache_clear()
            fs = s3fs.S3FileSystem(use_listings_cache=False)  # the test's own: it looks at what the lake wrote
            fs.mkdir(BUCKET)
            yield fs
            s3fs.S3FileSystem.clear_instance_cache()
            lake._object_store.cache_clear()
    finally:
        server.stop()


def test_a_pending_file_replaces_the_lake_file_of_its_raw_name_and_leaves_no_copy(s3):
    root = f"s3://{BUCKET}/unit"
    name = lake.lake_name("orders_2024-07-01.csv")
    assert lake.write_pending(root, "orders", "orders_2024-07-01.csv", orders_batch()) == f"{root}/orders/_pending/{name}"
    assert lake.batch_files(root, "orders") == []  # pending: not in the lake yet
    lake.promote(root, "orders", "orders_2024-07-01.csv")
    assert lake.batch_files(root, "orders") == [f"{root}/orders/{name}"]
    assert s3.find(f"{BUCKET}/unit/orders/_pending") == []  # copied, then deleted
    (before,) = lake.file_versions(root, "orders").values()

    lake.write_pending(root, "orders", "orders_2024-07-01.csv", orders_batch(order_id="2", item_count=3))
    assert lake.parquet_schema(lake.pending_path(root, "orders", "orders_2024-07-01.csv")) == lake_schema("orders")
    lake.promote(root, "orders", "orders_2024-07-01.csv")
    (after,) = lake.file_versions(root, "orders").values()
    assert after != before  # other bytes, another ETag: the planner rebuilds from it
    with s3.open(f"{BUCKET}/unit/orders/{name}", "rb") as file:
        assert pl.read_parquet(file)["order_id"].to_list() == ["2"]

    lake.write_pending(root, "orders", "held-back.csv", orders_batch())  # what a crash would leave
    lake.clear_pending(root, "orders")
    assert s3.find(f"{BUCKET}/unit/orders") == [f"{BUCKET}/unit/orders/{name}"]
    assert lake.in_lake(root, "orders", "orders_2024-07-01.csv") and not lake.in_lake(root, "orders", "held-back.csv")


def sample(root: Path) -> Deployment:
    deployment = Deployment(root)
    golden_with_events(deployment.raw)
    return deployment


@pytest.mark.slow
def test_the_pipeline_on_a_lake_on_s3_publishes_the_marts_of_a_local_lake(s3, tmp_path_factory, gx_worker_on):
    """The GX worker on, as `taobao-ops run` has it for the sample: it reads the pending files too.
    Every kind of source in a few files: each file costs a dozen requests to the S3 server."""
    from assets.lib.tables import MARTS

    local = sample(tmp_path_factory.mktemp("local"))
    assert local.run().success
    remote = sample(tmp_path_factory.mktemp("remote"))
    root = f"s3://{BUCKET}/lake"
    assert remote.run(lake_root=root).success

    for mart in sorted(MARTS):
        query = f"select * from marts.{mart} order by all"
        assert remote.query(query) == local.query(query), mart
    assert not (remote.state / "lake").exists()
    # the documented layout: <root>/<source>/<lake_name of the raw file>, the local lake's names, nothing pending
    local_names = {s: sorted(p.name for p in (local.state / "lake" / s).glob("*.parquet")) for s in SOURCES}
    assert {s for s, names in local_names.items() if names} == {"orders", "traffic", "courier", "events", "campaigns", "targets"}
    for source, names in local_names.items():
        assert s3.find(f"{BUCKET}/lake/{source}") == [f"{BUCKET}/lake/{source}/{n}" for n in names], source
    loaded = remote.query("select source, file_name from audit.loads where outcome = 'loaded'")
    assert sorted((s, lake.lake_name(f)) for s, f in loaded) == sorted((s, n) for s, names in local_names.items() for n in names)

    assert remote.run(lake_root=root) is None  # nothing new, by the lake's listing: no run
    # every batch date again: every file as it was, every staging table left as it is
    result = remote.run(first="2024-01-01", last="2024-12-31", lake_root=root)
    assert result.success
    last_run = (
        "select distinct outcome from audit.loads where run_id = (select arg_max(run_id, loaded_at) from audit.loads)"
    )
    assert remote.query(last_run) == [("unchanged",)]
    assert set(build_modes(result).values()) == {"unchanged"}
