"""Publishing a file by an atomic rename, reusing the previous publication in place
(assets/lib/publish_file.py): the result is always the source byte for byte, only changed chunks
are written, and a file a reader still has open is never written to."""

import json
import os

import duckdb
import pytest

from assets.lib import publish_file as pf


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(pf, "CHUNK", 8)
    monkeypatch.setattr(pf, "WORKERS", 2)


def publish(tmp_path, content: bytes) -> pf.Published:
    source = tmp_path / "source.bin"
    source.write_bytes(content)
    return pf.publish_file(source, tmp_path / "out" / "w.duckdb", tmp_path / "state" / "digests.json")


def test_first_publish_is_a_full_copy(tmp_path):
    result = publish(tmp_path, b"0123456789abcdefXYZ")
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"0123456789abcdefXYZ"
    assert result == pf.Published(size=19, written=19, reused=False)
    assert not (tmp_path / "out" / "w.duckdb.building").exists()


def test_the_publication_before_last_is_rebuilt_by_its_changed_chunks(tmp_path):
    a = b"A" * 8 + b"B" * 8 + b"C" * 8
    b = b"A" * 8 + b"b" * 8 + b"C" * 8
    publish(tmp_path, a)
    publish(tmp_path, b)  # the file holding `a` is now w.duckdb.previous
    assert (tmp_path / "out" / "w.duckdb.previous").read_bytes() == a
    # a third version, one chunk changed against `a` (the file reused), one more appended
    c = b"A" * 8 + b"B" * 8 + b"c" * 8 + b"D" * 3
    result = publish(tmp_path, c)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == c
    assert result == pf.Published(size=27, written=8 + 3, reused=True)
    assert (tmp_path / "out" / "w.duckdb.previous").read_bytes() == b
    # shrinking: the reused file (it held `b`) is cut to the new size
    d = b"A" * 8 + b"b" * 4
    result = publish(tmp_path, d)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == d
    assert result == pf.Published(size=12, written=4, reused=True)


def test_nothing_changed_writes_nothing(tmp_path):
    content = bytes(range(40))
    for _ in range(3):
        result = publish(tmp_path, content)
    assert result == pf.Published(size=40, written=0, reused=True)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == content


def test_digests_of_a_file_changed_since_are_not_trusted(tmp_path):
    publish(tmp_path, b"x" * 16)
    publish(tmp_path, b"y" * 16)
    previous = tmp_path / "out" / "w.duckdb.previous"
    stat = previous.stat()
    previous.write_bytes(b"z" * 16)  # changed behind the digests' back (same size)
    os.utime(previous, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    result = publish(tmp_path, b"x" * 16)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"x" * 16
    assert result == pf.Published(size=16, written=16, reused=True)


def test_a_crash_while_rebuilding_leaves_no_digests_to_trust(tmp_path, monkeypatch):
    publish(tmp_path, b"a" * 16)
    publish(tmp_path, b"b" * 16)
    real_pwrite = os.pwrite

    def crash(fd, data, offset):
        real_pwrite(fd, b"?" * len(data), offset)  # half-written when the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(pf.os, "pwrite", crash)
    with pytest.raises(KeyboardInterrupt):
        publish(tmp_path, b"c" * 8 + b"a" * 8)
    monkeypatch.setattr(pf.os, "pwrite", real_pwrite)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"b" * 16  # the published file untouched
    # the interrupted file is no longer `.previous`: whatever becomes the next file is written whole
    result = publish(tmp_path, b"a" * 16)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"a" * 16
    assert result.written == 16


def test_a_file_a_reader_still_has_open_is_left_to_it(tmp_path):
    source = tmp_path / "source.duckdb"
    target = tmp_path / "out" / "w.duckdb"
    digests = tmp_path / "state" / "digests.json"

    def publish_db(value: int) -> pf.Published:
        con = duckdb.connect(str(source))
        con.execute("create or replace table t as select ? as v", [value])
        con.execute("checkpoint")
        con.close()
        return pf.publish_file(source, target, digests)

    publish_db(1)
    reader = duckdb.connect(str(target), read_only=True)  # an analyst's session on the first file
    publish_db(2)  # the reader's file becomes w.duckdb.previous
    result = publish_db(3)  # would reuse it: the reader holds it, so a full copy instead
    assert result.reused is False
    assert reader.execute("select v from t").fetchall() == [(1,)]
    reader.close()
    assert duckdb.connect(str(target), read_only=True).execute("select v from t").fetchall() == [(3,)]
    result = publish_db(4)  # the second file, nobody on it: reused
    assert result.reused is True
    assert duckdb.connect(str(target), read_only=True).execute("select v from t").fetchall() == [(4,)]
    assert source.read_bytes() == target.read_bytes()


def test_a_previous_file_that_is_the_published_one_is_not_reused(tmp_path):
    publish(tmp_path, b"p" * 16)
    out = tmp_path / "out"
    # a crash between linking the published file as `.previous` and the rename
    (out / "w.duckdb.previous").unlink(missing_ok=True)
    os.link(out / "w.duckdb", out / "w.duckdb.previous")
    result = publish(tmp_path, b"q" * 16)
    assert result.reused is False
    assert (out / "w.duckdb").read_bytes() == b"q" * 16
    assert (out / "w.duckdb.previous").read_bytes() == b"p" * 16


def test_unreadable_digests_mean_a_full_rewrite(tmp_path):
    publish(tmp_path, b"m" * 16)
    publish(tmp_path, b"n" * 16)
    (tmp_path / "state" / "digests.json").write_text("not json")
    result = publish(tmp_path, b"o" * 16)
    assert result == pf.Published(size=16, written=16, reused=True)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"o" * 16
    entries = json.loads((tmp_path / "state" / "digests.json").read_text())
    assert len(entries) == 1  # the new file's; the replaced one's were lost with the file


def test_without_open_file_description_locks_every_publish_is_a_full_copy(tmp_path, monkeypatch):
    monkeypatch.delattr(pf.fcntl, "F_OFD_SETLK")
    for content in (b"r" * 16, b"s" * 16, b"t" * 16):
        result = publish(tmp_path, content)
        assert result.reused is False
        assert (tmp_path / "out" / "w.duckdb").read_bytes() == content


def test_digests_recorded_by_another_hash_are_not_trusted(tmp_path):
    """Digests written by an earlier version (SHA-256, no `hash` key) can never match the chunks'
    XXH3 digests, so the first publish after the change rewrites the reused file in full."""
    publish(tmp_path, b"u" * 16)
    publish(tmp_path, b"v" * 16)
    digests = tmp_path / "state" / "digests.json"
    entries = json.loads(digests.read_text())
    assert {e["hash"] for e in entries.values()} == {"xxh3_128"}
    for entry in entries.values():
        del entry["hash"]
        entry["chunks"] = [pf.xxhash.xxh3_128_hexdigest(b"u" * 8)] * 2  # would say: nothing changed
    digests.write_text(json.dumps(entries))
    result = publish(tmp_path, b"u" * 16)
    assert result == pf.Published(size=16, written=16, reused=True)
    assert (tmp_path / "out" / "w.duckdb").read_bytes() == b"u" * 16
