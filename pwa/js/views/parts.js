// Parts of the alliance's screens: conflicts, commitments, review rhythm,
// inviting (consent has its own module, consent.js), the hard moments (break, renew, close), appreciating and exporting.

import { ApiError, call } from "../api.js";
import WORDS from "../words.json" with { type: "json" };
import { MAX_TEXT, day, h } from "../dom.js";
import { anchor, nameOf, newSince, pendingValue } from "../model.js";
import * as store from "../store.js";

const SOON_DAYS = 3; // as the server's "needs me" list (events/agenda.py)

export const form = (onsubmit, ...children) => h("form", { class: "stack", onsubmit: (event) => {
  event.preventDefault();
  onsubmit(Object.fromEntries(new FormData(event.target)), event.target);
} }, ...children);

// A form whose fields are kept as a draft while typed (drafts.js), under a key of its own on this screen.
export function drafted(key, name, formElement) {
  Object.assign(formElement.dataset, { draft: key, draftName: name });
  return formElement;
}

export const members = (state) => Object.entries(state.participants).filter(([, p]) => p.status === "joined");

// "on 3 March" from an event's ISO time; nothing for old state that has no time.
export const on = (at) => (at ? ` on ${day(at.slice(0, 10))}` : "");

export const openInvitations = (state) => Object.entries(state.invitations || {}).filter(([, i]) => i.status === "open");

// A commitment's owner: a participant, or someone invited who has not joined yet.
export function ownerName(state, ownerId) {
  const invited = state.invitations?.[ownerId];
  if (invited && !state.participants[ownerId]) return `${invited.name || "Someone"} (invited)`;
  return nameOf(state, ownerId);
}

function isoToday() {
  const d = new Date();
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

// How an open commitment's date stands: overdue, due soon, or nothing to say.
export function dueMark(c) {
  if (c.status !== "open" || !c.due) return null;
  const days = Math.round((new Date(`${c.due}T12:00:00`) - new Date(`${isoToday()}T12:00:00`)) / 86_400_000);
  if (days < 0) return { kind: "overdue", words: `Overdue since ${day(c.due)}` };
  if (days <= SOON_DAYS) {
    return { kind: "soon", words: days === 0 ? "Due today" : days === 1 ? "Due tomorrow" : `Due soon, by ${day(c.due)}` };
  }
  return null;
}

// Open ones first; mine before the others'; by due date, those with no date last.
export function sortedCommitments(state, me) {
  return Object.entries(state.commitments).sort(([, a], [, b]) =>
    (a.status !== "open") - (b.status !== "open") || (a.owner_id !== me) - (b.owner_id !== me)
    || (a.due || "9999").localeCompare(b.due || "9999") || (a.at || "").localeCompare(b.at || ""));
}


export function conflictsPart(state, act) {
  const answers = Object.entries(state.answers).filter(([, a]) => a.conflict.length);
  const commitments = Object.entries(state.commitments).filter(([, c]) => Object.keys(c.conflict).length);
  if (!answers.length && !commitments.length) {
    return h("section", { class: "part", id: "conflicts" }, h("p", {}, "No conflicts: nothing to resolve."));
  }
  const choice = (label, value, name) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value }), label, h("span", { class: "answer", dir: "auto" }, value));
  return h("section", { class: "part conflicts", id: "conflicts" },
    h("h2", {}, "Conflicts to resolve"),
    h("p", {}, "Two people changed the same thing at once. Both versions are kept until one of you picks one or writes a merged text."),
    answers.map(([qid, a]) => drafted(`conflict:${qid}`, `A merged answer to ${state.questions[qid].text}`,
      form(({ pick, merged }, f) => {
        const text = (merged || "").trim() || pick;
        if (text) act("resolve_conflict", { question_id: qid, text });
        else f.querySelector("input[type=radio]").focus();
      },
      h("h3", { dir: "auto" }, state.questions[qid].text),
      h("fieldset", {}, h("legend", {}, "Which answer to keep"),
        choice(`${nameOf(state, a.by)}: `, a.text, "pick"),
        a.conflict.map((c) => choice(`${nameOf(state, c.by)}: `, c.text, "pick"))),
      h("label", {}, "Or write a merged answer", h("textarea", { name: "merged", maxlength: MAX_TEXT })),
      h("button", { type: "submit", class: "primary", "aria-label": `Resolve: ${state.questions[qid].text}` }, "Resolve")))),
    commitments.map(([cid, c]) => form((values) => {
      const fields = {};
      for (const field of Object.keys(c.conflict)) fields[field] = values[field];
      act("resolve_conflict", { commitment_id: cid, fields });
    },
    h("h3", { dir: "auto" }, `Commitment: ${c.text}`),
    Object.entries(c.conflict).map(([field, others]) => h("fieldset", {},
      h("legend", {}, { text: "Text", owner_id: "Owner", due: "Due date" }[field]),
      [c[field], ...others].map((value) => h("label", { class: "choice" },
        h("input", { type: "radio", name: field, value: value ?? "", required: true }),
        h("span", { dir: "auto" }, field === "owner_id" ? ownerName(state, value) : field === "due" ? day(value) || "no date" : value))))),
    h("button", { type: "submit", class: "primary", "aria-label": `Resolve: ${c.text}` }, "Resolve"))));
}

