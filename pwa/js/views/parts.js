// Parts of the alliance screen: conflicts, commitments, review rhythm, and
// the life of the alliance (invite, appreciate, break, renew, close, leave, export).

import { call } from "../api.js";
import { day, h } from "../dom.js";
import { anchor, nameOf, pendingValue } from "../model.js";
import * as store from "../store.js";

const form = (onsubmit, ...children) => h("form", { class: "stack", onsubmit: (event) => {
  event.preventDefault();
  onsubmit(Object.fromEntries(new FormData(event.target)), event.target);
} }, ...children);

const members = (state) => Object.entries(state.participants).filter(([, p]) => p.status === "joined");

export function conflictsPart(state, act) {
  const answers = Object.entries(state.answers).filter(([, a]) => a.conflict.length);
  const commitments = Object.entries(state.commitments).filter(([, c]) => Object.keys(c.conflict).length);
  if (!answers.length && !commitments.length) return null;
  const choice = (label, value, name) => h("label", { class: "choice" },
    h("input", { type: "radio", name, value }), label, h("span", { class: "answer" }, value));
  return h("section", { class: "part conflicts", id: "conflicts" },
    h("h2", {}, "Conflicts to resolve"),
    h("p", {}, "Two people changed the same thing at once. Both versions are kept until one of you picks one or writes a merged text."),
    answers.map(([qid, a]) => form(({ pick, merged }, f) => {
      const text = (merged || "").trim() || pick;
      if (text) act("resolve_conflict", { question_id: qid, text });
      else f.querySelector("input[type=radio]").focus();
    },
    h("h3", {}, state.questions[qid].text),
    choice(`${nameOf(state, a.by)}: `, a.text, "pick"),
    a.conflict.map((c) => choice(`${nameOf(state, c.by)}: `, c.text, "pick")),
    h("label", {}, "Or write a merged answer", h("textarea", { name: "merged" })),
    h("button", { type: "submit", class: "primary" }, "Resolve"))),
    commitments.map(([cid, c]) => form((values) => {
      const fields = {};
      for (const field of Object.keys(c.conflict)) fields[field] = values[field];
      act("resolve_conflict", { commitment_id: cid, fields });
    },
    h("h3", {}, `Commitment: ${c.text}`),
    Object.entries(c.conflict).map(([field, others]) => h("fieldset", {},
      h("legend", {}, { text: "Text", owner_id: "Owner", due: "Due date" }[field]),
      [c[field], ...others].map((value) => h("label", { class: "choice" },
        h("input", { type: "radio", name: field, value: value ?? "", required: true }),
        field === "owner_id" ? nameOf(state, value) : field === "due" ? day(value) || "no date" : value)))),
    h("button", { type: "submit", class: "primary" }, "Resolve"))));
}

export function commitmentsPart(item, act, me, readOnly) {
  const state = item.state;
  const pendingNew = item.pending.filter((m) => m.name === "make_commitment" && !state.commitments[m.args.commitment_id]);
  const owners = members(state);
  const ownerSelect = (selected) => h("select", { name: "owner_id" },
    owners.map(([uid, p]) => h("option", { value: uid, selected: uid === selected }, p.name)));
  const rows = Object.entries(state.commitments).map(([cid, c]) => {
    const amended = pendingValue(item, "amend_commitment", (a) => a.commitment_id === cid);
    const done = pendingValue(item, "complete_commitment", (a) => a.commitment_id === cid);
    const editor = form((values) => act("amend_commitment", { commitment_id: cid, base_revision: c.revision,
      text: values.text, owner_id: values.owner_id, due: values.due || null }),
    h("label", {}, "What", h("input", { name: "text", value: c.text, required: true })),
    h("label", {}, "Who", ownerSelect(c.owner_id)),
    h("label", {}, "By when", h("input", { name: "due", type: "date", value: c.due || "" })),
    h("button", { type: "submit" }, "Save"));
    editor.hidden = true;
    return h("li", { class: "card" },
      h("p", {}, h("strong", {}, c.text), ` · ${nameOf(state, c.owner_id)}`, c.due ? ` · by ${day(c.due)}` : "",
        ` · ${c.status}`),
      (amended || done) && h("p", { class: "pending-box" }, done ? "Marked done (not yet synced)"
        : `Changed to “${amended.text ?? c.text}”${amended.due ? `, by ${day(amended.due)}` : ""} (not yet synced)`),
      Object.keys(c.conflict).length > 0 && h("p", { class: "conflict" }, "In conflict: see Conflicts above."),
      !readOnly && c.status === "open" && h("div", { class: "row" },
        h("button", { type: "button", onclick: () => act("complete_commitment", { commitment_id: cid }) }, "Done"),
        h("button", { type: "button", onclick: () => { editor.hidden = !editor.hidden; } }, "Change"),
        h("button", { type: "button", onclick: () => act("withdraw_commitment", { commitment_id: cid, reason: "" }) }, "Withdraw")),
      editor);
  });
  return h("section", { class: "part", id: "commitments" },
    h("h2", {}, "Who does what, by when"),
    h("ul", { class: "cards" }, rows,
      pendingNew.map((m) => h("li", { class: "card pending-box" }, h("strong", {}, m.args.text),
        ` · ${nameOf(state, m.args.owner_id)}`, m.args.due ? ` · by ${day(m.args.due)}` : "", " (not yet synced)"))),
    !readOnly && h("details", {}, h("summary", {}, "Make a commitment"),
      form((values, f) => { act("make_commitment", { commitment_id: crypto.randomUUID(), text: values.text,
        owner_id: values.owner_id, due: values.due || null }); f.reset(); },
      h("label", {}, "What", h("input", { name: "text", required: true, maxlength: 500 })),
      h("label", {}, "Who", ownerSelect(me)),
      h("label", {}, "By when", h("input", { name: "due", type: "date" })),
      h("button", { type: "submit", class: "primary" }, "Add commitment"))));
}

