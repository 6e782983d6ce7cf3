// The alliance on one screen: answers by section, commitments, review rhythm,
// consent, and what to do when it gets hard. Every edit goes to the outbox
// and shows at once, marked as not yet synced.
// Sub-screens: #/a/<id>/review, /history, /compare.

import { h, show } from "../dom.js";
import { STATUS_WORDS, mismatchWords, nameOf, one, pendingValue } from "../model.js";
import * as sync from "../sync.js";
import { answerBlock } from "./answers.js";
import { templates } from "./design.js";
import { commitmentsPart, conflictsPart, lifecyclePart, rhythmPart } from "./parts.js";

const SUBSCREENS = { review: "./review.js", history: "./history.js", compare: "./history.js" };

export default async function alliance(context) {
  const [id, sub] = context.parts;
  if (SUBSCREENS[sub]) return (await import(SUBSCREENS[sub])).default({ ...context, id, sub });
  const { item, session } = await one(id);
  if (!item) {
    show(context.main, h("h1", {}, "Not found"), h("p", {}, "This alliance is not on this device."),
      h("a", { href: "#/" }, "Back to my alliances"));
    return;
  }
  const state = item.state;
  const act = (name, args) => sync.mutate(name, id, args);
  const me = session.user_id;
  const questions = state ? Object.entries(state.questions).filter(([, q]) => !q.removed)
    : await templateQuestions(item.created.args.template);
  const sections = new Map();
  for (const [qid, q] of questions) {
    if (!sections.has(q.section)) sections.set(q.section, []);
    sections.get(q.section).push([qid, q]);
  }
  const { titles, hints } = await templateWords(state?.template || item.created.args.template);
  const block = ([qid, q]) => answerBlock(item, qid, q, hints[qid], act, me, readOnly);
  const readOnly = state?.status === "closed";
  const badge = () => h("p", {}, h("span", { class: `badge status-${state?.status || "pending"}` },
    state ? STATUS_WORDS[state.status] : "Not yet synced"),
  item.pending.length > 0 && h("span", { class: "pending" }, ` · ${item.pending.length} change(s) not yet synced`));
  const commitments = () => commitmentsPart(state ? item : { ...item, state: unsynced(session) }, act, me, readOnly);

  // The guided walk after designing: one section at a time, then commitments, rhythm and consent.
  if (context.query.has("walk")) {
    const steps = [...[...sections].map(([key, list]) => () => h("section", { class: "part" },
      h("h2", {}, titles[key] || key), list.map(block))),
    commitments, ...(state ? [() => rhythmPart(item, act, readOnly), () => consentPart(item, act, me, readOnly)] : [])];
    const at = Math.min(Math.max(Number(context.query.get("walk")) || 0, 0), steps.length - 1);
    show(context.main,
      h("p", {}, h("a", { href: `#/a/${id}` }, "← The whole alliance")),
      h("h1", {}, state?.title || item.created.args.title), badge(),
      h("p", { class: "muted" }, `Step ${at + 1} of ${steps.length}`),
      steps[at](),
      h("nav", { class: "row", "aria-label": "Steps" },
        at > 0 && h("a", { class: "button", href: `#/a/${id}?walk=${at - 1}` }, "Back"),
        at < steps.length - 1 ? h("a", { class: "button primary", href: `#/a/${id}?walk=${at + 1}` }, "Next")
          : h("a", { class: "button primary", href: `#/a/${id}` }, "Done")));
    return;
  }

  show(context.main,
    h("p", {}, h("a", { href: "#/" }, "← My alliances")),
    h("h1", {}, state?.title || item.created.args.title),
    badge(),
    item.mismatch && h("p", { class: "mismatch", role: "alert" }, mismatchWords(item.mismatch)),
    h("nav", { class: "row", "aria-label": "About this alliance" },
      h("a", { class: "button", href: `#/a/${id}/history` }, "History"),
      state && h("a", { class: "button", href: `#/a/${id}/review` }, "Hold a review")),
    state && conflictsPart(state, act),
    [...sections].map(([key, list]) => h("section", { class: "part" },
      h("h2", {}, titles[key] || key),
      list.map(block))),
    !readOnly && addQuestionForm(sections, titles, act),
    commitments(),
    h("p", {}, h("a", { class: "button", href: `#/a/${id}?walk=0` }, "Walk through it step by step")),
    state && rhythmPart(item, act, readOnly),
    state && consentPart(item, act, me, readOnly),
    state && lifecyclePart(item, act, me, context.say));
}

