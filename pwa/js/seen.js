// When this person last looked at an alliance, so a screen can mark what others changed since.
// A visit runs from navigating to the alliance (any of its sub-screens) until navigating away:
// every redraw within it gets the same earlier time, while the time kept moves on to the
// latest redraw (what was shown live during this visit is not new next time).

import * as store from "./store.js";

let visit = null; // { key, id, before }: the alliance looked at now, and (a promise of) when it was before

const inAlliance = (id) => location.hash === `#/a/${id}` || location.hash.startsWith(`#/a/${id}/`)
  || location.hash.startsWith(`#/a/${id}?`);

addEventListener("hashchange", () => {
  if (visit && !inAlliance(visit.id)) visit = null;
});

// The ISO time this person last opened this alliance before this visit; null the first time.
export async function openedBefore(allianceId) {
  const session = await store.getMeta("session");
  const key = `opened:${session?.user_id || ""}:${allianceId}`;
  // Read once per visit, before anything is written: a redraw racing this one shares the same read.
  if (visit?.key !== key) visit = { key, id: allianceId, before: store.getMeta(key).then((at) => at || null) };
  const before = await visit.before;
  await store.setMeta(key, new Date().toISOString());
  return before;
}
