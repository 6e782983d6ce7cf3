// The account: its devices, with sign-out for each; everything about me to take away; deleting it.

import { ApiError, call, fetchFile } from "../api.js";
import { h, show } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

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
  const save = async (path) => say(await fetchFile(path, session.token, { name: "alliance-my-data.html" }));
  return h("section", { class: "part", id: "your-data" },
    h("h2", {}, "Everything about you, nothing of anyone else's"),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: () => save("/api/v1/me/export") }, "Download everything about me"),
      h("button", { type: "button", onclick: () => save("/api/v1/me/export.html") }, "The same, as a page to read")));
}

function deleteAccount(session) {
  const error = h("p", { class: "error", role: "alert" });
  async function submit(event) {
    event.preventDefault();
    const password = new FormData(event.target).get("password");
    try {
      await call("POST", "/api/v1/account/delete", { token: session.token, body: { password } });
    } catch (problem) {
      error.textContent = problem instanceof ApiError ? problem.message : "This needs a connection: try again when online.";
      return;
    }
    // Asked again, the server says so as to the other devices: the app wipes this phone (app.js).
    await call("GET", "/api/v1/auth/me", { token: session.token }).catch(() => {});
  }
  return h("section", { class: "part", id: "delete-account" },
    h("h2", {}, "Deleting your account"),
    h("p", {}, "Everything you wrote is erased for good, you leave every alliance (the others see that your words "
      + "were erased at your request) and your devices are signed out. This address cannot sign up again."),
    h("p", {}, h("strong", {}, "This cannot be undone.")),
    h("details", {}, h("summary", {}, "Delete my account"),
      h("form", { class: "stack", onsubmit: submit },
        h("label", {}, "Your password, to confirm",
          h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
        error,
        h("button", { type: "submit", class: "danger" }, "Delete my account for good"))));
}
