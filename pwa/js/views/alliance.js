// The alliance as a place to find one's way. Its top (#/a/<id>) says what it is,
// what needs me now, who is in it, and invites; then an outline of its screens, each
// on its own address (#/a/<id>/s/<key>): the template's sections, commitments, review
// rhythm, consent, the hard moments, appreciation and export. Also #/a/<id>/review,
// /history, /compare, /restore, /evidence, and the guided walk (?walk=N). Every edit goes
// to the outbox and shows at once, marked as not yet synced.

import { day, h, show } from "../dom.js";
import { STATUS_WORDS, conflicts, mismatchWords, nameOf, one, reviewState } from "../model.js";
import { openedBefore } from "../seen.js";
import * as sync from "../sync.js";
import { undoable } from "../undo.js";
import { versionLabel } from "../versions.js";
import { answerBlock } from "./answers.js";
import { consentPart } from "./consent.js";
import { templates } from "./design.js";
import {
  breakCard, celebrationCard, commitmentsPart, conflictsPart, drafted, dueMark, erasedName, erasedPeople, invitePart, lifePart,
  members, morePart, on, openInvitations, rhythmPart, sortedCommitments,
} from "./parts.js";

const SUBSCREENS = { review: "./review.js", history: "./history.js", compare: "./history.js",
  restore: "./history.js", evidence: "./history.js" };
const RECENT_DAYS = 30; // a renewal stays on the top this long

export default async function alliance(context) {
  const [id, sub, key] = context.parts;
  if (SUBSCREENS[sub]) {
    await (await import(SUBSCREENS[sub])).default({ ...context, id, sub });
    const { item } = await one(id);
    const heading = context.main.querySelector("h1")?.textContent;
    const title = item?.state?.title || item?.created?.args.title;
    if (heading && title) context.main.dataset.title = `${heading} · ${title}`;
    return;
  }
  const { item, session } = await one(id);
  if (!item) {
    show(context.main, h("h1", {}, "Not found"), h("p", {}, "This alliance is not on this device."),
      h("a", { href: "#/" }, "Back to my alliances"));
    return;
  }
  const state = item.state;
  const me = session.user_id;
  const title = state?.title || item.created.args.title;
  const screens = await screensOf(item, session, await openedBefore(id), context.say);
  const frame = { id, item, state, me, title, screens, main: context.main };

  if (context.query.has("walk")) return walk(frame, context.query.get("walk"));
  // A reminder's link names a part (?part=commitments): it opens that part's screen.
  const wanted = sub === "s" ? key : context.query.get("part");
  const screen = wanted && screens.find((s) => s.key === wanted);
  if (screen) return drawScreen(frame, screen);
  if (wanted && sub === "s") {
    show(context.main, back(id, title), h("h1", {}, "Not found"), h("p", {}, "This part of the alliance is not there (any more)."));
    return;
  }
  drawTop(frame);
}

const back = (id, title) => h("p", {}, h("a", { href: `#/a/${id}`, class: "back" }, `← ${title}`));

function badge(item) {
  const state = item.state;
  return h("p", { class: "status-line" }, h("span", { class: `badge status-${state?.status || "pending"}` },
    state ? STATUS_WORDS[state.status] : "Not yet synced"),
  item.pending.length > 0 && h("span", { class: "pending" }, ` · ${item.pending.length} change(s) not yet synced`));
}

