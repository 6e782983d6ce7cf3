"""Taking an alliance out of the app: the printable page, Markdown, the review
dates as iCalendar, and the auditors' page; and all of them hidden, with the
same 404, from anyone who is not a participant."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from icalendar import Calendar
from litestar.testing import TestClient

from events.application import NO_SUCH_ALLIANCE
from people import Person
from server.app import create_app
from server.settings import Settings

ANSWER = "To grow into leading the new team"
COMMITMENT = "Send the notes after every session"
EXPORTS = ("export.html", "export.md", "export.ics", "audit.html")


def design(person: Person, title: str, *, answer: str = ANSWER) -> str:
    """An agreed coaching alliance: an answer, a commitment, a review rhythm, consent (versions 1 to 5)."""
    alliance_id = str(uuid4())
    results = person.push(
        ("create_alliance", alliance_id, {"title": title, "template": "coaching"}),
        ("answer_question", alliance_id, {"question_id": "purpose.why", "text": answer, "base_revision": 0}),
        ("make_commitment", alliance_id, {"commitment_id": str(uuid4()), "text": COMMITMENT,
                                          "owner_id": person.user_id, "due": "2027-02-01"}),
        ("schedule_review", alliance_id, {"every": 2, "unit": "weeks", "next_date": "2027-03-10"}),
        ("give_consent", alliance_id, {"version": 4, "stance": "support"}))
    assert [r["status"] for r in results] == ["applied"] * 5, results
    return alliance_id


@dataclass
class World:
    ann: Person
    mallory: Person
    alliance_id: str


@pytest.fixture
def world(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, auth_per_minute=1000))) as client:
        ann, mallory = Person(client, "Ann"), Person(client, "Mallory")
        yield World(ann, mallory, design(ann, "Coaching with Ann"))


def export(person: Person, alliance_id: str, name: str):
    response = person.get(f"/alliances/{alliance_id}/{name}")
    assert response.status_code == 200, response.text
    return response


# ----- the printable page -----

def test_the_printable_agreement_says_what_was_agreed(world):
    response = export(world.ann, world.alliance_id, "export.html")
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1 dir=\"auto\">Coaching with Ann</h1>" in page
    assert ANSWER in page and COMMITMENT in page
    assert "Purpose and outcomes" in page and "What brings you to coaching right now?" in page
    assert "1 February 2027" in page and "Every 2 weeks; next review 10 March 2027." in page
    assert "Ann: supports version 4" in page
    assert re.search(r"Agreed on \d{1,2} \w+ \d{4} by Ann \(version 4\)\.", page)
    # One version number: the content version, not the event counter (5 events) beside it.
    assert re.search(r"Version 4, printed \d{1,2} \w+ \d{4}\.", page) and "ersion 5" not in page
    # its @media print rules make it printable, also when the app opens it from a blob: URL
    assert 'href="http://testserver.local/app/styles.css"' in page


def test_the_printout_shows_the_content_version_with_its_name(world):
    [named] = world.ann.push(("name_version", world.alliance_id, {"version": 4, "name": "after our first talk"}))
    assert named["status"] == "applied", named
    page = export(world.ann, world.alliance_id, "export.html").text
    assert "This is version 4, “after our first talk”." in page
    assert "Version 4, “after our first talk”, printed" in page and "ersion 6" not in page
    text = export(world.ann, world.alliance_id, "export.md").text
    assert "Version 4, “after our first talk”, printed" in text


def test_a_closed_agreement_prints_no_next_review_and_says_what_was_left_open(world):
    world.ann.push(("close_alliance", world.alliance_id, {"celebration": "We did it"}))
    page = export(world.ann, world.alliance_id, "export.html").text
    assert "next review" not in page and "Every 2 weeks; no more reviews." in page
    assert "Left open when the alliance closed" in page and "We did it" in page


def test_after_a_renewal_the_printout_says_whose_consent_came_before_the_break(world):
    mallory, aid = world.mallory, world.alliance_id  # here, Ann's client
    link = world.ann.post(f"/alliances/{aid}/invitations", {"name": "Mallory"}).json()
    assert mallory.post(f"/invitations/{link['token']}/accept").status_code in (200, 201)
    [consented] = mallory.push(("give_consent", aid, {"version": 4, "stance": "support"}))
    assert consented["status"] == "applied", consented
    results = world.ann.push(("break_alliance", aid, {"reason": "Missed two sessions"}),
                             ("renew_alliance", aid, {"note": "We meet on Tuesdays from now on"}))
    assert [r["status"] for r in results] == ["applied"] * 2, results
    page = export(world.ann, aid, "export.html").text
    assert "Mallory: supports version 4 before the break; has not consented again since the renewal" in page
    assert "Ann: supports version 4" in page and "Ann: supports version 4 before" not in page


def test_the_printable_agreement_escapes_what_people_wrote(world):
    alliance_id = design(world.ann, "<b>Bold</b> & co", answer='<script>alert("hi")</script>')
    page = export(world.ann, alliance_id, "export.html").text
    assert "<script>" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in page


def test_own_questions_come_after_the_templates_sections(world):
    world.ann.push(("add_question", world.alliance_id, {"question_id": str(uuid4()), "section": "ours",
                                                       "text": "Where do we meet?"}))
    page = export(world.ann, world.alliance_id, "export.html").text
    order = [page.index(words) for words in ("Purpose and outcomes", "Roles and scope", "Our own questions",
                                              "Where do we meet?", "Who does what, by when")]
    assert order == sorted(order)


# ----- Markdown -----

def test_the_agreement_as_markdown(world):
    response = export(world.ann, world.alliance_id, "export.md")
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="coaching-with-ann.md"'
    text = response.text
    assert text.splitlines()[0] == "# Coaching with Ann"
    assert "## Purpose and outcomes" in text and ANSWER in text
    assert f"| {COMMITMENT} | Ann | 1 February 2027 | Open |" in text
    assert "Version 4, printed" in text and "ersion 5" not in text


def test_markdown_keeps_what_people_wrote_literal(world):
    alliance_id = design(world.ann, "Plans", answer="# not a heading\n<img src=x> *really*")
    text = export(world.ann, alliance_id, "export.md").text
    assert "\\# not a heading  \n\\<img src=x\\> \\*really\\*" in text


# ----- iCalendar -----

def frame(body: bytes) -> None:
    """RFC 5545 framing, which the icalendar parser does not check: CRLF line ends, lines folded at 75 octets."""
    text = body.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in physical), [line for line in physical if len(line.encode()) > 75]


def events_of(body: bytes) -> dict[str, Any]:
    """The calendar's events by UID, parsed by the icalendar package (framing checked first)."""
    frame(body)
    return {str(event["UID"]): event for event in Calendar.from_ical(body).events}


