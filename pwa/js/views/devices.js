// The account: the devices signed in to it, with sign-out for each; everything about me to take
// away (JSON, or a page to read); and deleting the account, behind its password.

import { ApiError, call } from "../api.js";
import { h, show } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

const OFFLINE = "This needs a connection: try again when you are online.";

export default async function devices({ main, session, say }) {
  let list = [];
  try {
    list = await call("GET", "/api/v1/auth/devices", { token: session.token });
  } catch {
    show(main, h("h1", {}, "Account and devices"), h("p", {}, "Connect to see the devices signed in to your account."));
    return;
  }
  async function revoke(device) {
    await call("DELETE", `/api/v1/auth/devices/${device.id}`, { token: session.token });
    say(`Signed out ${device.device_name || "that device"}.`);
    devices({ main, session, say });
  }
  async function signOut() {
    const acknowledged = (await store.getMeta("last_mutation_id")) || 0;
    const pending = (await store.outbox()).filter((m) => m.id > acknowledged).length;
    if (pending > 0 && !confirm("Some changes have not synced yet and will be lost if you sign out now. Sign out anyway?")) return;
    try { await call("POST", "/api/v1/auth/logout", { token: session.token }); } catch { /* signed out here anyway */ }
    await store.forget();
    localStorage.removeItem("alliance.store-created");
    sync.soon(0); // the status line hears that nobody is signed in now
    location.hash = "#/signin";
  }
  show(main,
    h("p", {}, h("a", { href: "#/" }, "← My alliances")),
    h("h1", {}, "Account and devices"),
    h("p", {}, `Signed in as ${session.display_name || session.email}.`),
    h("h2", {}, "Devices"),
    h("ul", { class: "cards" }, list.map((d) => h("li", { class: "card row" },
      h("span", {}, d.device_name || "A browser", d.current ? " (this one)" : ""),
      !d.current && h("button", { type: "button", onclick: () => revoke(d) }, "Sign it out")))),
    h("p", {}, h("button", { type: "button", class: "danger", onclick: signOut }, "Sign out of this device")),
    yourData(session, say),
    deleteAccount(session));
}

function yourData(session, say) {
  return h("section", { class: "part", id: "your-data" },
    h("h2", {}, "Everything about you"),
    h("p", {}, "Your account, every word you wrote in every alliance with when, your allies map, your devices "
      + "and your reminder settings. Nothing of anyone else's."),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: () => save(session, "/api/v1/me/export", say) }, "Download everything about me"),
      h("button", { type: "button", onclick: () => save(session, "/api/v1/me/export.html", say) }, "The same, as a page to read")));
}

// Both need the sign-in token, so the app fetches them and saves the result under the server's name.
async function save(session, path, say) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  } catch {
    say(OFFLINE);
    return;
  }
  if (!response.ok) {
    say((await response.json().catch(() => ({}))).detail || "The download failed: try again in a moment.");
    return;
  }
  const named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "")?.[1];
  const url = URL.createObjectURL(await response.blob());
  h("a", { href: url, download: named || "alliance-my-data.html" }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function deleteAccount(session) {
  const error = h("p", { class: "error", role: "alert" });
  async function submit(event) {
    event.preventDefault();
    const password = new FormData(event.target).get("password");
    try {
      await call("POST", "/api/v1/account/delete", { token: session.token, body: { password } });
    } catch (problem) {
      error.textContent = problem instanceof ApiError ? problem.message : OFFLINE;
      return;
    }
    // Asked once more, the server answers in its own words that the account was deleted, as it does
    // every other device of it: api.js hears it, and the app wipes this phone (app.js).
    await call("GET", "/api/v1/auth/me", { token: session.token }).catch(() => {});
  }
  return h("section", { class: "part", id: "delete-account" },
    h("h2", {}, "Deleting your account"),
    h("p", {}, "Everything you wrote, in every alliance, is erased for good, and you leave them all. The others "
      + "keep their alliances, and see that your words were erased at your request."),
    h("p", {}, "Your allies map and reminder settings go too, every device of yours is signed out, and this "
      + "email address cannot make a new account."),
    h("p", {}, h("strong", {}, "This cannot be undone.")),
    h("p", {}, "To keep a copy, download everything about you first (above)."),
    h("details", {}, h("summary", {}, "Delete my account"),
      h("form", { class: "stack", onsubmit: submit },
        h("label", {}, "Your password, to confirm",
          h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
        error,
        h("button", { type: "submit", class: "danger" }, "Delete my account for good"))));
}
