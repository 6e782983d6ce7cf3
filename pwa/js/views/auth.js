// Sign up and sign in. Signing in starts this device afresh with a new client id.

import { ApiError, call } from "../api.js";
import { h, show } from "../dom.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

export default async function auth({ main, say }) {
  const signingUp = location.hash.startsWith("#/signup");
  const error = h("p", { class: "error", role: "alert" });
  const field = (label, name, type, extra = {}) => h("label", {}, label,
    h("input", { name, type, required: true, autocomplete: extra.autocomplete || name, ...extra }));

  async function submit(event) {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.target));
    try {
      const path = signingUp ? "/api/v1/auth/signup" : "/api/v1/auth/login";
      const device_name = navigator.userAgentData?.platform || "Browser";
      const answer = await call("POST", path, { body: { ...form, device_name } });
      const invitation = await store.getMeta("pending_invitation"); // startDevice clears it
      await store.startDevice({ token: answer.token, user_id: answer.user_id, email: form.email,
        display_name: form.display_name || "" });
      if (!form.display_name) {
        const me = await call("GET", "/api/v1/auth/me", { token: answer.token });
        await store.setMeta("session", { token: answer.token, user_id: me.user_id, email: me.email, display_name: me.display_name });
      }
      localStorage.setItem("alliance.store-created", await store.getMeta("created"));
      say("");
      location.hash = invitation ? `#/join/${invitation}` : "#/";
      sync.soon(0);
    } catch (problem) {
      // The server's words (a rate limit as a sentence too, api.js), else the network's trouble in words.
      show(error, problem instanceof ApiError ? problem.message : "Could not reach the server: check the connection.");
    }
  }

  show(main,
    h("h1", {}, signingUp ? "Create your account" : "Sign in"),
    h("form", { onsubmit: submit, class: "stack" },
      signingUp && field("Your name, as others see it", "display_name", "text", { autocomplete: "name", maxlength: 100 }),
      field("Email", "email", "email", { autocomplete: "email" }),
      field("Password", "password", "password",
        { minlength: signingUp ? 10 : 1, autocomplete: signingUp ? "new-password" : "current-password" }),
      error,
      h("button", { type: "submit", class: "primary" }, signingUp ? "Create account" : "Sign in")),
    h("p", {}, signingUp ? h("a", { href: "#/signin" }, "I have an account: sign in")
      : h("a", { href: "#/signup" }, "New here? Create an account")));
}
