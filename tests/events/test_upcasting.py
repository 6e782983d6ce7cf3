"""Stored history outlives the code that wrote it: events written by an older
version of an event class still load, and their audit chain still verifies."""

import uuid

from eventsourcing.persistence import StoredEvent

from events.alliance import Alliance
from events.audit import GENESIS, event_hash


def test_a_version_1_designed_event_still_loads(app):
    # Version 1 of "alliance.Designed" had no template_version (and so no class_version).
    alliance_id = uuid.uuid4()
    state = {
        "timestamp": Alliance.Designed.create_timestamp(),
        "originator_topic": "alliance",
        "by": "ann", "device": "old-phone", "title": "From long ago", "template": "blank",
        "facilitator_name": "Ann", "questions": [],
    }
    state["chain"] = event_hash(GENESIS, "alliance.Designed", alliance_id, 1, state)
    app.recorder.insert_events([StoredEvent(originator_id=alliance_id, originator_version=1,
                                            topic="alliance.Designed",
                                            state=app.mapper.transcoder.encode(state))])

    old = app.alliance(alliance_id)
    assert (old.title, old.template, old.template_version) == ("From long ago", "blank", 1)
    assert app.verify(alliance_id).ok

    # It goes on living: new events chain onto the old one.
    app.act(alliance_id, "add_question", by="ann", device="new-phone", question_id=uuid.uuid4(),
            section="ours", text="What matters most?")
    assert app.alliance(alliance_id).version == 2
    assert app.verify(alliance_id).ok


def test_new_designed_events_are_stored_as_version_2(app):
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by="ann", device="phone", title="Now",
                                   template="coaching", facilitator_name="Ann")
    (stored,) = app.recorder.select_events(alliance.id)
    assert stored.topic == "alliance.Designed"
    assert app.mapper.transcoder.decode(stored.state)["class_version"] == 2
    assert app.alliance(alliance.id).template_version == 1
