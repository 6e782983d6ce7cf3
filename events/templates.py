"""Question templates an alliance is designed from: data, in our own words."""
from __future__ import annotations

from dataclasses import dataclass

from events.text import quote

__all__ = [
    "CLOSING",
    "Question",
    "Section",
    "Template",
    "TEMPLATES",
    "UnknownTemplate",
    "get_template",
]


@dataclass(frozen=True)
class Question:
    key: str  # stable id, unique across the template, e.g. "purpose.why"
    text: str  # the question as a person reads it
    hint: str = ""  # a short prompt to help answer it (optional)


@dataclass(frozen=True)
class Section:
    key: str  # e.g. "purpose"
    title: str  # e.g. "Purpose and outcomes"
    questions: tuple[Question, ...] = ()
    kind: str = "questions"  # or, for the closing block: "commitments", "review", "consent"
    private: bool = False  # each person's own answers, seen by their author alone until shared


@dataclass(frozen=True)
class Template:
    name: str  # "coaching", "team", "personal", "blank"
    version: int  # starts at 1
    title: str
    description: str  # who it is for
    sections: tuple[Section, ...]

    def questions(self) -> list[tuple[Section, Question]]:
        """Every question in order, paired with the section it belongs to."""
        return [(section, q) for section in self.sections for q in section.questions]


