// Hold a review, on a phone and offline: walk each open commitment (are we
// keeping to it?), who came, notes, what to keep, start and stop, and the next
// date. Everything comes from this device's copy; the review goes to the outbox.

import { MAX_TEXT, day, h, show, uuid } from "../dom.js";
import { nameOf, one } from "../model.js";
import * as sync from "../sync.js";

// A date as the person's own calendar has it (not UTC), as YYYY-MM-DD.
function isoDay(d) {
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

function nextDate(rhythm, from = new Date()) {
  if (!rhythm) return "";
  const next = new Date(from);
  next.setDate(next.getDate() + rhythm.every * (rhythm.unit === "weeks" ? 7 : 1));
  return isoDay(next);
}

// Open commitments as they will be when this review reaches the server: the
// server's open ones, less those this device has marked done or withdrawn,
// plus those made here and not yet synced (they go first in the outbox).
function openCommitments(item) {
  const state = item.state;
  const ending = new Set(item.pending.filter((m) => ["complete_commitment", "withdraw_commitment"].includes(m.name))
    .map((m) => m.args.commitment_id));
  const open = Object.entries(state.commitments)
    .filter(([cid, c]) => c.status === "open" && !ending.has(cid))
    .map(([cid, c]) => ({ id: cid, text: c.text, owner: c.owner_id, due: c.due, pending: false }));
  const made = item.pending.filter((m) => m.name === "make_commitment" && !state.commitments[m.args.commitment_id]
    && !ending.has(m.args.commitment_id))
    .map((m) => ({ id: m.args.commitment_id, text: m.args.text, owner: m.args.owner_id, due: m.args.due, pending: true }));
  return [...open, ...made];
}

function commitmentQuestion(state, c, index) {
  const name = `kept-${index}`;
  const choice = (value, words) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value, dataset: { commitment: c.id } }), words);
  return h("li", { class: "card" },
    h("fieldset", {},
      h("legend", {}, h("strong", { dir: "auto" }, c.text), h("span", { class: "visually-hidden" }, ": are we keeping to it?")),
      h("p", { class: "muted" }, h("span", { dir: "auto" }, nameOf(state, c.owner)), c.due ? ` · by ${day(c.due)}` : " · no due date",
        c.pending && h("span", { class: "pending" }, " · not yet synced")),
      h("p", { "aria-hidden": "true" }, "Are we keeping to it?"),
      h("div", { class: "row" }, choice("yes", "Yes"), choice("no", "No"))));
}

function reviewCard(state, r, pending) {
  const kept = Object.values(r.kept || {});
  const said = [["Notes", r.notes], ["Keep", r.keep], ["Start", r.start], ["Stop", r.stop]].filter(([, text]) => text);
  return h("li", { class: pending ? "card pending-box" : "card" },
    h("h3", {}, `Review of ${day(r.held_on)}`, pending && h("span", { class: "pending" }, " (not yet synced)")),
    h("p", {}, `With ${r.attendees.map((uid) => nameOf(state, uid)).join(", ")}.`,
      kept.length ? ` ${kept.filter(Boolean).length} of ${kept.length} commitments kept.` : ""),
    said.map(([label, text]) => h("p", { class: "answer" }, h("strong", {}, `${label}: `), h("span", { dir: "auto" }, text))),
    r.next_date && h("p", { class: "muted" }, `Next review ${day(r.next_date)}.`));
}

export default async function review({ main, id }) {
  const { item } = await one(id);
  const back = h("p", {}, h("a", { href: `#/a/${id}` }, "← Back to the alliance"));
  if (!item?.state) {
    show(main, back, h("h1", {}, "Hold a review"),
      h("p", {}, item ? "This alliance has not reached the server yet: hold a review once it has synced."
        : "This alliance is not on this device."));
    return;
  }
  const state = item.state;
  const members = Object.entries(state.participants).filter(([, p]) => p.status === "joined");
  const commitments = openCommitments(item);
  const reviewId = uuid(); // one per screen: a double tap records the review once
  const error = h("p", { class: "error", role: "alert" });

  async function submit(event) {
    event.preventDefault();
    const form = event.target;
    const attendees = [...form.querySelectorAll("input[name=attendee]:checked")].map((i) => i.value);
    if (!attendees.length) {
      error.textContent = "Tick at least one person who took part.";
      form.querySelector("input[name=attendee]").focus();
      return;
    }
    const kept = {};
    for (const input of form.querySelectorAll("input[type=radio]:checked")) kept[input.dataset.commitment] = input.value === "yes";
    const values = Object.fromEntries(new FormData(form));
    form.querySelector("button[type=submit]").disabled = true;
    await sync.mutate("hold_review", id, {
      review_id: reviewId, held_on: values.held_on, attendees, kept, notes: values.notes,
      keep: values.keep, start: values.start, stop: values.stop, next_date: values.next_date || null,
    });
    location.hash = `#/a/${id}`;
  }

  const pendingReviews = item.pending.filter((m) => m.name === "hold_review" && !state.reviews[m.args.review_id])
    .map((m) => [m.args, true]);
  const past = [...pendingReviews, ...Object.values(state.reviews).map((r) => [r, false])]
    .sort(([a], [b]) => (b.held_on || "").localeCompare(a.held_on || ""));
  const closed = state.status === "closed";

  show(main, back,
    h("h1", {}, "Hold a review"),
    h("p", { class: "muted" }, state.title),
    closed ? h("p", {}, "This alliance is closed: it can be read but no longer reviewed.")
      : h("form", { class: "stack", onsubmit: submit, dataset: { draft: "review", draftName: "This review" } },
        h("label", {}, "Held on", h("input", { type: "date", name: "held_on", required: true, value: isoDay(new Date()) })),
        h("section", { class: "part" },
          h("h2", {}, "Our commitments"),
          commitments.length ? h("ul", { class: "cards" }, commitments.map((c, i) => commitmentQuestion(state, c, i)))
            : h("p", { class: "muted" }, "No open commitments to walk through.")),
        h("section", { class: "part" },
          h("fieldset", {}, h("legend", {}, h("h2", {}, "Who took part")),
            members.map(([uid, p]) => h("label", { class: "choice" },
              h("input", { type: "checkbox", name: "attendee", value: uid, checked: true }), h("span", { dir: "auto" }, p.name))))),
        h("section", { class: "part" },
          h("h2", {}, "What we say"),
          h("label", {}, "Notes", h("textarea", { name: "notes", maxlength: MAX_TEXT })),
          h("label", {}, "What to keep doing", h("textarea", { name: "keep", maxlength: MAX_TEXT })),
          h("label", {}, "What to start", h("textarea", { name: "start", maxlength: MAX_TEXT })),
          h("label", {}, "What to stop", h("textarea", { name: "stop", maxlength: MAX_TEXT })),
          h("label", {}, "Next review", h("input", { type: "date", name: "next_date", value: nextDate(state.rhythm) })),
          state.rhythm ? h("p", { class: "muted" }, `Your rhythm: every ${state.rhythm.every} ${state.rhythm.unit}.`)
            : h("p", { class: "muted" }, "No review rhythm is set: the date is kept with this review only.")),
        error,
        h("button", { type: "submit", class: "primary" }, "Record the review")),
    h("section", { class: "part" },
      h("h2", {}, "Past reviews"),
      past.length ? h("ul", { class: "cards" }, past.map(([r, pending]) => reviewCard(state, r, pending)))
        : h("p", { class: "muted" }, "No reviews yet.")));
}