export function commitmentsPart(item, act, me, readOnly, since = null) {
  const state = item.state;
  const pendingNew = item.pending.filter((m) => m.name === "make_commitment" && !state.commitments[m.args.commitment_id]);
  // Owners: the people in it, and those invited by a one-person link who have not joined yet.
  const owners = [...members(state).map(([uid, p]) => [uid, p.name]),
    ...openInvitations(state).filter(([, i]) => (i.uses || 1) === 1).map(([iid, i]) => [iid, `${i.name || "Someone"} (invited)`])];
  const ownerSelect = (selected) => h("select", { name: "owner_id" },
    owners.map(([uid, name]) => h("option", { value: uid, selected: uid === selected }, name)));
  const rows = sortedCommitments(state, me).map(([cid, c]) => {
    const amended = pendingValue(item, "amend_commitment", (a) => a.commitment_id === cid);
    const done = pendingValue(item, "complete_commitment", (a) => a.commitment_id === cid);
    const withdrawn = pendingValue(item, "withdraw_commitment", (a) => a.commitment_id === cid);
    const mark = dueMark(c);
    const mine = c.owner_id === me;
    const fresh = newSince(since, c.withdrawn?.by || c.by, c.at, me);
    const editor = form((values) => act("amend_commitment", { commitment_id: cid, base_revision: c.revision,
      text: values.text, owner_id: values.owner_id, due: values.due || null }),
    h("label", {}, "What", h("input", { name: "text", value: c.text, required: true, maxlength: MAX_TEXT })),
    h("label", {}, "Who", ownerSelect(c.owner_id)),
    h("label", {}, "By when", h("input", { name: "due", type: "date", value: c.due || "" })),
    h("button", { type: "submit", "aria-label": `Save: ${c.text}` }, "Save"));
    editor.hidden = true;
    // Only an open commitment's changes are kept as a draft here: a draft for one that moved on meanwhile
    // stays with its refusal, beside what the commitment is now (rejections.js).
    if (c.status === "open") drafted(`commitment:${cid}`, `Your change to ${c.text}`, editor);
    const withdrawing = mine ? null : withdrawForm(state, cid, c, act);
    return h("li", { class: `card commitment${mark ? ` ${mark.kind}` : ""}`, dataset: { commitment: cid } },
      h("p", {}, fresh && h("span", { class: "new" }, "New "), h("strong", { class: "text", dir: "auto" }, c.text)),
      h("p", {}, mine ? h("strong", {}, "You") : h("span", { dir: "auto" }, ownerName(state, c.owner_id)), c.due ? ` · by ${day(c.due)}` : " · no date",
        ` · ${WORDS.commitment_status[c.status]?.toLowerCase() || c.status}`),
      mark && h("p", { class: `due-mark ${mark.kind}` }, mark.words),
      c.by && h("p", { class: "muted" }, `Made by ${c.by === me ? "you" : nameOf(state, c.by)}${on(c.at)}`),
      c.withdrawn && h("p", { class: "muted" }, `Withdrawn by ${nameOf(state, c.withdrawn.by)}${on(c.withdrawn.at)}`,
        c.withdrawn.reason && [": ", h("span", { dir: "auto" }, c.withdrawn.reason)]),
      (amended || done || withdrawn) && h("p", { class: "pending-box" }, done ? "Marked done (not yet synced)"
        : withdrawn ? "Withdrawn (not yet synced)"
          : `Changed to “${amended.text ?? c.text}”${amended.due ? `, by ${day(amended.due)}` : ""} (not yet synced)`),
      Object.keys(c.conflict).length > 0 && h("p", { class: "conflict" }, "In conflict: see Conflicts to resolve."),
      !readOnly && c.status === "open" && h("div", { class: "row" },
        h("button", { type: "button", "aria-label": `Done: ${c.text}`, onclick: () => act("complete_commitment", { commitment_id: cid }) }, "Done"),
        h("button", { type: "button", "aria-label": `Change: ${c.text}`, onclick: () => { editor.hidden = !editor.hidden; } }, "Change"),
        h("button", { type: "button", "aria-label": `Withdraw: ${c.text}`, onclick: () => {
          if (mine) confirm(`Withdraw your commitment “${c.text}”? It is no longer part of the agreement, so everyone consents `
            + "again; the history keeps it, and Undo right after brings it back.") && act("withdraw_commitment", { commitment_id: cid, reason: "" });
          else { withdrawing.hidden = false; withdrawing.querySelector("textarea").focus(); }
        } }, "Withdraw")),
      editor, withdrawing);
  });
  return h("section", { class: "part", id: "commitments" },
    h("ul", { class: "cards" }, rows,
      pendingNew.map((m) => h("li", { class: "card pending-box" }, h("strong", { class: "text", dir: "auto" }, m.args.text),
        ` · ${ownerName(state, m.args.owner_id)}`, m.args.due ? ` · by ${day(m.args.due)}` : "", " (not yet synced)"))),
    !rows.length && !pendingNew.length && h("p", { class: "muted" }, "No commitments yet."),
    !readOnly && h("details", {}, h("summary", {}, "Make a commitment"),
      drafted("commitment-new", "A new commitment", form((values, f) => {
        act("make_commitment", { commitment_id: crypto.randomUUID(), text: values.text,
          owner_id: values.owner_id, due: values.due || null });
        f.reset();
      },
      h("label", {}, "What", h("input", { name: "text", required: true, maxlength: 500 })),
      h("label", {}, "Who", ownerSelect(me)),
      h("label", {}, "By when", h("input", { name: "due", type: "date" })),
      h("button", { type: "submit", class: "primary" }, "Add commitment")))));
}

