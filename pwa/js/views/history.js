// History in words (who, when, what), the audit check, the alliance as it was at a version,
// two versions compared word by word, and restoring one. It is read from the server: online only.

import { ApiError, call } from "../api.js";
import { day, h, show, when } from "../dom.js";
import { anchor, nameOf, one } from "../model.js";
import * as sync from "../sync.js";
import * as store from "../store.js";

const PAGE = 20;
const GROUPS = {
  Answers: ["QuestionAdded", "QuestionReworded", "QuestionRemoved", "QuestionAnswered", "OwnAnswerGiven"],
  Commitments: ["CommitmentMade", "CommitmentAmended", "CommitmentCompleted", "CommitmentWithdrawn"],
  Conflicts: ["ConflictResolved"], Consent: ["ConsentGiven"], Reviews: ["ReviewScheduled", "ReviewHeld"],
  People: ["ParticipantInvited", "ParticipantJoined", "ParticipantLeft", "ParticipantAppreciated"],
  Lifecycle: ["Designed", "AllianceBroken", "AllianceRenewed", "AllianceClosed"],
  Restores: ["VersionRestored"],
};
const groupOf = (kind) => Object.keys(GROUPS).find((g) => GROUPS[g].includes(kind)) || "Other";
const SECTIONS = { title: "Title", questions: "Questions", answers: "Answers", own_answers: "Own answers",
  commitments: "Commitments", participants: "People", consents: "Consent", rhythm: "Review rhythm" };
const CHANGE_WORDS = { added: "Added", removed: "Removed", changed: "Changed" };
const STANCE_WORDS = { support: "supports", live_with: "can live with", object: "objects to" };
const OFFLINE = "You are offline, and this part of the history was not read on this phone before: come back "
  + "to it when you are online. Everything else in the alliance works offline.";
const UNREACHABLE = "The server could not be reached, and the history needs a connection: try again when you are online.";

// What the reader chose, kept while the same screen is redrawn by a sync.
let memory = { id: null, who: "", kind: "", shown: PAGE };

const problem = (error) => (error instanceof ApiError ? error.message : UNREACHABLE);

export default async function history(context) {
  const { main, id, sub, query, session } = context;
  const compare = sub === "compare";
  const back = compare ? h("p", {}, h("a", { href: `#/a/${id}/history` }, "← History"))
    : h("p", {}, h("a", { href: `#/a/${id}` }, "← Back to the alliance"));
  const title = h("h1", {}, compare ? "Compare two versions" : "History");
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
    if (compare) await comparison(main, id, query, get, back, title);
    else await timeline(main, id, get, back, title);
    if (keptFrom) main.insertBefore(note(), main.children[2] || null);
  } catch (error) {
    show(main, back, title, h("p", { class: "error", role: "alert" }, navigator.onLine ? problem(error) : OFFLINE),
      h("button", { type: "button", onclick: () => history(context) }, "Try again"));
  }
}

async function timeline(main, id, get, back, title) {
  const { item } = await one(id);
  // The server checks its chain, and that it still holds what this phone saw (its anchor).
  const [check, page] = await Promise.all(
    [get(`/verify?${anchor(item)}`), get(`/history?limit=${Math.min(200, memory.shown)}`)]);
  const state = item?.state;
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
    show(list, shown.map((e) => entryCard(id, e, latest, state, get)));
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
    h("section", { class: "part" },
      h("h2", {}, "Who did what, newest first"),
      h("label", { for: "history-who" }, "Who", whoSelect),
      h("label", { for: "history-kind" }, "What", kindSelect),
      count, list, olderPlace));
}

function entryCard(id, e, latest, state, get) {
  const asItWas = h("div", { hidden: true });
  const chooser = Object.assign(compareForm(id, Math.max(1, e.version - 1), latest, `v${e.version}`), { hidden: true });
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
  return h("li", { class: "card" },
    h("p", {}, h("strong", {}, e.who), ` ${e.text}`),
    h("p", { class: "muted" }, h("time", { datetime: e.at }, when(e.at)), ` · version ${e.version}`),
    h("div", { class: "row" },
      h("button", { type: "button", "aria-expanded": "false", onclick: toggle(asItWas, true) }, "View as it was"),
      h("button", { type: "button", "aria-expanded": "false", onclick: toggle(chooser, false) }, "Compare"),
      canRestore && h("button", { type: "button", onclick: () => restore(id, e.version) }, "Restore this version")),
    asItWas, chooser);
}

