// My alliances: status, next review, who has not consented yet, conflicts, pending changes.

import { h, show, day } from "../dom.js";
import { STATUS_WORDS, conflicts, everything, mismatchWords, nameOf, reviewState } from "../model.js";
import * as store from "../store.js";
import { templates } from "./design.js";
import { needsMe } from "./reminders.js";

export default async function list({ main }) {
  templates(); // fetched (once per start) and kept now, so designing works even if the network goes
  const { alliances, rejected } = await everything();
  const cards = alliances.map(({ state, created, pending, mismatch }) => {
    const id = state?.id || created.alliance_id;
    const review = reviewState(state);
    const waiting = state ? state.awaiting_consent.map((uid) => nameOf(state, uid)) : [];
    const open = conflicts(state);
    return h("li", { class: "card" },
      h("a", { href: `#/a/${id}`, class: "card-link" },
        h("h2", {}, state?.title || created.args.title),
        h("p", { class: `badge status-${state?.status || "pending"}` }, state ? STATUS_WORDS[state.status] : "Not yet synced")),
      mismatch && h("p", { class: "mismatch" }, mismatchWords(mismatch)),
      review && h("p", { class: review.label ? `review ${review.label}` : "review" },
        `Next review ${day(review.next)}`, review.label && ` (${review.label})`),
      waiting.length > 0 && state.status !== "closed" && h("p", {}, `Waiting for consent from ${waiting.join(", ")}`),
      open > 0 && h("p", { class: "conflict" }, open === 1 ? "1 conflict to resolve" : `${open} conflicts to resolve`),
      pending.length > 0 && h("p", { class: "pending" }, `${pending.length} change${pending.length > 1 ? "s" : ""} not yet synced`));
  });
  show(main,
    h("h1", {}, "My alliances"),
    await needsMe(), // what is due, overdue, awaiting me (issue 12)
    rejected.map((r) => h("div", { class: "rejected", role: "alert" },
      h("p", {}, `A change could not be made (${r.name.replaceAll("_", " ")}): ${r.error.detail}`),
      h("button", { type: "button", onclick: async () => { await store.dismiss(r.id); list({ main }); } }, "Dismiss"))),
    cards.length ? h("ul", { class: "cards" }, cards)
      : h("p", {}, "No alliances yet. Design one with the people you work or live with."),
    h("p", {}, h("a", { href: "#/new", class: "button primary" }, "Design an alliance")),
    h("nav", { class: "footer-links" }, h("a", { href: "#/allies" }, "Allies"), " ",
      h("a", { href: "#/reminders" }, "Reminders"), " ",
      h("a", { href: "#/devices" }, "Devices and sign out")));
}
