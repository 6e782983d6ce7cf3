// The service worker: keeps the app shell so the app opens with no network.
// Data lives in IndexedDB; API calls always go to the network. The server
// stamps VERSION with a hash of the app's files, so a deployment with changed
// files installs a new worker, which takes over and tells the open tabs.

const VERSION = "shell-1";
const SHELL = [
  "/app/", "/app/styles.css", "/app/manifest.webmanifest", "/app/icons/icon-192.png",
  "/app/js/app.js", "/app/js/api.js", "/app/js/dom.js", "/app/js/model.js", "/app/js/store.js", "/app/js/sync.js",
  "/app/js/views/index.js", "/app/js/views/auth.js", "/app/js/views/list.js", "/app/js/views/design.js",
  "/app/js/views/alliance.js", "/app/js/views/answers.js", "/app/js/views/parts.js", "/app/js/views/devices.js", "/app/js/views/review.js",
  "/app/js/views/history.js", "/app/js/views/join.js", "/app/js/views/allies.js", "/app/icons/icon-512.png", "/app/icons/maskable-512.png",
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
