from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_the_embedded_default_is_sqlite_in_a_data_directory(tmp_path):
    settings = Settings.from_env({"ALLIANCE_DATA_DIR": str(tmp_path / "d")})
    env = settings.event_store_env("alliances")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == str(tmp_path / "d" / "alliances.sqlite")
    assert env["KEYS_SQLITE_DBNAME"] == str(tmp_path / "d" / "alliances-keys.sqlite")  # the people's keys, apart
    assert (tmp_path / "d").is_dir()
    assert Settings.from_env({}).data_dir == Path("data")


def test_a_postgres_url_selects_postgres_with_its_parts():
    settings = Settings.from_env({"ALLIANCE_DATABASE_URL": "postgresql://al:s%40cret@db.local:6543/alliance?schema=eu",
                                  "ALLIANCE_CREATE_TABLES": "no"})
    env = settings.event_store_env("alliances")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("db.local", "6543", "alliance")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == ("al", "s@cret", "eu")
    assert env["CREATE_TABLE"] == "n"


def test_a_cipher_key_switches_on_encryption_at_rest(tmp_path):
    env = Settings(data_dir=tmp_path, cipher_key="a2V5").event_store_env("alliances")
    assert env["CIPHER_KEY"] == "a2V5" and env["CIPHER_TOPIC"].endswith("AESCipher")


def test_a_database_url_that_is_not_postgres_is_refused():
    with pytest.raises(SettingsError, match="postgresql://"):
        Settings.from_env({"ALLIANCE_DATABASE_URL": "mysql://x"})


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ="])
def test_a_cipher_key_of_the_wrong_shape_is_refused(key):
    with pytest.raises(SettingsError, match="16, 24 or 32 random bytes"):
        Settings.from_env({"ALLIANCE_CIPHER_KEY": key})
