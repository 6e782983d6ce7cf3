import uuid


def test_a_designed_alliance_is_stored_and_read_back(app):
    alliance = app.design_alliance(alliance_id=uuid.uuid4(), by="ann", device="phone", title="Trip",
                                   template="personal", facilitator_name="Ann")
    assert app.alliance(alliance.id).title == "Trip"
    assert app.verify(alliance.id).ok