class UnknownTemplate(ValueError):
    """Raised when a template name is not one we ship."""

    def __init__(self, name: str, known: list[str] | tuple[str, ...]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(
            f"Unknown template {quote(name)}; known templates: {', '.join(self.known)}"
        )


def _section(key: str, title: str, *questions: tuple[str, str] | tuple[str, str, str],
             private: bool = False) -> Section:
    """Build a section; question keys are given without the section prefix."""
    built = []
    for item in questions:
        sub, text, *rest = item
        built.append(Question(key=f"{key}.{sub}", text=text, hint=rest[0] if rest else ""))
    return Section(key=key, title=title, questions=tuple(built), private=private)


# The shared closing block every template ends with. The app renders these
# specially (named commitments with owners and dates, a review rhythm with the
# next review date, and each person's consent), so they carry no questions.
CLOSING: tuple[Section, ...] = (
    Section(key="commitments", title="Who does what, by when", kind="commitments"),
    Section(key="review", title="Review rhythm", kind="review"),
    Section(key="consent", title="Consent", kind="consent"),
)


_COACHING = Template(
    name="coaching",
    version=1,
    title="One-to-one coaching",
    description=(
        "For a coach and a client starting (or restarting) work together: "
        "what it's for, how you'll work, and what happens when it gets hard."
    ),
    sections=(
        _section(
            "purpose",
            "Purpose and outcomes",
            ("why", "What brings you to coaching right now?"),
            ("outcomes", "If this goes really well, what will be different for you?"),
            (
                "signs",
                "How will we each notice that it's working, or that it isn't?",
                "Think of something you could see or feel, not just a target.",
            ),
        ),
        _section(
            "roles",
            "Roles and scope",
            (
                "is_isnt",
                "What is this coaching for, and what is it not for?",
                "For example: not therapy, not managing your team for you.",
            ),
            ("count_on", "What can each of us rely on the other for?"),
            (
                "others",
                "Is anyone else involved, such as a sponsor or manager? What, if anything, do they get to see?",
            ),
        ),
        _section(
            "client",
            "How you work best",
            ("coached", "What helps you get the most out of a session?"),
            (
                "feedback",
                "How do you like to hear feedback, especially the uncomfortable kind?",
            ),
            (
                "direct",
                "May I be blunt with you? Is there anything you'd rather I handle gently?",
            ),
        ),
        _section(
            "communication",
            "Communication and boundaries",
            ("cadence", "How often will we meet, for how long, and where?"),
            (
                "channels",
                "How do we reach each other between sessions, and how quickly should we expect a reply?",
            ),
            (
                "confidentiality",
                "What stays confidential between us, and where are the limits of that confidentiality?",
                "Say plainly when something would have to be shared, and with whom.",
            ),
            ("off_limits", "Are there topics, times or places that are off limits?"),
        ),
        _section(
            "goals",
            "Goals",
            ("what", "What do you want to work on first?"),
            ("by_when", "By when would you like to see progress?"),
            (
                "accountability",
                "How much do you want me to hold you to what you say you'll do?",
            ),
        ),
        _section(
            "hard",
            "When it gets hard",
            (
                "not_done",
                "If you don't do what you said you would, how should I raise it?",
            ),
            ("stuck", "When you feel stuck, what tends to help you move again?"),
            (
                "pause",
                "How would either of us ask to pause, or to stop altogether?",
            ),
            (
                "break",
                "If one of us breaks the alliance, what do we need to talk about?",
                "Think of a missed session, a broken confidence, or a boundary crossed.",
            ),
        ),
        _section(
            "celebration",
            "Celebration",
            ("wins", "How would you like to mark progress and wins, small or big?"),
            ("acknowledge", "How do you like your effort to be recognised?"),
        ),
        _section(
            "ending",
            "Ending well",
            ("how", "When our work together comes to an end, how do we want to close it?"),
            ("take_away", "What would you like to take with you when we finish?"),
            ("after", "Are we open to staying in touch afterwards, and how?"),
        ),
    )
    + CLOSING,
)


_TEAM = Template(
    name="team",
    version=1,
    title="Team",
    description=(
        "For a team, project group or committee that wants to agree how it works "
        "together, not just what it delivers."
    ),
    sections=(
        _section(
            "prework",
            "Before we meet (private, optional)",
            (
                "matters",
                "What matters most to you about this work?",
                "Only you see this until you choose to share it.",
            ),
            ("conditions", "Under what conditions do you do your best work?"),
            ("count_on", "What can the others always count on you for?"),
            private=True,
        ),
        _section(
            "purpose",
            "Purpose",
            ("why", "Why does this team exist? What are we here to do?"),
            ("matters", "Who benefits when we do it well?"),
            ("progress", "What would tell us we're making headway?"),
        ),
        _section(
            "atmosphere",
            "Atmosphere",
            ("feel", "What do we want it to feel like to be on this team?"),
            ("words", "Which few words describe how we want to be with each other?"),
            ("avoid", "What do we want to stay away from?"),
        ),
        _section(
            "thrive",
            "What helps us thrive",
            ("best", "When has a team brought out the best in you? What made it work?"),
            ("need", "What do we need, from each other and around us, to do well?"),
            ("trust", "What would help us trust each other more?"),
        ),
        _section(
            "conflict",
            "Challenges and conflict",
            ("how_be", "How do we want to treat each other when things go wrong?"),
            ("disagree", "How do we disagree well, and when does something get escalated?"),
            ("honesty", "What makes it safe for you to say something difficult here?"),
            ("repair", "After a falling-out, how do we get back on track?"),
        ),
        _section(
            "roles",
            "Roles and decisions",
            ("owns", "Who owns what?"),
            (
                "gaps",
                "Where are the gaps or overlaps, and who will pick them up?",
            ),
            (
                "decide",
                "How do we make decisions, and who has the final say when we can't agree?",
                "For example: consensus, consent, the owner decides after hearing everyone.",
            ),
        ),
        _section(
            "communication",
            "Communication and meetings",
            ("channels", "Which channels do we use for what, and which do we avoid?"),
            ("response", "How quickly do we expect replies, and when are we off the clock?"),
            ("meetings", "Which meetings do we need, how often, and who runs them?"),
        ),
        _section(
            "voices",
            "All voices heard",
            ("quiet", "How do we make sure quieter people get heard?"),
            ("absent", "How do we include people who can't be in the room?"),
            ("notice", "How will we notice if someone's view keeps getting lost?"),
        ),
        _section(
            "reminders",
            "Keeping our word",
            ("personal", "What is one thing each of us commits to personally?"),
            ("remind", "How do we remind each other when we slip, kindly?"),
        ),
        _section(
            "celebration",
            "Celebration",
            ("how", "What shall we do to mark reaching a milestone?"),
            ("thanks", "How do we thank each other along the way?"),
        ),
    )
    + CLOSING,
)


_PERSONAL = Template(
    name="personal",
    version=1,
    title="Partners, friends and trips",
    description=(
        "For two or more people in a personal relationship: partners, friends, "
        "housemates, or anyone planning something together like a holiday trip."
    ),
    sections=(
        _section(
            "hopes",
            "Hopes and must-dos",
            ("want", "What are you hoping to get out of this?"),
            ("must", "Is there anything you'd be sad to miss out on?"),
            ("worries", "Is anything worrying you about it?"),
        ),
        _section(
            "money",
            "Money",
            ("budget", "Roughly how much are we each happy to spend?"),
            ("split", "How do we split shared costs, and who keeps track?"),
            ("surprises", "What do we do if something costs more than we expected?"),
        ),
        _section(
            "pace",
            "Pace and space",
            ("tempo", "Do you like things packed or slow and easy?"),
            ("alone", "How much time on your own do you need, and how will you let us know?"),
            ("energy", "When are you at your best, and when are you running low?"),
        ),
        _section(
            "roles",
            "Roles",
            ("who", "Who is taking care of what?"),
            ("enjoy", "What do you enjoy doing, and what would you rather hand over?"),
        ),
        _section(
            "decide",
            "How we decide",
            ("how", "How do we make choices together, big or small?"),
            ("stalemate", "If we can't agree, what happens then?"),
        ),
        _section(
            "tense",
            "When it gets tense",
            ("signals", "What are your signs that you're getting tense or tired?"),
            ("calm", "What helps you calm down, and what makes things worse?"),
            ("repair", "How do we make up quickly after a disagreement?"),
        ),
        _section(
            "celebration",
            "Celebration",
            ("how", "How will we mark the good moments, and the end?"),
            ("treat", "What small treat would brighten a hard day for you?"),
        ),
        _section(
            "checkins",
            "Check-ins",
            ("when", "When shall we stop and ask each other how it's going?"),
            ("ask", "What's a simple question we can use to check in?"),
        ),
    )
    + CLOSING,
)


_BLANK = Template(
    name="blank",
    version=1,
    title="Blank",
    description=(
        "For people who want to write their own questions from scratch. "
        "It still ends with commitments, a review rhythm and consent."
    ),
    sections=CLOSING,
)


TEMPLATES: dict[str, Template] = {
    t.name: t for t in (_COACHING, _TEAM, _PERSONAL, _BLANK)
}


def get_template(name: str) -> Template:
    """Return the template called ``name`` or raise :class:`UnknownTemplate`."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplate(name, list(TEMPLATES)) from None
