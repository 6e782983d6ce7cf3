"""No request, however odd, makes the service answer 5xx, and every answer is
one the OpenAPI schema promises.

Schemathesis generates requests for every operation of the OpenAPI schema
(explicit examples, the edges of each field, then random data) and sends them
in-process to the ASGI app, once without a token and once signed in as a user
who has an alliance and an open invitation link, so alliance paths reach the
domain instead of stopping at 404. Each answer must not be a 5xx, and its
status, content type, body and headers must be ones the schema documents for
that operation. Offline: nothing leaves the process.

Schemathesis cannot guess mutation names or valid cursors, so a second test
drives push and pull with Hypothesis: real mutation names, arguments of the
right names with odd values, two participants, retried pushes, and pulls from
the cursors the server handed out.

The schema is read at import because schemathesis parametrizes at collection
(its fixture-based loader, `schemathesis.pytest.from_fixture`, fails on pytest
9.2 with "'Function' object has no attribute '_nodeid'"); the app that answers
is a fresh one per module, and it must serve exactly that schema.
"""

import asyncio
import concurrent.futures
import inspect
import uuid
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from events.alliance import Alliance
from sync.mutations import MUTATIONS
from events.templates import TEMPLATES
from server import sync
from server.app import create_app
from server.settings import Settings

MAX_EXAMPLES = 25  # per operation and phase: the whole file runs in well under 2 minutes
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]

CONFIG = {
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},  # no .hypothesis directory
    "phases": {"stateful": {"enabled": False}},
    "checks": {"enabled": False, **{check.__name__: {"enabled": True} for check in CHECKS}},
    "max-stream-events": 1,  # /sync/live never ends: its 'ready' event is enough
    "request-timeout": 30,
}
EMAIL, PASSWORD = "fuzz@example.org", "correct horse"


def make_app(data_dir: Path):
    # WARNING: a JSON line per request would drown a failure's report.
    return create_app(Settings(data_dir=data_dir, auth_per_minute=1_000_000, log_level="WARNING"))


# Building the app opens nothing (the store opens at startup), so this is cheap at import.
RAW_SCHEMA = make_app(Path("unused")).openapi_schema.to_schema()
schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("fuzz"))
    with asgi.get_client(app) as client:  # starts the app's lifespan (kept until shutdown_lifespans)
        served = client.get("/schema/openapi.json")
    assert served.status_code == 200 and served.json() == RAW_SCHEMA
    yield app
    asgi.shutdown_lifespans()  # closes the store the fuzzed app opened


class Someone:
    """A signed-in user with an alliance (designed by a push) and an invitation link."""

    def __init__(self, app):
        self.app = app
        signed = self.call("/api/v1/auth/signup", "POST", body={"email": EMAIL, "password": PASSWORD,
                                                                "display_name": "Fuzz", "device_name": "fuzzer"})
        self.user_id, self.auth = signed["user_id"], {"Authorization": f"Bearer {signed['token']}"}
        self.alliance_id = str(uuid.uuid4())
        pushed = self.call("/api/v1/sync/push", "POST", headers=self.auth, body={
            "client_id": "fuzz-setup-1", "mutations": [{"id": 1, "alliance_id": self.alliance_id,
                                                        "name": "create_alliance",
                                                        "args": {"title": "Fuzzing", "template": "coaching"}}]})
        assert pushed["results"][0]["status"] == "applied"
        self.invitation = self.call("/api/v1/alliances/{alliance_id}/invitations", "POST", headers=self.auth,
                                    path_parameters={"alliance_id": self.alliance_id}, body={"name": "Sam"})["token"]

    def call(self, path, method, **parts):
        response = schema[path][method].Case(**parts).call(app=self.app)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def another_session(self) -> tuple[dict, str]:
        """Headers and id of a new sign-in of the same user (a password check: ~0.4 s)."""
        token = self.call("/api/v1/auth/login", "POST", body={"email": EMAIL, "password": PASSWORD})["token"]
        auth = {"Authorization": f"Bearer {token}"}
        devices = self.call("/api/v1/auth/devices", "GET", headers=auth)
        return auth, next(d["id"] for d in devices if d["current"])


@pytest.fixture(scope="module")
def someone(service):
    return Someone(service)


