"""A record nobody can quietly rewrite (SYNC.md 15), on the phone: it keeps the chain
head it last pulled, checks it in History, and says so plainly on the alliance when
the server's record no longer matches what it saw."""

import subprocess
import sys
from pathlib import Path

import pytest

from phones import Q1, expect
from servers import Server, free_port
from tampering import delete_event, rewrite_and_rechain


@pytest.fixture
def server(tmp_path):
    """A server of this test's own: it is stopped, tampered with and started again."""
    port = free_port()
    env = {"ALLIANCE_DATA_DIR": str(tmp_path / "data"), "ALLIANCE_AUTH_PER_MINUTE": "100000",
           "ALLIANCE_PUBLIC_URL": f"http://127.0.0.1:{port}", "ALLIANCE_LOG_LEVEL": "WARNING"}
    with Server(env, tmp_path / "server.log", port=port) as running:
        running.data = tmp_path / "data"
        yield running


def alliance_command(server, *args: str) -> None:
    command = Path(sys.executable).parent / "alliance"
    subprocess.run([str(command), *args], env=server.env, check=True, capture_output=True)


def answer(alliance_id: str, text: str, base_revision: int) -> dict:
    return {"alliance_id": alliance_id, "name": "answer_question",
            "args": {"question_id": "purpose.why", "text": text, "base_revision": base_revision}}


def test_the_phone_catches_its_newest_event_being_replaced(phone, account, server):
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Coaching with Lee")
    ann_api.push([answer(alliance_id, "Weekly calls.", 0), answer(alliance_id, "Calls every other week.", 1)])
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.open(f"#/a/{alliance_id}/s/purpose")
    expect(ann.question(Q1).locator(".answer")).to_have_text("Calls every other week.")
    ann.wait_synced()
    ann.top()
    ann.page.get_by_role("link", name="History", exact=True).click()
    expect(ann.page.get_by_text("The history is intact: 3 events verified. It still holds what this phone saw.")) \
        .to_be_visible()

    # Someone with the file deletes version 3; a later change takes its place, so the chain links up again.
    server.stop()
    delete_event(server.data, alliance_id, 3)
    server.start()
    ann_api.push([answer(alliance_id, "We never talked about calls.", 1)])
    assert ann_api.get(f"/api/v1/alliances/{alliance_id}/verify")["ok"]  # consistent in itself

    ann.open(f"#/a/{alliance_id}/s/purpose")
    ann.page.reload()
    warning = ann.page.locator("main .mismatch")
    expect(warning).to_have_text(
        "The record on the server no longer matches what this phone saw: one of events 1 to 3 was rewritten "
        "after your device saw version 3 (the stored chain there is not the head your device holds).")
    expect(ann.question(Q1).locator(".answer")).to_have_text("We never talked about calls.")
    ann.shot("tampering-alliance-light")
    ann.page.emulate_media(color_scheme="dark")
    ann.shot("tampering-alliance-dark")
    ann.page.emulate_media(color_scheme="light")

    ann.open("#/")
    expect(ann.page.locator("main .card .mismatch")).to_contain_text("no longer matches what this phone saw")
    ann.shot("tampering-list-light")

    ann.open(f"#/a/{alliance_id}/history")
    expect(ann.page.get_by_role("alert")).to_have_text(
        "The history was altered at event 3: one of events 1 to 3 was rewritten after your device saw version 3 "
        "(the stored chain there is not the head your device holds).")
    ann.shot("tampering-history-light")
    ann.page.emulate_media(color_scheme="dark")
    ann.shot("tampering-history-dark")


def test_the_phone_says_what_an_old_backup_lost(phone, account, server, tmp_path):
    """An operator restores a backup older than what the phone saw: the phone's newer
    version is no longer on the server, and the phone says so instead of quietly taking it."""
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Coaching with Lee")
    ann_api.push([answer(alliance_id, "Weekly calls.", 0)])
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.wait_synced()
    alliance_command(server, "backup", str(tmp_path / "backup.sqlite"))  # at version 2
    ann_api.push([answer(alliance_id, "Calls every other week.", 1)])
    ann.open(f"#/a/{alliance_id}/s/purpose")
    expect(ann.question(Q1).locator(".answer")).to_have_text("Calls every other week.")
    ann.wait_synced()

    server.stop()
    alliance_command(server, "restore", "--force", str(tmp_path / "backup.sqlite"))
    server.start()
    ann.open(f"#/a/{alliance_id}/s/purpose")
    ann.page.reload()
    expect(ann.page.locator("main .mismatch")).to_have_text(
        "The record on the server no longer matches what this phone saw: the stored record has only 2 events, "
        "but your device saw version 3 (event 3 was removed).")
    expect(ann.question(Q1).locator(".answer")).to_have_text("Weekly calls.")


def test_a_rewrite_is_caught_even_when_newer_changes_came_after_it(phone, account, server):
    """The chain is rewritten from version 2 on and recomputed, then someone makes a new change:
    the phone does not simply take the newer head, it has the server check the one it held."""
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Coaching with Lee")
    ann_api.push([answer(alliance_id, "Weekly calls.", 0), answer(alliance_id, "Calls every other week.", 1)])
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.wait_synced()

    server.stop()
    rewrite_and_rechain(server.data, alliance_id, 2, "Weekly calls.", "Daily calls.")
    server.start()
    ann_api.push([answer(alliance_id, "No calls at all.", 2)])  # version 4, on top of the rewrite
    assert ann_api.get(f"/api/v1/alliances/{alliance_id}/verify")["ok"]  # consistent in itself

    ann.open(f"#/a/{alliance_id}/s/purpose")
    ann.page.reload()
    expect(ann.question(Q1).locator(".answer")).to_have_text("No calls at all.")
    expect(ann.page.locator("main .mismatch")).to_have_text(
        "The record on the server no longer matches what this phone saw: one of events 1 to 3 was rewritten "
        "after your device saw version 3 (the stored chain there is not the head your device holds).")
    assert ann.meta("witnesses")[alliance_id]["version"] == 3


def test_a_phone_that_only_sees_new_changes_keeps_no_warning(phone, account):
    """The everyday case: each newer head is checked by the server, found in its record, and forgotten."""
    ann_api = account("Ann")
    alliance_id = ann_api.create_alliance("Coaching with Lee")
    ann = phone("ann")
    ann.sign_in(ann_api)
    ann.open(f"#/a/{alliance_id}/s/purpose")
    ann.answer(Q1, "Weekly calls.")  # this phone's own change
    expect(ann.question(Q1).locator(".answer")).to_have_text("Weekly calls.")  # pulled back, then redrawn
    ann.wait_synced()
    assert ann.meta("witnesses") == {}
    ann_api.push([answer(alliance_id, "Calls every other week.", 1)])  # and another device's
    ann.page.reload()
    expect(ann.question(Q1).locator(".answer")).to_have_text("Calls every other week.")
    ann.wait_synced()
    expect(ann.page.locator("main .mismatch")).to_have_count(0)
    assert ann.meta("witnesses") == {}