// Someone else's commitment is withdrawn only with a reason, and after saying yes once more.
function withdrawForm(state, cid, c, act) {
  const owner = ownerName(state, c.owner_id);
  const error = h("p", { class: "error", role: "alert" });
  const withdrawing = drafted(`withdraw:${cid}`, `Why withdraw ${c.text}`, form(({ reason }, f) => {
    if (!reason.trim()) { error.textContent = "Say why, so that they know."; f.querySelector("textarea").focus(); return; }
    if (!confirm(`Withdraw ${owner}'s commitment “${c.text}”? Everyone will see that you withdrew it, and why. It is no longer `
      + "part of the agreement, so everyone consents again; the history keeps it, and Undo right after brings it back.")) return;
    act("withdraw_commitment", { commitment_id: cid, reason: reason.trim() });
  },
  h("label", {}, `Why withdraw ${owner}'s commitment?`, h("textarea", { name: "reason", maxlength: 1000 })),
  error,
  h("div", { class: "row" }, h("button", { type: "submit", class: "danger" }, "Withdraw it"),
    h("button", { type: "button", onclick: () => { withdrawing.hidden = true; } }, "Cancel"))));
  withdrawing.hidden = true;
  return withdrawing;
}

export function rhythmPart(item, act, readOnly) {
  const rhythm = item.state.rhythm;
  const pending = pendingValue(item, "schedule_review", () => true);
  const closed = item.state.status === "closed";
  return h("section", { class: "part", id: "rhythm" },
    rhythm ? h("p", {}, `Every ${rhythm.every} ${rhythm.unit}; `,
      closed || !rhythm.next ? "no next review: the alliance is closed." : `next review ${day(rhythm.next)}.`)
      : h("p", { class: "muted" }, "No review rhythm yet."),
    pending && h("p", { class: "pending-box" }, `Every ${pending.every} ${pending.unit}, next ${day(pending.next_date)} (not yet synced)`),
    !closed && h("p", {}, h("a", { class: "button", href: `#/a/${item.state.id}/review` }, "Hold a review")),
    !readOnly && h("details", {}, h("summary", {}, rhythm ? "Change the rhythm" : "Set a rhythm"),
      drafted("rhythm", "The review rhythm", form((v) => act("schedule_review", { every: Number(v.every), unit: v.unit, next_date: v.next_date }),
        h("label", {}, "Every", h("input", { name: "every", type: "number", min: 1, max: 365, value: rhythm?.every || 4, required: true })),
        h("label", {}, "Unit", h("select", { name: "unit" },
          ["weeks", "days"].map((u) => h("option", { value: u, selected: rhythm?.unit === u }, u)))),
        h("label", {}, "Next review", h("input", { name: "next_date", type: "date", required: true, value: rhythm?.next || "" })),
        h("button", { type: "submit" }, "Save rhythm")))));
}

