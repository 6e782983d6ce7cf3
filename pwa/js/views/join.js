// Joining an alliance from an invitation link: the server's page /invite/<token>
// sends people to #/join/<token>. Signed out, the token is kept and they sign
// up or in first (auth.js brings them back here); signed in, they join at once.

import { ApiError, call } from "../api.js";
import { h, show } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

// A link works once: a redraw of this screen while joining must not send it twice.
const joining = new Map();

function accept(token, sessionToken) {
  if (!joining.has(token)) {
    const answer = call("POST", `/api/v1/invitations/${encodeURIComponent(token)}/accept`, { token: sessionToken });
    joining.set(token, answer);
    answer.catch(() => joining.delete(token)); // a failure may be tried again
  }
  return joining.get(token);
}

// The alliance on this device after the next pull, or after a few seconds anyway.
function arrival(id, wait = 4000) {
  return new Promise((resolve) => {
    let stop = () => {};
    const timer = setTimeout(() => { stop(); resolve(); }, wait);
    stop = sync.onChange(async () => {
      if (await store.alliance(id)) { clearTimeout(timer); stop(); resolve(); }
    });
  });
}

export default async function join({ main, parts, session, say }) {
  const token = parts[0];
  if (!token) { location.hash = "#/"; return; }
  if (!session) {
    await store.setMeta("pending_invitation", token);
    say("Create an account or sign in to join");
    location.hash = "#/signup";
    return;
  }
  show(main, h("h1", {}, "Joining the alliance"), h("p", { role: "status" }, "One moment…"));
  try {
    const alliance = await accept(token, session.token);
    await store.setMeta("pending_invitation", null);
    sync.soon(0);
    show(main, h("h1", {}, `You joined “${alliance.title}”`),
      h("p", { role: "status" }, "Bringing it to this device…"));
    await arrival(alliance.id);
    if (location.hash.startsWith("#/join/")) location.hash = `#/a/${alliance.id}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { // the session ended: sign in again, then join
      await store.setMeta("pending_invitation", token);
      say("Sign in again to join");
      location.hash = "#/signin";
      return;
    }
    await store.setMeta("pending_invitation", null);
    const message = error instanceof ApiError ? error.message
      : "Joining needs a connection: try again when online.";
    show(main,
      h("h1", {}, "Could not join"),
      h("p", { class: "error", role: "alert" }, message),
      !(error instanceof ApiError) && h("p", {}, h("button", { type: "button", class: "primary",
        onclick: () => join({ main, parts, session, say }) }, "Try again")),
      h("p", {}, h("a", { href: "#/" }, "My alliances")));
  }
}
