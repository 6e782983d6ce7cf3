// History in words (who, when, what), the audit check, the alliance as it was at a version,
// two versions compared word by word (picked by name, never typed as numbers), restoring a
// version after seeing what it would change, bringing back one answer or commitment, and the
// proof of who consented to what (#/a/<id>/history, /compare, /restore, /evidence). It is read
// from the server: online, or as it was last read on this phone.

import { ApiError, call } from "../api.js";
import WORDS from "../words.json" with { type: "json" };
import { day, h, show, when } from "../dom.js";
import { anchor, nameOf, one } from "../model.js";
import * as sync from "../sync.js";
import * as store from "../store.js";
import { undoable } from "../undo.js";
import {
  CONTENT_KINDS, agreedWords, agreementOf, consentedContent, contentHash, names, versionChoices, versionLabel, versionWords,
} from "../versions.js";

const PAGE = 20;
const GROUPS = {
  Answers: ["QuestionAdded", "QuestionReworded", "QuestionRemoved", "QuestionAnswered", "OwnAnswerGiven"],
  Commitments: ["CommitmentMade", "CommitmentAmended", "CommitmentCompleted", "CommitmentWithdrawn"],
  Conflicts: ["ConflictResolved"], Consent: ["ConsentGiven"], Reviews: ["ReviewScheduled", "ReviewHeld"],
  People: ["ParticipantInvited", "ParticipantJoined", "ParticipantLeft", "ParticipantAppreciated"],
  Lifecycle: ["Designed", "AllianceBroken", "AllianceRenewed", "AllianceClosed"],
  Restores: ["VersionRestored", "AnswerRestored", "CommitmentRestored", "CommitmentReopened"],
  Versions: ["VersionNamed"],
};
const groupOf = (kind) => Object.keys(GROUPS).find((g) => GROUPS[g].includes(kind)) || "Other";
const SECTIONS = { title: "Title", questions: "Questions", answers: "Answers", own_answers: "Own answers",
  commitments: "Commitments", participants: "People", consents: "Consent", rhythm: "Review rhythm" };
const CHANGE_WORDS = { added: "Added", removed: "Removed", changed: "Changed" };
const TITLES = { history: "History", compare: "Compare two versions", restore: "Restore a version", evidence: "Proof of consent" };
const OFFLINE = "You are offline, and this part of the history was not read on this phone before: come back "
  + "to it when you are online. Everything else in the alliance works offline.";
const UNREACHABLE = "The server could not be reached, and the history needs a connection: try again when you are online.";

// What the reader chose, kept while the same screen is redrawn by a sync.
let memory = { id: null, who: "", kind: "", shown: PAGE };
const checked = new Map(); // "<alliance id>/<version>" -> what the check on this phone found

const problem = (error) => (error instanceof ApiError ? error.message : UNREACHABLE);

export default async function history(context) {
  const { main, id, sub, query, session } = context;
  const back = sub === "evidence" ? h("p", {}, h("a", { href: `#/a/${id}/s/consent` }, "← Consent"))
    : sub !== "history" ? h("p", {}, h("a", { href: `#/a/${id}/history` }, "← History"))
      : h("p", {}, h("a", { href: `#/a/${id}` }, "← Back to the alliance"));
  const title = h("h1", {}, TITLES[sub]);
  // What was read online is kept on the phone, and shown (saying so) when the network is away.
  let keptFrom = null;
  const get = async (path) => {
    const key = `history:${id}${path}`;
    try {
      const fresh = await call("GET", `/api/v1/alliances/${id}${path}`, { token: session.token });
      await store.setMeta(key, { at: new Date().toISOString(), data: fresh });
      return fresh;
    } catch (error) {
      const kept = !(error instanceof ApiError) && await store.getMeta(key);
      if (!kept) throw error;
      keptFrom = keptFrom && keptFrom < kept.at ? keptFrom : kept.at;
      return kept.data;
    }
  };
  const note = () => keptFrom && h("p", { class: "pending-box", role: "status" },
    `Offline: shown as it was read on ${when(keptFrom)}.`);
  if (main.dataset.route !== location.hash || memory.id !== id) memory = { id, who: "", kind: "", shown: PAGE };
  try {
    const { item } = await one(id);
    const screen = { main, id, item, state: item?.state, me: session.user_id, query, get, back, title };
    await { history: timeline, compare: comparison, restore: restorePreview, evidence }[sub](screen);
    if (keptFrom) main.insertBefore(note(), main.children[2] || null);
  } catch (error) {
    show(main, back, title, h("p", { class: "error", role: "alert" }, navigator.onLine ? problem(error) : OFFLINE),
      h("button", { type: "button", onclick: () => history(context) }, "Try again"));
  }
}

