// The phone's own copy in IndexedDB: the last pulled state of the user's
// alliances, the outbox of pending mutations (numbered per device, shared
// by every tab), rejected mutations to show, what people are typing (drafts),
// and a few settings.

const NAME = "alliance";
const STORES = ["meta", "alliances", "outbox", "rejected", "drafts"];
// Signing in afresh starts a new device, but keeps what its person was typing (drafts are per person).
const DEVICE_STORES = STORES.filter((name) => name !== "drafts");
let opening;

function db() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 2);
    // Each version adds to what the one before made: a phone's data survives every upgrade.
    request.onupgradeneeded = (event) => {
      const d = request.result;
      if (event.oldVersion < 1) {
        d.createObjectStore("meta");
        d.createObjectStore("alliances", { keyPath: "id" });
        d.createObjectStore("outbox", { keyPath: "id" });
        d.createObjectStore("rejected", { keyPath: "id" });
      }
      if (event.oldVersion < 2) d.createObjectStore("drafts", { keyPath: "key" });
    };
    // Another tab still on the old version would block this one's upgrade: it lets go.
    request.onblocked = () => {};
    request.onsuccess = () => {
      const d = request.result;
      d.onversionchange = () => { d.close(); opening = null; };
      resolve(d);
    };
    request.onerror = () => reject(request.error);
  });
  return opening;
}

// Run `work(stores)` in one transaction; resolves with its result once committed.
async function transaction(names, mode, work) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(names, mode);
    const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
    let result;
    Promise.resolve(work(stores)).then((r) => { result = r; }, reject);
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const ask = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

export const getMeta = (key) => transaction(["meta"], "readonly", ({ meta }) => ask(meta.get(key)));
export const setMeta = (key, value) => transaction(["meta"], "readwrite", ({ meta }) => { meta.put(value, key); });
export const alliances = () => transaction(["alliances"], "readonly", ({ alliances }) => ask(alliances.getAll()));
export const alliance = (id) => transaction(["alliances"], "readonly", ({ alliances }) => ask(alliances.get(id)));
export const outbox = () => transaction(["outbox"], "readonly", ({ outbox }) => ask(outbox.getAll()));
export const rejected = () => transaction(["rejected"], "readonly", ({ rejected }) => ask(rejected.getAll()));
export const dismiss = (id) => transaction(["rejected"], "readwrite", ({ rejected }) => { rejected.delete(id); });
export const markRejected = (record) => transaction(["rejected"], "readwrite", ({ rejected }) => { rejected.put(record); });

// Drafts: what a person typed and has not saved, one record per person, alliance and form
// ({ key, fields, at }); the key is made by drafts.js.
export const drafts = () => transaction(["drafts"], "readonly", ({ drafts }) => ask(drafts.getAll()));
export const draft = (key) => transaction(["drafts"], "readonly", ({ drafts }) => ask(drafts.get(key)));
export const keepDraft = (record) => transaction(["drafts"], "readwrite", ({ drafts }) => { drafts.put(record); });
export const dropDraft = (key) => transaction(["drafts"], "readwrite", ({ drafts }) => { drafts.delete(key); });

// The form being submitted ({ key, fields }): its draft leaves in the same transaction as the change it
// saves enters the outbox, so a draft is dropped exactly when what it held is saved (not when a form
// refuses). The change keeps it, to put the text back if the server refuses the change.
let submitting = null;
// Returns whether the record handed before was taken by a change (so its form's draft is gone).
export function submittingDraft(record) {
  const taken = submitting === null;
  submitting = record;
  return taken;
}
export const witnesses = async () => (await getMeta("witnesses")) || {};
// An anchor (a version and the chain head seen at it) as GET /verify takes it; "" for a state kept before heads came.
export const anchorQuery = (seen) => (seen?.chain_head ? `version=${seen.version}&head=${seen.chain_head}` : "");

// What the server said of a head this phone kept: still in its record (forgotten: the newer state
// is the anchor now), or, in its words, what changed.
export function checkedWitness(id, check) {
  return transaction(["meta"], "readwrite", async ({ meta }) => {
    const all = (await ask(meta.get("witnesses"))) || {};
    if (!all[id]) return;
    if (check.ok) delete all[id];
    else all[id].problem = check.problem;
    meta.put(all, "witnesses");
  });
}

// Two changes to the same thing: from the same form, or the same kind on the same question, commitment or ally.
const ITEM_ARGS = ["question_id", "commitment_id", "ally_id", "goal_id", "invitation_id"];
export function sameItem(a, b) {
  if (a.alliance_id !== b.alliance_id) return false;
  if (a.draft && b.draft) return a.draft.key === b.draft.key;
  return a.name === b.name && ITEM_ARGS.every((k) => a.args?.[k] === b.args?.[k]);
}

// Add a mutation with the next number of this device. Numbering and adding
// happen in one transaction, so two tabs never take the same number.
export function enqueue(name, allianceId, args) {
  const draft = submitting;
  submitting = null;
  const mutation = { alliance_id: allianceId, name, args, created_at: new Date().toISOString(), draft: draft || undefined };
  return transaction(["meta", "outbox", "drafts", "rejected"], "readwrite", async ({ meta, outbox, drafts, rejected }) => {
    const id = (await ask(meta.get("next_mutation_id"))) || 1;
    meta.put(id + 1, "next_mutation_id");
    outbox.put({ id, ...mutation });
    if (draft) drafts.delete(draft.key);
    // Trying again settles the refusal it answers.
    for (const r of await ask(rejected.getAll())) if (sameItem(r, mutation)) rejected.delete(r.id);
    return id;
  });
}

