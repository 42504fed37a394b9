"""Great Expectations in a second process, for runs with little new data.

Importing GX costs ~1.9 s of one core (gx_sql.install), and a run with a day's batch spends most of
its time in single-threaded Python (Dagster, the steps' own code): an import thread (gx_sql.
install_meanwhile) competes with it for the interpreter, so the import stayed on the run's path (a
10 M-order daily run: 15.7 s, 13.3 s with no suite at all). A second interpreter imports GX on the
other core while the run goes on, and judges the rows when asked; the run's own process never
imports GX. `taobao-ops run` starts it when the run's new files are small (`start_for`): only the whole
run's size tells, so a step never starts it (a rebuild's small traffic files would have, and the
worker's ~260 MB would have stayed beside the orders step's peak: 2.11 GiB measured).

What the worker judges it reads from Parquet files, with its own in-memory DuckDB: a batch suite
the pending lake files of the new rows (`batch_gate.judge_pending`, as the run's process does), a layer
check a copy of its few rows written by the check. It never opens the working database, which the
run's process holds. A run starts it for at most `WORKER_MAX_BYTES` of new raw files; a layer
check whose rows are not a copy in memory (beyond `COPY_JUDGED_ROWS`: a view of the working
database) and every suite of a larger run are judged in the run's process, as they always can be.

The worker lives as long as the process that started it (atexit, or the end of its stdin when
that process dies; it then exits at once, as `taobao-ops run` does), and serves one request at a
time: a request and its reply are pickles on the worker's stdin and stdout. A suite that fails is
a result; an error inside the worker is raised here with the worker's traceback.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import duckdb

# New raw bytes (all sources) up to which `taobao-ops run` starts the worker: a day's exports of a
# large shop group (the benchmark's 10 M-order day, 20 files: 82 MB); a rebuild's gigabytes are
# judged in process, through views the worker could not read within the memory bound.
WORKER_MAX_BYTES = 512 * 2**20

_lock = threading.Lock()
_process: subprocess.Popen | None = None
_config: dict[str, str] = {}


def config(state_dir: Path, memory_limit: str) -> dict[str, str]:
    """The worker's DuckDB settings: the pipeline's memory limit, a spill folder of its own."""
    return {"memory_limit": memory_limit, "temp_directory": str(Path(state_dir) / "gx_worker.tmp")}


def start_for(new_bytes: int | None, state_dir: Path, memory_limit: str) -> None:
    """Start the worker for a run whose new files of judged sources hold `new_bytes`, when they are
    at most WORKER_MAX_BYTES."""
    if new_bytes is not None and 0 < new_bytes <= WORKER_MAX_BYTES:
        start(config(state_dir, memory_limit))


def start(settings: dict[str, str]) -> None:
    """Start the worker unless it runs: it imports GX at once. `settings` are its DuckDB's
    (`config`: memory limit, spill folder)."""
    global _process, _config
    with _lock:
        if running():
            return
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        _process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
        _config = dict(settings)


def running() -> bool:
    return _process is not None and _process.poll() is None


def stop() -> None:
    """Close the worker's stdin (it exits when it reads the end) and wait for it."""
    global _process
    with _lock:
        process, _process = _process, None
    if process is None:
        return
    try:
        process.stdin.close()
        process.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
    finally:
        process.stdout.close()


atexit.register(stop)


def call(job: str, *args):
    """Run `job` (a name in JOBS) in the worker with `args`; its return value, or a RuntimeError
    carrying the worker's traceback."""
    with _lock:
        if not running():
            raise RuntimeError("the GX worker is not running")
        try:
            pickle.dump((job, (_config, *args)), _process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            _process.stdin.flush()
            status, payload = pickle.load(_process.stdout)
        except (EOFError, BrokenPipeError, OSError) as error:
            raise RuntimeError(f"the GX worker exited (code {_process.poll()}) during {job}") from error
    if status == "error":
        raise RuntimeError(f"{job} failed in the GX worker:\n{payload}")
    return payload


# -- inside the worker -------------------------------------------------------------------------

def _connect(config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config=config)


def judge_files(config: dict[str, str], suite: str, paths: dict[str, str], copy: bool):
    """batch_gate.judge_pending on the pending Parquet files `paths` (file name -> path)."""
    from .batch_gate import judge_pending

    con = _connect(config)
    try:
        return judge_pending(con, suite, paths, copy)
    finally:
        con.close()


def judge_relations(config: dict[str, str], suites: list[str], paths: list[str]):
    """Each suite on the rows of its Parquet file (a layer check's copy of its relation)."""
    from .gx_sql import run_suites
    from .sql import create_parquet_view, run_sql

    con = _connect(config)
    try:
        run_sql(con, "checks/create_scratch_schema")
        relations = []
        for i, path in enumerate(paths):
            # one file, read by each scan: 0.23 s for a 10 M-order day's staging check, 0.30 s copied first
            create_parquet_view(con, f"scratch.judged_{i}", [path])
            relations.append(f"scratch.judged_{i}")
        return run_suites(con, suites, relations)
    finally:
        con.close()


JOBS = {"judge_files": judge_files, "judge_relations": judge_relations}


def _serve() -> None:
    from .gx_sql import install

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever GX prints goes to stderr, not the replies
    requests = sys.stdin.buffer
    install()  # GX's import, while the run goes on
    while True:
        try:
            job, args = pickle.load(requests)
        except EOFError:  # the run is over: leave without freeing GX's modules (~1 s the run would wait)
            os._exit(0)
        try:
            reply = ("ok", JOBS[job](*args))
        except BaseException:  # noqa: BLE001 - reported to the caller, which raises it
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


if __name__ == "__main__":
    _serve()