function asItWasPart(s, version, now) {
  const name = (uid) => (s.participants[uid] ? nameOf(s, uid) : nameOf(now, uid));
  const questions = Object.entries(s.questions).filter(([qid, q]) => !q.removed && s.answers[qid]?.text);
  const unanswered = Object.values(s.questions).filter((q) => !q.removed).length - questions.length;
  const commitments = Object.values(s.commitments);
  return h("div", { class: "stack" },
    h("h3", {}, `As it was at version ${version}: “${s.title}”`),
    h("h4", {}, "Answers"),
    questions.map(([qid, q]) => h("div", {}, h("p", {}, h("strong", {}, q.text)),
      h("p", { class: "answer" }, s.answers[qid].text))),
    unanswered > 0 && h("p", { class: "muted" }, `${unanswered} question${unanswered > 1 ? "s" : ""} not answered then.`),
    h("h4", {}, "Commitments"),
    commitments.length ? h("ul", {}, commitments.map((c) => h("li", {},
      `${c.text} · ${name(c.owner_id)}${c.due ? ` · by ${day(c.due)}` : ""} · ${c.status}`)))
      : h("p", { class: "muted" }, "No commitments."),
    s.rhythm && h("p", {}, `Reviews every ${s.rhythm.every} ${s.rhythm.unit}, next ${day(s.rhythm.next)}.`));
}

function compareForm(id, from, to, key, max = to) {
  const field = (label, name, value) => h("label", { for: `${name}-${key}` }, label,
    h("input", { id: `${name}-${key}`, name, type: "number", min: 1, max, value, required: true, inputmode: "numeric" }));
  return h("form", { class: "stack", onsubmit: (event) => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(event.target));
    location.hash = `#/a/${id}/compare?from=${v.from}&to=${v.to}`;
  } },
  h("div", { class: "row" }, field("From version", "from", from), field("To version", "to", to)),
  h("button", { type: "submit", class: "primary" }, "Compare these versions"));
}

async function restore(id, version) {
  if (!confirm(`Restore version ${version}?\n\nNothing is erased: a new version is added that says `
    + `again what version ${version} said, and every change in between stays in the history.`)) return;
  // The version this phone shows now: whatever others changed since stays, beside the restored words.
  const { item } = await one(id);
  await sync.mutate("restore_version", id, { version, base_version: item?.state?.version || version + 1 });
  location.hash = `#/a/${id}`;
}

async function comparison(main, id, query, get, back, title) {
  const from = Number(query.get("from")), to = Number(query.get("to"));
  const { item } = await one(id);
  const state = item?.state;
  const latest = state?.version || Math.max(from, to, 1);
  const chooser = compareForm(id, from || Math.max(1, latest - 1), to || latest, "top", latest);
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to >= 1)) {
    show(main, back, title, h("p", {}, "Pick two versions to compare."), chooser);
    return;
  }
  const diff = await get(`/diff?from=${from}&to=${to}`);
  const bySection = new Map();
  for (const c of diff.changes) bySection.set(c.section, [...(bySection.get(c.section) || []), c]);
  show(main, back, title, h("p", {}, `From version ${diff.from} to version ${diff.to}. `, diff.empty
    ? "Nothing changed in the agreement, its people or their consent (reviews, thanks and breaks are not compared)."
    : ["Removed words are ", h("del", {}, "struck through"), "; added words are ", h("ins", {}, "underlined"), "."]),
  chooser,
  !diff.empty && [...bySection].map(([section, changes]) => h("section", { class: "part" },
    h("h2", {}, SECTIONS[section] || section),
    h("ul", { class: "cards" }, changes.map((c) => changeCard(c, state))))));
}

function changeCard(c, state) {
  const words = c.words && !(c.section === "commitments" && c.change !== "changed");
  const showValues = !words || c.section === "commitments";
  const before = summary(c.section, c.before, state), after = summary(c.section, c.after, state);
  return h("li", { class: "card" },
    c.label !== SECTIONS[c.section] && h("h3", {}, c.label),
    h("p", {}, h("span", { class: "badge" }, CHANGE_WORDS[c.change] || c.change)),
    words && h("p", { class: "answer" }, c.words.map(([op, text], i) => [i ? " " : "",
      op === "removed" ? h("del", {}, text) : op === "added" ? h("ins", {}, text) : text])),
    showValues && before && h("p", {}, "Was: ", h("del", {}, before)),
    showValues && after && h("p", {}, "Now: ", h("ins", {}, after)));
}

function summary(section, v, state) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (section === "participants") return `${v.name} (${v.role}, ${v.status})`;
  if (section === "consents") return `${STANCE_WORDS[v.stance] || v.stance} version ${v.version}${v.reason ? `: ${v.reason}` : ""}`;
  if (section === "rhythm") return `every ${v.every} ${v.unit}, next ${day(v.next)}`;
  if (section === "commitments") return [v.text, nameOf(state, v.owner_id), v.due ? `by ${day(v.due)}` : "no due date", v.status].join(" · ");
  if (section === "questions") return v.removed ? `${v.text} (removed)` : v.text;
  return typeof v.text === "string" ? v.text : JSON.stringify(v);
}
