// A change the server refused, shown on the thing it was about (the question, the commitment, the
// consent, ...), in words: what the change was, the server's reason, and what to do. What the person
// typed is back in its form as a draft (store.recordRejections): "Edit and try again" or "Discard".
// The list of alliances only counts them (views/list.js); an alliance's top lists them with links.

import { day, h } from "./dom.js";
import WORDS from "./words.json" with { type: "json" };
import * as drafts from "./drafts.js";
import * as store from "./store.js";

const quoted = (text) => (text ? `“${text.length > 80 ? `${text.slice(0, 79)}…` : text}”` : "");

// What the change was, in words: never the mutation's name.
export function what(r, state) {
  const a = r.args || {};
  const question = quoted(state?.questions?.[a.question_id]?.text);
  const commitment = quoted(state?.commitments?.[a.commitment_id]?.text);
  const ally = quoted(a.name);
  const words = {
    create_alliance: `Making the alliance ${quoted(a.title)}`,
    answer_question: question ? `Your answer to ${question}` : "Your answer",
    give_own_answer: question ? `Your own answer to ${question}` : "Your own answer",
    share_own_answer: `Sharing your answer${question && ` to ${question}`}`,
    add_question: `Adding the question ${quoted(a.text)}`,
    reword_question: `New words for the question ${question}`,
    remove_question: `Removing the question ${question}`,
    make_commitment: `The new commitment ${quoted(a.text)}`,
    amend_commitment: `Your change to the commitment ${commitment}`,
    complete_commitment: `Marking the commitment ${commitment} done`,
    withdraw_commitment: `Withdrawing the commitment ${commitment}`,
    resolve_conflict: "Resolving a conflict",
    schedule_review: "The review rhythm",
    hold_review: `The review of ${day(a.held_on)}`,
    give_consent: `Your consent to version ${a.version} (${WORDS.stance_mine[a.stance]?.toLowerCase() || "your stance"} it)`,
    break_alliance: "Saying that your agreement is broken",
    renew_alliance: "Renewing the alliance",
    close_alliance: "Closing the alliance",
    appreciate: "Your appreciation",
    leave_alliance: "Leaving the alliance",
    revoke_invitation: "Revoking an invitation",
    rename_alliance: `Renaming it ${quoted(a.title)}`,
    archive_alliance: "Archiving it",
    unarchive_alliance: "Unarchiving it",
    add_goal: `The goal ${quoted(a.text)}`,
    add_ally: `Adding ${ally || "an ally"} to your map`,
    update_ally: `Your change to ${ally || "an ally"}`,
    remove_ally: "Taking an ally off your map",
    check_in_with_ally: "A check-in with an ally",
    thank_ally: "Thanking an ally",
  }[r.name];
  return words || "A change";
}

// Where it shows: the element it is about on the screen it is on, and that screen's address.
function place(r, state) {
  const a = r.args || {};
  const id = r.alliance_id;
  const part = (key) => `#/a/${id}/s/${key}`;
  if (!id) return { target: a.ally_id ? `[data-ally="${a.ally_id}"]` : "#add", screen: "#/allies" };
  if (a.question_id && r.name !== "resolve_conflict") {
    const section = state?.questions?.[a.question_id]?.section;
    return { target: `[data-question="${a.question_id}"]`, screen: section ? part(section) : `#/a/${id}` };
  }
  if (r.name === "add_question") return { target: null, screen: part(a.section) };
  if (a.commitment_id && r.name !== "make_commitment" && r.name !== "resolve_conflict") {
    return { target: `[data-commitment="${a.commitment_id}"]`, screen: part("commitments") };
  }
  const byName = {
    make_commitment: ["#commitments", "commitments"], resolve_conflict: ["#conflicts", "conflicts"],
    schedule_review: ["#rhythm", "rhythm"], give_consent: ["#consent", "consent"],
    break_alliance: ["#life", "life"], renew_alliance: ["#life", "life"], close_alliance: ["#life", "life"],
    appreciate: ["#more", "more"], leave_alliance: ["#more", "more"],
  }[r.name];
  if (byName) return { target: byName[0], screen: part(byName[1]) };
  if (r.name === "hold_review") return { target: "form[data-draft=review]", screen: `#/a/${id}/review` };
  if (["rename_alliance", "archive_alliance", "unarchive_alliance"].includes(r.name)) {
    return { target: `li[data-alliance="${id}"]`, screen: "#/" };
  }
  return { target: "#invite", screen: `#/a/${id}` };
}

export const screenOf = (r, state) => place(r, state).screen;

// What was typed, for where its form is not on screen (an alliance this phone no longer has).
function typedTexts(r) {
  const fields = r.draft?.fields || {};
  return Object.values(fields).filter((v) => typeof v === "string" && v.trim().length > 1 && !/^[\d-]+$/.test(v));
}