// A version in words, for any event version: now, a version agreed or named, or the content
// version it showed (read from the server when this phone does not know it: events that changed
// no content, a consent or a review, show the content version before them).
async function versionSaid(state, version, get) {
  if (!state) return `version ${version}`;
  if (version === state.version) return `now (${versionLabel(state, state.content_version)})`;
  const known = agreementOf(state, version) || state.version_names?.[version];
  const content = known ? version : (await get(`?version=${version}`).catch(() => null))?.content_version || version;
  const words = versionWords(state, content);
  return words[0].toLowerCase() + words.slice(1);
}

async function timeline({ main, id, item, state, me, get, back, title }) {
  // The server checks its chain, and that it still holds what this phone saw (its anchor).
  const [check, page] = await Promise.all(
    [get(`/verify?${anchor(item)}`), get(`/history?limit=${Math.min(200, memory.shown)}`)]);
  const entries = [...page.entries];
  let nextBefore = page.next_before;
  const latest = Math.max(state?.version || 0, entries[0]?.version || 0);
  const people = new Map(Object.entries(state?.participants || {}).map(([uid, p]) => [uid, p.name]));
  const list = h("ol", { class: "cards" });
  const count = h("p", { class: "muted", role: "status" });
  const whoSelect = h("select", { id: "history-who", onchange: () => { memory.who = whoSelect.value; draw(); } });
  const kindSelect = h("select", { id: "history-kind", onchange: () => { memory.kind = kindSelect.value; draw(); } });
  const older = h("button", { type: "button", onclick: loadOlder }, "Older");
  const olderPlace = h("p", {});
  const act = item && undoable(item, me, (name, args) => sync.mutate(name, id, args));

  function draw() {
    for (const e of entries) if (!people.has(e.by)) people.set(e.by, e.who);
    show(whoSelect, h("option", { value: "" }, "Everyone"),
      [...people].map(([uid, name]) => h("option", { value: uid, selected: uid === memory.who }, name)));
    const present = new Set([...entries.map((e) => groupOf(e.kind)), memory.kind].filter(Boolean));
    show(kindSelect, h("option", { value: "" }, "Every kind of change"),
      [...Object.keys(GROUPS), "Other"].filter((g) => present.has(g))
        .map((g) => h("option", { value: g, selected: g === memory.kind }, g)));
    const shown = entries.filter((e) => (!memory.who || e.by === memory.who)
      && (!memory.kind || groupOf(e.kind) === memory.kind));
    show(list, shown.map((e) => entryCard(id, e, latest, state, get, act)));
    count.textContent = nextBefore ? `Showing ${shown.length} of the latest ${entries.length} changes; Older loads earlier ones.`
      : `Showing ${shown.length} of all ${entries.length} changes.`;
    show(olderPlace, nextBefore && older); // [hidden] loses to the stylesheet's display on buttons
  }

  async function loadOlder() {
    older.disabled = true;
    try {
      const more = await get(`/history?before=${nextBefore}&limit=${PAGE}`);
      entries.push(...more.entries);
      [nextBefore, memory.shown] = [more.next_before, entries.length];
      draw();
    } catch (error) {
      count.textContent = problem(error);
    }
    older.disabled = false;
  }

  draw();
  show(main, back, title,
    h("p", { class: check.ok ? "" : "error", role: check.ok ? null : "alert" }, check.ok
      ? `The history is intact: ${check.events} events verified.${check.anchor_ok ? " It still holds what this phone saw." : ""}`
      : `The history was altered at event ${check.broken_at}: ${check.problem}.`),
    state && h("p", { class: "muted" }, state.title),
    state && h("p", {}, h("a", { class: "button", href: `#/a/${id}/compare` }, "Compare versions")),
    h("section", { class: "part" },
      h("h2", {}, "Who did what, newest first"),
      h("label", { for: "history-who" }, "Who", whoSelect),
      h("label", { for: "history-kind" }, "What", kindSelect),
      count, list, olderPlace));
}

