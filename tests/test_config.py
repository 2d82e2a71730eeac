from pathlib import Path

import pytest

from parley.config import load_settings, resolve_workspace
from parley.errors import ConfigError


def write_config(folder: Path, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parley.toml").write_text("[parley]\n" + body)


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.workspace == tmp_path.resolve()
    assert s.chunk_mb == 32 and s.database_url is None


def test_order_is_flags_then_env_then_file_then_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, 'chunk_mb = 8\norganization_name = "From file"\nworkers = 3\n')
    assert load_settings(tmp_path).chunk_mb == 8
    monkeypatch.setenv("PARLEY_CHUNK_MB", "16")
    s = load_settings(tmp_path)
    assert s.chunk_mb == 16 and s.organization_name == "From file" and s.workers == 3
    assert load_settings(tmp_path, chunk_mb=4).chunk_mb == 4


def test_workspace_from_env_and_from_parent_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path / "ws", "")
    nested = tmp_path / "ws" / "a" / "b"
    nested.mkdir(parents=True)
    assert resolve_workspace(cwd=nested) == (tmp_path / "ws").resolve()
    monkeypatch.setenv("PARLEY_WORKSPACE", str(tmp_path / "other"))
    assert resolve_workspace(cwd=nested) == (tmp_path / "other").resolve()
    assert resolve_workspace("explicit", cwd=nested).name == "explicit"


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    write_config(tmp_path, "chunk_mb = 0\n")
    with pytest.raises(ConfigError, match="chunk_mb"):
        load_settings(tmp_path)
    write_config(tmp_path, "practice_zip = 'abc'\n")
    with pytest.raises(ConfigError, match="practice_zip"):
        load_settings(tmp_path)
    write_config(tmp_path, "unknown_thing = 1\n")
    with pytest.raises(ConfigError, match="unknown_thing"):
        load_settings(tmp_path)


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "parley.toml").write_text("[parley\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)
