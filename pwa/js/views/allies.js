// Allies: the person's own, private map of who is in their corner, by kind of
// support, with what is missing for each goal and alliance. The server folds the
// inventory and writes its audit and words (pulled whole into meta "inventory"); this
// screen only shows them, and places this device's pending inventory changes beside
// them, marked as not yet synced (the audit counts them once they are synced).

import { day, h, show } from "../dom.js";
import { everything } from "../model.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

const NAMES = ["add_goal", "add_ally", "update_ally", "remove_ally", "check_in_with_ally", "thank_ally"];

const upper = (text) => text[0].toUpperCase() + text.slice(1);
const isoDay = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
const last = (ally, kind) => ally.touches.filter((t) => !kind || t.kind === kind).map((t) => t.on).sort().at(-1) || null;

// draft: the form's key and name, to keep what is typed in it (drafts.js).
function form([draft, draftName], onsubmit, ...children) {
  return h("form", { class: "stack", dataset: { draft, draftName }, onsubmit: (event) => {
    event.preventDefault();
    onsubmit(new FormData(event.target), event.target);
  } }, ...children);
}

const checkbox = (name, value, label, checked = false) => h("label", { class: "choice" },
  h("input", { type: "checkbox", name, value, checked }), label);

// What the add and edit forms give, as the inventory's fields.
function fieldsOf(data) {
  const every = Number(data.get("every_days"));
  return { name: data.get("name"), kinds: data.getAll("kinds"), reason: data.get("reason") || null,
    stance: data.get("stance"), supports: data.getAll("supports"), plan: data.get("plan") || "",
    every_days: every >= 1 ? every : null };
}