function entryCard(id, e, latest, state, get, act) {
  const asItWas = h("div", { hidden: true });
  // Only an event that changed the content makes a version a person sees (the content version).
  const content = CONTENT_KINDS.has(e.kind);
  const agreement = content && agreementOf(state, e.version);
  const naming = content && state && state.status !== "closed" && act && nameForm(state, e.version, act);
  const toggle = (panel, load) => async (event) => {
    const button = event.currentTarget;
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden && load && !panel.childNodes.length) {
      show(panel, h("p", { class: "muted" }, "Loading…"));
      try {
        show(panel, asItWasPart(await get(`?version=${e.version}`), e.version, state));
      } catch (error) {
        show(panel, h("p", { class: "error", role: "alert" }, problem(error)));
      }
    }
  };
  const canRestore = state && state.status !== "closed" && e.version < latest;
  const older = e.version < latest;
  return h("li", { class: "card" },
    h("p", {}, h("strong", {}, e.who), h("span", { dir: "auto" }, ` ${e.text}`)),
    h("p", { class: "muted" }, h("time", { datetime: e.at }, when(e.at)),
      content && h("span", { dir: "auto" }, ` · ${state ? versionLabel(state, e.version) : `version ${e.version}`}`)),
    agreement && h("p", { class: "agreed-mark" }, `${agreedWords(state, agreement)}.`),
    h("div", { class: "row" },
      h("button", { type: "button", "aria-expanded": "false", onclick: toggle(asItWas, true) }, "View as it was"),
      older && h("a", { class: "button", href: `#/a/${id}/compare?from=${e.version}&to=${latest}` }, "Compare with now"),
      canRestore && h("a", { class: "button", href: `#/a/${id}/restore?version=${e.version}` }, "Restore this version"),
      naming && h("button", { type: "button", "aria-expanded": "false", onclick: toggle(naming, false) },
        state.version_names?.[e.version] ? "Rename this version" : "Name this version")),
    asItWas, naming);
}

// Naming a content version (not a change of the agreement: nobody consents again).
function nameForm(state, version, act) {
  const field = `name-${version}`;
  const f = h("form", { class: "stack", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    act("name_version", { version, name: new FormData(event.target).get("name").trim() });
    f.hidden = true;
  } },
  h("label", { for: field }, `A name for version ${version}`),
  h("input", { id: field, name: "name", maxlength: 100, dir: "auto", value: state.version_names?.[version]?.name || "" }),
  h("button", { type: "submit" }, "Save the name"));
  return f;
}

function asItWasPart(s, version, now) {
  const name = (uid) => (s.participants[uid] ? nameOf(s, uid) : nameOf(now, uid));
  const questions = Object.entries(s.questions).filter(([qid, q]) => !q.removed && s.answers[qid]?.text);
  const unanswered = Object.values(s.questions).filter((q) => !q.removed).length - questions.length;
  const commitments = Object.values(s.commitments);
  return h("div", { class: "stack" },
    h("h3", { dir: "auto" }, `As it was at ${versionLabel(now || s, s.content_version || version)}: “${s.title}”`),
    h("h4", {}, "Answers"),
    questions.map(([qid, q]) => h("div", {}, h("p", {}, h("strong", { dir: "auto" }, q.text)),
      h("p", { class: "answer", dir: "auto" }, s.answers[qid].text))),
    unanswered > 0 && h("p", { class: "muted" }, `${unanswered} question${unanswered > 1 ? "s" : ""} not answered then.`),
    h("h4", {}, "Commitments"),
    commitments.length ? h("ul", {}, commitments.map((c) => h("li", { dir: "auto" },
      `${c.text} · ${name(c.owner_id)}${c.due ? ` · by ${day(c.due)}` : ""} · ${c.status}`)))
      : h("p", { class: "muted" }, "No commitments."),
    s.rhythm && h("p", {}, `Reviews every ${s.rhythm.every} ${s.rhythm.unit}, next ${day(s.rhythm.next)}.`));
}