export function rhythmPart(item, act, readOnly) {
  const rhythm = item.state.rhythm;
  const pending = pendingValue(item, "schedule_review", () => true);
  return h("section", { class: "part", id: "rhythm" },
    h("h2", {}, "Review rhythm"),
    rhythm ? h("p", {}, `Every ${rhythm.every} ${rhythm.unit}; next review ${day(rhythm.next)}.`)
      : h("p", { class: "muted" }, "No review rhythm yet."),
    pending && h("p", { class: "pending-box" }, `Every ${pending.every} ${pending.unit}, next ${day(pending.next_date)} (not yet synced)`),
    !readOnly && h("details", {}, h("summary", {}, rhythm ? "Change the rhythm" : "Set a rhythm"),
      form((v) => act("schedule_review", { every: Number(v.every), unit: v.unit, next_date: v.next_date }),
        h("label", {}, "Every", h("input", { name: "every", type: "number", min: 1, max: 365, value: rhythm?.every || 4, required: true })),
        h("label", {}, "Unit", h("select", { name: "unit" },
          ["weeks", "days"].map((u) => h("option", { value: u, selected: rhythm?.unit === u }, u)))),
        h("label", {}, "Next review", h("input", { name: "next_date", type: "date", required: true, value: rhythm?.next || "" })),
        h("button", { type: "submit" }, "Save rhythm"))));
}

export async function invite(id, say, name = "") {
  const session = await store.getMeta("session");
  try {
    const link = await call("POST", `/api/v1/alliances/${id}/invitations`, { token: session.token, body: { name } });
    if (navigator.share) await navigator.share({ title: "Join our alliance", url: link.url }).catch(() => {});
    else await navigator.clipboard?.writeText(link.url).catch(() => {});
    say(`Invitation link (works once, for 7 days): ${link.url}`);
  } catch (error) {
    say(error.message || "Inviting needs a connection: try again when online.");
  }
}

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

export function lifecyclePart(item, act, me, say) {
  const state = item.state;
  const others = members(state).filter(([uid]) => uid !== me);
  const closed = state.status === "closed";
  return h("section", { class: "part", id: "life" },
    h("h2", {}, "People and the life of this alliance"),
    h("p", {}, members(state).map(([, p]) => p.name).join(", ")),
    !closed && h("button", { type: "button", onclick: () => invite(state.id, say) }, "Invite someone"),
    !closed && others.length > 0 && h("details", {}, h("summary", {}, "Appreciate someone"),
      form((v, f) => { act("appreciate", { participant_id: v.participant_id, note: v.note }); f.reset(); },
        h("label", {}, "Who", h("select", { name: "participant_id" }, others.map(([uid, p]) => h("option", { value: uid }, p.name)))),
        h("label", {}, "What you appreciate", h("textarea", { name: "note", required: true })),
        h("button", { type: "submit" }, "Send appreciation"))),
    state.status === "broken" ? form((v) => act("renew_alliance", { note: v.note }),
      h("p", {}, `Broken: ${state.breaks.at(-1).what_happened}`),
      state.breaks.at(-1).needs_discussing && h("p", {}, `To discuss: ${state.breaks.at(-1).needs_discussing}`),
      h("label", {}, "What you agreed when you talked", h("textarea", { name: "note" })),
      h("button", { type: "submit", class: "primary" }, "Renew the alliance"))
      : !closed && h("details", {}, h("summary", {}, "Something is broken"),
        form((v) => act("break_alliance", { reason: v.reason, needs_discussing: v.needs_discussing }),
          h("label", {}, "What happened", h("textarea", { name: "reason", required: true })),
          h("label", {}, "What needs discussing", h("textarea", { name: "needs_discussing" })),
          h("button", { type: "submit", class: "danger" }, "Say the alliance is broken"))),
    closed ? h("p", {}, `Closed, celebrating: ${state.closing.celebration}`)
      : h("details", {}, h("summary", {}, "Close with a celebration"),
        form((v) => act("close_alliance", { celebration: v.celebration }),
          h("label", {}, "How you celebrated", h("textarea", { name: "celebration", required: true })),
          h("button", { type: "submit" }, "Close the alliance"))),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: () => download(state.id, "export.html", say) }, "Print"),
      h("button", { type: "button", onclick: () => download(state.id, "export.md", say) }, "Markdown"),
      h("button", { type: "button", onclick: () => download(state.id, "export.ics", say) }, "Calendar (reviews, commitments)"),
      h("button", { type: "button", onclick: () => download(state.id, "audit.html", say, anchor(item)) }, "Audit page")),
    !closed && others.length > 0 && h("p", {}, h("button", { type: "button", class: "danger",
      onclick: () => confirm("Leave this alliance? You will no longer see it.") && act("leave_alliance", {}) }, "Leave")));
}