@schema.parametrize()
def test_every_answer_is_one_the_schema_promises(case, service, someone):
    case.call_and_validate(app=service, headers=stream_cut_short(case, {}), checks=CHECKS)  # not signed in
    auth, parameters = someone.auth, case.path_parameters or {}
    # Most cases aim at the real alliance and link; the rest keep the generated value (a 404).
    if len(str(parameters.get("alliance_id", ""))) % 4:
        parameters["alliance_id"] = someone.alliance_id
    if len(str(parameters.get("token", ""))) % 4:
        parameters["token"] = someone.invitation
    if "device_id" in parameters and len(str(parameters["device_id"])) % 4 == 0:
        parameters["device_id"] = someone.another_session()[1]  # sign a real device out, not ours
    if case.path == "/api/v1/auth/logout":
        auth = someone.another_session()[0]  # the fuzzer's own sign-in stays valid
    case.call_and_validate(app=service, headers=stream_cut_short(case, auth), checks=CHECKS)


def stream_cut_short(case, headers: dict) -> dict:
    if case.path == "/api/v1/sync/live":
        return {**headers, "Accept-Encoding": "identity"}  # gzip would hide the 'ready' event from the cut-off
    return headers


# ----- push and pull, with real mutation names -----

def protocol_arguments(name: str) -> dict[str, bool]:
    """The arguments a mutation takes, from the command's signature: {name: required}."""
    if name == "create_alliance":
        command, renames = Alliance.design, {}
    elif name in MUTATIONS:
        command_name, renames = MUTATIONS[name]
        command = getattr(Alliance, command_name)
    else:
        return {}
    back = {inside: outside for outside, inside in renames.items()}
    arguments = {back.get(p.name, p.name): p.default is p.empty for p in inspect.signature(command).parameters.values()
                 if p.kind == p.KEYWORD_ONLY and p.name not in ("by", "device", "alliance_id")}
    return arguments | ({"text": False, "owner_id": False, "due": False} if name == "amend_commitment" else {})


IDS = [str(uuid.UUID(int=n)) for n in range(1, 4)]  # few, so later mutations meet earlier things
QUESTION_KEYS = sorted({q.key for t in TEMPLATES.values() for _, q in t.questions()})[:4]
anything = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
words = st.sampled_from(["Run together", "", "  ", "x" * 10_001]) | st.text(max_size=20)
days = st.sampled_from(["2027-03-10", "2026-02-30", "10/03/2027", "", None])
small = st.integers(-1, 8)


def value_for(argument: str, people: list[str]):
    """Mostly the kind of value the argument means, sometimes anything at all."""
    ids = st.sampled_from([*IDS, *QUESTION_KEYS, *people])
    meant = {
        "stance": st.sampled_from(["support", "live_with", "object", "maybe"]),
        "unit": st.sampled_from(["days", "weeks", "months"]), "template": st.sampled_from([*TEMPLATES, "nope"]),
        "attendees": st.lists(ids, max_size=3), "kept": st.dictionaries(ids, st.booleans() | small, max_size=2),
        "fields": st.dictionaries(st.sampled_from(["text", "owner_id", "due", "colour"]), ids | words | days,
                                  max_size=3),
        "due": days, "next_date": days, "held_on": days,
        "every": small | st.just(365), "version": small, "base_revision": small,
    }.get(argument, ids if argument.endswith("_id") else words)
    return st.one_of(meant, meant, meant, meant, anything)


def mutation_arguments(name: str, people: list[str]):
    arguments = protocol_arguments(name)
    required = {a: value_for(a, people) for a, needed in arguments.items() if needed}
    optional = {a: value_for(a, people) for a, needed in arguments.items() if not needed}
    dropped = st.sampled_from([None] * 8 + list(required))  # now and then a required one goes missing
    extra = st.sampled_from([{}] * 9 + [{"colour": "red"}])
    return st.tuples(st.fixed_dictionaries(required, optional=optional), dropped, extra).map(
        lambda parts: {k: v for k, v in parts[0].items() if k != parts[1]} | parts[2])


