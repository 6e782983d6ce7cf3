"""The `alliance` command."""

import argparse
import sys
import uuid

from events.alliance import AllianceError
from events.application import AllianceApplication
from server.settings import Settings, SettingsError


def open_alliances(settings: Settings) -> AllianceApplication:
    return AllianceApplication(env=settings.event_store_env("alliances"))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alliance", description="Designed alliances: the service and its tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="run the HTTP service (SQLite in ALLIANCE_DATA_DIR by default)")
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    commands.add_parser("demo", help="design a sample alliance in the data directory and show its history")
    commands.add_parser("verify", help="check every alliance's audit chain")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            Settings.from_env()  # a bad setting is a clear error before the server starts
            return serve(args.host, args.port)
        app = open_alliances(Settings.from_env())
        return {"demo": demo, "verify": verify}[args.command](app)
    except (SettingsError, AllianceError) as error:
        print(f"alliance: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
