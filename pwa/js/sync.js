// The sync loop: push the outbox, then pull, on start, on reconnect, when
// the app becomes visible, on a poke from the server, after an edit, and on
// a timer with back-off. A change the live stream brings as a page for this
// device is applied without a pull. One tab syncs at a time (Web Locks); the
// others hear of changes (BroadcastChannel).

import { ApiError, call, listen } from "./api.js";
import * as store from "./store.js";

const CHUNK = 100; // mutations per push: well under the server's body limit
const QUIET = 30_000;
const MOST_QUIET = 5 * 60_000;
const channel = new BroadcastChannel("alliance");
const listeners = new Set();
export const status = { online: navigator.onLine, signedIn: false, syncing: false, pending: 0, lastSynced: null, error: "", data: "" };
let timer = null;
let wakeLive = () => {}; // ends the live stream's wait between tries (see live)
let wait = QUIET;
let again = false;

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function changed({ broadcast = true } = {}) {
  const [outbox, rejected, cursor, session, witnesses] = await Promise.all([store.outbox(), store.rejected(),
    store.getMeta("cursor"), store.getMeta("session"), store.witnesses()]);
  status.signedIn = Boolean(session);
  const acknowledged = (await store.getMeta("last_mutation_id")) || 0;
  status.pending = outbox.filter((m) => m.id > acknowledged).length;
  status.lastSynced = await store.getMeta("last_synced");
  // What the screens show changes only with these: redraw on them, not on every status tick.
  status.data = `${cursor}|${outbox.map((m) => m.id).join(",")}|${rejected.length}|${acknowledged}|${JSON.stringify(witnesses)}`;
  for (const listener of listeners) listener(status);
  if (broadcast) channel.postMessage("changed");
}
channel.onmessage = () => changed({ broadcast: false });

// Every edit goes to the outbox first; the screen shows it at once, as pending.
export async function mutate(name, allianceId, args) {
  const id = await store.enqueue(name, allianceId, args);
  await changed();
  soon(0);
  return id;
}

// A sync at the latest after `delay`: a later time never pushes back one already due sooner (a sync
// that ends and plans the next in 30 s must not hold back the edit made while it ended).
let due = Infinity;
export function soon(delay = 0) {
  if (Date.now() + delay >= due) return;
  clearTimeout(timer);
  due = Date.now() + delay;
  timer = setTimeout(() => { due = Infinity; run(); }, delay);
}

async function run() {
  if (status.syncing) { again = true; return; }
  status.syncing = true;
  try {
    // Reaching the server shows we are online; with nobody signed in it is not asked, so the browser says.
    status.online = (await navigator.locks.request("alliance-sync", syncOnce)) || navigator.onLine;
    status.error = "";
    wait = QUIET;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      status.error = "signed-out";
    } else {
      status.online = !(error instanceof TypeError) && navigator.onLine;
      status.error = error instanceof ApiError ? error.message : "";
    }
    wait = Math.min(wait * 2, MOST_QUIET);
  } finally {
    status.syncing = false;
    await changed();
    soon(again ? 0 : wait);
    again = false;
  }
}

async function syncOnce() {
  const session = await store.getMeta("session");
  if (!session) return false;
  const clientId = await store.getMeta("client_id");
  await push(session.token, clientId);
  await pull(session.token, clientId);
  wakeLive(); // signed in and the server answers: a stream that was waiting (e.g. before sign-in) starts now
  return true;
}

async function push(token, clientId) {
  // Mutations leave the outbox when a pull brings their effects; until then they show as pending.
  let through = (await store.getMeta("last_mutation_id")) || 0;
  for (;;) {
    const pending = (await store.outbox()).filter((m) => m.id > through).slice(0, CHUNK);
    if (!pending.length) return;
    const mutations = pending.map(({ id, alliance_id, name, args }) => ({ id, alliance_id, name, args }));
    const before = through;
    try {
      const answer = await call("POST", "/api/v1/sync/push", { token, body: { client_id: clientId, mutations } });
      await store.recordRejections(answer.results, pending);
      through = answer.last_mutation_id;
    } catch (error) {
      // The server has applied more than we knew (an answer lost on the way): go on from there.
      if (!(error instanceof ApiError && error.status === 409 && error.problem.expected_id)) throw error;
      through = error.problem.expected_id - 1;
    }
    if (through <= before) throw new Error("The server did not take the next change.");
  }
}

async function pull(token, clientId) {
  let answer;
  do {
    // A phone holding an inventory from before the server sent its words pulls afresh once, for them.
    const words = (await store.getMeta("inventory"))?.words;
    const cursor = (words && (await store.getMeta("cursor"))) || null;
    answer = await call("POST", "/api/v1/sync/pull", { token, body: { client_id: clientId, cursor } });
    await store.applyPull(answer);
  } while (answer.more);
  await checkWitnesses(token);
}

// The server checks each chain head this phone replaced (or saw contradicted) and says in words what
// changed, if anything. Until it has answered, the next sync asks again.
async function checkWitnesses(token) {
  for (const [id, seen] of Object.entries(await store.witnesses())) {
    if (seen.problem || !store.anchorQuery(seen)) continue;
    const check = await call("GET", `/api/v1/alliances/${id}/verify?${store.anchorQuery(seen)}`, { token })
      .catch(() => null);
    if (check) await store.checkedWitness(id, check);
  }
}

// A change from the live stream (docs/PROTOCOL.md, "The change event"): its page is what a pull
// would answer this device if its cursor is the change's `from`, so it is applied as one, under the
// sync lock (no pull or push of another tab in between); otherwise a pull as usual.
async function applyChange(data) {
  const change = JSON.parse(data);
  const applied = await navigator.locks.request("alliance-sync", async () => {
    const cursor = await store.getMeta("cursor");
    if (cursor === change.page.cursor) return true; // a pull brought it already
    if (cursor !== change.from) return false;
    await store.applyPull(change.page);
    const session = await store.getMeta("session");
    if (session) await checkWitnesses(session.token);
    return !change.page.more;
  });
  if (applied) await changed();
  else soon(0);
}

// The live stream: one tab keeps the connection, the others hear by broadcast.
// After a drop it waits a little longer each time, but comes back at once when the network does.
function live() {
  navigator.locks.request("alliance-live", async () => {
    let pause = 1000;
    for (;;) {
      const [session, clientId] = await Promise.all([store.getMeta("session"), store.getMeta("client_id")]);
      const started = Date.now();
      if (session && navigator.onLine) {
        try {
          await listen(session.token, clientId, (event, data) => {
            if (event === "change") applyChange(data).catch(() => soon(0));
            else if (event === "poke" || event === "ready") soon(0);
          });
        } catch { /* offline or signed out: try again later */ }
      }
      pause = Date.now() - started > 30_000 ? 1000 : Math.min(pause * 2, 60_000);
      await new Promise((resolve) => {
        const timeout = setTimeout(resolve, pause);
        wakeLive = () => { clearTimeout(timeout); resolve(); };
        addEventListener("online", wakeLive, { once: true });
      });
      wakeLive = () => {};
    }
  });
}

export function start() {
  addEventListener("online", () => { status.online = true; soon(0); });
  addEventListener("offline", () => { status.online = false; changed({ broadcast: false }); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) soon(0); });
  live();
  soon(0);
  return changed({ broadcast: false });
}