def test_the_reviews_and_commitments_as_icalendar_with_alarms_in_a_file_named_after_the_alliance(world):
    response = export(world.ann, world.alliance_id, "export.ics")
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="coaching-with-ann.ics"'
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    events = events_of(response.content)
    review = events[f"review-{world.alliance_id}@alliance"]
    assert (review.start, review.end) == (date(2027, 3, 10), date(2027, 3, 11))
    assert review["RRULE"].to_ical() == b"FREQ=WEEKLY;INTERVAL=2"
    assert str(review["SUMMARY"]) == "Review: Coaching with Ann"
    [alarm] = review.walk("VALARM")
    assert alarm["TRIGGER"].dt == -timedelta(hours=16)  # 08:00 the day before (Ann's morning)
    [commitment] = [e for uid, e in events.items() if uid.startswith("commitment-")]
    assert commitment.start == date(2027, 2, 1) and str(commitment["SUMMARY"]) == f"Due: {COMMITMENT} (Ann)"
    assert commitment.walk("VALARM")
    again = events_of(export(world.ann, world.alliance_id, "export.ics").content)
    assert set(again) == set(events)  # stable UIDs: a new download updates the same events


def test_a_title_with_commas_semicolons_and_long_words_is_escaped_and_folded(world):
    title = "Lisbon, together; for Zoë & Ümit \\ " + "ça va, " * 20
    alliance_id = design(world.ann, title)
    raw = export(world.ann, alliance_id, "export.ics").content
    frame(raw)
    assert b"SUMMARY:Review: Lisbon\\, together\\; for Zo" in raw.replace(b"\r\n ", b"")
    assert b"\r\n " in raw  # it was long enough to fold
    review = events_of(raw)[f"review-{alliance_id}@alliance"]
    assert str(review["SUMMARY"]) == "Review: " + title.strip()
    assert "\n" in str(review["DESCRIPTION"])  # its line break survived


def test_no_rhythm_no_calendar(world):
    alliance_id = str(uuid4())
    world.ann.push(("create_alliance", alliance_id, {"title": "Open-ended", "template": "blank"}))
    response = world.ann.get(f"/alliances/{alliance_id}/export.ics")
    assert response.status_code == 409 and "review rhythm" in response.json()["detail"]


# ----- the audit page -----

def test_the_audit_page_lists_every_version_and_checks_the_chain(world):
    response = export(world.ann, world.alliance_id, "audit.html")
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    rows = re.findall(r'<tr id="v(\d+)">', page)
    assert rows == ["5", "4", "3", "2", "1"]
    assert "The audit chain is intact" in page and "all 5 stored events" in page
    assert "designed the alliance" in page and "supports version 4" in page
    assert world.ann.client_id in page


def test_the_audit_page_pages_through_long_histories(world):
    alliance_id = world.alliance_id
    for i in range(1, 206):
        world.ann.push(("answer_question", alliance_id, {"question_id": "purpose.outcomes", "text": f"Draft {i}",
                                                         "base_revision": i - 1}))
    page = export(world.ann, alliance_id, "audit.html").text
    assert re.findall(r'<tr id="v(\d+)">', page) == [str(v) for v in range(210, 0, -1)]
    assert "all 210 stored events" in page


# ----- only for participants -----

@pytest.mark.parametrize("name", EXPORTS)
def test_outsiders_get_the_same_404_as_everywhere(world, name):
    for alliance_id in (world.alliance_id, str(uuid4()), "not-a-uuid"):
        response = world.mallory.get(f"/alliances/{alliance_id}/{name}")
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == NO_SUCH_ALLIANCE
    anonymous = world.ann.client.get(f"/api/v1/alliances/{world.alliance_id}/{name}")
    assert anonymous.status_code == 401
