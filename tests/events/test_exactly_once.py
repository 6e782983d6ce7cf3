"""Exactly once, whatever the network does (SYNC.md guarantees 1, 3 and 4).

Two people share an alliance and each has one of their own. Two or three of
their devices each hold an outbox of numbered mutations and push it in any
interleaving: in chunks, re-sending what was already acknowledged, losing the
answer to a push (it ran, but the device never heard), and pushing from two
tabs at once. In the end every outbox is acknowledged, and then:

- every mutation was applied exactly once, and every retry was told its outcome;
- the events each device caused are exactly its applied or conflicting mutations
  (every mutation here records one event unless refused: its words are new);
- a device's pulls, from scratch or paged from any cursor, show the alliances as
  stored, each event once in commit order, and acknowledge a mutation only with
  all its effects.
"""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from events.devices import device_id
from sync import OutOfOrder, SyncService

QUESTIONS = ("purpose.why", "purpose.outcomes")  # the coaching template's first questions
KINDS = ("answer", "answer_stale", "make", "amend", "amend_stale", "complete", "add_question")
OFTEN = ("answer", "answer_stale", "amend")  # drawn twice as often: where applying twice would show
ACTIONS = ("push", "retry", "lost", "tabs")
DEVICES = (("ann", "phone"), ("bob", "phone"), ("ann", "laptop"))
EFFECTIVE = ("applied", "conflict")  # the statuses that record something

# An intent: (what, in the shared alliance or one's own, a small number picking ids).
intents = st.tuples(st.sampled_from(KINDS + OFTEN), st.booleans(), st.integers(0, 2))
outboxes = st.lists(st.lists(intents, min_size=1, max_size=8), min_size=2, max_size=3)
# A step: (which device, what it does, how many mutations, how far a retry goes back / whether a
# second tab sends the next chunk rather than the same one).
steps = st.tuples(st.integers(0, 2), st.sampled_from(ACTIONS), st.integers(1, 4), st.integers(0, 8))
examples = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def people(app):
    """Ann and Bob, signed up once for all the examples of a test."""
    def sign_up(name):
        user_id, _ = app.sign_up(email=f"{name}-{uuid4().hex[:8]}@example.org", password="a long enough secret",
                                 display_name=name.capitalize())
        return user_id
    return {"ann": sign_up("ann"), "bob": sign_up("bob")}