// Two versions picked by what they are called: now, the agreed ones, the named ones.
function picker(id, state, from, to, said = {}) {
  const choices = versionChoices(state);
  const known = (v) => choices.some((c) => c.version === v);
  const extra = (v) => (v && !known(v) ? [{ version: v, words: said[v] || `version ${v}` }] : []);
  const select = (name, label, selected) => h("label", { for: `compare-${name}` }, label,
    h("select", { id: `compare-${name}`, name }, [...choices, ...extra(selected)].map((c) =>
      h("option", { value: c.version, selected: c.version === selected }, c.words))));
  const last = state.agreements?.at(-1);
  const lastAgreed = last && last.version !== state.content_version;
  return h("div", { class: "stack" },
    lastAgreed && h("p", {}, h("a", { class: "button primary", href: `#/a/${id}/compare?from=${last.version}&to=${state.version}` },
      "Now vs last agreed")),
    choices.length > 1 ? h("form", { class: "stack", onsubmit: (event) => {
      event.preventDefault();
      const v = Object.fromEntries(new FormData(event.target));
      location.hash = `#/a/${id}/compare?from=${v.from}&to=${v.to}`;
    } },
    select("from", "From", from || choices[1].version),
    select("to", "To", to || state.version),
    h("button", { type: "submit" }, "Compare these"))
      : h("p", { class: "muted" }, "No version is agreed or named yet: name one to find it here."),
    h("p", {}, "Or pick any change in the ", h("a", { href: `#/a/${id}/history` }, "History"), ": each has “Compare with now”."));
}

async function comparison({ main, id, item, state, me, query, get, back, title }) {
  const from = Number(query.get("from")), to = Number(query.get("to"));
  if (!state) {
    show(main, back, title, h("p", { class: "muted" }, "This alliance has not reached the server yet: there is nothing to compare."));
    return;
  }
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to >= 1)) {
    show(main, back, title, h("p", {}, "Which versions do you want to compare?"), picker(id, state));
    return;
  }
  const diff = await get(`/diff?from=${from}&to=${to}`);
  // A thing can be brought back from the side that is not now.
  const old = to === state.version && from < to ? { version: from, side: "before" }
    : from === state.version && to < from ? { version: to, side: "after" } : null;
  const act = old && state.status !== "closed" && undoable(item, me, (name, args) => sync.mutate(name, id, args));
  const said = { [diff.from]: await versionSaid(state, diff.from, get), [diff.to]: await versionSaid(state, diff.to, get) };
  show(main, back, title,
    h("p", { dir: "auto" }, `From ${said[diff.from]} to ${said[diff.to]}. `, diff.empty
      ? "Nothing changed in the agreement, its people or their consent (reviews, thanks and breaks are not compared)."
      : ["Removed words are ", h("del", {}, "struck through"), "; added words are ", h("ins", {}, "underlined"), "."]),
    changesList(diff, state, act ? { ...old, act } : null),
    h("details", { class: "part" }, h("summary", {}, "Compare other versions"), picker(id, state, from, to, said)));
}

function changesList(diff, state, bringBack) {
  if (diff.empty) return null;
  const bySection = new Map();
  for (const c of diff.changes) bySection.set(c.section, [...(bySection.get(c.section) || []), c]);
  return [...bySection].map(([section, changes]) => h("section", { class: "part" },
    h("h2", {}, SECTIONS[section] || section),
    h("ul", { class: "cards" }, changes.map((c) => changeCard(c, state, bringBack)))));
}

