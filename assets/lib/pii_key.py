"""The secret key of the buyer pseudonyms: `TAOBAO_OPS_PII_KEY`, else the deployment's own key file.

A pseudonym is HMAC-SHA256 of the buyer id (contract §7): whoever knows the key can compute any
buyer's pseudonym and find their orders. So a deployment without the variable gets a random key of
its own on its first run, written owner-only beside its state (`<state>/pii.key`) and kept there:
the same buyer keeps the same pseudonym from run to run, and nobody else can compute it. The file
is part of the state to back up; without it, the next run gives every buyer a new pseudonym.

A deployment whose working database exists without a key file is not given one: its pseudonyms
were made with a key it no longer has (the file was lost, or the deployment predates key files and
used the public key the sample once documented, `taobao-ops-sample-key`). The run stops and says
so: restore the file, or set the variable, or start the state afresh.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_ENV = "TAOBAO_OPS_PII_KEY"
KEY_FILE = "pii.key"
# The key every deployment used before key files, public (it was in the README); named in the
# message a deployment without its key file gets.
LEGACY_KEY = "taobao-ops-sample-key"


class MissingKey(Exception):
    """The key file exists but holds no key."""


def deployment_key(state_dir: Path) -> tuple[str, str | None]:
    """The pseudonym key of the deployment whose state is `state_dir`, and what to tell the operator
    when the key file was made just now (None otherwise)."""
    path = state_dir / KEY_FILE
    if path.exists():
        return _read(path), None
    if (state_dir / "pipeline.duckdb").exists():
        raise MissingKey(
            f"{state_dir} holds a working database but no {KEY_FILE}: its buyer pseudonyms were made with a key "
            f"this run does not have. Restore {path} from your backup, or set {KEY_ENV} (a deployment made "
            f"before key files used '{LEGACY_KEY}'), or delete {state_dir} to start afresh"
        )
    key = secrets.token_hex(32)
    state_dir.mkdir(parents=True, exist_ok=True)
    # written whole and synced under another name, then linked into place: a process starting at
    # the same moment either makes the file or reads the one made, never a half-written one
    draft = state_dir / f".{KEY_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(draft, path)
    except FileExistsError:
        return _read(path), None
    finally:
        draft.unlink()
    folder = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(folder)  # the link survives a crash before the first database write
    finally:
        os.close(folder)
    return key, f"a new buyer-pseudonym key was written to {path} (owner-only): back it up with the state"


def _read(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise MissingKey(f"{path} holds no key: put the deployment's pseudonym key back, or set {KEY_ENV}")
    return key
