"""The `alliance` command."""

import argparse
import sys
import uuid
from pathlib import Path

from eventsourcing.persistence import PersistenceError
from psycopg import Error as PsycopgError

from events.alliance import AllianceError
from events.application import AllianceApplication
from server import operations
from server.settings import Settings, SettingsError


def demo(app: AllianceApplication) -> int:
    """Design a small coaching alliance, change it, and show its history."""
    coach, client = "coach@example.org", "client@example.org"
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by=coach, device="cli", title="Run a half marathon",
                                   template="coaching", facilitator_name="Robin (coach)")
    aid, invitation = alliance.id, uuid.uuid4()
    app.act(aid, "invite_participant", by=coach, device="cli", invitation_id=invitation, name="Sam")
    app.act(aid, "join", by=client, device="cli", invitation_id=invitation, name="Sam")
    question = next(iter(alliance.questions))
    app.act(aid, "answer_question", by=client, device="cli", question_id=question,
            text="Finish a half marathon in May without injury", base_revision=0)
    commitment = uuid.uuid4()
    app.act(aid, "make_commitment", by=client, device="cli", commitment_id=commitment,
            text="Weekly check-in", owner_id=client, due="2027-03-03")
    app.act(aid, "amend_commitment", by=coach, device="cli", commitment_id=commitment,
            base_revision=1, due="2027-03-10")
    now = app.alliance(aid)
    for who in (coach, client):
        now = app.act(aid, "give_consent", by=who, device="cli", version=now.version, stance="support")
    print(f"Alliance {aid}: {now.title!r}, {now.status}, version {now.version}\n")
    for entry in app.history(aid)["entries"]:
        print(f"  v{entry['version']:<3} {entry['at'][:19]}  {entry['who']} {entry['text']}")
    changed = app.diff(aid, 2, now.version)
    print(f"\nVersion 2 to {now.version}: {len(changed['changes'])} changes")
    print(f"Audit chain: {app.verify(aid).as_dict()}")
    return 0


def verify(app: AllianceApplication) -> int:
    checked = broken = 0
    for aid in app.alliance_ids():
        report = app.verify(aid)
        checked += 1
        if not report.ok:
            broken += 1
            print(f"{aid}: BROKEN at event {report.broken_at}: {report.problem}")
    print(f"{checked} alliances checked, {broken} broken")
    return 1 if broken else 0


def serve(host: str, port: int) -> int:
    import uvicorn

    # uvicorn's access log would print invitation secrets in paths: the app logs requests itself.
    uvicorn.run("server.app:create_app", factory=True, host=host, port=port, access_log=False,
                log_level="warning", timeout_graceful_shutdown=5)
    return 0


def vapid(settings: Settings) -> int:
    """Reminders (issue 12): a new VAPID key pair, printed; nothing is stored."""
    from server.push import new_key

    if settings.vapid_private_key:
        print("alliance: ALLIANCE_VAPID_PRIVATE_KEY is set already. A new key would stop pushes to every phone "
              "subscribed with the old one; unset it first if that is what you want.", file=sys.stderr)
        return 2
    private, public = new_key()
    print("# Web Push (VAPID) key: add both lines to the service's settings (e.g. /etc/alliance/alliance.env),")
    print("# once, and keep the key: phones subscribe with its public half.")
    print(f"ALLIANCE_VAPID_PRIVATE_KEY={private}")
    print("ALLIANCE_VAPID_SUBJECT=mailto:you@example.org")
    print(f"# public key (served to the app as push_key): {public}")
    return 0


def pokes_over_postgres(settings: Settings):
    """Alone, the follower pokes live streams with PostgreSQL NOTIFY, as the servers' channels do
    (on SQLite it runs inside `serve`, which pokes through its own channels)."""
    if not settings.database_url:
        return None
    import psycopg
    from psycopg import sql

    from server.pokes import user_channel

    def poke_people(people: set[str]) -> None:
        try:
            with psycopg.connect(settings.postgres_dsn, autocommit=True, connect_timeout=2) as db:
                for user_id in people:
                    db.execute(sql.SQL("NOTIFY {}, {}").format(sql.Identifier(user_channel(user_id)),
                                                              sql.Literal('{"alliances": ["reminders"]}')))
        except psycopg.Error as error:  # a lost poke: the app still fetches at its next sync
            print(f"alliance: a poke was not sent ({type(error).__name__})", file=sys.stderr)
    return poke_people


