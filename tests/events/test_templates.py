"""Behaviour of the shipped question templates."""
import re

import pytest

from events.templates import (
    CLOSING,
    TEMPLATES,
    Question,
    Section,
    Template,
    UnknownTemplate,
    get_template,
)

NAMES = ["coaching", "team", "personal", "blank"]
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def _texts(template: Template) -> list[str]:
    return [q.text.lower() for _, q in template.questions()]


def test_all_four_templates_exist_in_order():
    assert list(TEMPLATES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_template_basics(name):
    t = get_template(name)
    assert t is TEMPLATES[name]
    assert t.name == name
    assert isinstance(t.version, int) and t.version >= 1
    assert t.title.strip()
    assert t.description.strip()


@pytest.mark.parametrize("name", NAMES)
def test_keys_unique_well_formed_and_prefixed(name):
    t = get_template(name)
    section_keys = [s.key for s in t.sections]
    assert len(section_keys) == len(set(section_keys))
    question_keys = [q.key for _, q in t.questions()]
    assert len(question_keys) == len(set(question_keys))
    for section, q in t.questions():
        assert KEY_RE.match(q.key), q.key
        assert q.key.startswith(section.key + "."), q.key
        assert q.text.strip()
    for key in section_keys:
        assert KEY_RE.match(key), key


@pytest.mark.parametrize("name", NAMES)
def test_every_template_ends_with_closing_block(name):
    t = get_template(name)
    tail = t.sections[-3:]
    assert [s.key for s in tail] == ["commitments", "review", "consent"]
    assert [s.kind for s in tail] == ["commitments", "review", "consent"]
    assert all(s.questions == () for s in tail)
    assert tail == CLOSING
    # the closing kinds appear nowhere else
    assert all(s.kind == "questions" for s in t.sections[:-3])


def test_blank_has_no_questions():
    blank = get_template("blank")
    assert blank.questions() == []
    assert blank.sections == CLOSING


@pytest.mark.parametrize("name", ["coaching", "team", "personal"])
def test_question_templates_have_content(name):
    t = get_template(name)
    question_sections = [s for s in t.sections if s.kind == "questions"]
    assert question_sections
    for s in question_sections:
        assert 1 <= len(s.questions) <= 6, s.key


def test_questions_are_in_section_order():
    t = get_template("coaching")
    pairs = t.questions()
    expected = [(s, q) for s in t.sections for q in s.questions]
    assert pairs == expected
    assert all(isinstance(s, Section) and isinstance(q, Question) for s, q in pairs)


def test_coaching_asks_about_confidentiality():
    assert any("confidential" in text for text in _texts(get_template("coaching")))


def test_coaching_asks_about_breaking_the_alliance():
    assert any(
        "break" in text and "alliance" in text
        for text in _texts(get_template("coaching"))
    )


def test_team_has_private_prework_first():
    team = get_template("team")
    assert team.sections[0].key == "prework"
    assert "private" in team.sections[0].title.lower()


def test_unknown_template_lists_known_names():
    with pytest.raises(UnknownTemplate) as excinfo:
        get_template("nope")
    message = str(excinfo.value)
    assert "nope" in message
    for name in NAMES:
        assert name in message
    assert isinstance(excinfo.value, ValueError)


def test_templates_are_immutable():
    t = get_template("coaching")
    with pytest.raises(AttributeError):
        t.version = 2  # type: ignore[misc]
