// Design an alliance: pick a template, give it a title, then walk it section by section.

import { call } from "../api.js";
import { h, show, uuid } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { invite } from "./parts.js";

// Templates come from the server once per start and are kept, so designing works offline.
let loading;
export function templates() {
  loading ??= call("GET", "/api/v1/templates")
    .then(async (fresh) => { await store.setMeta("templates", fresh); return fresh; })
    .catch(async () => { loading = null; return (await store.getMeta("templates")) || []; });
  return loading;
}

export default async function design({ main, query, say }) {
  const all = await templates();
  // From the Allies screen: design it together with an ally, who supports it and gets the invitation.
  const allyId = query.get("ally");
  const ally = allyId && (await store.getMeta("inventory"))?.allies?.[allyId];
  // One id per form, and one submit: a double tap on "Start designing" designs one alliance.
  const id = uuid();
  let submitted = false;
  async function create(event) {
    event.preventDefault();
    if (submitted) return;
    submitted = true;
    const form = Object.fromEntries(new FormData(event.target));
    await sync.mutate("create_alliance", id, { title: form.title, template: form.template });
    if (ally) {
      await sync.mutate("update_ally", "", { ally_id: allyId, supports: [...ally.supports, id] });
      inviteWhenSynced(id, ally.name, say);
    }
    location.hash = `#/a/${id}?walk=0`;
  }
  show(main,
    h("p", {}, h("a", { href: "#/" }, "← My alliances")),
    h("h1", {}, "Design an alliance"),
    all.length === 0 ? h("p", { class: "error" }, "The templates have not been loaded yet: connect once to fetch them.") : null,
    h("form", { onsubmit: create, class: "stack" },
      ally && h("p", {}, `Together with ${ally.name}: they will get an invitation link once this reaches the server.`),
      h("label", {}, "What is this alliance about?",
        h("input", { name: "title", required: true, maxlength: 200, value: ally ? `With ${ally.name}` : "",
          placeholder: "e.g. Coaching with Sam, Our trip to Lisbon" })),
      h("fieldset", { class: "stack" }, h("legend", {}, "Start from"),
        all.map((t, i) => h("label", { class: "choice template" },
          h("input", { type: "radio", name: "template", value: t.name, checked: i === 0, required: true }),
          h("span", {}, h("strong", {}, t.title), h("br"), h("span", { class: "muted" }, t.description))))),
      h("button", { type: "submit", class: "primary" }, "Start designing")));
}

// The invitation needs the alliance on the server: wait for the sync, then make the link for the ally.
async function inviteWhenSynced(id, name, say) {
  for (let tries = 0; tries < 60; tries += 1) {
    if (await store.alliance(id)) return invite(id, say, name);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  say(`The alliance is not on the server yet: invite ${name} from its screen once you are online.`);
}
