"""The words for statuses and stances, read from the one file the phone app imports too
(pwa/js/words.json), so the server's pages and the app never say them differently."""

import json
from pathlib import Path

WORDS = json.loads((Path(__file__).resolve().parents[1] / "pwa" / "js" / "words.json").read_text(encoding="utf-8"))
STATUS_WORDS: dict[str, str] = WORDS["status"]
COMMITMENT_WORDS: dict[str, str] = WORDS["commitment_status"]
STANCE_WORDS: dict[str, str] = WORDS["stance"]
