"""Master keys: parsing, fingerprints, and the key file's safety."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from database.crypto.keys import (
    MasterKey,
    generate_key,
    key_file_path,
    key_from_env,
    parse_key,
    publish_key_file,
    read_key_file,
)
from database.errors import MasterKeyError


def _encoded(material: bytes) -> str:
    return base64.urlsafe_b64encode(material).decode()


def test_env_key_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    material = os.urandom(32)
    monkeypatch.setenv("PERPFLEET_MASTER_KEY", _encoded(material))
    key = key_from_env()
    assert key is not None
    assert key.material == material
    assert key.source == "PERPFLEET_MASTER_KEY"


def test_unpadded_key_is_accepted() -> None:
    material = os.urandom(32)
    assert parse_key(_encoded(material).rstrip("="), "test").material == material


def test_no_env_key_is_none() -> None:
    assert key_from_env() is None


@pytest.mark.parametrize(
    "value",
    ["short", _encoded(os.urandom(16)), _encoded(os.urandom(33)), "!" * 44, "a b c"],
)
def test_malformed_env_key_is_a_clear_error_without_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PERPFLEET_MASTER_KEY", value)
    with pytest.raises(MasterKeyError) as caught:
        key_from_env()
    message = str(caught.value)
    assert message.startswith("PERPFLEET_MASTER_KEY is not a valid master key")
    assert value not in message


def test_fingerprint_identifies_a_key_without_revealing_it() -> None:
    material = os.urandom(32)
    a, b = MasterKey(material, "a"), MasterKey(material, "b")
    other = generate_key("c")
    assert a.fingerprint == b.fingerprint != other.fingerprint
    assert len(a.fingerprint) == 16
    assert a.fingerprint not in material
    assert a.encoded() not in repr(a)
    assert a.fingerprint_hex in repr(a)


def test_key_file_is_created_private(isolated_environment: Path) -> None:
    path = key_file_path()
    key = generate_key("test")
    assert publish_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path).material == key.material
    assert [p.name for p in isolated_environment.iterdir()] == ["master.key"]  # no temp left


def test_existing_key_file_is_never_overwritten() -> None:
    path = key_file_path()
    first = generate_key("first")
    assert publish_key_file(path, first)
    assert not publish_key_file(path, generate_key("second"))
    assert read_key_file(path).material == first.material


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_key_file_accessible_to_others_is_refused(mode: int) -> None:
    path = key_file_path()
    publish_key_file(path, generate_key("test"))
    path.chmod(mode)
    with pytest.raises(MasterKeyError) as caught:
        read_key_file(path)
    assert str(caught.value) == (
        f"key file {path} is accessible by group/others (mode {mode:04o}); "
        f"fix with: chmod 600 {path}"
    )


def test_corrupt_key_file_names_the_file() -> None:
    path = key_file_path()
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match=f"key file {path} is not a valid master key"):
        read_key_file(path)