// ----- inviting: a link made on the server, shown once, right under the button -----

const made = new Map(); // alliance id -> the link just made (kept across redraws, never stored)

function until(iso) {
  return iso ? ` until ${day(iso.slice(0, 10))}` : "";
}

export function invitePart(state, act) {
  const id = state.id;
  const link = made.get(id);
  const problem = h("p", { class: "error", role: "alert" });
  const team = h("input", { type: "checkbox", name: "team" });
  const teamFields = h("div", { class: "stack", hidden: true },
    h("label", {}, "How many people", h("input", { name: "uses", type: "number", min: 2, max: 50, value: 3, required: true })),
    h("label", {}, "For how many days", h("input", { name: "valid_days", type: "number", min: 1, max: 90, value: 7, required: true })));
  team.addEventListener("change", () => { teamFields.hidden = !team.checked; });
  const details = h("details", { class: "invite" }, h("summary", { class: "button primary" }, "Invite someone"),
    navigator.onLine === false ? h("p", {}, "Inviting needs a connection: make the link when you are online.")
      : form(async (values, f) => {
        const body = { name: values.name.trim() };
        if (values.email?.trim()) body.email = values.email.trim();
        if (values.team) Object.assign(body, { uses: Number(values.uses), valid_days: Number(values.valid_days) });
        f.querySelector("button[type=submit]").disabled = true;
        try {
          const session = await store.getMeta("session");
          const answer = await call("POST", `/api/v1/alliances/${id}/invitations`, { token: session.token, body });
          made.set(id, { ...answer, name: body.name, uses: answer.uses || body.uses || 1 });
          // A sync may have redrawn the screen meanwhile: show the link in the screen as it is now.
          const shown = document.querySelector("#invite > details") || details;
          shown.open = false;
          document.querySelector("#new-link")?.remove();
          shown.after(linkBox(id));
        } catch (error) {
          problem.textContent = error instanceof ApiError ? error.message
            : "Inviting needs a connection: make the link when you are online.";
          f.querySelector("button[type=submit]").disabled = false;
        }
      },
      h("label", {}, "Their name", h("input", { name: "name", maxlength: 100, autocomplete: "off" })),
      h("label", {}, "Their email (optional: we send them the link)", h("input", { name: "email", type: "email", maxlength: 320 })),
      h("label", { class: "choice" }, team, "A link for several people"),
      teamFields,
      problem,
      h("button", { type: "submit", class: "primary" }, "Make the link")));
  const open = openInvitations(state);
  return h("section", { class: "invite-part", id: "invite" },
    details,
    link && linkBox(id),
    open.length > 0 && h("div", {}, h("h2", {}, "Invitations still open"),
      h("ul", { class: "cards" }, open.map(([iid, i]) => {
        const uses = i.uses || 1;
        const left = uses - (i.joined?.length || 0);
        return h("li", { class: "card" },
          h("p", {}, h("strong", { class: "text", dir: "auto" }, i.name || "A team link"), " · ",
            uses > 1 ? `team link, ${left} of ${uses} places left` : "one-person link", until(i.expires_at)),
          i.by && h("p", { class: "muted" }, `Made by ${nameOf(state, i.by)}${on(i.at)}`),
          h("button", { type: "button", "aria-label": `Revoke the invitation: ${i.name || "team link"}`,
            onclick: () => confirm("Revoke this invitation? Its link will stop working.") && act("revoke_invitation", { invitation_id: iid }) },
          "Revoke"));
      }))));
}

