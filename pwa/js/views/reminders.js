// Reminders (issue 12): the "needs me" list for the home screen, and the Reminders screen:
// what I was reminded of and how each reached me, notifications on this phone, my calendar
// address, and what reminds me, when and how. Words of kinds and channels come from the
// server (GET /api/v1/reminders, kept for offline); preference changes go to the outbox.

import { call } from "../api.js";
import { h, show } from "../dom.js";
import { latest, refresh, turnOnPush } from "../reminders.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

export async function needsMe() {
  const answer = await latest();
  if (!answer) return null;
  const items = answer.needs_me;
  // What happened lately (appreciation, someone joining, a break) stays on the home screen for two days.
  const recent = answer.reminders.filter((r) => ["appreciated", "joined", "broken"].includes(r.kind)
    && Date.now() - new Date(r.decided_at) < 2 * 86_400_000).slice(0, 3);
  return h("section", { class: "part needs-me", id: "needs-me", "aria-labelledby": "needs-me-title" },
    h("h2", { id: "needs-me-title" }, "Needs me"),
    items.length ? h("ul", { class: "cards" }, items.map((item) => h("li", { class: `card need ${item.kind}` },
      h("a", { class: "card-link", href: item.link },
        h("p", { class: "need-text" }, item.text),
        !item.text.includes(item.title) && h("p", { class: "muted" }, item.title)))))
      : h("p", { class: "muted" }, "Nothing is due or waiting for you."),
    recent.length > 0 && h("h3", {}, "Lately"),
    recent.length > 0 && h("ul", { class: "cards" }, recent.map((r) => h("li", { class: "card" },
      h("a", { class: "card-link", href: r.link }, h("p", {}, r.text))))),
    h("p", {}, h("a", { href: "#/reminders" }, "All reminders, and how they reach me")),
    !navigator.onLine && h("p", { class: "muted" }, "Offline: as it was when last synced."));
}

const pendingPreferences = (outbox) => outbox.filter((m) => m.name === "set_reminder_preferences");

function reminderCard(r) {
  return h("li", { class: "card" },
    h("a", { class: "card-link", href: r.link }, h("p", {}, r.text)),
    h("ul", { class: "delivered" }, r.delivered.map((words) => h("li", { class: "muted" }, words))));
}

function phonePart(answer, say) {
  const phones = answer.preferences.phones;
  const note = h("p", { class: "muted", id: "push-why" },
    "Notifications let reminders of reviews, commitments and consent reach this phone even when the app is closed.");
  if (!answer.push_key) {
    return h("section", { class: "part", id: "push" }, h("h2", {}, "On this phone"),
      h("p", {}, "This server does not send notifications to phones (yet): reminders come in the app and by email."));
  }
  return h("section", { class: "part", id: "push" }, h("h2", {}, "On this phone"), note,
    h("button", { type: "button", class: "primary", "aria-describedby": "push-why", onclick: async (event) => {
      event.target.disabled = true;
      try {
        await turnOnPush(answer.push_key);
        say("Notifications are on for this phone.");
      } catch (error) {
        say(error.message || "Notifications could not be turned on.");
      }
      event.target.disabled = false;
    } }, "Turn on notifications on this phone"),
    phones.length > 0 && h("ul", { class: "cards" }, phones.map((p) => h("li", { class: "card row" },
      h("span", {}, p.device_name || "A phone"),
      h("button", { type: "button", onclick: async () => {
        const session = await store.getMeta("session");
        await call("DELETE", `/api/v1/reminders/phones/${p.id}`, { token: session.token }).catch(() => {});
        await refresh().catch(() => {});
        sync.soon(0);
      } }, "Turn off")))));
}

function feedPart(answer, session) {
  const shown = h("div", { class: "stack", "aria-live": "polite" });
  const make = async () => {
    try {
      const feed = await call("POST", "/api/v1/reminders/feed", { token: session.token });
      show(shown, h("p", {}, "Your calendar address (it is shown only now; keep it to yourself):"),
        h("p", {}, h("a", { href: feed.webcal }, "Subscribe in my calendar app")),
        h("label", {}, "Or copy the address", h("input", { readonly: true, value: feed.https })));
    } catch (error) {
      show(shown, h("p", { class: "error" }, error.message || "Making the address needs a connection."));
    }
  };
  const revoke = async () => {
    await call("DELETE", "/api/v1/reminders/feed", { token: session.token }).catch(() => {});
    show(shown, h("p", {}, "The old address no longer works."));
  };
  return h("section", { class: "part", id: "calendar" }, h("h2", {}, "In my calendar"),
    h("p", { class: "muted" }, "A private address your calendar app can subscribe to: every review and dated commitment of your alliances, with a reminder the day before."),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: make }, answer.preferences.feed ? "Make a new address" : "Make my calendar address"),
      answer.preferences.feed && h("button", { type: "button", class: "danger", onclick: revoke }, "Stop the address")),
    shown);
}

