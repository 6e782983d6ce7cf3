// One question on the alliance screen: its hint, the agreed answer (not on private
// questions), and each person's own answer "from my side". On a private question
// (the team's pre-work) the server sends only my own answer and those others shared.

import { h } from "../dom.js";
import { nameOf, pendingValue } from "../model.js";

export function answerBlock(item, qid, question, hint, act, me, readOnly) {
  const state = item.state;
  const agreed = question.private ? null : agreedPart(item, qid, act, readOnly);
  const mine = pendingValue(item, "give_own_answer", (a) => a.question_id === qid);
  const sharing = pendingValue(item, "share_own_answer", (a) => a.question_id === qid);
  const shared = (uid) => state?.shared_answers?.[qid]?.includes(uid);
  const own = { ...state?.own_answers?.[qid] };
  if (mine) own[me] = mine.text;
  const people = Object.entries(own).filter(([, text]) => text)
    .sort(([a], [b]) => (b === me) - (a === me));

  const ownId = `own-${qid}`;
  const editor = h("form", { class: "stack", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    act("give_own_answer", { question_id: qid, text: new FormData(event.target).get("text") });
  } },
  h("label", { for: ownId }, "Your answer, from your side"),
  h("textarea", { id: ownId, name: "text", dir: "auto" }, own[me] || ""),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save my answer"),
    h("button", { type: "button", onclick: () => { editor.hidden = true; } }, "Cancel")));

  const entry = ([uid, text]) => h("li", { class: uid === me && mine ? "pending-box" : null },
    h("strong", { dir: "auto" }, nameOf(state, uid)), ": ",
    h("span", { class: "own-text", dir: "auto" }, text),
    uid === me && mine && h("span", { class: "pending" }, " (not yet synced)"),
    question.private && uid === me && h("span", { class: "muted" },
      shared(me) ? " · shared with everyone" : sharing ? " · shared with everyone (not yet synced)" : " · not shared yet"),
    agreed && !readOnly && h("button", { type: "button", "aria-label": `Use ${nameOf(state, uid)}'s answer as our answer: ${question.text}`,
      onclick: () => agreed.propose(text) }, "Use as our answer"));

  return h("div", { class: "question" },
    h("h3", { dir: "auto" }, question.text),
    hint && h("p", { class: "hint muted" }, hint),
    question.private && h("p", { class: "private-note" }, "Private: only you see your answer until you share it."),
    agreed?.shown,
    people.length > 0 && [h("h4", {}, "From each of us"), h("ul", { class: "own-answers" }, people.map(entry))],
    !readOnly && h("div", { class: "row" }, agreed?.button,
      h("button", { type: "button", "aria-label": `Answer from my side: ${question.text}`,
        onclick: () => { editor.hidden = false; editor.querySelector("textarea").focus(); } }, "Answer from my side"),
      question.private && own[me] && !shared(me) && !sharing && h("button", { type: "button",
        "aria-label": `Share with everyone: my answer to ${question.text}`,
        onclick: () => confirm("Share your answer with everyone in this alliance? Once shared, it cannot be taken back.")
          && act("share_own_answer", { question_id: qid }) }, "Share with everyone")),
    agreed?.editor, editor);
}

// The agreed answer, the button that opens its editor, and the editor; propose(text) fills it without saving.
function agreedPart(item, qid, act, readOnly) {
  const answer = item.state?.answers[qid];
  const pending = pendingValue(item, "answer_question", (a) => a.question_id === qid);
  const fieldId = `answer-${qid}`;
  const editor = h("form", { class: "stack", hidden: true, onsubmit: (event) => {
    event.preventDefault();
    const text = new FormData(event.target).get("text");
    act("answer_question", { question_id: qid, text, base_revision: answer?.revision || 0 });
  } },
  h("label", { for: fieldId }, "Your agreed answer"),
  h("textarea", { id: fieldId, name: "text", dir: "auto" }, pending?.text ?? answer?.text ?? ""),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save"),
    h("button", { type: "button", onclick: () => { editor.hidden = true; } }, "Cancel")));
  const open = () => { editor.hidden = false; editor.querySelector("textarea").focus(); };
  const propose = (text) => { editor.querySelector("textarea").value = text; open(); };
  const shown = [
    pending ? h("p", { class: "answer pending-box", dir: "auto" }, pending.text, h("span", { class: "pending" }, " (not yet synced)"))
      : h("p", { class: answer?.text ? "answer" : "answer muted", dir: "auto" }, answer?.text || "Not answered yet."),
    answer?.conflict?.length > 0 && h("p", { class: "conflict" }, "Two answers were given at once: see Conflicts above."),
  ];
  const button = !readOnly && h("button", { type: "button", onclick: open }, answer?.text || pending ? "Edit answer" : "Answer");
  return { shown, button, editor, propose };
}
