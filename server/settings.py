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
    # ----- reminders (issue 12) -----
    reminders: bool = True  # ALLIANCE_REMINDERS: "no" when `alliance remind` runs the follower instead of serve
    reminders_poll_seconds: float = 5.0  # ALLIANCE_REMINDERS_POLL_SECONDS: how often the follower looks
    reminders_lease_seconds: float = 120.0  # ALLIANCE_REMINDERS_LEASE_SECONDS: a claim left this long is retried
    smtp_host: str = ""  # ALLIANCE_SMTP_HOST: email is off while unset
    smtp_port: int = 587  # ALLIANCE_SMTP_PORT
    smtp_tls: str = "starttls"  # ALLIANCE_SMTP_TLS: starttls, ssl or none
    smtp_user: str = ""  # ALLIANCE_SMTP_USER
    smtp_password: str = ""  # ALLIANCE_SMTP_PASSWORD
    mail_from: str = ""  # ALLIANCE_MAIL_FROM: e.g. Alliance <reminders@alliance.example.org>
    vapid_private_key: str = ""  # ALLIANCE_VAPID_PRIVATE_KEY: from `alliance vapid`; Web Push is off while unset
    vapid_subject: str = ""  # ALLIANCE_VAPID_SUBJECT: mailto: or https: address push services may write to

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
            **_reminder_settings(environ),
        )

    @property
    def invitation_lifetime(self) -> timedelta:
        return timedelta(days=self.invitation_days)

    @property
    def postgres_dsn(self) -> str:
        """The database URL without our own query options, for psycopg."""
        return self.database_url.split("?", 1)[0]

    def key_store_path(self, store: str) -> Path:
        """On SQLite, the file of the people's data keys (events/sealing.py), beside the events'."""
        return self.data_dir / f"{store}-keys.sqlite"

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
                       KEYS_SQLITE_DBNAME=str(self.key_store_path(store)),  # the people's keys: apart (issue 13)
                       SQLITE_LOCK_TIMEOUT="10")
        if self.cipher_key:
            env.update(CIPHER_TOPIC="eventsourcing.cipher:AESCipher", CIPHER_KEY=self.cipher_key,
                       COMPRESSOR_TOPIC="eventsourcing.compressor:ZlibCompressor")
        return env


def _reminder_settings(environ: Mapping[str, str]) -> dict:
    """Reminders, email and Web Push (issue 12): each checked here, with a clear error."""
    tls = environ.get("ALLIANCE_SMTP_TLS", Settings.smtp_tls).lower()
    if tls not in ("starttls", "ssl", "none"):
        raise SettingsError(f"ALLIANCE_SMTP_TLS is starttls, ssl or none, not {tls!r}.")
    host, sender = environ.get("ALLIANCE_SMTP_HOST", ""), environ.get("ALLIANCE_MAIL_FROM", "")
    if host and "@" not in sender:
        raise SettingsError("ALLIANCE_MAIL_FROM must be an address (e.g. Alliance <reminders@example.org>) "
                            "when ALLIANCE_SMTP_HOST is set.")
    key, subject = environ.get("ALLIANCE_VAPID_PRIVATE_KEY", ""), environ.get("ALLIANCE_VAPID_SUBJECT", "")
    if key:
        _check_vapid_key(key)
        if not subject.startswith(("mailto:", "https://")):
            raise SettingsError("ALLIANCE_VAPID_SUBJECT must be a mailto: or https:// address of yours "
                                "(push services write to it) when ALLIANCE_VAPID_PRIVATE_KEY is set.")
    return dict(
        reminders=environ.get("ALLIANCE_REMINDERS", "yes").lower() not in ("no", "n", "0", "false", "off"),
        reminders_poll_seconds=_seconds(environ, "ALLIANCE_REMINDERS_POLL_SECONDS", Settings.reminders_poll_seconds),
        reminders_lease_seconds=_seconds(environ, "ALLIANCE_REMINDERS_LEASE_SECONDS",
                                         Settings.reminders_lease_seconds),
        smtp_host=host, smtp_port=_number(environ, "ALLIANCE_SMTP_PORT", Settings.smtp_port), smtp_tls=tls,
        smtp_user=environ.get("ALLIANCE_SMTP_USER", ""), smtp_password=environ.get("ALLIANCE_SMTP_PASSWORD", ""),
        mail_from=sender, vapid_private_key=key, vapid_subject=subject,
    )


def _check_vapid_key(key: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SettingsError("ALLIANCE_VAPID_PRIVATE_KEY must be the key `alliance vapid` printed "
                            "(43 characters of base64url).")


def _seconds(environ: Mapping[str, str], key: str, default: float) -> float:
    value = environ.get(key)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 86_400:
        raise SettingsError(f"{key} must be a number of seconds above 0, not {value!r}.")
    return seconds


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
