"""Fuzzing the readers and the parser on file bytes, headers and values (hypothesis).

Whatever a raw file holds, reading and parsing it ends in one of two ways: rows (loaded and rejected,
rows read = loaded + rejected, every reject with a reason) or a FileError naming the file. Never
another exception, which would cost the file a traceback instead of a reason.

`make test` runs each property on a few dozen examples. `make fuzz` runs them for minutes
(FUZZ_MINUTES, default 10) through `python -m tests.test_fuzz`, which repeats them with fresh seeds and
prints how many cases it ran. Every crash it finds becomes an example below (`@example`), so that
the regular suite keeps it.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assets.lib.files import FileError, RawFile, read_grid
from assets.lib.limits import ReadLimits
from assets.lib.parse import ParseOptions, parse_grid
from assets.lib.schema import SOURCES

OPTIONS = ParseOptions(pii_key="fuzz-key")
# Small limits, so that examples cross them too.
LIMITS = ReadLimits(max_file_mb=1, max_columns=64, max_line_kb=4, max_gzip_ratio=20)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CASES = {"count": 0}

# Header names the contract knows, for every source, with a few that it does not.
KNOWN = sorted({name for columns in SOURCES.values() for col in columns for name in (col.name, *col.header_names)})
HEADER_CELL = st.one_of(st.sampled_from(KNOWN), st.text(max_size=12))
CELL = st.one_of(
    st.sampled_from(["", "-", "--", "null", "1", "0", "-1", "1e18", "3.9E+18", "¥1,234.50", "１２３", "true", "是",
                     "2024-10-01", "2024-10-01 09:00:00", "2024-10-01T09:00:00+08:00", "2024/13/45", "=SUM(A1)",
                     "13812345678", "交易成功", "TRADE_FINISHED", '="00123"', "\u3000x\u3000", "a\"b", "手机", "mobile"]),
    st.text(max_size=20),
    st.text(alphabet=",\"\r\n x", max_size=30),  # separators, quotes and line ends, lone \r included
)


def _outcome(source: str, name: str, content: bytes) -> str:
    """Read and parse one file's bytes; fails the property on anything but rows or a FileError."""
    CASES["count"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        raw = RawFile(source, path, name)
        try:
            parsed = parse_grid(read_grid(raw, LIMITS), source, name, None, OPTIONS)
        except FileError as exc:
            assert str(exc).startswith(name), exc
            return "failed"
    assert parsed.rows_read == parsed.rows.height + parsed.rejects.height
    assert parsed.rejects["reason"].str.len_chars().min() is None or parsed.rejects["reason"].str.len_chars().min() > 0
    return "loaded"


def _csv(header: list[str], rows: list[list[str]]) -> str:
    def quoted(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell

    return "\n".join(",".join(quoted(c) for c in line) for line in [header, *rows]) + "\n"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.binary(max_size=2_000), gz=st.booleans(), source=st.sampled_from(["orders", "traffic", "courier"]))
@example(content=b"", gz=True, source="orders")
@example(content=b"\x1f\x8b", gz=False, source="orders")
@example(content=b"x," * 3_000, gz=False, source="orders")
@example(content=b'\x00\r"', gz=False, source="orders")  # found by make fuzz: a csv.Error from the header count
def test_any_bytes_end_in_rows_or_a_reason(content, gz, source):
    name = "f_2024-10-01.csv" + (".gz" if gz else "")
    # content as it is when it looks packed, or when empty (a 0-byte .gz); else packed
    _outcome(source, name, gzip.compress(content) if gz and content[:1] not in (b"\x1f", b"") else content)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    header=st.lists(HEADER_CELL, min_size=1, max_size=24),
    rows=st.lists(st.lists(CELL, max_size=26), max_size=12),
    source=st.sampled_from(["orders", "traffic", "courier"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_header_and_values_end_in_rows_or_a_reason(header, rows, source, encoding, newline):
    text = _csv(header, rows).replace("\n", newline)
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content = text.encode("utf-8")
    _outcome(source, "f_2024-10-01.csv", content)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(st.fixed_dictionaries({col.name: CELL for col in SOURCES["orders"]}), min_size=1, max_size=12),
    drop=st.sets(st.sampled_from([col.name for col in SOURCES["orders"]]), max_size=4),
)
def test_orders_with_every_canonical_column_and_hostile_values(rows, drop):
    header = [col.name for col in SOURCES["orders"] if col.name not in drop]
    _outcome("orders", "orders_2024-10-01.csv", _csv(header, [[r[h] for h in header] for r in rows]).encode("utf-8"))


def main(minutes: float) -> int:
    """Run the properties above with fresh seeds until `minutes` have passed; the number of cases."""
    import pytest

    import random

    deadline = time.monotonic() + minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        seed = random.randrange(2**32)  # printed by pytest on a failure: `--hypothesis-seed` replays it
        print(f"fuzz: round {rounds + 1}, seed {seed}", flush=True)
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-x", __file__, "--hypothesis-seed", str(seed)])
        if code != 0:
            return code
        rounds += 1
        cases = sys.modules["test_fuzz"].CASES["count"]  # as pytest imported this file
        print(f"fuzz: {rounds} round(s), {cases:,} files read and parsed, "
              f"{max(0.0, deadline - time.monotonic()) / 60:.1f} min left", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("FUZZ_EXAMPLES", "500")
    sys.exit(main(float(os.environ.get("FUZZ_MINUTES", "10"))))