class Device:
    def __init__(self, client, auth: dict, client_id: str):
        self.client, self.auth, self.client_id = client, auth, client_id
        self.last, self.cursor = 0, None

    def push(self, mutations: list[dict]) -> dict:
        response = self.client.post("/api/v1/sync/push", headers=self.auth,
                                    json={"client_id": self.client_id, "mutations": mutations})
        assert response.status_code == 200, response.text
        body = response.json()
        assert {r["status"] for r in body["results"]} <= {"applied", "duplicate", "conflict", "rejected"}
        self.last = body["last_mutation_id"]
        return body

    def pull(self) -> None:
        for _ in range(50):
            response = self.client.post("/api/v1/sync/pull", headers=self.auth,
                                        json={"client_id": self.client_id, "cursor": self.cursor, "limit": 3})
            assert response.status_code == 200, response.text
            page = response.json()
            self.cursor = page["cursor"]
            if not page["more"]:
                assert page["last_mutation_id"] == self.last
                return


@pytest.fixture(scope="module")
def two_devices(service, someone):
    with asgi.get_client(service) as client:
        signed = client.post("/api/v1/auth/signup", json={"email": "sam@example.org", "password": PASSWORD,
                                                          "display_name": "Sam"}).json()
        devices = (Device(client, someone.auth, "fuzz-phone-1"),
                   Device(client, {"Authorization": f"Bearer {signed['token']}"}, "sam-phone-1"))
        for device in devices:
            device.pull()  # a cursor before anything of this test happened
        yield devices, [someone.user_id, signed["user_id"]]


@st.composite
def sessions(draw, people: list[str]):
    """A template, then (who, mutation name, args) steps."""
    names = st.sampled_from(sorted(MUTATIONS) + ["create_alliance", "no_such_mutation"])
    steps = draw(st.lists(st.tuples(st.integers(0, 1), names).flatmap(
        lambda step: st.tuples(st.just(step[0]), st.just(step[1]), mutation_arguments(step[1], people))),
        min_size=1, max_size=8))
    return draw(st.sampled_from(sorted(TEMPLATES))), steps, draw(st.booleans())


def test_any_mutation_pushed_and_pulled_never_makes_a_server_error(two_devices):
    devices, people = two_devices

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sessions(people))
    def run(session):
        template, steps, retry = session
        ann, sam = devices
        alliance_id = str(uuid.uuid4())
        ann.push([{"id": ann.last + 1, "alliance_id": alliance_id, "name": "create_alliance",
                   "args": {"title": "Fuzzed", "template": template}}])
        link = ann.client.post(f"/api/v1/alliances/{alliance_id}/invitations", headers=ann.auth, json={"name": "Sam"})
        joined = sam.client.post(f"/api/v1/invitations/{link.json()['token']}/accept", headers=sam.auth)
        assert joined.status_code == 200, joined.text
        for who, name, args in steps:
            device = devices[who]
            mutations = [{"id": device.last + 1, "alliance_id": alliance_id, "name": name, "args": args}]
            device.push(mutations)
            if retry:  # a retried push changes nothing and says what happened the first time
                assert {r["status"] for r in device.push(mutations)["results"]} == {"duplicate"}
        for device in devices:
            device.pull()

    run()


# ----- the live stream -----

def test_the_live_stream_outlives_its_heartbeats(monkeypatch):
    """Fuzzing /sync/live found it: the stream died with an error right after its first heartbeat."""
    monkeypatch.setattr(sync, "HEARTBEAT_SECONDS", 0.05)

    async def listen() -> list[str]:
        plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
        async with plugin:
            stream = sync.pokes(plugin, ["user_1"], lambda: True)
            heard = [(await stream.__anext__()).event]
            for _ in range(3):
                heard.append((await stream.__anext__()).comment)
            plugin.publish(b'{"alliances": ["a"]}', ["user_1"])
            while heard[-1] != "poke" and len(heard) < 50:  # heartbeats may come first
                message = await stream.__anext__()
                heard.append(message.event or message.comment)
            heard.append((await stream.__anext__()).comment)
            await stream.aclose()
            return heard

    # In a thread of its own: Playwright's sync API may keep an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        heard = pool.submit(asyncio.run, asyncio.wait_for(listen(), 10)).result()
    assert heard[:4] == ["ready", "still here", "still here", "still here"]
    assert heard[-2:] == ["poke", "still here"]