// A link for an ally named when designing (design.js): kept to show on the alliance's top, and said.
export async function invite(id, say, name = "") {
  const session = await store.getMeta("session");
  try {
    const answer = await call("POST", `/api/v1/alliances/${id}/invitations`, { token: session.token, body: { name } });
    made.set(id, { ...answer, name, uses: answer.uses || 1 });
    say(`An invitation link for ${name || "one person"} is ready (it works once): ${answer.url}`);
  } catch (error) {
    say(error instanceof ApiError ? error.message : "Inviting needs a connection: try again when online.");
  }
}

// The link just made: it wraps, with Share and Copy and a short word once copied.
function linkBox(id) {
  const link = made.get(id);
  const said = h("span", { class: "copied", role: "status" });
  const box = h("div", { class: "link-box card", id: "new-link" },
    h("p", {}, link.uses > 1 ? `A link for up to ${link.uses} people${until(link.expires_at)}:`
      : `A link for ${link.name || "one person"}${until(link.expires_at)}; it works once:`),
    h("p", { class: "link" }, h("a", { href: link.url }, link.url)),
    h("div", { class: "row" },
      navigator.share && h("button", { type: "button", class: "primary", onclick: () =>
        navigator.share({ title: "Join our alliance", url: link.url }).catch(() => {}) }, "Share"),
      h("button", { type: "button", onclick: async () => {
        try { await navigator.clipboard.writeText(link.url); said.textContent = "Copied."; } catch {
          said.textContent = "Could not copy: press and hold the link to copy it.";
        }
        setTimeout(() => { said.textContent = ""; }, 4000);
      } }, "Copy"),
      said,
      h("button", { type: "button", onclick: () => { made.delete(id); box.remove(); } }, "Hide")),
    h("p", { class: "muted" }, "The link is shown only this once: share it now."));
  return box;
}

// ----- the hard moments: break, renew, close -----

