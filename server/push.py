"""Web Push with VAPID (RFC 8292) and aes128gcm encryption (RFC 8291), by pywebpush and
py_vapid: the encryption is theirs, never ours. The key is made once by `alliance vapid`
and kept with the settings (ALLIANCE_VAPID_PRIVATE_KEY)."""

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid
from py_vapid.utils import b64urlencode
from pywebpush import WebPushException, webpush
from requests.exceptions import RequestException

from events.deliveries import Outcome, Recipient, Reminder
from server.notify import push_payload
from server.settings import Settings

TTL = 24 * 3600  # a push service keeps an undelivered push for a day (the phone was off)
TIMEOUT = 10  # seconds per push service request
GONE = (404, 410)  # the push service says this subscription is no more


def new_key() -> tuple[str, str]:
    """(private key for ALLIANCE_VAPID_PRIVATE_KEY, public key): base64url, as the settings and browsers take them."""
    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64urlencode(raw), public_key(vapid)


def public_key(vapid: Vapid) -> str:
    """The applicationServerKey for PushManager.subscribe(): the uncompressed point, 65 bytes from 0x04."""
    return b64urlencode(vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


class PushChannel:
    def __init__(self, settings: Settings, alliances):
        self.alliances, self.subject = alliances, settings.vapid_subject
        self.vapid = Vapid.from_raw(settings.vapid_private_key.encode())
        self.public_key = public_key(self.vapid)
        self.app_url = f"{settings.public_url.rstrip('/')}/app/"

    def reaches(self, recipient: Recipient) -> bool:
        return bool(recipient.preferences.subscriptions)

    def send(self, recipient: Recipient, reminders: list[Reminder]) -> Outcome:
        payload = push_payload(reminders, self.app_url)
        sent, gone, failed = 0, [], []
        for subscription_id, subscription in recipient.preferences.subscriptions.items():
            info = {"endpoint": subscription["endpoint"],
                    "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}}
            try:
                # A new claims dict each time: pywebpush adds aud and exp (12 h, within Apple's 24 h) to it.
                webpush(info, data=payload.decode(), vapid_private_key=self.vapid,
                        vapid_claims={"sub": self.subject}, ttl=TTL, timeout=TIMEOUT)
                sent += 1
            except WebPushException as error:
                status = error.response.status_code if error.response is not None else None
                if status in GONE:
                    self.alliances.end_push(recipient.user_id, subscription_id,
                                            f"the push service answered {status}")
                    gone.append(f"{subscription['device_name'] or 'a phone'} ({status})")
                else:
                    failed.append(f"the push service answered {status}: {_reason(error)}")
            except RequestException as error:
                failed.append(f"could not reach the push service ({type(error).__name__})")
        if sent:
            return Outcome(True, f"{sent} phone{'s' if sent > 1 else ''}"
                           + (f"; ended: {', '.join(gone)}" if gone else ""))
        if failed:
            return Outcome(False, "; ".join(failed)[:300], retry=True)
        return Outcome(False, "no phone takes pushes any more" + (f": ended {', '.join(gone)}" if gone else ""))


def _reason(error: WebPushException) -> str:
    text = error.response.text if error.response is not None else str(error)
    return " ".join(text.split())[:120]

