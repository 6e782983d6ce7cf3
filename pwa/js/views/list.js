// My alliances: status, next review, who has not consented yet, conflicts, pending changes.
// Each card can be managed from here: renamed, archived (into "Archived" at the bottom, still
// readable, and back again) or left. Archiving is each person's own: the others keep it in their list.

import { h, show, day } from "../dom.js";
import { STATUS_WORDS, conflicts, everything, mismatchWords, nameOf, pendingValue, reviewState } from "../model.js";
import { box, screenOf } from "../rejections.js";
import * as sync from "../sync.js";
import { templates } from "./design.js";
import { needsMe } from "./reminders.js";

export default async function list({ main, session }) {
  templates(); // fetched (once per start) and kept now, so designing works even if the network goes
  const { alliances, rejected } = await everything();
  const me = session.user_id;
  const archived = (item) => {
    const latest = item.pending.filter((m) => ["archive_alliance", "unarchive_alliance"].includes(m.name)).at(-1);
    return latest ? latest.name === "archive_alliance" : Boolean(item.state?.archived_by?.includes(me));
  };
  const card = (item) => {
    const { state, created, pending, mismatch } = item;
    const id = state?.id || created.alliance_id;
    const review = reviewState(state);
    const waiting = state ? state.awaiting_consent.map((uid) => nameOf(state, uid)) : [];
    const open = conflicts(state);
    const renamed = pendingValue(item, "rename_alliance", () => true);
    const leaving = pendingValue(item, "leave_alliance", () => true) || pendingValue(item, "erase_my_words", () => true);
    return h("li", { class: "card", dataset: { alliance: id } },
      h("a", { href: `#/a/${id}`, class: "card-link" },
        h("h2", { dir: "auto" }, renamed?.title || state?.title || created.args.title),
        h("p", { class: `badge status-${state?.status || "pending"}` }, state ? STATUS_WORDS[state.status] : "Not yet synced")),
      mismatch && h("p", { class: "mismatch" }, mismatchWords(mismatch)),
      review && h("p", { class: review.label ? `review ${review.label}` : "review" },
        `Next review ${day(review.next)}`, review.label && ` (${review.label})`),
      waiting.length > 0 && state.status !== "closed" && h("p", {}, `Waiting for consent from ${waiting.join(", ")}`),
      open > 0 && h("p", { class: "conflict" }, open === 1 ? "1 conflict to resolve" : `${open} conflicts to resolve`),
      leaving && h("p", { class: "pending" }, "You are leaving it (not yet synced)"),
      pending.length > 0 && h("p", { class: "pending" }, `${pending.length} change${pending.length > 1 ? "s" : ""} not yet synced`),
      state && !leaving && manage(item, me, archived(item), renamed));
  };
  const cards = alliances.filter((item) => !archived(item)).map(card);
  // Refused changes are shown where they happened; here only counted, with the way there. Those of an
  // alliance no longer on this phone have nowhere else to be: they are shown here, with what was typed.
  const states = new Map(alliances.filter((a) => a.state).map((a) => [a.state.id, a.state]));
  const elsewhere = new Map();
  for (const r of rejected) {
    const screen = screenOf(r, states.get(r.alliance_id));
    if (screen === "#/" || (r.alliance_id && !states.has(r.alliance_id))) continue;
    elsewhere.set(r.alliance_id, [...(elsewhere.get(r.alliance_id) || []), screen]);
  }
  const lost = rejected.filter((r) => r.alliance_id && !states.has(r.alliance_id)
    && !alliances.some((a) => a.created?.alliance_id === r.alliance_id));
  const redraw = () => list({ main, session });
  const archivedCards = alliances.filter(archived).map(card);
  show(main,
    h("h1", {}, "My alliances"),
    await needsMe(), // what is due, overdue, awaiting me (issue 12)
    [...elsewhere].map(([id, screens]) => h("p", { class: "rejected-count" }, h("a", { href: screens[0] },
      `${screens.length === 1 ? "1 change" : `${screens.length} changes`} could not be made: see ${
        id ? `“${states.get(id).title}”` : "your allies"}`))),
    lost.map((r) => box(r, null, main, redraw)),
    cards.length ? h("ul", { class: "cards" }, cards)
      : h("p", {}, archivedCards.length ? "Every alliance of yours is archived: they are under Archived, below."
        : "No alliances yet. Design one with the people you work or live with."),
    h("p", {}, h("a", { href: "#/new", class: "button primary" }, "Design an alliance")),
    archivedCards.length > 0 && h("section", { class: "part archived", id: "archived" },
      h("h2", {}, "Archived"),
      h("p", { class: "muted" }, "Out of your list and still there to read. Archiving is yours alone: the others still see them in their lists."),
      h("ul", { class: "cards" }, archivedCards)),
    h("nav", { class: "footer-links" }, h("a", { href: "#/allies" }, "Allies"), " ",
      h("a", { href: "#/reminders" }, "Reminders"), " ",
      h("a", { href: "#/devices" }, "Account and devices")));
}

// Rename, archive or unarchive, leave: behind a small "Manage" per card, so the list stays a list.
function manage(item, me, isArchived, renamed) {
  const state = item.state;
  const act = (name, args = {}) => sync.mutate(name, state.id, args);
  const title = renamed?.title || state.title;
  const open = state.status !== "closed";
  const others = Object.entries(state.participants).filter(([uid, p]) => uid !== me && p.status === "joined");
  const fieldId = `title-${state.id}`;
  const leave = () => confirm(`Leave "${title}"? It leaves your list and you no longer take part: `
    + `${others.map(([, p]) => p.name).join(", ")} keep${others.length === 1 ? "s" : ""} it. `
    + "What you wrote stays in its history. To come back, someone in it would have to invite you again.")
    && act("leave_alliance");
  return h("details", { class: "manage" },
    // The title in the summary names it for a screen reader, and keeps each card's open/closed apart on a redraw.
    h("summary", {}, "Manage", h("span", { class: "visually-hidden" }, ` ${title}`)),
    open && h("form", { class: "stack", dataset: { draft: "rename", draftName: `A new name for ${title}` }, onsubmit: (event) => {
      event.preventDefault();
      act("rename_alliance", { title: new FormData(event.target).get("title").trim() });
    } },
    h("label", { for: fieldId }, "Name"),
    h("input", { id: fieldId, name: "title", required: true, maxlength: 200, dir: "auto", value: title }),
    h("button", { type: "submit" }, "Rename")),
    h("div", { class: "row" },
      isArchived ? h("button", { type: "button", onclick: () => act("unarchive_alliance") }, "Unarchive")
        : h("button", { type: "button", onclick: () => act("archive_alliance") }, "Archive"),
      open && others.length > 0 && h("button", { type: "button", class: "danger", onclick: leave }, "Leave")),
    open && !others.length && h("p", { class: "muted" }, "Nobody else has joined it yet, so it cannot be left: archive it instead."));
}
