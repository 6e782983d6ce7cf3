// The consent part (#/a/<id>/s/consent): the version in words, where each of us stands on
// it (me too, and my button shows which stance I gave), the versions we agreed with who and
// when, and naming this version (issue 11).

import { h } from "../dom.js";
import WORDS from "../words.json" with { type: "json" };
import { nameOf, pendingValue } from "../model.js";
import { agreedWords, agreementOf, nameOfVersion, versionLabel, versionWords } from "../versions.js";
import { form, members, on } from "./parts.js";

const { stance: STANCES, stance_past: GAVE, stance_mine: MINE } = WORDS;

// Where one person stands on the current version, in words.
function stanceWords(state, uid, me) {
  const c = state.consents[uid];
  const who = uid === me ? "You" : nameOf(state, uid);
  if (!c) return [who, " ", h("strong", {}, uid === me ? "have not consented yet" : "has not consented yet")];
  const why = c.reason ? ` (${c.reason})` : "";
  if (c.before_break) {
    return [who, ` ${GAVE[c.stance]} it before the break${on(c.at)}${why}; `,
      h("strong", {}, "not again since the renewal")];
  }
  if (c.version !== state.content_version) {
    return [who, ` ${GAVE[c.stance]} an earlier version (${versionLabel(state, c.version)})${on(c.at)}; `,
      h("strong", {}, "not this one yet")];
  }
  return [uid === me ? MINE[c.stance] : `${who} ${STANCES[c.stance]}`, ` this version${on(c.at)}${why}`];
}

function standing(state) {
  const now = agreementOf(state, state.content_version);
  if (state.status === "agreed" && now) return `${agreedWords(state, now)}.`;
  const last = state.agreements?.at(-1);
  if (state.status === "broken") return "The agreement is broken: renew it together before consenting again.";
  return last ? `Changed since it was last agreed (${agreedWords(state, last).replace(/^A/, "a")}): consent again.`
    : "Not agreed yet.";
}

export function consentPart(item, act, me, readOnly) {
  const state = item.state;
  const id = state.id;
  const version = state.content_version;
  const pending = pendingValue(item, "give_consent", () => true);
  const given = state.consents[me];
  const myStance = pending?.stance
    || (given && given.version === version && !given.before_break ? given.stance : null);
  const reason = h("input", { id: "consent-reason", name: "reason", maxlength: 1000, dir: "auto" });
  const give = (stance) => act("give_consent", { version, stance, reason: stance === "object" ? reason.value : "" });
  const stanceButton = (stance, words, extra = {}) => h("button", { type: "button", "aria-pressed": String(myStance === stance),
    ...extra, onclick: () => (stance !== "object" || reason.value.trim() ? give(stance) : reason.focus()) }, words);
  const naming = pendingValue(item, "name_version", (a) => a.version === version);
  const name = naming ? naming.name : nameOfVersion(state, version);
  const agreements = [...(state.agreements || [])].reverse();
  return h("section", { class: "part", id: "consent" },
    h("p", { class: "version-now" }, h("strong", { dir: "auto" }, `V${versionLabel(state, version, name).slice(1)}`),
      naming && h("span", { class: "pending" }, " (its name is not yet synced)")),
    h("p", {}, standing(state)),
    h("h2", {}, "Where each of us stands"),
    h("ul", { class: "stances" }, members(state).map(([uid]) => h("li", {}, stanceWords(state, uid, me)))),
    pending && h("p", { class: "pending-box" }, `Your consent (${STANCES[pending.stance]}) is not yet synced.`),
    !readOnly && state.status !== "broken" && h("div", { class: "stack" },
      h("p", { class: "muted" }, myStance ? "Your stance is the pressed button; tap another to change it."
        : "Give your stance on this version:"),
      h("div", { class: "row" },
        stanceButton("support", "I support it", { class: "primary" }),
        stanceButton("live_with", "I can live with it")),
      h("label", { for: "consent-reason" }, "I object, because…"),
      reason,
      stanceButton("object", "Object")),
    h("h2", {}, "Agreed versions"),
    agreements.length ? h("ul", { class: "cards agreements" }, agreements.map((a) => h("li", { class: "card" },
      h("p", { dir: "auto" }, versionWords(state, a.version)),
      h("div", { class: "row" },
        h("a", { class: "button", href: `#/a/${id}/evidence?version=${a.version}` }, "Proof of consent",
          h("span", { class: "visually-hidden" }, `: ${versionLabel(state, a.version)}`)),
        a.version !== version && h("a", { class: "button", href: `#/a/${id}/compare?from=${a.version}&to=${state.version}` },
          "Compare with now", h("span", { class: "visually-hidden" }, `: ${versionLabel(state, a.version)}`))))))
      : h("p", { class: "muted" }, "None yet: once everyone supports or can live with a version, it is listed here."),
    !readOnly && h("details", { class: "name-version" }, h("summary", {}, name ? "Rename this version" : "Name this version"),
      form(({ name: words }) => act("name_version", { version, name: words.trim() }),
        h("p", { class: "muted" }, "A name helps you find it again, like “after our first review”. Naming changes nothing in the agreement."),
        h("label", {}, `A name for version ${version}`, h("input", { name: "name", maxlength: 100, value: name, dir: "auto" })),
        h("button", { type: "submit" }, "Save the name"))),
    h("p", {}, h("a", { href: `#/a/${id}/compare` }, "Compare versions")),
    h("p", { class: "muted" }, `${nameOf(state, state.facilitator)} facilitates.`));
}