export default async function allies({ main }) {
  const [{ alliances, pending: outbox }, inventory] = await Promise.all([everything(), store.getMeta("inventory")]);
  const pending = outbox.filter((m) => NAMES.includes(m.name));
  const today = isoDay(new Date());
  const act = (name, args) => sync.mutate(name, "", args);
  const goals = inventory?.goals || {};
  const known = inventory?.allies || {};
  const said = inventory?.audit || {};
  // Until the first pull has come there are no words yet (nor kinds, reasons or stances to pick).
  const { kinds, reasons, stances } = inventory?.words || { kinds: {}, reasons: {}, stances: {} };
  const newGoals = pending.filter((m) => m.name === "add_goal" && !goals[m.args.goal_id]);
  const newAllies = pending.filter((m) => m.name === "add_ally" && !known[m.args.ally_id]);
  const touchesOf = (id) => pending.filter((m) => ["check_in_with_ally", "thank_ally"].includes(m.name) && m.args.ally_id === id);
  const changedOf = (id) => pending.filter((m) => ["update_ally", "remove_ally"].includes(m.name) && m.args.ally_id === id);
  const joined = alliances.filter((a) => a.state).map((a) => [a.state.id, a.state.title]);
  const targetName = new Map([...Object.entries(goals).map(([id, g]) => [id, g.text]), ...joined,
    ...newGoals.map((m) => [m.args.goal_id, m.args.text])]);
  const targets = Object.keys(said).filter((id) => targetName.has(id));

  // The fields of one ally, filled with `ally`'s values (empty for a new one).
  const allyFields = (ally) => [
    h("label", {}, "Name", h("input", { name: "name", required: true, maxlength: 500, value: ally.name || "" })),
    h("fieldset", {}, h("legend", {}, "What they give"),
      Object.entries(kinds).map(([kind, text]) => checkbox("kinds", kind, upper(text), ally.kinds?.includes(kind)))),
    h("label", {}, "Why they are with you", h("select", { name: "reason" },
      h("option", { value: "" }, "Not sure"),
      Object.entries(reasons).map(([r, text]) => h("option", { value: r, selected: ally.reason === r }, text)))),
    h("label", {}, "Where they stand", h("select", { name: "stance" },
      Object.entries(stances).map(([st, text]) => h("option", { value: st, selected: ally.stance === st }, text)))),
    targetName.size > 0 && h("fieldset", {}, h("legend", {}, "They support"),
      [...targetName].map(([tid, name]) => checkbox("supports", tid, name, ally.supports?.includes(tid)))),
    h("label", {}, "If they work against you: your plan", h("input", { name: "plan", maxlength: 500, value: ally.plan || "" })),
    h("label", {}, "Keep in touch every … days (optional)",
      h("input", { name: "every_days", type: "number", min: 1, max: 365, inputmode: "numeric", value: ally.every_days || "" })),
  ];

  // Changing an ally: the same fields, filled in; taking them off the map asks first.
  const editor = (id, ally) => {
    const edit = form([`ally:${id}`, `Your change to ${ally.name}`], (data) => act("update_ally", { ally_id: id, ...fieldsOf(data) }),
      allyFields(ally),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Save changes"),
        h("button", { type: "button", onclick: () => { edit.hidden = true; } }, "Cancel")),
      h("button", { type: "button", class: "danger", onclick: () => confirm(
        `Take ${ally.name} off your map? Their check-ins and thanks go with them.`)
        && act("remove_ally", { ally_id: id }) }, "Remove from my map"));
    edit.hidden = true;
    const open = h("button", { type: "button", "aria-label": `Change or remove ${ally.name}`,
      onclick: () => { edit.hidden = false; edit.querySelector("input").focus(); } }, "Change");
    return { edit, open };
  };

  const card = (id, stored, unsynced) => {
    // This device's pending changes shown at once (the server's words follow once synced).
    const updates = changedOf(id).filter((m) => m.name === "update_ally").map(({ args: { ally_id, ...changes } }) => changes);
    const ally = Object.assign({}, stored, ...updates);
    const removing = changedOf(id).some((m) => m.name === "remove_ally");
    const change = !unsynced && !removing && editor(id, ally);
    const thanked = last(ally, "thanks");
    const seen = last(ally, "check_in");
    const supports = ally.supports.map((t) => targetName.get(t)).filter(Boolean);
    return h("li", { class: unsynced ? "card pending-box" : "card", dataset: { ally: id } },
      h("h3", { class: "ally-name", dir: "auto" }, ally.name),
      h("p", { class: "muted" }, [
        ally.stance === "neutral" && stances.neutral,
        ally.reason && reasons[ally.reason],
        supports.length && `For: ${supports.join(", ")}`,
        ally.every_days && `Keep in touch every ${ally.every_days} days`,
      ].filter(Boolean).join(" · ")),
      ally.stance === "anti_ally" && h("p", {}, ally.plan ? ["Your plan: ", h("span", { dir: "auto" }, ally.plan)]
        : "No plan yet: what will you do about it?"),
      !unsynced && h("p", {}, thanked ? `Thanked ${day(thanked)}` : "Not thanked yet",
        " · ", seen ? `last check-in ${day(seen)}` : "no check-in yet"),
      unsynced && h("p", { class: "pending" }, "Added (not yet synced)"),
      touchesOf(id).map((m) => h("p", { class: "pending" },
        `${m.name === "thank_ally" ? "Thanked" : "Checked in"} ${day(m.args.on)} (not yet synced)`)),
      changedOf(id).map((m) => h("p", { class: "pending" },
        `${m.name === "remove_ally" ? "Taken off the map" : "Changed"} (not yet synced)`)),
      !removing && h("div", { class: "row" },
        h("button", { type: "button", onclick: () => act("check_in_with_ally", { ally_id: id, on: today, note: "" }) }, "Checked in today"),
        h("button", { type: "button", onclick: () => act("thank_ally", { ally_id: id, on: today, note: "" }) }, "Thanks"),
        !unsynced && ally.stance !== "anti_ally"
          && h("a", { class: "button", href: `#/new?ally=${id}` }, "Design an alliance together"),
        change?.open),
      change?.edit);
  };

  // The map: every ally (synced or not) under each kind of support they give; anti-allies apart.
  const everyone = [...Object.entries(known).map(([id, a]) => [id, a, false]),
    ...newAllies.map((m) => [m.args.ally_id, { kinds: [], supports: [], stance: "ally", reason: null, plan: "",
      every_days: null, touches: [], ...m.args }, true])];
  const groups = [...Object.entries(kinds).map(([kind, text]) => [upper(text),
    everyone.filter(([, a]) => a.stance !== "anti_ally" && a.kinds.includes(kind))]),
  ["Not sorted yet", everyone.filter(([, a]) => a.stance !== "anti_ally" && !a.kinds.length)],
  ["Anti-allies", everyone.filter(([, a]) => a.stance === "anti_ally")]];

  show(main,
    h("p", {}, h("a", { href: "#/" }, "← My alliances")),
    h("h1", {}, "Allies"),
    h("p", { class: "muted" }, "Your own map of who is in your corner. Nobody else sees it."),
    h("section", { class: "part", id: "gaps" },
      h("h2", {}, "What is missing"),
      targets.length ? targets.map((id) => h("div", { class: "gap" },
        h("h3", { dir: "auto" }, targetName.get(id)), h("ul", { class: "points" }, said[id].map((w) => h("li", { dir: "auto" }, w)))))
        : h("p", {}, "Name a goal below, or design an alliance, to see who is missing."),
      newGoals.map((m) => h("p", { class: "pending-box" }, "Goal: ", h("span", { dir: "auto" }, m.args.text), " (not yet synced)"))),
    h("section", { class: "part", id: "map" },
      h("h2", {}, "Your map"),
      everyone.length ? groups.filter(([, list]) => list.length).map(([title, list]) => h("section", { class: "kind" },
        h("h3", {}, title), h("ul", { class: "cards" }, list.map(([id, a, unsynced]) => card(id, a, unsynced)))))
        : h("p", {}, "No allies yet. Who already cares how your goals go?")),
    h("section", { class: "part", id: "add" },
      h("details", {}, h("summary", {}, "Name a goal"),
        form(["goal-new", "Your goal"], (data, f) => { act("add_goal", { goal_id: crypto.randomUUID(), text: data.get("text") }); f.reset(); },
          h("label", {}, "Your goal", h("input", { name: "text", required: true, maxlength: 500 })),
          h("button", { type: "submit", class: "primary" }, "Add goal"))),
      h("details", {}, h("summary", {}, "Add an ally"),
        form(["ally-new", "A new ally"], (data, f) => { act("add_ally", { ally_id: crypto.randomUUID(), ...fieldsOf(data) }); f.reset(); },
          allyFields({}),
          h("button", { type: "submit", class: "primary" }, "Add ally")))));
}
