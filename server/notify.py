"""The channels reminders go out on: email over SMTP and Web Push. Each turns reminders
into a message for one person and answers with an Outcome (sent, or why not), which the
follower records. Built from the settings in server/settings.py, here only."""

import base64
import json
import smtplib
import ssl
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from events.accounts import NAMESPACE
from events.preferences import KINDS
from events.deliveries import Outcome, Recipient, Reminder
from server.settings import Settings

MAIL = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates" / "mail"),
                   autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                   keep_trailing_newline=True)
SMTP_TIMEOUT = 20  # seconds: a hanging mail server must not hold up every other reminder
SUBJECT_MAX = 90
PUSH_TEXT = 1000  # characters: push services refuse payloads over about 4 KB (an appreciation may be 10,000)


# ----- the unsubscribe link: signed, so it works without signing in -----

def unsubscribe_token(alliances, user_id: str, kind: str | None) -> str:
    payload = f"{user_id}:{kind or 'all'}"
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{encoded}.{alliances.sign(payload)}"


def read_unsubscribe_token(alliances, token: str) -> tuple[str, str | None] | None:
    """(user id, kind or None for all) from a token this server made, else None."""
    encoded, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        user_id, kind = payload.split(":")
        uuid.UUID(user_id)
    except ValueError:
        return None
    if not alliances.signed(payload, signature) or (kind != "all" and kind not in KINDS):
        return None
    return user_id, None if kind == "all" else kind


def unsubscribe_words(kind: str | None) -> str:
    if kind is None:
        return "with reminders"
    words = KINDS[kind].split(" (")[0]
    return f"about “{words[:1].lower()}{words[1:]}”"


# ----- email -----

class EmailChannel:
    def __init__(self, settings: Settings, alliances):
        self.settings, self.alliances = settings, alliances
        self.app_url = f"{settings.public_url.rstrip('/')}/app/"
        self.domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "alliance"

    def reaches(self, recipient: Recipient) -> bool:
        return "@" in recipient.email

    def message(self, recipient: Recipient, reminders: list[Reminder]) -> EmailMessage:
        kinds = {r.kind for r in reminders}
        kind = kinds.pop() if len(kinds) == 1 else None
        invited = kind == "invitation"  # to someone without an account: nothing to unsubscribe from
        unsubscribe = "" if invited else (f"{self.settings.public_url.rstrip('/')}/unsubscribe/"
                                          f"{unsubscribe_token(self.alliances, recipient.user_id, kind)}")
        items = [{"text": r.text, "url": r.link if r.link.startswith("http") else self.app_url + r.link}
                 for r in reminders]
        if invited:
            subject = "You are invited to design an alliance together"
        elif len(reminders) == 1:
            subject = reminders[0].text
            subject = subject if len(subject) <= SUBJECT_MAX else subject[:SUBJECT_MAX - 1] + "…"
        else:
            subject = f"Your alliances: {len(reminders)} reminders"
        context = {"name": recipient.name, "items": items, "subject": subject, "unsubscribe_url": unsubscribe,
                   "settings_url": self.app_url + "#/reminders",
                   "intro": f"{len(reminders)} things from your alliances:"}
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.settings.mail_from
        message["To"] = Address(recipient.name, addr_spec=recipient.email)
        message["Date"] = formatdate(localtime=False)
        # From the reminders, so a resend after a crash is the same message (mail clients fold duplicates).
        ids = sorted(str(r.id) for r in reminders)
        key = ids[0] if len(ids) == 1 else str(uuid.uuid5(NAMESPACE, ",".join(ids)))
        message["Message-ID"] = f"<{key}.reminder@{self.domain}>"
        if unsubscribe:
            message["List-Unsubscribe"] = f"<{unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        template = "invitation" if invited else "reminder"
        message.set_content(MAIL.get_template(f"{template}.txt").render(context))
        message.add_alternative(MAIL.get_template(f"{template}.html").render(context), subtype="html")
        return message

    def send(self, recipient: Recipient, reminders: list[Reminder]) -> Outcome:
        message = self.message(recipient, reminders)
        s = self.settings
        try:
            if s.smtp_tls == "ssl":
                server = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT)
            with server:
                if s.smtp_tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    server.login(s.smtp_user, s.smtp_password)
                refused = server.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            return Outcome(False, f"the mail server refused the address: {code} {_text(text)}", retry=code < 500)
        except smtplib.SMTPResponseException as error:
            return Outcome(False, f"the mail server answered {error.smtp_code} {_text(error.smtp_error)}",
                           retry=error.smtp_code < 500)
        except (OSError, smtplib.SMTPException) as error:  # unreachable, TLS failed, connection cut
            return Outcome(False, f"could not reach the mail server ({type(error).__name__}: {error})"[:300],
                           retry=True)
        if refused:
            return Outcome(False, f"the mail server refused {', '.join(refused)}")
        return Outcome(True, f"accepted by {s.smtp_host} for {recipient.email}")


def _text(raw: bytes | str) -> str:
    return (raw.decode(errors="replace") if isinstance(raw, bytes) else raw)[:200]


def push_payload(reminders: list[Reminder], app_url: str) -> bytes:
    """What a phone's service worker shows: {title, body, url, tag} (docs/PROTOCOL.md, Web Push)."""
    if len(reminders) == 1:
        r = reminders[0]
        return json.dumps({"title": "Alliance", "body": _short(r.text), "url": app_url + r.link,
                           "tag": str(r.id)}).encode()
    return json.dumps({"title": f"Alliance: {len(reminders)} reminders",
                       "body": _short("\n".join(r.text for r in reminders)), "url": app_url + "#/",
                       "tag": "digest"}).encode()


def _short(text: str, limit: int = PUSH_TEXT) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def channels(settings: Settings, alliances) -> dict:
    """The channels this server offers, given its settings: email with an SMTP host, push with a VAPID key."""
    offered = {}
    if settings.smtp_host:
        offered["email"] = EmailChannel(settings, alliances)
    if settings.vapid_private_key:
        from server.push import PushChannel  # pywebpush only where Web Push is set up

        offered["push"] = PushChannel(settings, alliances)
    return offered