function changeCard(c, state, bringBack) {
  const words = c.words && !(c.section === "commitments" && c.change !== "changed");
  const showValues = !words || c.section === "commitments";
  const before = summary(c.section, c.before, state), after = summary(c.section, c.after, state);
  const done = h("p", { class: "muted", role: "status" });
  return h("li", { class: "card" },
    c.label !== SECTIONS[c.section] && h("h3", { dir: "auto" }, c.label),
    h("p", {}, h("span", { class: "badge" }, CHANGE_WORDS[c.change] || c.change)),
    words && h("p", { class: "answer", dir: "auto" }, c.words.map(([op, text], i) => [i ? " " : "",
      op === "removed" ? h("del", {}, text) : op === "added" ? h("ins", {}, text) : text])),
    showValues && before && h("p", { dir: "auto" }, "Was: ", h("del", {}, before)),
    showValues && after && h("p", { dir: "auto" }, "Now: ", h("ins", {}, after)),
    bringBack && bringBackButton(c, state, bringBack, done), done);
}

// "Bring back this answer": one answer or commitment as it was in the older version, nothing else.
function bringBackButton(c, state, { version, side, act }, done) {
  const then = c[side];
  const what = c.section === "answers" && then?.text ? "answer"
    : c.section === "commitments" && then ? "commitment" : null;
  if (!what || (c.section === "answers" && state.questions[c.id]?.removed)) return null;
  const label = versionLabel(state, version);
  return h("button", { type: "button", "aria-label": `Bring back this ${what} as it was in ${label}: ${c.label}`,
    onclick: async (event) => {
      if (!confirm(`Bring back this ${what} as it was in ${label}?\n\nOnly this ${what} changes; everything else `
        + "stays as it is now, and the history keeps what it said before.")) return;
      event.currentTarget.disabled = true;
      await act("restore_item", what === "answer" ? { version, question_id: c.id } : { version, commitment_id: c.id });
      done.textContent = `Brought back as it was in ${label} (not yet synced).`;
    } }, `Bring back this ${what}`);
}

// Restoring a whole version: first what it would change against now, then the choice.
async function restorePreview({ main, id, item, state, me, query, get, back, title }) {
  const version = Number(query.get("version"));
  if (!state || !(Number.isInteger(version) && version >= 1 && version < state.version)) {
    show(main, back, title, h("p", {}, "Pick the version to restore in the History: each change there has “Restore this version”."));
    return;
  }
  const diff = await get(`/diff?from=${state.version}&to=${version}`);
  const label = await versionSaid(state, version, get);
  const act = undoable(item, me, (name, args) => sync.mutate(name, id, args));
  // A restore brings back the content; who is in it and their consent stay as they are.
  const changes = diff.changes.filter((c) => !["participants", "consents"].includes(c.section));
  if (!changes.length || state.status === "closed") {
    show(main, back, title, h("p", {}, state.status === "closed" ? "A closed alliance cannot be changed any more."
      : `The alliance says now what ${label} said: there is nothing to restore.`));
    return;
  }
  show(main, back, title,
    h("p", { class: "preview-note", dir: "auto" }, `Restoring ${label} would make these changes to what the alliance says now. `,
      "Nothing is erased: a new version is added that says again what that version said, and every change in between "
      + "stays in the history. Everyone consents again."),
    h("p", {}, "Removed words are ", h("del", {}, "struck through"), "; added words are ", h("ins", {}, "underlined"), "."),
    changesList({ ...diff, changes }, state, { version, side: "after", act }),
    h("div", { class: "row restore-choice" },
      h("button", { type: "button", class: "primary", onclick: async () => {
        // The version this phone shows now: whatever others changed since stays, beside the restored words.
        await sync.mutate("restore_version", id, { version, base_version: state.version });
        location.hash = `#/a/${id}`;
      } }, "Restore all of this"),
      h("a", { class: "button", href: `#/a/${id}/history` }, "Cancel")),
    h("p", { class: "muted" }, "To bring back only one answer or commitment, use “Bring back” on it above."));
}