// The alliance's own answer to its "if someone breaks it" question (the templates' keys).
const BREAK_QUESTIONS = ["hard.break", "conflict.repair", "tense.repair"];
export function breakAnswer(state) {
  const qid = BREAK_QUESTIONS.find((key) => state.questions[key] && !state.questions[key].removed);
  return qid ? { question: state.questions[qid].text, text: state.answers[qid]?.text || "" } : null;
}

// What a break says: who, when, what happened, what needs discussing; and the renewal, once there is one.
export function breakCard(state, b, me, { withAnswer = false } = {}) {
  const who = (uid) => (uid === me ? "You" : nameOf(state, uid));
  const ours = withAnswer && breakAnswer(state);
  return h("div", { class: `moment ${b.renewed ? "renewed" : "broken"}` },
    h("p", {}, h("strong", {}, `${who(b.by)} said${on(b.at)} that one of us broke our agreement.`)),
    h("p", { class: "said" }, "What happened: ", h("span", { dir: "auto" }, b.what_happened)),
    b.needs_discussing && h("p", { class: "said" }, "What needs discussing: ", h("span", { dir: "auto" }, b.needs_discussing)),
    ours && h("div", { class: "ours" }, h("p", { class: "muted" }, `What we agreed for this: ${ours.question}`),
      h("p", { class: ours.text ? "answer" : "answer muted", dir: "auto" }, ours.text || "Not answered yet.")),
    b.renewed && h("p", { class: "said" }, h("strong", {}, `${who(b.renewed.by)} renewed it${on(b.renewed.at)}: `),
      h("span", { dir: "auto" }, b.renewed.note || "(no words were kept)")));
}

export function celebrationCard(state, me) {
  const c = state.closing;
  return h("div", { class: "moment closed" },
    h("p", {}, h("strong", {}, `${c.by === me ? "You" : nameOf(state, c.by)} closed this alliance${on(c.at)}.`)),
    h("p", { class: "said" }, "How we celebrated: ", h("span", { dir: "auto" }, c.celebration)));
}

export function lifePart(item, act, me) {
  const state = item.state;
  const status = state.status;
  const openCount = Object.values(state.commitments).filter((c) => c.status === "open").length;
  const renewError = h("p", { class: "error", role: "alert" });
  const past = [...state.breaks].reverse();
  return h("section", { class: "part", id: "life" },
    status === "closed" && celebrationCard(state, me),
    status === "broken" && [
      breakCard(state, state.breaks.at(-1), me, { withAnswer: true }),
      h("h2", {}, "Renew the alliance"),
      h("p", {}, "Once you have talked it through, say what you agreed so that you can go on."),
      drafted("renew", "What we agreed, to go on", form(({ note }, f) => {
        if (!note.trim()) {
          renewError.textContent = "Say what you agreed, so the renewal means something.";
          f.querySelector("textarea").focus();
          return;
        }
        act("renew_alliance", { note: note.trim() });
      },
      h("label", {}, "What we agreed, to go on", h("textarea", { name: "note", maxlength: MAX_TEXT })),
      renewError,
      h("button", { type: "submit", class: "primary" }, "Renew the alliance")))],
    status !== "broken" && status !== "closed" && [
      h("details", {}, h("summary", {}, "One of us broke our agreement"),
        drafted("break", "What happened", form((v) => {
          if (!confirm("Say that your agreement is broken? Everyone in it will see who said so and what happened. Nobody can "
            + "consent until you talk and one of you renews it; then the others consent again.")) return;
          act("break_alliance", { reason: v.reason, needs_discussing: v.needs_discussing });
        },
        h("p", {}, "It happens. Saying so openly is the start of repairing it: you talk, then renew the alliance."),
        h("label", {}, "What happened", h("textarea", { name: "reason", required: true, maxlength: MAX_TEXT })),
        h("label", {}, "What needs discussing", h("textarea", { name: "needs_discussing", maxlength: MAX_TEXT })),
        h("button", { type: "submit", class: "danger" }, "Say our agreement is broken")))),
      h("details", {}, h("summary", {}, "Close the alliance, with a celebration"),
        drafted("close", "How you celebrated", form((v) => act("close_alliance", { celebration: v.celebration }),
          h("p", {}, "Closing is for when the goal is reached or the work is done. The alliance stays readable."),
          openCount > 0 && h("p", {}, openCount === 1 ? "The 1 open commitment will be marked as left open when the alliance closed."
            : `The ${openCount} open commitments will be marked as left open when the alliance closed.`),
          h("label", {}, "How did you celebrate?", h("textarea", { name: "celebration", required: true, maxlength: MAX_TEXT })),
          h("button", { type: "submit", class: "primary" }, "Close the alliance"))))],
    past.some((b) => b !== state.breaks.at(-1) || b.renewed) && h("div", {},
      h("h2", {}, "Past breaks and renewals"),
      h("ul", { class: "cards" }, past.filter((b) => b.renewed || status !== "broken" || b !== state.breaks.at(-1))
        .map((b) => h("li", { class: "card" }, breakCard(state, b, me))))));
}