def remind(settings: Settings) -> int:
    """Reminders (issue 12): the follower in the foreground, until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from server.notify import channels
    from server.reminders import Worker, open_reminders

    alliances = operations.open_store(settings, must_exist=False)
    reminders = open_reminders(settings, alliances, channels(settings, alliances))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = Worker(reminders, settings.reminders_poll_seconds, pokes_over_postgres(settings))
    print(f"alliance: reminding (every {settings.reminders_poll_seconds:g} s; channels: app"
          + "".join(f", {name}" for name in channels(settings, alliances)) + ")", file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            worker.once()
            stop.wait(settings.reminders_poll_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        reminders.close()
        alliances.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="alliance", description="Designed alliances: the service and its tools. The store is SQLite in "
        "ALLIANCE_DATA_DIR, or PostgreSQL at ALLIANCE_DATABASE_URL; ALLIANCE_CIPHER_KEY encrypts it.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".")

    serving = add("serve", help="run the HTTP service (SQLite in ALLIANCE_DATA_DIR by default)")
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    add("demo", help="design a sample alliance in the data directory and show its history")
    add("verify", help="check every alliance's audit chain (exit 1 when any is broken)")
    add("migrate", help="create the event store's tables once (safe to repeat); "
                        "then run the service with ALLIANCE_CREATE_TABLES=no")
    command = add("backup", help="a consistent copy while the service runs: on SQLite a directory with "
                                  "online backups of the events and the key store, on PostgreSQL a JSON "
                                  "Lines export")
    command.add_argument("file", type=Path, help="where to write the backup (on SQLite a new directory)")
    command.add_argument("--force", action="store_true", help="replace FILE if it exists")
    command = add("restore", help="restore a SQLite backup (a directory; or one file, as before texts were "
                                  "sealed) into an empty data dir, or a JSON Lines export into an empty store")
    command.add_argument("file", type=Path, help="what `alliance backup` or `alliance export` wrote")
    command.add_argument("--force", action="store_true",
                         help="replace an existing SQLite store (stop the service first)")
    command = add("export", help="write the whole event history as JSON Lines, in log order, then the key "
                                  "store's rows (the keys in clear: guard the file like the cipher key)")
    command.add_argument("file", type=Path, help="where to write the export")
    command.add_argument("--force", action="store_true", help="replace FILE if it exists")
    command = add("import", help="load a JSON Lines export into an empty store "
                                  "(re-encoded with this store's cipher key, if any)")
    command.add_argument("file", type=Path, help="a file from `alliance export`")
    add("seal", help="upgrade a store written before texts were sealed, in place: seal every plain text with "
                     "its author's key and recompute the chains (stop the service and back up first; devices' "
                     "old chain anchors no longer match afterwards; safe to repeat)")
    command = add("export-person", help="everything the store holds about one person (their account, their "
                                        "words in every alliance, inventory, devices, reminder settings), "
                                        "as JSON or as a readable HTML page")
    command.add_argument("email", help="the email address the person signed up with")
    command.add_argument("--html", action="store_true", help="the readable page instead of JSON")
    command.add_argument("--output", type=Path, help="write to this file instead of standard output")
    command.add_argument("--force", action="store_true", help="replace the --output file if it exists")
    add("stats", help="counts, store size and events per day for the last 14 days")
    add("vapid", help="make the Web Push (VAPID) key, once: prints the line to keep in the settings")
    add("remind", help="run the reminders follower alone (decide and deliver reminders; stop with Ctrl-C "
                       "or SIGTERM); run `serve` with ALLIANCE_REMINDERS=no beside it")
    add("rebuild", help="rebuild the read models (snapshots) from the events: replay every alliance, account "
                        "and device, replace any snapshot that disagrees with the replay and snapshot each at "
                        "its latest version (safe while the service runs; restart it afterwards if any "
                        "disagreed, so no process keeps a wrong copy in memory)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()  # a bad setting is a clear error before anything starts
        if args.command == "serve":
            return serve(args.host, args.port)
        if args.command == "vapid":
            return vapid(settings)
        if args.command == "remind":
            return remind(settings)
        if args.command in ("demo", "verify"):
            return {"demo": demo, "verify": verify}[args.command](operations.open_store(settings, must_exist=False))
        if args.command in ("migrate", "stats", "rebuild", "seal"):
            return getattr(operations, args.command)(settings)
        if args.command == "export-person":
            return operations.export_person(settings, args.email, html=args.html, output=args.output,
                                            force=args.force)
        if args.command == "import":
            return operations.import_(settings, args.file)
        return getattr(operations, args.command)(settings, args.file, args.force)
    except (SettingsError, AllianceError, operations.OperationError) as error:
        print(f"alliance: {error}", file=sys.stderr)
        return 2
    except (OSError, PersistenceError, PsycopgError) as error:  # the disk or the database failed
        message = " ".join(str(error).split())
        print(f"alliance: {args.command} failed: {type(error).__name__}: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