// An alliance made on this device that has not reached the server yet: commitments
// can be made already, by its only participant so far, the one who made it.
function unsynced(session) {
  const me = { name: session.display_name || session.email, status: "joined" };
  return { commitments: {}, participants: { [session.user_id]: me } };
}

async function templateQuestions(name) {
  const template = (await templates()).find((t) => t.name === name);
  return (template?.sections || []).flatMap((s) => s.questions.map((q) => [q.key, { section: s.key, text: q.text }]));
}

// The template's words: section titles, and the hint under each question that has one.
async function templateWords(name) {
  const sections = (await templates()).find((t) => t.name === name)?.sections || [];
  return { titles: Object.fromEntries(sections.map((s) => [s.key, s.title])),
    hints: Object.fromEntries(sections.flatMap((s) => s.questions.filter((q) => q.hint).map((q) => [q.key, q.hint]))) };
}

function addQuestionForm(sections, titles, act) {
  return h("details", { class: "part" }, h("summary", {}, "Add a question of your own"),
    h("form", { class: "stack", onsubmit: (event) => {
      event.preventDefault();
      const form = Object.fromEntries(new FormData(event.target));
      act("add_question", { question_id: crypto.randomUUID(), section: form.section, text: form.text });
      event.target.reset();
    } },
    h("label", {}, "Section", h("select", { name: "section" },
      [...sections.keys(), "ours"].map((key) => h("option", { value: key }, titles[key] || (key === "ours" ? "Our own questions" : key))))),
    h("label", {}, "Question", h("input", { name: "text", required: true, maxlength: 500 })),
    h("button", { type: "submit" }, "Add question")));
}

function consentPart(item, act, me, readOnly) {
  const state = item.state;
  const mine = pendingValue(item, "give_consent", () => true);
  const stanceWords = { support: "supports", live_with: "can live with", object: "objects to" };
  const reason = h("input", { name: "reason", maxlength: 1000, "aria-label": "Why you object (needed to object)" });
  const give = (stance) => act("give_consent", { version: state.content_version, stance, reason: reason.value });
  return h("section", { class: "part", id: "consent" },
    h("h2", {}, "Consent"),
    h("p", {}, `Current version: ${state.content_version}.`,
      state.agreed_versions.length ? ` Agreed versions: ${state.agreed_versions.join(", ")}.` : " Not agreed yet."),
    h("ul", {}, Object.entries(state.participants).filter(([, p]) => p.status === "joined").map(([uid, p]) => {
      const c = state.consents[uid];
      const current = c && c.version === state.content_version;
      return h("li", {}, p.name, ": ", current ? `${stanceWords[c.stance]} this version${c.reason ? ` (${c.reason})` : ""}`
        : h("strong", {}, "has not consented to this version yet"));
    })),
    mine && h("p", { class: "pending-box" }, `Your consent (${stanceWords[mine.stance]}) is not yet synced.`),
    !readOnly && state.status !== "broken" && h("div", { class: "stack" },
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", onclick: () => give("support") }, "I support it"),
        h("button", { type: "button", onclick: () => give("live_with") }, "I can live with it")),
      h("label", {}, "I object, because…", reason),
      h("button", { type: "button", onclick: () => (reason.value.trim() ? give("object") : reason.focus()) }, "Object")),
    h("p", { class: "muted" }, `${nameOf(state, state.facilitator)} facilitates.`));
}
