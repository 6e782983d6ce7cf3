// What a screen shows: the server's state of an alliance, and on top of it
// this device's pending mutations, marked as pending. The server folds
// events into state; here we only place pending changes beside it.

import * as store from "./store.js";

import WORDS from "./words.json" with { type: "json" };

export const STATUS_WORDS = WORDS.status;

export async function everything() {
  const [states, outbox, rejected, session, witnesses] = await Promise.all(
    [store.alliances(), store.outbox(), store.rejected(), store.getMeta("session"), store.witnesses()]);
  const acknowledged = (await store.getMeta("last_mutation_id")) || 0;
  const pending = outbox.filter((m) => m.id > acknowledged);
  const byId = new Map(states.map((s) => {
    const witness = witnesses[s.id];
    return [s.id, { state: s, pending: [], witness, mismatch: witness?.suspect || witness?.problem ? witness : null }];
  }));
  for (const m of pending) {
    if (m.name === "create_alliance" && !byId.has(m.alliance_id)) {
      byId.set(m.alliance_id, { state: null, created: m, pending: [] });
    }
    byId.get(m.alliance_id)?.pending.push(m);
  }
  return { alliances: [...byId.values()], rejected, session, pending };
}

export async function one(id) {
  const all = await everything();
  return { ...all, item: all.alliances.find((a) => (a.state?.id || a.created?.alliance_id) === id) };
}

// The anchor this phone vouches for: the oldest head it saw that the server has not yet shown it still
// holds, else its last pull's.
export const anchor = (item) => store.anchorQuery(item?.witness) || store.anchorQuery(item?.state);

// Said on an alliance whose record on the server changed under what this phone saw (SYNC.md 15),
// in the server's words once it has checked the phone's anchor.
export function mismatchWords(seen) {
  return `The record on the server no longer matches what this phone saw${
    seen.problem ? `: ${seen.problem}` : ` at version ${seen.version}`}.`;
}

// The latest pending value of something, if this device changed it and the server has not answered yet.
export function pendingValue(item, name, match) {
  const found = item.pending.filter((m) => m.name === name && match(m.args));
  return found.length ? found[found.length - 1].args : null;
}

export function reviewState(state, today = new Date()) {
  const next = state?.rhythm?.next;
  if (!next || state.status === "closed") return null; // a closed alliance meets no more
  const days = Math.round((new Date(`${next}T12:00:00`) - today) / 86_400_000);
  return { next, label: days < 0 ? "overdue" : days <= 1 ? "due" : "", days };
}

export function conflicts(state) {
  if (!state) return 0;
  const answers = Object.values(state.answers).filter((a) => a.conflict.length).length;
  const commitments = Object.values(state.commitments).filter((c) => Object.keys(c.conflict).length).length;
  return answers + commitments;
}

export function nameOf(state, userId) {
  return state?.participants?.[userId]?.name || "Someone";
}

// "3 Dec, 14:02" in the reader's own language; the year too when it is not this year.
export function shortWhen(iso) {
  const d = new Date(iso);
  const options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
  if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return d.toLocaleString(undefined, options);
}

// Whether someone else changed something after `since` (when this person last opened the alliance).
// Nothing is new on a first visit (since is null), nor what this person did themselves.
export function newSince(since, by, at, me) {
  return Boolean(since && at && by && by !== me && Date.parse(at) > Date.parse(since));
}
