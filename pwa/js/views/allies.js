// Allies: the person's own, private map of who is in their corner, by kind of
// support, with what is missing for each goal and alliance. The server folds the
// inventory (pulled whole into meta "inventory"); this screen only reads it, and
// places this device's pending inventory changes beside it, marked as not yet synced.

import { day, h, show } from "../dom.js";
import { everything } from "../model.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

// The same words as events/allies.py.
const KINDS = {
  pragmatic: "practical help with the how",
  bold: "bold, creative thinking from outside",
  caring: "care for the people and how they feel",
  candid: "candid, wise counsel",
};
const REASONS = ["cares_about_you", "likes_seeing_you_do_well", "gains_standing", "reciprocity", "paying_forward", "paid"];
const STANCES = { ally: "Ally", neutral: "Neutral", anti_ally: "Anti-ally (works against you)" };
const NAMES = ["add_goal", "add_ally", "update_ally", "remove_ally", "check_in_with_ally", "thank_ally"];
const UNTHANKED_DAYS = 60;

const words = (key) => key.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
const upper = (text) => text[0].toUpperCase() + text.slice(1);
const isoDay = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
const daysBefore = (iso, n) => isoDay(new Date(new Date(`${iso}T12:00:00`).getTime() - n * 86_400_000));
const last = (ally, kind) => ally.touches.filter((t) => !kind || t.kind === kind).map((t) => t.on).sort().at(-1) || null;

// A reading of the server's state, as the server's Inventory.audit reads it: missing kinds,
// who has not been thanked for 60 days, anti-allies, and whose keep-in-touch rhythm ran out.
export function audit(allies, target, today) {
  const around = Object.values(allies).filter((a) => a.supports.includes(target));
  const friends = around.filter((a) => a.stance === "ally");
  const covered = new Set(friends.flatMap((a) => a.kinds));
  const since = daysBefore(today, UNTHANKED_DAYS);
  const said = Object.keys(KINDS).filter((k) => !covered.has(k)).map((k) => `Nobody gives ${KINDS[k]} yet: who could?`);
  said.push(...friends.filter((a) => (last(a, "thanks") || "") < since).map((a) => `When did you last thank ${a.name}?`));
  said.push(...around.filter((a) => a.stance === "anti_ally").map((a) => `${a.name} works against this`
    + (a.plan ? `; your plan: ${a.plan}` : ": what will you do about it?")));
  said.push(...around.filter((a) => a.every_days && (!last(a) || daysBefore(today, a.every_days) > last(a)))
    .map((a) => `Time to check in with ${a.name} (every ${a.every_days} days).`));
  if (!friends.length) said.unshift("Nobody is in your corner for this yet. Who already cares how it goes?");
  return said;
}

function form(onsubmit, ...children) {
  return h("form", { class: "stack", onsubmit: (event) => {
    event.preventDefault();
    onsubmit(new FormData(event.target), event.target);
  } }, ...children);
}

const checkbox = (name, value, label) => h("label", { class: "choice" }, h("input", { type: "checkbox", name, value }), label);