// Every screen of the alliance, in outline order: { key, title, note, draw, step }.
async function screensOf(item, session, since, say) {
  const state = item.state;
  const me = session.user_id;
  const id = state?.id || item.created.alliance_id;
  const act = undoable(item, me, (name, args) => sync.mutate(name, id, args)); // undo.js offers to take it back
  const readOnly = state?.status === "closed";
  const template = state?.template || item.created.args.template;
  const { titles, hints, order } = await templateWords(template);
  const questions = state ? Object.entries(state.questions).filter(([, q]) => !q.removed)
    : order.flatMap((s) => s.questions.map((q) => [q.key, { section: s.key, text: q.text }]));
  const sections = new Map();
  for (const [qid, q] of questions) {
    if (!sections.has(q.section)) sections.set(q.section, []);
    sections.get(q.section).push([qid, q]);
  }
  const answered = ([qid, q]) => (q.private ? state?.own_answers?.[qid]?.[me] : state?.answers?.[qid]?.text);
  const screens = [...sections].map(([key, list]) => ({
    key, step: true,
    title: titles[key] || (key === "ours" ? "Our own questions" : key),
    note: `answered ${list.filter(answered).length} of ${list.length}`,
    draw: () => [list.map(([qid, q]) => answerBlock(item, qid, q, hints[qid], act, me, readOnly, since)),
      !readOnly && state && addQuestionForm(key, act)],
  }));
  // Questions of our own have a place even before the first one is added.
  if (state && !readOnly && !sections.has("ours")) {
    screens.push({ key: "ours", title: "Our own questions", note: "add questions of your own",
      draw: () => [h("p", { class: "muted" }, "Questions the template does not ask, that matter to you."), addQuestionForm("ours", act)] });
  }
  const needsState = (draw) => () => (state ? draw()
    : h("p", { class: "muted" }, "This alliance has not reached the server yet: this part works once it has synced."));
  const commitments = Object.values(state?.commitments || {});
  const open = commitments.filter((c) => c.status === "open");
  const late = open.filter((c) => dueMark(c)?.kind === "overdue").length;
  const waiting = state ? state.awaiting_consent?.length || 0 : 0;
  const stanceNote = !state ? "" : state.status === "agreed" ? "agreed by everyone"
    : waiting ? `waiting for ${waiting} of ${members(state).length}` : "";
  const rhythm = state?.rhythm;
  const count = conflicts(state);
  return [
    // Listed only while there are some; its address keeps working once they are resolved.
    { key: "conflicts", title: "Conflicts to resolve", note: `${count} to resolve`, unlisted: !count,
      draw: needsState(() => conflictsPart(state, act)) },
    ...screens,
    { key: "commitments", step: true, title: "Commitments", note: [`${open.length} open`, late && `${late} overdue`].filter(Boolean).join(", "),
      draw: () => commitmentsPart(state ? item : { ...item, state: unsynced(session) }, act, me, readOnly, since) },
    { key: "rhythm", step: !!state, title: "Review rhythm",
      note: rhythm ? `every ${rhythm.every} ${rhythm.unit}${rhythm.next && !readOnly ? `, next ${day(rhythm.next)}` : ""}` : "not set yet",
      draw: needsState(() => rhythmPart(item, act, readOnly)) },
    { key: "consent", step: !!state, title: "Consent", note: stanceNote, draw: needsState(() => consentPart(item, act, me, readOnly)) },
    { key: "life", title: "Breaking, renewing, closing", note: state?.status === "broken" ? "broken: renew it together"
      : state?.status === "closed" ? "closed" : "if one of us breaks it, or when it ends",
    draw: needsState(() => lifePart(item, act, me)) },
    { key: "more", title: "Appreciate and export", note: "thanks, print, download, leave", draw: needsState(() => morePart(item, act, me, say)) },
  ];
}

// One screen of the alliance, with a way back and on.
function drawScreen(frame, screen) {
  const { id, item, title, screens, main } = frame;
  const listed = screens.filter((s) => !s.unlisted);
  const at = listed.indexOf(screen);
  const [before, after] = at < 0 ? [null, listed[0]] : [listed[at - 1], listed[at + 1]];
  show(main,
    back(id, title),
    h("h1", {}, screen.title),
    badge(item),
    item.mismatch && h("p", { class: "mismatch", role: "alert" }, mismatchWords(item.mismatch)),
    screen.draw(),
    h("nav", { class: "pager", "aria-label": "Parts of this alliance" },
      before && h("a", { class: "button", href: `#/a/${id}/s/${before.key}` }, h("span", { "aria-hidden": "true" }, "← "), before.title),
      after && h("a", { class: "button", href: `#/a/${id}/s/${after.key}` }, after.title, h("span", { "aria-hidden": "true" }, " →")),
      h("a", { class: "button", href: `#/a/${id}` }, "All parts")));
  main.dataset.title = `${screen.title} · ${title}`;
}

// The guided walk after designing: one section at a time, then commitments, rhythm and consent.
function walk(frame, wanted) {
  const { id, item, title, screens, main } = frame;
  const steps = screens.filter((s) => s.step);
  const at = Math.min(Math.max(Number(wanted) || 0, 0), steps.length - 1);
  show(main,
    h("p", {}, h("a", { href: `#/a/${id}` }, "← The whole alliance")),
    h("h1", {}, title), badge(item),
    h("p", { class: "muted" }, `Step ${at + 1} of ${steps.length}`),
    h("section", { class: "part" }, h("h2", {}, steps[at].title), steps[at].draw()),
    h("nav", { class: "row", "aria-label": "Steps" },
      at > 0 && h("a", { class: "button", href: `#/a/${id}?walk=${at - 1}` }, "Back"),
      at < steps.length - 1 ? h("a", { class: "button primary", href: `#/a/${id}?walk=${at + 1}` }, "Next")
        : h("a", { class: "button primary", href: `#/a/${id}` }, "Done")));
  main.dataset.title = `${steps[at].title} · ${title}`;
}

