// The app shell: the status line, the router, and starting the sync loop.

import { h, muteErased, show, when } from "./dom.js";
import * as drafts from "./drafts.js";
import { placeAll as placeRejections } from "./rejections.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import * as typed from "./typing.js";
import * as reminders from "./reminders.js";
import { routes } from "./views/index.js";

const main = document.getElementById("main");
const statusLine = document.getElementById("status");
const notice = document.getElementById("notice");

export function say(message) {
  show(notice, message ? h("p", {}, message, " ", h("button", { type: "button", onclick: () => say("") }, "OK")) : "");
}

function drawStatus(s) {
  const network = s.online ? "Online" : "Offline";
  const waiting = s.pending === 1 ? "1 change waiting" : `${s.pending} changes waiting`;
  const synced = s.lastSynced ? `synced ${when(s.lastSynced)}` : "not synced yet";
  // Sync facts only when someone is signed in: otherwise there is nothing to sync.
  const facts = s.signedIn ? [h("span", {}, waiting), " · ", h("span", {}, synced)]
    : h("span", {}, "nobody is signed in on this phone");
  show(statusLine,
    h("span", { class: s.online ? "dot online" : "dot offline", "aria-hidden": "true" }),
    h("span", {}, network), " · ", facts);
  if (s.error === "signed-out" && !location.hash.startsWith("#/signin")) location.hash = "#/signin";
}

// Redraw when data changes, but never under someone's fingers: wait until they leave the field.
let redrawLater = false;
const typing = () => typed.typing(main);
function redraw() {
  if (typing()) { redrawLater = true; return; }
  route();
}
main.addEventListener("focusout", (event) => setTimeout(() => {
  // A tap on the form's own button moves the focus there: a redraw now would put the stored
  // values back before the tap lands. The form's submit redraws anyway.
  const form = event.target.closest?.("form");
  if (form && event.relatedTarget && form.contains(event.relatedTarget)) return;
  if (redrawLater) { redrawLater = false; redraw(); }
}, 0));

// What the reader opened on this screen, kept as they open and close it: a redraw already under
// way when they tap (a sync's) must not fold it away again.
let opened = { route: null, summaries: new Set(), forms: new Set() };
main.addEventListener("toggle", (event) => {
  const summary = event.target.querySelector?.(":scope > summary")?.textContent;
  if (!summary || opened.route !== location.hash) return;
  if (event.target.open) opened.summaries.add(summary);
  else opened.summaries.delete(summary);
}, true);
// The toggle event comes a task after the tap, when a redraw may already have replaced the element
// (then it never reaches main): so a tap on a summary is noted at once, as the state it leads to.
main.addEventListener("click", (event) => {
  const summary = event.target.closest?.("details > summary");
  if (!summary || opened.route !== location.hash) return;
  opened.summaries[summary.parentElement.open ? "delete" : "add"](summary.textContent);
}, true);
// Editors a tap revealed (forms with a draft key, e.g. "Withdraw" opens its reason) stay open too,
// until they are sent or hidden again.
new MutationObserver((changes) => {
  if (opened.route !== location.hash) return;
  for (const { target } of changes) {
    const key = target.tagName === "FORM" && target.dataset.draft;
    if (key) opened.forms[target.hidden ? "delete" : "add"](key);
  }
}).observe(main, { subtree: true, attributes: true, attributeFilter: ["hidden"] });
main.addEventListener("submit", (event) => opened.forms.delete(event.target.dataset?.draft), true);
main.addEventListener("focusin", (event) => { // still in use (e.g. refused with "Say why"): keep it open
  const form = event.target.closest?.("form[data-draft]");
  if (form && !form.hidden && opened.route === location.hash) opened.forms.add(form.dataset.draft);
});