// ----- appreciating, exporting, leaving -----

// Exports need the sign-in token, so the app fetches them and opens or saves the result.
async function download(id, file, say, query = "") {
  const session = await store.getMeta("session");
  let response;
  try {
    response = await fetch(`/api/v1/alliances/${id}/${file}${query && `?${query}`}`,
      { headers: { Authorization: `Bearer ${session.token}` } });
  } catch {
    say("Exporting needs a connection: try again when online.");
    return;
  }
  if (!response.ok) {
    say((await response.json().catch(() => ({}))).detail || "The export failed.");
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  if (file.endsWith(".html")) window.open(url, "_blank");
  else { // saved under the name the server gives it (the alliance's title), not one name for all
    const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1];
    h("a", { href: url, download: named || file.replace("export", "alliance") }).click();
  }
}

export function morePart(item, act, me, say) {
  const state = item.state;
  const others = members(state).filter(([uid]) => uid !== me);
  const closed = state.status === "closed";
  const thanks = [...(state.appreciations || [])].reverse();
  return h("section", { class: "part", id: "more" },
    !closed && others.length > 0 && h("details", {}, h("summary", {}, "Appreciate someone"),
      drafted("appreciate", "What you appreciate", form((v, f) => {
        act("appreciate", { participant_id: v.participant_id, note: v.note });
        f.reset();
      },
      h("label", {}, "Who", h("select", { name: "participant_id" }, others.map(([uid, p]) => h("option", { value: uid }, p.name)))),
      h("label", {}, "What you appreciate", h("textarea", { name: "note", required: true, maxlength: MAX_TEXT })),
      h("button", { type: "submit" }, "Send appreciation")))),
    thanks.length > 0 && h("ul", { class: "cards" }, thanks.map((a) => h("li", { class: "card" },
      h("p", {}, h("strong", {}, `${nameOf(state, a.by)} to ${nameOf(state, a.to || a.participant_id)}${on(a.at)}:`)),
      h("p", { class: "said", dir: "auto" }, a.note)))),
    h("h2", {}, "Export and print"),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: () => download(state.id, "export.html", say) }, "Print"),
      h("button", { type: "button", onclick: () => download(state.id, "export.md", say) }, "Markdown"),
      h("button", { type: "button", onclick: () => download(state.id, "export.ics", say) }, "Calendar (reviews, commitments)"),
      h("button", { type: "button", onclick: () => download(state.id, "audit.html", say, anchor(item)) }, "Audit page")),
    !closed && others.length > 0 && [h("h2", {}, "Leaving"),
      h("p", {}, h("button", { type: "button", class: "danger",
        onclick: () => confirm("Leave this alliance? You will no longer see it or hear of it, and the others go on without "
          + "you. Only a new invitation brings you back.") && act("leave_alliance", {}) }, "Leave this alliance"))]);
}
