// Reminders (issue 12): what needs me, what I was reminded of, my preferences, as the server
// says them (GET /api/v1/reminders), fetched after every sync and kept for offline.

import { call } from "./api.js";
import * as store from "./store.js";

export const latest = () => store.getMeta("reminders");

export async function refresh() {
  const session = await store.getMeta("session");
  if (!session) return null;
  const answer = await call("GET", "/api/v1/reminders", { token: session.token });
  await store.setMeta("reminders", answer);
  return answer;
}

// After each sync that reached the server, fetch again; redraw when it says something new.
export function follow(sync, redraw) {
  let seen = null;
  let kept = "";
  sync.onChange(async (s) => {
    if (!s.online || !s.lastSynced || s.lastSynced === seen) return;
    seen = s.lastSynced;
    try {
      const answer = await refresh();
      await adoptTimeZone(sync, answer);
      const text = JSON.stringify(answer);
      if (text !== kept) { kept = text; redraw(); }
    } catch { /* offline again, or signed out: the kept answer stays */ }
  });
}

// Someone who never set a time zone is reminded on this phone's clock: the server starts at UTC.
async function adoptTimeZone(sync, answer) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!answer || answer.preferences.version > 1 || !zone || zone === answer.preferences.time_zone) return;
  if (await store.getMeta("time_zone_offered")) return; // once per device: a choice made elsewhere wins
  await store.setMeta("time_zone_offered", zone);
  await sync.mutate("set_reminder_preferences", "", { time_zone: zone });
}

// Web Push on this phone: asked only from a tap (the caller's button), never on its own.
export async function turnOnPush(pushKey) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    throw new Error("This browser cannot show notifications from the app. On an iPhone, add the app to the Home Screen first.");
  }
  const permission = await Notification.requestPermission();
  if (permission !== "granted") throw new Error("Notifications are not allowed for this app: allow them in the browser's site settings.");
  const registration = await navigator.serviceWorker.ready;
  const key = Uint8Array.from(atob(pushKey.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  const subscription = await registration.pushManager.getSubscription()
    || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const session = await store.getMeta("session");
  await call("POST", "/api/v1/reminders/phones", { token: session.token, body: subscription.toJSON() });
  return refresh();
}