// One drawing of the screen at a time: a redraw asked for while one is under way follows it, so
// two never interleave (one's draft restore landing on the other's fields, a stale screen last).
let drawing = null;
let drawAgain = false;
function route() {
  if (drawing) { drawAgain = true; return drawing; }
  drawing = (async () => {
    try {
      do { drawAgain = false; await draw(); } while (drawAgain && !(typing() && main.dataset.route === location.hash));
      // Asked again for this same screen, but someone is typing in it now: when they leave the field.
      if (drawAgain) redrawLater = true;
    } finally { drawing = null; }
  })();
  return drawing;
}

async function draw() {
  const asked = location.hash;
  const session = await store.getMeta("session");
  const [path, query] = asked.slice(1).split("?");
  const parts = (path || "/").split("/").filter(Boolean);
  const open = ["signin", "signup", "join"].includes(parts[0]);
  if (!session && !open) { location.hash = "#/signin"; return; }
  const view = routes[parts[0] || ""] || routes[""];
  // A redraw of the same screen keeps what was open and where the reader was.
  const same = main.dataset.route === location.hash;
  if (opened.route !== location.hash) opened = { route: location.hash, summaries: new Set(), forms: new Set() };
  const scroll = window.scrollY;
  const putBack = same ? typed.keep(main) : () => {};
  delete main.dataset.title;
  await view({ main, parts: parts.slice(1), query: new URLSearchParams(query || ""), session, say });
  for (const summary of main.querySelectorAll("details > summary")) {
    if (opened.summaries.has(summary.textContent)) summary.parentElement.open = true;
  }
  for (const form of main.querySelectorAll("form[data-draft][hidden]")) {
    if (opened.forms.has(form.dataset.draft)) form.hidden = false;
  }
  if (same) window.scrollTo(0, scroll);
  else { window.scrollTo(0, 0); main.focus({ preventScroll: true }); }
  // Every screen, once drawn: what the person was typing back in its fields, refusals on their items.
  await drafts.restore(main, session);
  putBack();
  await placeRejections(main, route);
  muteErased(main);
  // The reader moved on while this was drawn: the next drawing is theirs (their hashchange asked for it).
  if (location.hash !== asked) { drawAgain = true; return; }
  // The screen's name, for tabs, history and screen readers: a view may name itself, else its heading.
  // Set last, with the route: a screen named is a screen drawn (and tests wait for it).
  const heading = main.querySelector("h1")?.textContent;
  document.title = main.dataset.title || (heading ? `${heading} · Alliance` : "Alliance");
  main.dataset.route = location.hash;
}

// The account was deleted (here or elsewhere): nothing of it stays here; the sign-in screen says why.
async function wipe(words) {
  await store.forget();
  await Promise.all((await caches.keys()).map((key) => caches.delete(key)));
  localStorage.removeItem("alliance.store-created");
  say(words);
  location.hash = "#/signin";
  sync.soon(0); // the status line hears that nobody is signed in now
}
addEventListener("account-deleted", (event) => wipe(event.detail));

// The browser may clear a site's storage when space runs low. A note kept
// outside IndexedDB tells us it happened, so we can rebuild and say so.
async function noticeEviction() {
  const created = await store.getMeta("created");
  const remembered = localStorage.getItem("alliance.store-created");
  if (created) localStorage.setItem("alliance.store-created", created);
  else if (remembered) {
    localStorage.removeItem("alliance.store-created");
    say("This browser cleared the app's saved data. Sign in again to bring your alliances back from the server; changes that had not synced before that are lost.");
  }
}

drafts.follow(main);
typed.follow(main);

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/app/" });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data === "updated") say("A new version of the app is ready: it will be used the next time you open it.");
    });
  }
  navigator.storage?.persist?.();
  await noticeEviction();
  // The first status only draws the line: the screen is drawn once, below; later changes redraw it.
  let shown;
  sync.onChange((s) => {
    drawStatus(s);
    if (shown !== undefined && s.data !== shown) redraw();
    shown = s.data;
  });
  reminders.follow(sync, redraw); // what needs me, fetched after each sync (issue 12)
  addEventListener("hashchange", route);
  await sync.start();
  await route();
}

boot();