// What a push answered: keep rejected ones to show, and put what the person typed for each back as a
// draft of its form (unless they are typing there again already); acknowledged ones leave
// the outbox only when a pull brings their effects (see applyPull).
export function recordRejections(results, sent) {
  const byId = new Map(sent.map((m) => [m.id, m]));
  return transaction(["rejected", "drafts"], "readwrite", async ({ rejected, drafts }) => {
    for (const r of results) {
      const error = r.status === "rejected" ? r.error : r.outcome === "rejected" ? r.error : null;
      if (!error || !byId.has(r.id)) continue;
      const mutation = byId.get(r.id);
      rejected.put({ ...mutation, error, at: new Date().toISOString() });
      if (mutation.draft && !(await ask(drafts.get(mutation.draft.key)))) {
        drafts.put({ ...mutation.draft, at: new Date().toISOString(), rejected: mutation.id });
      }
    }
  });
}

// The server sends an older version than this phone held, or the same version with another chain head:
// its record no longer matches what the phone saw (SYNC.md 15).
const rewritten = (held, state) => state.version < held.version
  || (state.version === held.version && held.chain_head && state.chain_head !== held.chain_head);

// A pull's answer, all at once: alliances (and the ally inventory) replaced by the server's state,
// acknowledged mutations dropped from the outbox, the cursor moved on. A chain head this phone held is
// not simply dropped for a newer one: it is kept in "witnesses" (the oldest one not yet checked) until
// the server shows its record still holds it, and marked suspect at once where the pull shows it does not.
export function applyPull(answer) {
  return transaction(["meta", "alliances", "outbox", "drafts"], "readwrite", async ({ meta, alliances, outbox, drafts }) => {
    const witnesses = (await ask(meta.get("witnesses"))) || {};
    for (const state of answer.alliances) {
      const held = await ask(alliances.get(state.id));
      const erased = Object.keys(state.erasures || {}).some((uid) => !held?.erasures?.[uid]);
      if (held && erased) await dropCopies({ meta, drafts }, held, state);
      const suspect = Boolean(held) && rewritten(held, state);
      if (suspect || (held?.chain_head && held.chain_head !== state.chain_head)) {
        witnesses[state.id] ??= { version: held.version, chain_head: held.chain_head, problem: "", suspect };
        witnesses[state.id].suspect ||= suspect;
      }
    }
    const kept = new Set(answer.alliances.map((s) => s.id));
    for (const id of Object.keys(witnesses)) {
      if ((answer.reset && !kept.has(id)) || (answer.removed || []).includes(id)) delete witnesses[id];
    }
    meta.put(witnesses, "witnesses");
    // An alliance leaving this phone takes along what history.js kept of it.
    const gone = answer.reset ? (await ask(alliances.getAllKeys())).filter((id) => !kept.has(id)) : answer.removed || [];
    for (const id of gone) dropHistory(meta, id);
    if (answer.reset) alliances.clear();
    for (const state of answer.alliances) alliances.put(state);
    for (const id of answer.removed || []) alliances.delete(id);
    outbox.delete(IDBKeyRange.upperBound(answer.last_mutation_id));
    // The person's own ally inventory comes whole, only when it changed, and on every reset
    // (empty, with the words its screen needs, before anything is stored in it).
    if (answer.inventory) meta.put(answer.inventory, "inventory");
    meta.put(answer.cursor, "cursor");
    meta.put(answer.last_mutation_id, "last_mutation_id");
    meta.put(new Date().toISOString(), "last_synced");
  });
}

const dropHistory = (meta, id) => meta.delete(IDBKeyRange.bound(`history:${id}`, `history:${id}\uffff`));

// Someone's words in an alliance were erased: no copy may stay (PROTOCOL.md, "Erasure and your data"): what
// history.js kept, the reminders (fetched again after the sync), drafts of it quoting a text now gone.
async function dropCopies({ meta, drafts }, held, state) {
  dropHistory(meta, held.id);
  meta.delete("reminders");
  const now = JSON.stringify(state);
  const gone = [];
  JSON.stringify(held, (_, v) => (typeof v === "string" && v.length > 3 && !now.includes(JSON.stringify(v)) && gone.push(v), v));
  for (const d of await ask(drafts.getAll())) {
    const quotes = Object.values(d.fields || {}).some((v) => gone.some((t) => String(v).includes(t)));
    if (d.key.split("|")[1] === held.id && quotes) drafts.delete(d.key);
  }
}

// Signing in starts a fresh device: a new client id, an empty copy.
export function startDevice(session) {
  return transaction(DEVICE_STORES, "readwrite", (stores) => {
    for (const name of DEVICE_STORES) stores[name].clear();
    stores.meta.put(session, "session");
    stores.meta.put(`pwa-${crypto.randomUUID()}`, "client_id");
    stores.meta.put(1, "next_mutation_id");
    stores.meta.put(new Date().toISOString(), "created");
  });
}

export function forget() {
  return transaction(STORES, "readwrite", (stores) => {
    for (const name of STORES) stores[name].clear();
  });
}
