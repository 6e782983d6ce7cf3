"""A reminder shown in the app reaches an open app at once: the follower pokes the person's
live streams (a real `alliance serve` process with its follower, and a real SSE stream)."""

from servers import Server, appreciate, create_alliance, join, push_ok, signup


def test_a_reminder_pokes_the_live_stream_of_the_one_reminded_and_nobody_else(tmp_path):
    env = {"ALLIANCE_DATA_DIR": str(tmp_path / "data"), "ALLIANCE_REMINDERS_POLL_SECONDS": "0.1"}
    with Server(env, tmp_path / "server.log") as server:
        ann_id, ann = signup(server.url, "ann@example.org", "Ann")
        _, bob = signup(server.url, "bob@example.org", "Bob")
        push_ok(server.url, ann, "ann-phone-1", [{"id": 1, "alliance_id": "", "name": "set_reminder_preferences",
                                                  "args": {"quiet_hours": False}}])
        alliance_id = create_alliance(server.url, ann, "ann-phone-1", mutation_id=2)
        join(server.url, ann, alliance_id, bob)
        ann_live, bob_live = server.listen(ann), server.listen(bob)
        ann_live.wait_ready()
        bob_live.wait_ready()
        push_ok(server.url, bob, "bob-phone-1", [appreciate(1, alliance_id, ann_id, "Thank you")])
        poked = ann_live.wait_for(lambda e: e[0] == "poke" and e[1]["alliances"] == ["reminders"], timeout=10)
        assert poked is not None, (ann_live.events, server.log_tail())
        assert bob_live.wait_for(lambda e: e[0] == "poke" and "reminders" in e[1]["alliances"], timeout=1) is None