class Client:
    """One device: its outbox, what it knows is acknowledged, and (for the test's
    eyes only) every result the server gave for each mutation, lost ones included."""

    def __init__(self, app, user_id: str, client_id: str, intents: list, shared: str, private: str):
        self.app, self.user_id, self.client_id = app, user_id, client_id
        self.intents, self.shared, self.private = intents, shared, private
        self.outbox: list[dict] = []
        self.acked = 0
        self.results: dict[int, list[dict]] = {n: [] for n in range(1, len(intents) + 1)}

    def chunk(self, start: int, size: int) -> list[dict]:
        """Mutations start+1 … start+size; each is written (from the state the
        device sees now) the first time it is sent, and never changes after."""
        end = min(len(self.intents), start + size)
        while len(self.outbox) < end:
            self.outbox.append(self.write(len(self.outbox) + 1, self.intents[len(self.outbox)]))
        return self.outbox[start:end]

    def write(self, number: int, intent: tuple) -> dict:
        kind, in_shared, n = intent
        alliance_id = self.shared if in_shared else self.private
        alliance = self.app.alliance(alliance_id)
        words, stale = f"{self.client_id} #{number}", int(kind.endswith("_stale"))
        commitment_id = str(UUID(int=n + 1))
        if kind.startswith("answer"):
            question_id = QUESTIONS[n % 2]
            revision = alliance.answers.get(question_id, {}).get("revision", 0)
            name, args = "answer_question", {"question_id": question_id, "text": f"Answer from {words}",
                                             "base_revision": max(0, revision - stale)}
        elif kind == "make":
            name, args = "make_commitment", {"commitment_id": commitment_id, "text": f"Promise from {words}",
                                             "owner_id": self.user_id}
        elif kind.startswith("amend"):
            revision = alliance.commitments.get(commitment_id, {}).get("revision", 0)
            name, args = "amend_commitment", {"commitment_id": commitment_id, "text": f"Amended by {words}",
                                              "base_revision": max(0, revision - stale)}
        elif kind == "complete":
            name, args = "complete_commitment", {"commitment_id": commitment_id}
        else:
            name, args = "add_question", {"question_id": str(UUID(int=100 + n)), "section": "extra",
                                          "text": f"Question from {words}?"}
        return {"id": number, "alliance_id": alliance_id, "name": name, "args": args}

    def send(self, mutations: list[dict]) -> tuple[list[dict], int | None]:
        """One push over the network: (results, last acknowledged), or None when out of order."""
        try:
            pushed = SyncService(self.app).push(self.user_id, self.client_id, mutations)
        except OutOfOrder as error:
            return error.results, None
        return pushed.results, pushed.last_mutation_id

    def hear(self, answer: tuple[list[dict], int | None], *, lost: bool = False) -> None:
        results, last = answer
        if last is None:
            event("a push was out of order")
        for result in results:
            self.results[result["id"]].append(result)
        if last is not None and not lost:
            self.acked = max(self.acked, last)

    def step(self, action: str, size: int, extra: int, pool: ThreadPoolExecutor) -> None:
        if action == "push":
            self.hear(self.send(self.chunk(self.acked, size)))
        elif action == "retry":  # re-sends some it already knows are acknowledged
            start = max(0, self.acked - extra)
            self.hear(self.send(self.chunk(start, self.acked - start + size)))
        elif action == "lost":  # the push runs; its answer never arrives
            self.hear(self.send(self.chunk(self.acked, size)), lost=True)
        else:  # two tabs at once: the same chunk, or the next one pipelined behind it
            first = self.chunk(self.acked, size)
            second = self.chunk(self.acked + (size if extra % 2 else 0), size)
            both_ready = Barrier(2)

            def tab(mutations):
                both_ready.wait(timeout=10)
                return self.send(mutations)

            for answer in list(pool.map(tab, [first, second])):
                self.hear(answer)

    def drain(self) -> None:
        for _ in range(100):
            if self.acked == len(self.intents):
                return
            self.hear(self.send(self.chunk(self.acked, 4)))
        raise AssertionError(f"{self.client_id} never got its outbox acknowledged")

    def status(self, number: int) -> str:
        """The outcome of a mutation's one and only application."""
        originals = [r["status"] for r in self.results[number] if r["status"] != "duplicate"]
        assert len(originals) == 1, f"mutation {number} of {self.client_id} was applied {len(originals)} times"
        return originals[0]


def creation(number: int, alliance_id: str, title: str) -> dict:
    return {"id": number, "alliance_id": alliance_id, "name": "create_alliance",
            "args": {"title": title, "template": "coaching"}}


def set_up(app, people: dict, outboxes: list) -> tuple[list[Client], dict[str, list[str]]]:
    """Ann designs a shared alliance and Bob joins it by link; each also has one of their own."""
    ann, bob, tag = people["ann"], people["bob"], uuid4().hex[:8]
    shared, own = str(uuid4()), {"ann": str(uuid4()), "bob": str(uuid4())}
    SyncService(app).push(ann, f"setup-ann-{tag}", [creation(1, shared, "Ours"), creation(2, own["ann"], "Ann's own")])
    SyncService(app).push(bob, f"setup-bob-{tag}", [creation(1, own["bob"], "Bob's own")])
    app.accept_invitation(bob, app.create_invitation(ann, shared, name="Bob")["token"])
    clients = [Client(app, people[who], f"{who}-{what}-{tag}", intents, shared, own[who])
               for (who, what), intents in zip(DEVICES, outboxes)]
    return clients, {ann: [shared, own["ann"]], bob: [shared, own["bob"]]}