// When the thing moved on meanwhile: what it is now, beside what I wanted.
function movedOn(r, state) {
  const a = r.args || {};
  const c = state?.commitments?.[a.commitment_id];
  if (r.name === "amend_commitment" && c && c.status !== "open") {
    const now = c.status === "withdrawn" ? `withdrawn${c.withdrawn?.reason ? `: ${c.withdrawn.reason}` : ""}`
      : c.status === "done" ? "done" : "closed with the alliance";
    return h("div", { class: "beside" },
      h("p", {}, h("strong", {}, "Now: "), h("span", { dir: "auto" }, c.text), ` (${now})`),
      h("p", {}, h("strong", {}, "Yours: "), h("span", { dir: "auto" }, a.text ?? c.text),
        a.due ? ` · by ${day(a.due)}` : ""));
  }
  if (r.name === "give_consent" && state && state.content_version > a.version) {
    return h("p", {}, h("strong", {}, `The agreement is at version ${state.content_version} now. `),
      "Look at it again below, and give your consent to this version.");
  }
  return null;
}

// The box on the item: the change, the reason, what to do, and the buttons for it.
export function box(r, state, main, redraw) {
  const key = r.draft?.key;
  const here = key && drafts.formOf(main, key);
  const moved = movedOn(r, state);
  const a = r.args || {};
  const commitmentGone = r.name === "amend_commitment" && moved;
  const done = async () => { await store.dismiss(r.id); redraw(); };
  const todo = commitmentGone ? "Your text is kept here: make it a new commitment, or discard it."
    : here ? "What you wrote is back in the form as a draft: edit it and save again, or discard it."
      : r.draft && typedTexts(r).length ? "What you wrote is kept here: copy it if you need it."
        : moved ? "" : "Nothing else changed.";
  return h("div", { class: "rejected", role: "alert", dataset: { rejected: r.id } },
    h("p", {}, h("strong", {}, `${what(r, state)} could not be saved. `), r.error?.detail || ""),
    moved,
    !here && !commitmentGone && typedTexts(r).map((text) => h("p", { class: "said", dir: "auto" }, text)),
    todo && h("p", {}, todo),
    h("div", { class: "row" },
      commitmentGone && h("button", { type: "button", class: "primary", onclick: async () => {
        const draft = { key: key.replace(/[^|]*$/, "commitment-new"), at: new Date().toISOString(),
          fields: { text: a.text ?? state.commitments[a.commitment_id].text, owner_id: a.owner_id, due: a.due || "" } };
        await store.keepDraft(draft);
        if (key) await store.dropDraft(key);
        await done();
      } }, "Make it a new commitment"),
      here && h("button", { type: "button", class: "primary", onclick: async () => {
        await store.dismiss(r.id);
        main.querySelector(`[data-rejected="${r.id}"]`)?.remove();
        drafts.edit(main, key);
      } }, "Edit and try again"),
      h("button", { type: "button", onclick: async () => {
        if (key) await store.dropDraft(key);
        await done();
      } }, key ? "Discard" : "Dismiss")));
}

// After each drawing of the screen: each refusal on its item; on an alliance's top, a list with links.
export async function placeAll(main, redraw) {
  const rejected = await store.rejected();
  if (!rejected.length) return;
  const hash = location.hash || "#/";
  const allianceId = /^#\/a\/([^/?]+)/.exec(hash)?.[1];
  const states = new Map((await store.alliances()).map((s) => [s.id, s]));
  if (allianceId && /^#\/a\/[^/?]+(\?(?!.*walk=).*)?$/.test(hash)) {
    const mine = rejected.filter((r) => r.alliance_id === allianceId);
    const state = states.get(allianceId);
    if (mine.length) {
      main.querySelector(".status-line")?.after(h("div", { class: "rejected", role: "alert" },
        h("p", {}, h("strong", {}, mine.length === 1 ? "1 change could not be saved:" : `${mine.length} changes could not be saved:`)),
        h("ul", {}, mine.map((r) => h("li", {}, h("a", { href: screenOf(r, state) }, `${what(r, state)}: ${r.error?.detail || ""}`))))));
    }
    return;
  }
  // This screen's own: an alliance's (its parts, review, walk), the allies' (no alliance), the list's cards.
  const own = allianceId ? (r) => r.alliance_id === allianceId
    : hash.startsWith("#/allies") ? (r) => !r.alliance_id : (r) => screenOf(r, states.get(r.alliance_id)) === "#/";
  for (const r of rejected.filter(own)) {
    const state = states.get(r.alliance_id);
    const where = place(r, state);
    if (main.querySelector(`[data-rejected="${r.id}"]`)) continue;
    // Not on this screen's items: on the screen it belongs to, under its title.
    const at = (where.target && main.querySelector(where.target)) || (where.screen === hash && main.querySelector(".status-line"));
    if (!at) continue;
    const shown = box(r, state, main, redraw);
    if (at.matches(".status-line")) { at.after(shown); continue; }
    // Inside the item, under its heading: where the person looks for it.
    const heading = at.querySelector(":scope > h3, :scope > p:first-child");
    if (heading && at.matches(".question, .commitment")) heading.after(shown);
    else at.prepend(shown);
  }
}
