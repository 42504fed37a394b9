"""The buyer-pseudonym key of a deployment without TAOBAO_OPS_PII_KEY: its own, random, kept."""

from __future__ import annotations

import os
import stat

import pytest

from assets.lib.pii_key import KEY_FILE, LEGACY_KEY, MissingKey, deployment_key


def test_a_new_deployment_gets_a_random_owner_only_key_that_it_keeps(tmp_path):
    state = tmp_path / "state"
    key, message = deployment_key(state)
    assert len(key) == 64 and int(key, 16) >= 0 and key != LEGACY_KEY
    assert str(state / KEY_FILE) in message and "back it up" in message
    assert stat.S_IMODE(os.stat(state / KEY_FILE).st_mode) == 0o600
    assert deployment_key(state) == (key, None)  # the same key next time, nothing said
    assert deployment_key(tmp_path / "other")[0] != key  # another deployment, another key
    assert [p.name for p in state.iterdir()] == [KEY_FILE]  # no draft left behind


def test_a_deployment_without_its_key_file_stops_instead_of_taking_a_new_or_public_key(tmp_path):
    (tmp_path / "pipeline.duckdb").write_bytes(b"")  # state of a deployment that ran already
    with pytest.raises(MissingKey, match=f"no {KEY_FILE}.*Restore .*TAOBAO_OPS_PII_KEY.*'{LEGACY_KEY}'"):
        deployment_key(tmp_path)
    assert not (tmp_path / KEY_FILE).exists()


def test_an_empty_key_file_is_an_error_not_a_new_key(tmp_path):
    (tmp_path / KEY_FILE).write_text("\n")
    with pytest.raises(MissingKey, match="holds no key"):
        deployment_key(tmp_path)


def test_the_variable_wins_and_no_file_is_made(tmp_path):
    from assets.lib.settings import Settings

    settings = Settings.from_environment(
        {"TAOBAO_OPS_PII_KEY": "from-the-environment", "TAOBAO_OPS_STATE_DIR": str(tmp_path / "state")}
    )
    assert settings.parse_options().pii_key == "from-the-environment"
    assert not (tmp_path / "state" / KEY_FILE).exists()


def test_without_the_variable_the_run_uses_the_deployment_key(tmp_path, capsys):
    from assets.lib.settings import Settings

    settings = Settings.from_environment({"TAOBAO_OPS_STATE_DIR": str(tmp_path / "state")})
    assert settings.pii_key is None  # nothing made yet: the key is read when a run needs it
    assert not (tmp_path / "state").exists()
    key = settings.parse_options().pii_key
    assert key == (tmp_path / "state" / KEY_FILE).read_text().strip()
    assert f"written to {tmp_path / 'state' / KEY_FILE}" in capsys.readouterr().err
    assert settings.parse_options().pii_key == key  # the same key next time, nothing said
    assert capsys.readouterr().err == ""
