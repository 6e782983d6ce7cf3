"""What the story tests compare the application's answers with: an alliance folded from its
stored events alone, past any cache and snapshot."""

from events.alliance import Alliance


def replayed(app, aid) -> Alliance:
    alliance = None
    for event in app.events.get(aid):
        alliance = event.mutate(alliance)
    return alliance
