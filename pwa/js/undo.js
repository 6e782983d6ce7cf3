// Undo, right after a change a person made (issue 11): a small "Undo" that sends the reverse as
// a new change, through the outbox like any other (so offline too). Nothing is taken out of the
// history: the undo is one more event. Changes with no reverse (a break, leaving, removing a
// question) ask first instead, where they are made.

import { h } from "./dom.js";
import { pendingValue } from "./model.js";

const SHOWN_MS = 15_000;

// One place for it, outside <main> so a redraw keeps it; a live region, so it is heard.
const region = h("div", { class: "undo-bar", role: "status", "aria-live": "polite" });
document.body.append(region);
let hideTimer = null;

function say(words, undo = null) {
  clearTimeout(hideTimer);
  region.replaceChildren(h("span", {}, words), undo && h("button", { type: "button", onclick: undo }, "Undo"));
  region.classList.toggle("open", Boolean(words));
  hideTimer = setTimeout(() => { region.replaceChildren(); region.classList.remove("open"); }, SHOWN_MS);
}

// What a change did, and the change that takes it back; null when there is nothing to take back.
function reverseOf(item, me, name, args) {
  const state = item.state;
  if (!state) return null;
  const latest = (kind, match) => pendingValue(item, kind, match);
  if (name === "answer_question" || name === "restore_item" && args.question_id) {
    const qid = args.question_id;
    const before = latest("answer_question", (a) => a.question_id === qid)?.text ?? state.answers[qid]?.text ?? "";
    if (name === "answer_question" && before === args.text) return null;
    // The same base as the change itself: this phone's own run of edits, so no conflict with itself;
    // a restore moved the revision on once.
    const base = name === "answer_question" ? args.base_revision : (state.answers[qid]?.revision || 0) + 1;
    return { words: name === "answer_question" ? "Answer saved." : "Answer brought back.", back: "The answer is as it was again.",
      name: "answer_question", args: { question_id: qid, text: before, base_revision: base } };
  }
  if (name === "give_own_answer") {
    const qid = args.question_id;
    const before = latest("give_own_answer", (a) => a.question_id === qid)?.text ?? state.own_answers?.[qid]?.[me] ?? "";
    if (before === args.text) return null;
    return { words: "Your answer is saved.", back: "Your answer is as it was again.",
      name: "give_own_answer", args: { question_id: qid, text: before } };
  }
  if (name === "complete_commitment" || name === "withdraw_commitment") {
    return { words: name === "complete_commitment" ? "Marked done." : "Commitment withdrawn.", back: "The commitment is open again.",
      name: "reopen_commitment", args: { commitment_id: args.commitment_id } };
  }
  if (name === "amend_commitment") {
    const c = state.commitments[args.commitment_id];
    if (!c) return null;
    return { words: "Commitment changed.", back: "The commitment is as it was again.", name: "amend_commitment",
      args: { commitment_id: args.commitment_id, base_revision: args.base_revision, text: c.text, owner_id: c.owner_id, due: c.due } };
  }
  if (name === "give_consent") {
    // A consent cannot be taken back, only changed: back to the stance given to this version before.
    const before = latest("give_consent", () => true) || state.consents[me];
    const same = before && (before.version ?? args.version) === args.version && !before.before_break;
    if (!same || before.stance === args.stance) return null;
    return { words: "Consent given.", back: "Your consent is as it was again.",
      name: "give_consent", args: { version: args.version, stance: before.stance, reason: before.reason || "" } };
  }
  if (name === "name_version") {
    const before = latest("name_version", (a) => a.version === args.version)?.name ?? state.version_names?.[args.version]?.name ?? "";
    if (before === args.name) return null;
    return { words: args.name ? "Version named." : "Name taken away.", back: "The version's name is as it was again.",
      name: "name_version", args: { version: args.version, name: before } };
  }
  return null;
}

// `act(name, args)` that also offers to undo what it just did.
export function undoable(item, me, act) {
  return async (name, args) => {
    const reverse = reverseOf(item, me, name, args);
    const result = await act(name, args);
    if (reverse) {
      say(reverse.words, async () => {
        await act(reverse.name, reverse.args);
        say(reverse.back);
      });
    }
    return result;
  };
}