// The top: what it is, the moment it is in, what needs me, who is in it, invite, then the outline.
function drawTop(frame) {
  const { id, item, state, me, title, screens, main } = frame;
  const last = state?.breaks?.at(-1);
  const recent = last?.renewed && (!last.renewed.at || Date.now() - new Date(last.renewed.at) < RECENT_DAYS * 86_400_000);
  show(main,
    h("p", {}, h("a", { href: "#/", class: "back" }, "← My alliances")),
    h("h1", {}, title),
    badge(item),
    item.mismatch && h("p", { class: "mismatch", role: "alert" }, mismatchWords(item.mismatch)),
    state?.status === "broken" && h("section", { class: "top-moment", "aria-label": "Our agreement is broken" },
      breakCard(state, last, me, { withAnswer: true }),
      h("p", {}, h("a", { class: "button primary", href: `#/a/${id}/s/life` }, "Talk it through, then renew"))),
    state?.status === "closed" && state.closing && h("section", { class: "top-moment", "aria-label": "Closed, with a celebration" },
      celebrationCard(state, me)),
    state && state.status !== "broken" && recent && h("section", { class: "top-moment", "aria-label": "Renewed" },
      breakCard(state, last, me)),
    state && needsMe(id, state, me),
    state && people(state, me),
    state && state.status !== "closed" && invitePart(state, (name, args) => sync.mutate(name, id, args)),
    h("h2", {}, "Parts of this alliance"),
    h("ul", { class: "cards outline" }, screens.filter((s) => !s.unlisted).map((s) => h("li", {},
      h("a", { class: "card card-link", href: `#/a/${id}/s/${s.key}` },
        h("span", { class: "outline-title" }, s.title), s.note && h("span", { class: "muted" }, s.note))))),
    h("nav", { class: "row more-links", "aria-label": "About this alliance" },
      h("a", { class: "button", href: `#/a/${id}/history` }, "History"),
      state && state.status !== "closed" && h("a", { class: "button", href: `#/a/${id}/review` }, "Hold a review"),
      h("a", { class: "button", href: `#/a/${id}?walk=0` }, "Walk through it step by step")));
  main.dataset.title = title;
}

// What needs me now: my consent, conflicts, my commitments due or overdue, the next review.
function needsMe(id, state, me) {
  const needs = [];
  const open = state.status !== "closed";
  if (open && state.status !== "broken" && state.awaiting_consent?.includes(me)) {
    needs.push(["consent", `Your consent to ${versionLabel(state, state.content_version)} is awaited.`, `#/a/${id}/s/consent`]);
  }
  const count = conflicts(state);
  if (count) needs.push(["conflict", count === 1 ? "1 conflict to resolve." : `${count} conflicts to resolve.`, `#/a/${id}/s/conflicts`]);
  for (const [, c] of sortedCommitments(state, me)) {
    const mark = c.owner_id === me && dueMark(c);
    if (mark) needs.push([mark.kind, `${mark.words}: ${c.text}`, `#/a/${id}/s/commitments`]);
  }
  const review = open && reviewState(state);
  if (review) {
    needs.push([review.label === "overdue" ? "overdue" : review.label ? "soon" : "review",
      review.label === "overdue" ? `The review was due on ${day(review.next)}.` : `Next review: ${day(review.next)}.`, `#/a/${id}/review`]);
  }
  return h("section", { class: "needs", "aria-labelledby": "needs-title" },
    h("h2", { id: "needs-title" }, "What needs you"),
    needs.length ? h("ul", { class: "needs-list" }, needs.map(([kind, words, href]) => h("li", { class: `need-${kind}` },
      h("a", { href }, words))))
      : h("p", { class: "muted" }, open ? "Nothing needs you right now." : "Nothing: this alliance is closed."));
}

function people(state, me) {
  const joined = members(state).map(([uid, p]) => (uid === me ? `${p.name} (you)` : p.name));
  const invited = openInvitations(state).filter(([, i]) => i.name).map(([, i]) => `${i.name} (invited)`);
  return h("section", { class: "people", id: "people", "aria-labelledby": "people-title" },
    h("h2", { id: "people-title" }, "Who is in it"),
    h("p", { class: "said" }, [...joined, ...invited].join(", ")),
    erasedPeople(state).map(([, p, erasure]) => h("p", { class: "muted" }, erasedName(p, erasure))),
    state.participants[state.facilitator]?.status !== "erased"
      && h("p", { class: "muted" }, `${nameOf(state, state.facilitator)} facilitates${on(state.participants[state.facilitator]?.joined_at)}.`));
}

// An alliance made on this device that has not reached the server yet: commitments
// can be made already, by its only participant so far, the one who made it.
function unsynced(session) {
  const me = { name: session.display_name || session.email, status: "joined" };
  return { commitments: {}, participants: { [session.user_id]: me }, invitations: {} };
}

// The template's words: section titles, the hint under each question that has one, its sections in order.
async function templateWords(name) {
  const sections = (await templates()).find((t) => t.name === name)?.sections || [];
  return { titles: Object.fromEntries(sections.map((s) => [s.key, s.title])), order: sections.filter((s) => s.questions?.length),
    hints: Object.fromEntries(sections.flatMap((s) => (s.questions || []).filter((q) => q.hint).map((q) => [q.key, q.hint]))) };
}

function addQuestionForm(section, act) {
  return h("details", { class: "part" }, h("summary", {}, "Add a question of your own here"),
    drafted(`add-question:${section}`, "A question of your own", h("form", { class: "stack", onsubmit: (event) => {
      event.preventDefault();
      const text = new FormData(event.target).get("text");
      act("add_question", { question_id: crypto.randomUUID(), section, text });
      event.target.reset();
    } },
    h("label", {}, "Question", h("input", { name: "text", required: true, maxlength: 500 })),
    h("button", { type: "submit" }, "Add question"))));
}