def pull_all(client: Client, cursor: str | None, limit: int) -> list[dict]:
    """Pages from a cursor until the server says there is no more."""
    pages = []
    while True:
        pages.append(SyncService(client.app).pull(client.user_id, client.client_id, cursor, limit))
        cursor = pages[-1]["cursor"]
        if not pages[-1]["more"]:
            return pages


@examples
@given(outboxes=outboxes, schedule=st.lists(steps, max_size=14), limit=st.integers(1, 6))
def test_every_mutation_is_applied_once_whatever_the_network_does(app, people, outboxes, schedule, limit):
    clients, alliances_of = set_up(app, people, outboxes)
    cursors = {c.client_id: SyncService(app).pull(c.user_id, c.client_id, None)["cursor"] for c in clients}
    since = app.recorder.max_notification_id()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for device, action, size, extra in schedule:
            clients[device % len(clients)].step(action, size, extra, pool)
    for client in clients:
        client.drain()

    # Exactly once: one application per mutation, retries told its outcome, the ledger agrees.
    for client in clients:
        ledger = client.app.repository.get(device_id(client.client_id))
        assert ledger.last_mutation_id == len(client.intents) == client.acked
        for number, results in client.results.items():
            status = client.status(number)
            assert status in ("applied", "conflict", "rejected") and ledger.outcome(number)["status"] == status
            assert all(r["outcome"] == status for r in results if r["status"] == "duplicate")
            assert (status == "rejected") == (results[0]["error"] is not None)
        for status in {client.status(n) for n in client.results}:
            event(f"some mutation was {status}")
        caused = [e for aid in alliances_of[client.user_id] for e in app.events.get(UUID(aid))
                  if e.device == client.client_id]
        assert len(caused) == sum(client.status(n) in EFFECTIVE for n in client.results)

    # Pulls agree with the store, from scratch and paged from the cursor taken before it all.
    device_of = {(str(e.originator_id), e.originator_version): e.device
                 for aid in {a for ids in alliances_of.values() for a in ids} for e in app.events.get(UUID(aid))}
    for client in clients:
        mine = alliances_of[client.user_id]
        fresh = SyncService(app).pull(client.user_id, client.client_id, None)
        assert fresh["reset"] and fresh["last_mutation_id"] == len(client.intents)
        states = {a["id"]: a for a in fresh["alliances"]}
        assert set(states) == set(app.account(client.user_id).alliances)
        assert all(states[aid] == app.alliance(aid).as_dict() for aid in mine)

        pages = pull_all(client, cursors[client.client_id], limit)
        seen = [(e["alliance_id"], e["version"]) for page in pages for e in page["events"]]
        in_commit_order = [(str(n.originator_id), n.originator_version) for n in app.recorder.select_notifications(
            start=since, limit=100_000, inclusive_of_start=False) if str(n.originator_id) in mine]
        assert seen == in_commit_order  # each event once, in commit order
        folded, mine_seen = {}, 0
        for page in pages:  # read your writes: a page acknowledging n holds the effects of 1 … n, no more
            folded.update({a["id"]: a for a in page["alliances"]})
            mine_seen += sum(device_of[(e["alliance_id"], e["version"])] == client.client_id for e in page["events"])
            acked = page["last_mutation_id"]
            assert mine_seen == sum(client.status(n) in EFFECTIVE for n in range(1, acked + 1))
        assert [p["last_mutation_id"] for p in pages][-1] == len(client.intents)
        assert all(folded[aid] == app.alliance(aid).as_dict() for aid in mine if aid in folded)
        again = SyncService(app).pull(client.user_id, client.client_id, pages[-1]["cursor"])
        assert (again["events"], again["more"], again["reset"]) == ([], False, False)
        assert again["last_mutation_id"] == len(client.intents)
