"""docs/PROTOCOL.md stays in step with the code: every API path, mutation
(with its arguments), result status, alliance state field, event name and
refusal code the code has is in the document."""

import inspect
import re
import uuid
from pathlib import Path

import pytest
from litestar.testing import TestClient

from events import alliance as domain
from events.alliance import Alliance
from events.allies import Inventory
from events.application import AllianceApplication
from sync.mutations import INVENTORY_MUTATIONS, MUTATION_NAMES, MUTATIONS
from events.preferences import PREFERENCE_MUTATIONS, Preferences
from server.app import create_app
from server.settings import Settings
from sync import SyncService

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text()


def section(title: str) -> str:
    """The text under the heading `title`, up to the next heading of its level or above."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", DOC, re.MULTILINE)
    assert match, f"PROTOCOL.md has no heading {title!r}"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(DOC, match.end())
    return DOC[match.end():end.start() if end else len(DOC)]


def table(title: str) -> dict[str, str]:
    """The rows of the table under `title`: {the name in the first cell: the whole row}."""
    rows = {}
    for line in section(title).splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            found = re.fullmatch(r"\s*`([^`]+)`\s*", cells[1])
            if found:
                rows[found.group(1)] = line
    return rows


@pytest.fixture(scope="module")
def openapi(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("doc"), auth_per_minute=100_000, log_level="WARNING")
    with TestClient(create_app(settings)) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        return response.json()


def test_every_api_path_is_in_the_doc(openapi):
    paths = [path for path in openapi["paths"] if path.startswith("/api/v1")]
    assert paths
    assert [path for path in paths if f"`{path}`" not in DOC] == []


def test_each_endpoint_has_the_auth_and_error_answers_of_the_schema(openapi):
    """The Endpoints table's auth and errors columns say what the schema says."""
    rows = {(cells[1].strip(), cells[2].strip(" `")): cells for cells in
            (line.split("|") for line in section("Endpoints").splitlines() if line.startswith("| ") and "`" in line)}
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            cells = rows[method.upper(), path]
            assert cells[3].strip().startswith("Bearer" if "security" in operation else "none"), (method, path)
            documented = sorted(int(status) for status in operation["responses"] if int(status) >= 400)
            assert cells[4].split() == ([str(status) for status in documented] or ["none"]), (method, path)
    statuses = {row.split("|")[1].strip() for row in section("Errors").splitlines() if row.startswith("| 4")}
    assert {status for cells in rows.values() for status in cells[4].split()} - {"none"} <= statuses


def test_every_query_parameter_is_in_the_doc(openapi):
    """Each query parameter (e.g. verify's anchor, `version=` and `head=`) shows as `name=` in the doc."""
    names = {(path, parameter["name"]) for path, operations in openapi["paths"].items()
             for operation in operations.values() for parameter in operation.get("parameters", [])
             if parameter["in"] == "query"}
    assert ("/api/v1/alliances/{alliance_id}/verify", "head") in names
    assert sorted(f"{path} {name}" for path, name in names if f"{name}=" not in DOC) == []


def test_every_mutation_is_in_the_mutation_table_with_its_arguments():
    rows = table("Mutations")
    assert [name for name in MUTATION_NAMES if name not in rows] == []
    assert [name for name in rows if name not in MUTATION_NAMES] == []  # none that the code lacks
    for name in MUTATION_NAMES:
        if name == "create_alliance":
            command, renames = Alliance.design, {}
        elif name in INVENTORY_MUTATIONS:
            command, renames = getattr(Inventory, INVENTORY_MUTATIONS[name]), {}
        elif name in PREFERENCE_MUTATIONS:
            command, renames = getattr(Preferences, PREFERENCE_MUTATIONS[name]), {}
        else:
            command, renames = getattr(Alliance, MUTATIONS[name][0]), MUTATIONS[name][1]
        outside = {inside: protocol for protocol, inside in renames.items()}
        arguments = [outside.get(p.name, p.name) for p in inspect.signature(command).parameters.values()
                     if p.kind == p.KEYWORD_ONLY and p.name not in ("by", "device", "alliance_id")]
        # The server reads these from history (clients send the versions only), or sets them itself.
        for read_by_server in {"restore_version": ("content", "base_content", "authors"),
                               "restore_item": ("content", "authors"), "erase_my_words": ("account_deleted",),
                               "name_version": ("content_version_then",)}.get(name, ()):
            arguments.remove(read_by_server)
        assert [a for a in arguments if f"`{a}`" not in rows[name]] == [], name
    assert all(f"`{field}`" in rows["amend_commitment"] for field in domain.COMMITMENT_FIELDS)


def test_every_status_of_a_push_result_is_in_the_doc(tmp_path):
    """The statuses a real push answers (each one made to happen), and no other."""
    app = AllianceApplication(env=Settings(data_dir=tmp_path).event_store_env("alliances"))
    try:
        user, _ = app.sign_up(email="doc@example.org", password="correct horse", display_name="Doc")
        aid, question = str(uuid.uuid4()), str(uuid.uuid4())

        def mutation(number, name, **args):
            return {"id": number, "alliance_id": aid, "name": name, "args": args}

        first = [mutation(1, "create_alliance", title="Doc", template="blank"),
                 mutation(2, "add_question", question_id=question, section="goal", text="Why?"),
                 mutation(3, "answer_question", question_id=question, text="This", base_revision=0),
                 mutation(4, "complete_commitment", commitment_id=str(uuid.uuid4()))]
        other_device = [mutation(1, "answer_question", question_id=question, text="That", base_revision=0)]
        results = (SyncService(app).push(user, "doc-device-1", first).results + SyncService(app).push(user, "doc-device-2", other_device).results
                   + SyncService(app).push(user, "doc-device-1", first).results)
    finally:
        app.close()
    statuses = [r["status"] for r in results]
    assert statuses == ["applied", "applied", "applied", "rejected", "conflict"] + ["duplicate"] * 4
    assert [r["outcome"] for r in results[5:]] == ["applied", "applied", "applied", "rejected"]
    assert sorted(table("Statuses")) == sorted(set(statuses))


def test_every_field_of_the_alliance_state_is_in_the_doc():
    state = Alliance.design(alliance_id=uuid.uuid4(), by="someone", device="doc", title="Doc",
                            template="coaching", facilitator_name="Doc").as_dict()
    assert sorted(table("Alliance state")) == sorted(state)


def test_every_event_is_in_the_doc():
    events = {name for name, value in vars(Alliance).items()
              if isinstance(value, type) and issubclass(value, Alliance.Event) and name not in ("Event", "Created")}
    assert "Designed" in events and "VersionRestored" in events
    assert sorted(table("Events")) == sorted(events)


def test_every_refusal_code_is_in_the_doc():
    codes = {cls.code for cls in vars(domain).values()
             if isinstance(cls, type) and issubclass(cls, domain.AllianceError) and cls is not domain.AllianceError}
    errors = section("Errors")
    assert [code for code in sorted(codes) if f"`{code}`" not in errors] == []
