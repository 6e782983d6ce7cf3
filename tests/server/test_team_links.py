"""Team links over HTTP (issue 10): one link for several people, until it is used up,
expires or is withdrawn; how its page and accepting say so; the body's bounds refused
in words; and a commitment given to someone invited, which is theirs once they join.

The first story runs against a real `alliance serve` process; the others on SQLite and
PostgreSQL through the app in this process (the `settings` fixture).
"""

from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from people import Person, problem
from servers import HTTP, auth, create_alliance, get, push_ok, signup

WITHDRAWN = "This invitation was withdrawn: ask for a new one."
USED_UP = "This link has let in as many people as it was made for: ask for a new one."


def test_a_team_link_admits_three_and_once_withdrawn_refuses_a_fourth(sqlite_server):
    """Ann makes one link for her team, on a real server; Bob, Cay and Dan join with it (Bob's
    second tap is told he is in already). Cay withdraws it; Eve, fourth, is told it was withdrawn,
    on the page the link opens and when her app accepts it."""
    url = sqlite_server.url
    (ann, ann_token), *team = [signup(url, f"{name}-{uuid4().hex[:8]}@example.org", name)
                               for name in ("Ann", "Bob", "Cay", "Dan", "Eve")]
    alliance_id = create_alliance(url, ann_token, "ann-phone-1", template="team", title="Offsite")
    made = HTTP.post(f"{url}/api/v1/alliances/{alliance_id}/invitations", headers=auth(ann_token),
                     json={"name": "the team", "uses": 4, "valid_days": 14})
    assert made.status_code == 201, made.text
    link = made.json()
    assert set(link) == {"token", "url", "invitation_id", "uses", "expires_at"} and link["uses"] == 4
    expires = datetime.fromisoformat(link["expires_at"])
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(minutes=1)

    page = HTTP.get(f"{url}/invite/{link['token']}")
    assert page.status_code == 200 and "for up to 4 people (4 places left)" in page.text

    accept = f"{url}/api/v1/invitations/{link['token']}/accept"
    for _, token in team[:3]:
        assert HTTP.post(accept, headers=auth(token)).status_code == 200
    again = HTTP.post(accept, headers=auth(team[0][1]))
    assert again.status_code == 409 and again.json()["detail"] == "You are already a participant of this alliance."
    state = get(url, ann_token, f"/api/v1/alliances/{alliance_id}")
    assert [p["name"] for p in state["participants"].values()] == ["Ann", "Bob", "Cay", "Dan"]
    assert state["invitations"][link["invitation_id"]]["joined"] == [uid for uid, _ in team[:3]]
    assert "(1 place left)" in HTTP.get(f"{url}/invite/{link['token']}").text

    cay_token = team[1][1]
    result = push_ok(url, cay_token, "cay-phone-1", [{"id": 1, "alliance_id": alliance_id, "name": "revoke_invitation",
                                                      "args": {"invitation_id": link["invitation_id"]}}])
    assert result["results"][0]["status"] == "applied", result
    eve_token = team[3][1]
    refused = HTTP.post(accept, headers=auth(eve_token))
    assert refused.status_code == 404 and refused.json()["detail"] == WITHDRAWN
    page = HTTP.get(f"{url}/invite/{link['token']}")
    assert page.status_code == 404 and "This invitation was withdrawn" in page.text and "Join in the app" not in page.text
    state = get(url, ann_token, f"/api/v1/alliances/{alliance_id}")
    assert len(state["participants"]) == 4 and state["invitations"][link["invitation_id"]]["status"] == "revoked"


@pytest.mark.parametrize("body, words", [
    ({"uses": 0}, "uses: must be at least 1"),
    ({"uses": 51}, "uses: must be at most 50"),
    ({"uses": "3"}, "uses: Expected `int`, got `str`"),
    ({"valid_days": 0}, "valid_days: must be at least 1"),
    ({"valid_days": 91}, "valid_days: must be at most 90"),
])
def test_a_link_for_too_few_or_too_many_people_or_days_is_refused_in_words(client, body, words):
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    before = ann.version_of(alliance_id)
    refused = problem(ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Team", **body}), 400)
    assert refused["detail"] == words and refused["field"] == next(iter(body))
    assert ann.version_of(alliance_id) == before  # nothing was recorded


def test_a_link_without_uses_or_days_is_for_one_person_for_the_servers_days(client, settings):
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    link = ann.post(f"/alliances/{alliance_id}/invitations")
    assert link.status_code == 201 and link.json()["uses"] == 1
    expires = datetime.fromisoformat(link.json()["expires_at"])
    assert abs(expires - (datetime.now(timezone.utc) + settings.invitation_lifetime)) < timedelta(minutes=1)
    invitation = ann.get(f"/alliances/{alliance_id}").json()["invitations"][link.json()["invitation_id"]]
    assert (invitation["name"], invitation["uses"], invitation["status"]) == ("someone (by link)", 1, "open")
    page = client.get(f"/invite/{link.json()['token']}")
    assert page.status_code == 200 and "The link works once" in page.text


def test_a_used_up_team_link_says_so(client):
    ann, bob, cay, dan = (Person(client, name) for name in ("Ann", "Bob", "Cay", "Dan"))
    alliance_id = ann.design()
    token = ann.post(f"/alliances/{alliance_id}/invitations", {"uses": 2}).json()["token"]
    for joiner in (bob, cay):
        assert joiner.post(f"/invitations/{token}/accept").status_code == 200
    assert problem(dan.post(f"/invitations/{token}/accept"), 404)["detail"] == USED_UP
    page = client.get(f"/invite/{token}")
    assert page.status_code == 404 and "This link is used up" in page.text


def test_a_commitment_for_someone_invited_is_theirs_once_they_join(client):
    """Ann invites Sam and gives him "Book the venue" before he has an account; when Sam
    joins, his phone's pull shows it as his."""
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    link = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Sam"}).json()
    commitment = str(uuid4())
    [made] = ann.push(("make_commitment", alliance_id, {"commitment_id": commitment, "text": "Book the venue",
                                                        "owner_id": link["invitation_id"]}))
    assert made["status"] == "applied", made
    sam = Person(client, "Sam")
    assert sam.post(f"/invitations/{link['token']}/accept").status_code == 200
    [pulled] = sam.pull()["alliances"]
    assert pulled["commitments"][commitment]["owner_id"] == sam.user_id
    assert pulled["invitations"][link["invitation_id"]]["status"] == "accepted"


def test_withdrawing_a_one_person_link_gives_its_commitments_back(client):
    ann = Person(client, "Ann")
    alliance_id = ann.design()
    link = ann.post(f"/alliances/{alliance_id}/invitations", {"name": "Sam"}).json()
    commitment = str(uuid4())
    results = ann.push(("make_commitment", alliance_id, {"commitment_id": commitment, "text": "Book the venue",
                                                         "owner_id": link["invitation_id"]}),
                       ("revoke_invitation", alliance_id, {"invitation_id": link["invitation_id"]}),
                       ("revoke_invitation", alliance_id, {"invitation_id": link["invitation_id"]}))
    assert [r["status"] for r in results] == ["applied"] * 3
    state = ann.get(f"/alliances/{alliance_id}").json()
    assert state["commitments"][commitment]["owner_id"] == ann.user_id
    sam = Person(client, "Sam")
    assert problem(sam.post(f"/invitations/{link['token']}/accept"), 404)["detail"] == WITHDRAWN
