// The service worker: keeps the app shell so the app opens with no network.
// Data lives in IndexedDB; API calls always go to the network. The server
// stamps VERSION with a hash of the app's files, so a deployment with changed
// files installs a new worker, which takes over and tells the open tabs.

const VERSION = "shell-1";
// The install-time icons (512 px) are left out: a browser fetches them when it installs the app.
const SHELL = [
  "/app/", "/app/styles.css", "/app/manifest.webmanifest", "/app/icons/icon-192.png",
  "/app/js/app.js", "/app/js/api.js", "/app/js/dom.js", "/app/js/model.js", "/app/js/store.js", "/app/js/sync.js",
  "/app/js/views/index.js", "/app/js/views/auth.js", "/app/js/views/list.js", "/app/js/views/design.js",
  "/app/js/views/alliance.js", "/app/js/views/answers.js", "/app/js/views/parts.js", "/app/js/views/devices.js", "/app/js/views/review.js",
  "/app/js/views/history.js", "/app/js/views/join.js", "/app/js/views/allies.js",
  "/app/js/views/reminders.js", "/app/js/reminders.js", "/app/js/seen.js", "/app/js/drafts.js", "/app/js/typing.js", "/app/js/rejections.js", "/app/js/undo.js", "/app/js/versions.js", "/app/js/views/consent.js", "/app/js/words.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const old = (await caches.keys()).filter((key) => key !== VERSION);
    await Promise.all(old.map((key) => caches.delete(key)));
    await self.clients.claim();
    if (old.length) for (const client of await self.clients.matchAll()) client.postMessage("updated");
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/app/")) return;
  // The shell comes from the cache; anything else of the app is fetched once and kept.
  event.respondWith((async () => {
    const cache = await caches.open(VERSION);
    const key = url.pathname === "/app/index.html" ? "/app/" : url.pathname;
    const cached = await cache.match(key);
    if (cached) return cached;
    const response = await fetch(event.request);
    if (response.ok) cache.put(key, response.clone());
    return response;
  })());
});

// ----- Reminders (issue 12) -----
// A push shows its notification within waitUntil: Safari ends subscriptions whose pushes show none.
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data.text() }; }
  const shown = self.registration.showNotification(data.title || "Alliance", {
    body: data.body || "", tag: data.tag || undefined, icon: "/app/icons/icon-192.png",
    data: { url: data.url || "/app/" },
  });
  event.waitUntil(shown);
});

// A tap opens the app where the reminder leads: in an open window of the app, or a new one.
// Only our own app: the address keeps just its #/ part (the server's public URL may be another name).
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(`/app/${new URL(event.notification.data?.url || "/app/").hash}`, location.origin).href;
  const opened = (async () => {
    const windows = await self.clients.matchAll({ type: "window" }); // ours: only those can be navigated
    const app = windows.find((client) => new URL(client.url).pathname.startsWith("/app/"));
    if (!app) return self.clients.openWindow(target);
    await app.navigate(target);
    return app.focus().catch(() => app); // focusing may need the tap's own activation
  })();
  event.waitUntil(opened);
});
