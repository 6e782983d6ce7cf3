// One question on the alliance screen: its hint, the agreed answer (not on private
// questions), and each person's own answer "from my side", each with who wrote it and when,
// marked "New" when someone else wrote it after `since` (when I last opened this alliance).
// On a private question (the team's pre-work) the server sends only my own answer and
// those others shared. A question people added can be reworded or removed here.

import { MAX_TEXT, h } from "../dom.js";
import { nameOf, newSince, pendingValue, shortWhen } from "../model.js";

// "Sam · 3 Dec, 14:02", and "New" (as words, not only a colour) if someone else changed it since.
function stamp(state, uid, at, since, me, lead = null) {
  return [lead, h("strong", { dir: "auto" }, nameOf(state, uid)),
    at && [" · ", h("time", { datetime: at }, shortWhen(at))],
    newSince(since, uid, at, me) && [" ", h("span", { class: "new-mark" }, "New")]];
}

export function answerBlock(item, qid, question, hint, act, me, readOnly, since = null) {
  const state = item.state;
  const removing = pendingValue(item, "remove_question", (a) => a.question_id === qid);
  if (removing) {
    return h("div", { class: "question pending-box" }, h("h3", { dir: "auto" }, question.text),
      h("p", { class: "pending" }, "Removed (not yet synced)"));
  }
  const reworded = pendingValue(item, "reword_question", (a) => a.question_id === qid);
  const agreed = question.private ? null : agreedPart(item, qid, question.text, act, readOnly, me, since);
  const mine = pendingValue(item, "give_own_answer", (a) => a.question_id === qid);
  const sharing = pendingValue(item, "share_own_answer", (a) => a.question_id === qid);
  const shared = (uid) => state?.shared_answers?.[qid]?.includes(uid);
  const own = { ...state?.own_answers?.[qid] };
  if (mine) own[me] = mine.text;
  const people = Object.entries(own).filter(([, text]) => text)
    .sort(([a], [b]) => (b === me) - (a === me));
  const ownAt = (uid) => (uid === me && mine ? null : state?.own_answered_at?.[qid]?.[uid]);

  const ownId = `own-${qid}`;
  const editor = h("form", { class: "stack", hidden: true, dataset: { draft: `own:${qid}`, draftName: `Your answer to ${question.text}` },
    onsubmit: (event) => {
      event.preventDefault();
      act("give_own_answer", { question_id: qid, text: new FormData(event.target).get("text") });
    } },
  h("label", { for: ownId }, "Your answer, from your side"),
  h("textarea", { id: ownId, name: "text", dir: "auto", maxlength: MAX_TEXT }, own[me] || ""),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save my answer"),
    h("button", { type: "button", onclick: () => { editor.hidden = true; } }, "Cancel")));

  const entry = ([uid, text]) => h("li", { class: uid === me && mine ? "pending-box" : null },
    h("p", { class: "stamp" }, stamp(state, uid, ownAt(uid), since, me),
      uid === me && mine && h("span", { class: "pending" }, " (not yet synced)"),
      question.private && uid === me && h("span", { class: "muted" },
        shared(me) ? " · shared with everyone" : sharing ? " · shared with everyone (not yet synced)" : " · not shared yet")),
    h("p", { class: "own-text", dir: "auto" }, text),
    agreed && !readOnly && h("button", { type: "button", "aria-label": `Use ${nameOf(state, uid)}'s answer as our answer: ${question.text}`,
      onclick: () => agreed.propose(text) }, "Use as our answer"));

  const changing = question.added_by && !readOnly && changePart(qid, question, reworded, act);
  return h("div", { class: "question", dataset: { question: qid } },
    h("h3", { dir: "auto" }, question.text),
    reworded && h("p", { class: "pending-box" }, "Reworded: ", h("span", { dir: "auto" }, reworded.text),
      h("span", { class: "pending" }, " (not yet synced)")),
    question.added_by && h("p", { class: "stamp muted" },
      stamp(state, question.by || question.added_by, question.at, since, me,
        (question.by || question.added_by) === question.added_by ? "Added by " : "Reworded by ")),
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
          && act("share_own_answer", { question_id: qid }) }, "Share with everyone"),
      changing?.button),
    agreed?.editor, editor, changing?.form);
}

// The agreed answer, the button that opens its editor, and the editor; propose(text) fills it without saving.
function agreedPart(item, qid, question, act, readOnly, me, since) {
  const answer = item.state?.answers[qid];
  const pending = pendingValue(item, "answer_question", (a) => a.question_id === qid);
  const fieldId = `answer-${qid}`;
  const editor = h("form", { class: "stack", hidden: true, dataset: { draft: `answer:${qid}`, draftName: `Our answer to ${question}` },
    onsubmit: (event) => {
      event.preventDefault();
      const text = new FormData(event.target).get("text");
      act("answer_question", { question_id: qid, text, base_revision: answer?.revision || 0 });
    } },
  h("label", { for: fieldId }, "Your agreed answer"),
  h("textarea", { id: fieldId, name: "text", dir: "auto", maxlength: MAX_TEXT }, pending?.text ?? answer?.text ?? ""),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save"),
    h("button", { type: "button", onclick: () => { editor.hidden = true; } }, "Cancel")));
  const open = () => { editor.hidden = false; editor.querySelector("textarea").focus(); };
  const propose = (text) => {
    const field = editor.querySelector("textarea");
    field.value = text;
    field.dispatchEvent(new Event("input", { bubbles: true })); // kept as a draft until saved
    open();
  };
  const shown = [
    pending ? h("p", { class: "answer pending-box", dir: "auto" }, pending.text, h("span", { class: "pending" }, " (not yet synced)"))
      : h("p", { class: answer?.text ? "answer" : "answer muted", dir: "auto" }, answer?.text || "Not answered yet."),
    !pending && answer?.text && answer.by && h("p", { class: "stamp agreed-stamp" },
      stamp(item.state, answer.by, answer.at, since, me, "By ")),
    answer?.conflict?.length > 0 && h("p", { class: "conflict" }, "Two answers were given at once: see Conflicts above."),
  ];
  const words = answer?.text || pending ? "Edit answer" : "Answer";
  const button = !readOnly && h("button", { type: "button", "aria-label": `${words}: ${question}`, onclick: open }, words);
  return { shown, button, editor, propose };
}

// Rewording or removing a question someone added (template questions stay as they are).
function changePart(qid, question, reworded, act) {
  const fieldId = `reword-${qid}`;
  const form = h("form", { class: "stack", hidden: true, dataset: { draft: `reword:${qid}`, draftName: `New words for ${question.text}` },
    onsubmit: (event) => {
      event.preventDefault();
      act("reword_question", { question_id: qid, text: new FormData(event.target).get("text") });
    } },
  h("label", { for: fieldId }, "The question, in new words"),
  h("input", { id: fieldId, name: "text", required: true, maxlength: 500, dir: "auto", value: reworded?.text ?? question.text }),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save the new words"),
    h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Cancel")),
  h("button", { type: "button", class: "danger", onclick: () => confirm(
    `Remove the question "${question.text}" for everyone in this alliance? Its answers go with it; the history keeps them.`)
    && act("remove_question", { question_id: qid }) }, "Remove this question"));
  const button = h("button", { type: "button", "aria-label": `Reword or remove: ${question.text}`,
    onclick: () => { form.hidden = false; form.querySelector("input").focus(); } }, "Reword or remove");
  return { form, button };
}
