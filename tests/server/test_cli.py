import sqlite3

from server.cli import main


def test_demo_shows_a_history_and_verify_then_catches_tampering(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(tmp_path))
    assert main(["demo"]) == 0
    shown = capsys.readouterr().out
    assert "moved the commitment 'Weekly check-in' from 3 March 2027 to 10 March 2027" in shown
    assert "the alliance is now agreed" in shown

    assert main(["verify"]) == 0
    assert "1 alliances checked, 0 broken" in capsys.readouterr().out

    with sqlite3.connect(tmp_path / "alliances.sqlite") as db:
        db.execute("UPDATE stored_events SET state=replace(state, 'Sam', 'Max') WHERE originator_version=3")
    assert main(["verify"]) == 1
    assert "BROKEN at event 3" in capsys.readouterr().out


def test_a_bad_setting_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("ALLIANCE_DATABASE_URL", "mysql://nope")
    assert main(["verify"]) == 2
    assert "ALLIANCE_DATABASE_URL must start with postgresql://" in capsys.readouterr().err
