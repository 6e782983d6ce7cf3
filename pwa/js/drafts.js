// Drafts: what a person types into a form is kept in IndexedDB as they type, and put back whenever
// the screen is drawn again (a reload, back, another screen and back, the page killed offline), marked
// "Draft, not saved" with a way to discard it. Views only name their forms (data-draft="<form key>");
// everything else happens here, once for every screen. A draft leaves when its form's change enters the
// outbox (store.enqueue) or when it is discarded. Also here: a live counter under every text with a limit.

import { h } from "./dom.js";
import * as store from "./store.js";

let person = "";
const drawn = new WeakMap(); // form -> its fields as the screen drew them (what "no draft" means)

// One draft per person, alliance and form. The alliance: the card the form sits in, else the screen's.
export function keyOf(form, formKey = form.dataset.draft) {
  const alliance = form.closest("[data-alliance]")?.dataset.alliance ?? /^#\/a\/([^/?]+)/.exec(location.hash)?.[1] ?? "";
  return `${person}|${alliance}|${formKey}`;
}

const typed = (el) => el.name && !["button", "submit", "reset", "hidden", "file"].includes(el.type);
const slot = (el) => (["checkbox", "radio"].includes(el.type) ? `${el.name}=${el.value}` : el.name);

export function fieldsOf(form) {
  const fields = {};
  for (const el of form.elements) {
    if (typed(el)) fields[slot(el)] = ["checkbox", "radio"].includes(el.type) ? el.checked : el.value;
  }
  return fields;
}

function fill(form, fields) {
  for (const el of form.elements) {
    if (!typed(el) || !(slot(el) in fields)) continue;
    if (["checkbox", "radio"].includes(el.type)) el.checked = fields[slot(el)];
    else el.value = fields[slot(el)];
    el.dispatchEvent(new Event("change")); // forms that show or hide parts by a field follow it
  }
  for (const el of form.querySelectorAll("textarea[maxlength]")) count(el);
}

const same = (a, b) => Object.keys({ ...a, ...b }).every((k) => a[k] === b[k]);

// An editor that opens on demand opens by itself when it holds a draft, and so does what it is folded in.
function reveal(form) {
  form.hidden = false;
  for (let d = form.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
}

function mark(form) {
  if (form.querySelector(":scope > .draft-mark")) return;
  const name = form.dataset.draftName || form.querySelector("label")?.textContent.trim() || "this form";
  form.prepend(h("p", { class: "draft-mark" },
    h("span", {}, "Draft, not saved"),
    h("button", { type: "button", "aria-label": `Discard draft: ${name}`, onclick: () => discard(form) }, "Discard draft")));
}

function unmark(form) {
  form.querySelector(":scope > .draft-mark")?.remove();
}

export async function discard(form) {
  await store.dropDraft(keyOf(form));
  fill(form, drawn.get(form) || {});
  unmark(form);
}

// After each drawing of the screen (its forms' fields as drawn are noted already, see follow):
// put each form's draft back, and count.
export async function restore(main, session) {
  person = session?.user_id || "";
  const forms = [...main.querySelectorAll("form[data-draft]")];
  for (const el of main.querySelectorAll("textarea[maxlength]")) count(el);
  if (!person || !forms.length) return;
  const kept = new Map((await store.drafts()).map((d) => [d.key, d]));
  for (const form of forms) {
    const draft = kept.get(keyOf(form));
    if (!draft || !form.isConnected) continue;
    fill(form, draft.fields);
    reveal(form);
    mark(form);
  }
}

// "1,234 / 10,000" under a text with a limit, from the first character; the field's maxlength stops it there.
function count(el) {
  const max = Number(el.maxLength);
  let counter = el.counter;
  if (!counter) {
    counter = h("p", { class: "counter muted", id: `count-${crypto.randomUUID()}` });
    el.counter = counter;
    el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), counter.id].filter(Boolean).join(" "));
    (el.closest("label") || el).after(counter);
  }
  const n = el.value.length;
  counter.textContent = `${n.toLocaleString()} / ${max.toLocaleString()}${n >= max ? ": the most it can hold" : ""}`;
  counter.classList.toggle("full", n >= max);
}

// Wired once: every keystroke in a named form is kept; a submit hands its draft to the outbox.
export function follow(main) {
  // A form's fields as drawn are noted the moment it enters the screen (a microtask, before any
  // keystroke can land): noted later, words typed in between would count as "no draft".
  new MutationObserver(() => {
    for (const form of main.querySelectorAll("form[data-draft]")) if (!drawn.has(form)) drawn.set(form, fieldsOf(form));
  }).observe(main, { childList: true, subtree: true });
  const kept = async (event) => {
    const form = event.target.closest?.("form[data-draft]");
    if (event.target.matches?.("textarea[maxlength]")) count(event.target);
    if (!form || !person || !typed(event.target)) return;
    const fields = fieldsOf(form);
    if (same(fields, drawn.get(form) || {})) {
      unmark(form);
      await store.dropDraft(keyOf(form));
    } else {
      mark(form);
      await store.keepDraft({ key: keyOf(form), fields, at: new Date().toISOString() });
    }
  };
  main.addEventListener("input", kept);
  main.addEventListener("change", (event) => { if (event.isTrusted) kept(event); });
  // Capture: before the view's own handler runs and enqueues; bubble: after it, whether it did or not.
  main.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-draft]");
    if (form && person) store.submittingDraft({ key: keyOf(form), fields: fieldsOf(form) });
  }, true);
  main.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-draft]");
    if (store.submittingDraft(null) && form) { unmark(form); drawn.set(form, fieldsOf(form)); }
  });
}

// The form a draft key names, if it is on screen.
export function formOf(main, key) {
  return [...main.querySelectorAll("form[data-draft]")].find((form) => keyOf(form) === key) || null;
}

export function edit(main, key) {
  const form = formOf(main, key);
  if (!form) return false;
  reveal(form);
  form.querySelector("textarea, input:not([type=hidden]), select")?.focus();
  return true;
}