// Who consented to which content, by its fingerprint (SHA-256), and a check made on this phone.
async function evidence({ main, id, state, query, get, back, title }) {
  const version = Number(query.get("version"));
  const proof = await get(`/evidence?version=${version}`);
  const key = `${id}/${version}`;
  const said = h("p", { class: "check-result", role: "status" }, checked.get(key) || "");
  // A sync may redraw the screen while it checks: the words go to the screen as it is then.
  const tell = (words) => { for (const p of [said, document.querySelector(".check-result")]) if (p) p.textContent = words; };
  const short = (hash) => h("code", { class: "hash" }, hash);
  const who = (c) => c.name || nameOf(state, c.user_id);
  const check = h("button", { type: "button", class: "primary", onclick: async () => {
    check.disabled = true;
    tell("Checking…");
    try {
      checked.set(key, await checkHere(proof, version, get));
      tell(checked.get(key));
    } catch (error) {
      tell(problem(error));
    }
    check.disabled = false;
  } }, "Check it on this phone");
  show(main, back, title,
    h("p", { dir: "auto" }, h("strong", {}, versionWords(state || {}, version))),
    h("p", {}, "What everyone consented to is the text of the agreement at this version. Its fingerprint (SHA-256) is:"),
    h("p", {}, short(proof.content_hash)),
    h("h2", {}, "Who consented, to what, and when"),
    proof.consents.length ? h("ul", { class: "cards" }, proof.consents.map((c) => h("li", { class: "card" },
      h("p", {}, h("strong", {}, who(c)), ` ${WORDS.stance_past[c.stance] || c.stance} it`, c.by_renewal ? " by renewing the alliance" : "",
        ` on ${when(c.at)}`, c.reason ? h("span", { dir: "auto" }, ` (${c.reason})`) : ""),
      c.content_hash && c.erased_since ? [h("p", {}, "Fingerprint recorded then: ", short(c.content_hash)),
        h("p", { class: "muted" }, "Someone's words in it were erased since, at their request: "
          + "it can no longer be rebuilt to check.")]
      : c.content_hash ? [h("p", {}, "Fingerprint recorded then: ", short(c.content_hash)),
        h("p", { class: c.matches ? "matches" : "error" }, c.matches
          ? "The stored record still rebuilds to exactly this."
          : "The stored record no longer rebuilds to what was consented to.")]
        : h("p", { class: "muted" }, "Given before fingerprints were kept: nothing to check."))))
      : h("p", { class: "muted" }, "Nobody consented to this version."),
    h("h2", {}, "Check it yourself"),
    h("p", {}, "This phone reads the agreement as it was at this version, and as it was at each consent, "
      + "and works out the fingerprints itself."),
    check, said);
}

// The fingerprints worked out here, from the states this phone reads, against the recorded ones.
async function checkHere(proof, version, get) {
  const hashAt = async (v) => contentHash(consentedContent(await get(`?version=${v}`)));
  const here = await hashAt(version);
  const recorded = proof.consents.filter((c) => c.content_hash);
  const checked = await Promise.all(recorded.map(async (c) => ({ c,
    ok: (c.content_hash === here) || (await hashAt(c.event_version - 1)) === c.content_hash })));
  const good = checked.filter((x) => x.ok).map((x) => x.c.name);
  const bad = checked.filter((x) => !x.ok).map((x) => x.c.name);
  const start = here === proof.content_hash
    ? `It matches: the text of version ${version} hashes on this phone to ${here.slice(0, 12)}…, as the server says.`
    : `It does not match: the text of version ${version} hashes on this phone to ${here.slice(0, 12)}…, not to what the server says.`;
  return [start,
    good.length ? `${names([...new Set(good)])}: consented to exactly this text.` : "",
    bad.length ? `${names([...new Set(bad)])}: the text this phone rebuilt is not what they consented to.` : ""]
    .filter(Boolean).join(" ");
}

function summary(section, v, state) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (section === "participants") return `${v.name} (${v.role}, ${v.status})`;
  if (section === "consents") return `${WORDS.stance[v.stance] || v.stance} ${versionLabel(state, v.version)}${v.reason ? `: ${v.reason}` : ""}`;
  if (section === "rhythm") return `every ${v.every} ${v.unit}, next ${day(v.next)}`;
  if (section === "commitments") return [v.text, nameOf(state, v.owner_id), v.due ? `by ${day(v.due)}` : "no due date", v.status].join(" · ");
  if (section === "questions") return v.removed ? `${v.text} (removed)` : v.text;
  return typeof v.text === "string" ? v.text : JSON.stringify(v);
}