export default async function allies({ main }) {
  const [{ alliances, pending: outbox }, inventory] = await Promise.all([everything(), store.getMeta("inventory")]);
  const pending = outbox.filter((m) => NAMES.includes(m.name));
  const today = isoDay(new Date());
  const act = (name, args) => sync.mutate(name, "", args);
  const goals = inventory?.goals || {};
  const known = inventory?.allies || {};
  const newGoals = pending.filter((m) => m.name === "add_goal" && !goals[m.args.goal_id]);
  const newAllies = pending.filter((m) => m.name === "add_ally" && !known[m.args.ally_id]);
  const touchesOf = (id) => pending.filter((m) => ["check_in_with_ally", "thank_ally"].includes(m.name) && m.args.ally_id === id);
  const changedOf = (id) => pending.filter((m) => ["update_ally", "remove_ally"].includes(m.name) && m.args.ally_id === id);
  const joined = alliances.filter((a) => a.state).map((a) => [a.state.id, a.state.title]);
  const targets = [...Object.entries(goals).map(([id, g]) => [id, g.text]), ...joined];
  const targetName = new Map([...targets, ...newGoals.map((m) => [m.args.goal_id, m.args.text])]);

  const card = (id, ally, unsynced) => {
    const thanked = last(ally, "thanks");
    const seen = last(ally, "check_in");
    const supports = ally.supports.map((t) => targetName.get(t)).filter(Boolean);
    return h("li", { class: unsynced ? "card pending-box" : "card", dataset: { ally: id } },
      h("h3", { class: "ally-name" }, ally.name),
      h("p", { class: "muted" }, [
        ally.stance === "neutral" && "Neutral",
        ally.reason && words(ally.reason),
        supports.length && `For: ${supports.join(", ")}`,
        ally.every_days && `Keep in touch every ${ally.every_days} days`,
      ].filter(Boolean).join(" · ")),
      ally.stance === "anti_ally" && h("p", {}, ally.plan ? `Your plan: ${ally.plan}` : "No plan yet: what will you do about it?"),
      !unsynced && h("p", {}, thanked ? `Thanked ${day(thanked)}` : "Not thanked yet",
        " · ", seen ? `last check-in ${day(seen)}` : "no check-in yet"),
      unsynced && h("p", { class: "pending" }, "Added (not yet synced)"),
      touchesOf(id).map((m) => h("p", { class: "pending" },
        `${m.name === "thank_ally" ? "Thanked" : "Checked in"} ${day(m.args.on)} (not yet synced)`)),
      changedOf(id).map((m) => h("p", { class: "pending" },
        `${m.name === "remove_ally" ? "Taken off the map" : "Changed"} (not yet synced)`)),
      h("div", { class: "row" },
        h("button", { type: "button", onclick: () => act("check_in_with_ally", { ally_id: id, on: today, note: "" }) }, "Checked in today"),
        h("button", { type: "button", onclick: () => act("thank_ally", { ally_id: id, on: today, note: "" }) }, "Thanks"),
        !unsynced && ally.stance !== "anti_ally"
          && h("a", { class: "button", href: `#/new?ally=${id}` }, "Design an alliance together")));
  };

  // The map: every ally (synced or not) under each kind of support they give; anti-allies apart.
  const everyone = [...Object.entries(known).map(([id, a]) => [id, a, false]),
    ...newAllies.map((m) => [m.args.ally_id, { kinds: [], supports: [], stance: "ally", reason: null, plan: "",
      every_days: null, touches: [], ...m.args }, true])];
  const groups = [...Object.entries(KINDS).map(([kind, text]) => [upper(text),
    everyone.filter(([, a]) => a.stance !== "anti_ally" && a.kinds.includes(kind))]),
  ["Not sorted yet", everyone.filter(([, a]) => a.stance !== "anti_ally" && !a.kinds.length)],
  ["Anti-allies", everyone.filter(([, a]) => a.stance === "anti_ally")]];

  show(main,
    h("p", {}, h("a", { href: "#/" }, "← My alliances")),
    h("h1", {}, "Allies"),
    h("p", { class: "muted" }, "Your own map of who is in your corner. Nobody else sees it."),
    h("section", { class: "part", id: "gaps" },
      h("h2", {}, "What is missing"),
      targets.length ? targets.map(([id, name]) => h("div", { class: "gap" },
        h("h3", {}, name), h("ul", { class: "points" }, audit(known, id, today).map((w) => h("li", {}, w)))))
        : h("p", {}, "Name a goal below, or design an alliance, to see who is missing."),
      newGoals.map((m) => h("p", { class: "pending-box" }, `Goal: ${m.args.text} (not yet synced)`))),
    h("section", { class: "part", id: "map" },
      h("h2", {}, "Your map"),
      everyone.length ? groups.filter(([, list]) => list.length).map(([title, list]) => h("section", { class: "kind" },
        h("h3", {}, title), h("ul", { class: "cards" }, list.map(([id, a, unsynced]) => card(id, a, unsynced)))))
        : h("p", {}, "No allies yet. Who already cares how your goals go?")),
    h("section", { class: "part", id: "add" },
      h("details", {}, h("summary", {}, "Name a goal"),
        form((data, f) => { act("add_goal", { goal_id: crypto.randomUUID(), text: data.get("text") }); f.reset(); },
          h("label", {}, "Your goal", h("input", { name: "text", required: true, maxlength: 500 })),
          h("button", { type: "submit", class: "primary" }, "Add goal"))),
      h("details", {}, h("summary", {}, "Add an ally"),
        form((data, f) => {
          const every = Number(data.get("every_days"));
          act("add_ally", { ally_id: crypto.randomUUID(), name: data.get("name"), kinds: data.getAll("kinds"),
            reason: data.get("reason") || null, stance: data.get("stance"), supports: data.getAll("supports"),
            plan: data.get("plan") || "", every_days: every >= 1 ? every : null });
          f.reset();
        },
        h("label", {}, "Name", h("input", { name: "name", required: true, maxlength: 500 })),
        h("fieldset", {}, h("legend", {}, "What they give"),
          Object.entries(KINDS).map(([kind, text]) => checkbox("kinds", kind, upper(text)))),
        h("label", {}, "Why they are with you", h("select", { name: "reason" },
          h("option", { value: "" }, "Not sure"), REASONS.map((r) => h("option", { value: r }, words(r))))),
        h("label", {}, "Where they stand", h("select", { name: "stance" },
          Object.entries(STANCES).map(([s, text]) => h("option", { value: s }, text)))),
        targetName.size > 0 && h("fieldset", {}, h("legend", {}, "They support"),
          [...targetName].map(([id, name]) => checkbox("supports", id, name))),
        h("label", {}, "If they work against you: your plan", h("input", { name: "plan", maxlength: 500 })),
        h("label", {}, "Keep in touch every … days (optional)",
          h("input", { name: "every_days", type: "number", min: 1, max: 365, inputmode: "numeric" })),
        h("button", { type: "submit", class: "primary" }, "Add ally")))));
}
