"""Every setting, read from the environment in this one place."""

import base64
import binascii
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qs, unquote, urlparse


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")  # ALLIANCE_DATA_DIR: SQLite files live here
    database_url: str = ""  # ALLIANCE_DATABASE_URL: postgresql://user:pw@host:port/db[?schema=s]
    cipher_key: str = ""  # ALLIANCE_CIPHER_KEY: base64 of 16, 24 or 32 random bytes (encryption at rest)
    create_tables: bool = True  # ALLIANCE_CREATE_TABLES: off when a schema step ran before
    public_url: str = "http://127.0.0.1:8000"  # ALLIANCE_PUBLIC_URL: how people reach the service (invitation links)
    invitation_days: int = 7  # ALLIANCE_INVITATION_DAYS: how long an invitation link works
    auth_per_minute: int = 10  # ALLIANCE_AUTH_PER_MINUTE: sign-ups and sign-ins per client address
    max_body_bytes: int = 1_048_576  # ALLIANCE_MAX_BODY_BYTES: larger requests get 413 (clients chunk)
    log_level: str = "INFO"  # ALLIANCE_LOG_LEVEL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        url = environ.get("ALLIANCE_DATABASE_URL", "")
        if url and not url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("ALLIANCE_DATABASE_URL must start with postgresql://")
        cipher_key = environ.get("ALLIANCE_CIPHER_KEY", "")
        if cipher_key:
            _check_cipher_key(cipher_key)
        return cls(
            data_dir=Path(environ.get("ALLIANCE_DATA_DIR", "data")),
            database_url=url,
            cipher_key=cipher_key,
            create_tables=environ.get("ALLIANCE_CREATE_TABLES", "yes").lower() not in ("no", "n", "0", "false", "off"),
            public_url=environ.get("ALLIANCE_PUBLIC_URL", cls.public_url),
            invitation_days=_number(environ, "ALLIANCE_INVITATION_DAYS", cls.invitation_days),
            auth_per_minute=_number(environ, "ALLIANCE_AUTH_PER_MINUTE", cls.auth_per_minute),
            max_body_bytes=_number(environ, "ALLIANCE_MAX_BODY_BYTES", cls.max_body_bytes),
            log_level=environ.get("ALLIANCE_LOG_LEVEL", cls.log_level).upper(),
        )

    @property
    def invitation_lifetime(self) -> timedelta:
        return timedelta(days=self.invitation_days)

    @property
    def postgres_dsn(self) -> str:
        """The database URL without our own query options, for psycopg."""
        return self.database_url.split("?", 1)[0]

    def event_store_env(self, store: str) -> dict[str, str]:
        """The eventsourcing `env` for one application. On SQLite each
        application has its own file (table names are fixed there)."""
        env = {"CREATE_TABLE": "y" if self.create_tables else "n"}
        if self.database_url:
            url = urlparse(self.database_url)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=url.path.lstrip("/") or "postgres",
                POSTGRES_HOST=url.hostname or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=unquote(url.username or "postgres"),
                # the library insists on a password, even where trust auth needs none
                POSTGRES_PASSWORD=unquote(url.password or "unused"),
                # wait this long for a pooled connection (the library's default is 30 s, and it
                # retries 10 times): with the database down, requests hung for minutes
                POSTGRES_CONNECT_TIMEOUT=os.environ.get("POSTGRES_CONNECT_TIMEOUT", "1"),
            )
            schema = parse_qs(url.query).get("schema")
            if schema:
                env["POSTGRES_SCHEMA"] = schema[0]
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env.update(PERSISTENCE_MODULE="eventsourcing.sqlite",
                       SQLITE_DBNAME=str(self.data_dir / f"{store}.sqlite"),
                       SQLITE_LOCK_TIMEOUT="10")
        if self.cipher_key:
            env.update(CIPHER_TOPIC="eventsourcing.cipher:AESCipher", CIPHER_KEY=self.cipher_key,
                       COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor")
        return env


def _check_cipher_key(key: str) -> None:
    try:
        size = len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        size = 0
    if size not in (16, 24, 32):
        raise SettingsError("ALLIANCE_CIPHER_KEY must be base64 of 16, 24 or 32 random bytes "
                            "(make one with: python3 -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')")


def _number(environ: Mapping[str, str], key: str, default: int) -> int:
    value = environ.get(key)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise SettingsError(f"{key} must be a whole number above 0, not {value!r}.")
    return number
