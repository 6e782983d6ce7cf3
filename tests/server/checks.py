"""What no crash may break, checked from outside the servers (issue 9.15):

- read your writes (SYNC.md guarantee 4) on every pull page a device gets:
  `OwnWrites` pulls for one device and checks each page;
- every stored snapshot equals the replay of its events up to its version:
  `snapshots_against_events`, with `alliance rebuild`'s own comparison, on the
  store opened in this process once the servers are stopped.
"""

import httpx

from server.operations import REBUILT_TOPICS, _snapshot_agrees, notifications, open_store
from server.settings import Settings
from servers import auth

PAGE = 20  # events per pull page: small, so pages are cut all along the log


class OwnWrites:
    """One device's pulls, from its cursor on. On every page: each commitment of
    this device's plan whose mutation the server acknowledged as applied, up to
    the page's last_mutation_id, is in the page's state of its alliance (a reset
    page holds every alliance of the person, other pages those that changed).
    Nothing is assumed about later mutations."""

    def __init__(self, url: str, token: str, client_id: str, plan: list[dict], client: httpx.Client):
        self.url, self.token, self.client_id, self.client = url, token, client_id, client
        self.made = {m["id"]: (m["alliance_id"], m["args"]["commitment_id"])
                     for m in plan if m["name"] == "make_commitment"}  # mutation id -> (alliance, commitment)
        self.cursor: str | None = None
        self.pages = self.found = 0  # pages checked; commitments found where they had to be

    def pull(self, outcomes: dict[int, set]) -> None:
        """Every page up to the end of the log, each checked against `outcomes` (mutation id -> the
        outcomes the server reported). Raises httpx's errors: a transport error, or a status
        other than 200; the cursor stays at the last page that came."""
        more = True
        while more:
            response = self.client.post(f"{self.url}/api/v1/sync/pull", headers=auth(self.token),
                                        json={"client_id": self.client_id, "cursor": self.cursor, "limit": PAGE})
            response.raise_for_status()
            page = response.json()
            self.check(page, outcomes)
            self.cursor, more = page["cursor"], page["more"]

    def check(self, page: dict, outcomes: dict[int, set]) -> None:
        commitments = {a["id"]: a["commitments"] for a in page["alliances"]}
        due = [(n, *self.made[n]) for n in sorted(self.made) if n <= page["last_mutation_id"]
               and "applied" in outcomes.get(n, ()) and (page["reset"] or self.made[n][0] in commitments)]
        missing = [n for n, alliance_id, commitment_id in due if commitment_id not in commitments.get(alliance_id, {})]
        assert not missing, (f"{self.client_id}: a pull page (reset: {page['reset']}) answered last_mutation_id "
                             f"{page['last_mutation_id']} without the commitments of its applied mutations {missing}")
        self.pages += 1
        self.found += len(due)


def snapshots_against_events(settings: Settings) -> tuple[int, list[str]]:
    """(how many snapshots are stored, the ones that disagree with the replay of their
    aggregate's events up to their version); a snapshot beyond the last event disagrees."""
    app = open_store(settings)
    try:
        compared, disagreed = 0, []
        for notification in notifications(app, tuple(REBUILT_TOPICS)):
            aggregate_id = notification.originator_id
            stored = {s.originator_version: s for s in app.snapshots.recorder.select_events(aggregate_id)}
            if not stored:
                continue
            agreed, aggregate = set(), None
            for event in app.events.get(aggregate_id, lte=max(stored)):
                aggregate = event.mutate(aggregate)
                if aggregate.version in stored and _snapshot_agrees(app, stored[aggregate.version], aggregate):
                    agreed.add(aggregate.version)
            compared += len(stored)
            disagreed += [f"{REBUILT_TOPICS[notification.topic]} {aggregate_id} v{version}"
                          for version in sorted(stored.keys() - agreed)]
    finally:
        app.close()
    return compared, disagreed
