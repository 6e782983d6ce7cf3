// The devices signed in to this account, with sign-out for each.

import { call } from "../api.js";
import { h, show } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

export default async function devices({ main, session, say }) {
  let list = [];
  try {
    list = await call("GET", "/api/v1/auth/devices", { token: session.token });
  } catch {
    show(main, h("h1", {}, "Devices"), h("p", {}, "Connect to see the devices signed in to your account."));
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
    h("h1", {}, "Devices"),
    h("p", {}, `Signed in as ${session.display_name || session.email}.`),
    h("ul", { class: "cards" }, list.map((d) => h("li", { class: "card row" },
      h("span", {}, d.device_name || "A browser", d.current ? " (this one)" : ""),
      !d.current && h("button", { type: "button", onclick: () => revoke(d) }, "Sign it out")))),
    h("p", {}, h("button", { type: "button", class: "danger", onclick: signOut }, "Sign out of this device")));
}
