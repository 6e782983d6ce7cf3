"""The live stream's change pages are built once for everyone they are the same for (sync/live.py,
issue 14): the members who read the same alliances get one page, unless they wrote some of its
events or hold words on a private question (the team's pre-work): then they get their own, and
no one's page carries another's private answer."""

import json
from uuid import uuid4

from sync import SyncService
from sync.live import ChangePages

from test_sync_stories import WHY, joins, person

SECRET = "CLEO-private-prework-7f3a"


def three_people(app, template: str):
    ann, bob, cleo = person(app, "ann"), person(app, "bob"), person(app, "cleo")
    alliance_id = str(uuid4())
    assert ann.do(alliance_id, "create_alliance", title="Three of us", template=template)["status"] == "applied"
    joins(ann, bob, alliance_id)
    joins(ann, cleo, alliance_id)
    return ann, bob, cleo, alliance_id


def built(pages: ChangePages) -> list:
    return [once.page for once in pages._pages.values()]


def test_members_of_an_alliance_without_private_questions_share_one_page(app):
    ann, bob, cleo, alliance_id = three_people(app, "coaching")
    before = app.recorder.max_notification_id()
    assert ann.do(alliance_id, "answer_question", question_id=WHY, text="To finish", base_revision=0)["status"] == "applied"
    upto, pages = app.recorder.max_notification_id(), ChangePages(app)
    bobs, cleos = pages.get(bob.user_id, before, upto), pages.get(cleo.user_id, before, upto)
    assert bobs is cleos and len(built(pages)) == 1
    page = json.loads(bobs.rest)
    assert page["alliances"][0]["answers"][WHY]["text"] == "To finish"
    # And it is what each one's pull from there answers (but its cursor and ledger).
    for phone in (bob, cleo):
        pulled = SyncService(app).pull(phone.user_id, phone.client_id, None)  # where they stand now
        assert pulled["alliances"][0]["answers"] == page["alliances"][0]["answers"]


def test_who_wrote_private_prework_or_the_change_has_a_page_of_their_own(app):
    ann, bob, cleo, alliance_id = three_people(app, "team")
    dan = person(app, "dan")
    joins(ann, dan, alliance_id)
    private = sorted(app.alliance(alliance_id, copy=False).private_questions())[0]
    assert cleo.do(alliance_id, "give_own_answer", question_id=private, text=SECRET)["status"] == "applied"
    before = app.recorder.max_notification_id()
    assert ann.do(alliance_id, "answer_question", question_id=WHY, text="To ship it", base_revision=0)["status"] == "applied"
    upto, pages = app.recorder.max_notification_id(), ChangePages(app)
    bobs, cleos, dans = (pages.get(p.user_id, before, upto) for p in (bob, cleo, dan))
    anns = pages.get(ann.user_id, before, upto)
    assert bobs is dans and len({id(bobs), id(cleos), id(anns)}) == 3 and len(built(pages)) == 3
    assert SECRET in cleos.rest.decode()
    assert SECRET not in anns.rest.decode() and SECRET not in dans.rest.decode()
    assert SECRET not in bobs.rest.decode(), "Cleo's private answer reached Bob's page"
    assert json.loads(bobs.rest)["alliances"][0]["own_answers"][private] == {}


def test_a_page_built_for_someone_whose_alliances_changed_meanwhile_is_shared_by_nobody(app):
    """Bob leaves between the change and its page: the page built for him holds no alliance, so
    it is not Cleo's page; both are poked (None) and pull, and Cleo misses nothing."""
    ann, bob, cleo, alliance_id = three_people(app, "coaching")
    before = app.recorder.max_notification_id()
    assert ann.do(alliance_id, "answer_question", question_id=WHY, text="To finish", base_revision=0)["status"] == "applied"
    upto, pages = app.recorder.max_notification_id(), ChangePages(app)
    assert pages._view(bob.user_id, before, upto) == pages._view(cleo.user_id, before, upto)  # one page, as things stood
    assert bob.do(alliance_id, "leave_alliance")["status"] == "applied"
    assert pages.get(bob.user_id, before, upto) is None
    assert pages.get(cleo.user_id, before, upto) is None
    assert cleo.pull()["alliances"][0]["answers"][WHY]["text"] == "To finish"