function preferencesForm(answer, pending) {
  const p = { ...answer.preferences };
  for (const m of pending) Object.assign(p, m.args, { channels: { ...p.channels, ...(m.args.channels || {}) } });
  const { kinds, channels, deliveries } = answer.choices;
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = h("input", { name: "time_zone", value: p.time_zone, required: true, autocomplete: "off" });
  const quiet = p.quiet_hours || { from: "22:00", to: "07:00" };
  return h("form", { class: "stack", id: "preferences", onsubmit: (event) => {
    event.preventDefault();
    const form = event.target;
    const values = Object.fromEntries(new FormData(form));
    const chosen = {};
    for (const kind of Object.keys(kinds)) {
      chosen[kind] = Object.keys(channels).filter((c) => form.querySelector(`input[name="${kind}"][value="${c}"]`).checked);
    }
    sync.mutate("set_reminder_preferences", "", {
      time_zone: values.time_zone.trim(), morning: values.morning, delivery: values.delivery,
      digest_at: values.digest_at, channels: chosen,
      quiet_hours: values.quiet === "on" ? { from: values.quiet_from, to: values.quiet_to } : false,
    });
  } },
  h("h2", {}, "When"),
  h("label", {}, "My time zone", zone),
  here && here !== p.time_zone && h("button", { type: "button", onclick: () => { zone.value = here; } }, `Use this phone's: ${here}`),
  h("label", {}, "Reminders the day before come at", h("input", { type: "time", name: "morning", value: p.morning, required: true })),
  h("label", { class: "choice" }, h("input", { type: "checkbox", name: "quiet", checked: Boolean(p.quiet_hours) }), "Quiet hours: nothing comes in between"),
  h("div", { class: "row" },
    h("label", {}, "From", h("input", { type: "time", name: "quiet_from", value: quiet.from })),
    h("label", {}, "To", h("input", { type: "time", name: "quiet_to", value: quiet.to }))),
  h("fieldset", {}, h("legend", {}, "How they come"),
    Object.entries(deliveries).map(([key, words]) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "delivery", value: key, checked: p.delivery === key }), words))),
  h("label", {}, "The daily digest comes at", h("input", { type: "time", name: "digest_at", value: p.digest_at, required: true })),
  h("h2", {}, "What reminds me, and where"),
  Object.entries(kinds).map(([kind, words]) => h("fieldset", { class: "kind" }, h("legend", {}, words),
    h("div", { class: "row" }, Object.entries(channels).map(([channel, label]) => h("label", { class: "choice" },
      h("input", { type: "checkbox", name: kind, value: channel, checked: p.channels[kind].includes(channel) }), label))))),
  pending.length > 0 && h("p", { class: "pending-box" }, "Your changes are saved on this phone (not yet synced)."),
  h("button", { type: "submit", class: "primary" }, "Save"));
}

export default async function reminders({ main, session, say }) {
  const [answer, outbox, acknowledged] = await Promise.all([latest(), store.outbox(), store.getMeta("last_mutation_id")]);
  const back = h("p", {}, h("a", { href: "#/" }, "← My alliances"));
  if (!answer) {
    show(main, back, h("h1", {}, "Reminders"), h("p", {}, "Connect once to see your reminders and choose how they reach you."));
    return;
  }
  const pending = pendingPreferences(outbox.filter((m) => m.id > (acknowledged || 0)));
  show(main, back,
    h("h1", {}, "Reminders"),
    h("section", { class: "part", id: "given" }, h("h2", {}, "Lately"),
      answer.reminders.length ? h("ul", { class: "cards" }, answer.reminders.slice(0, 10).map(reminderCard))
        : h("p", { class: "muted" }, "No reminders yet.")),
    phonePart(answer, say),
    feedPart(answer, session),
    preferencesForm(answer, pending));
}
