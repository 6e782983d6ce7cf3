// Words being typed survive a redraw of the screen they are typed on. A redraw that started before
// the first keystroke (a sync landing) may replace the fields a moment later: the fields it replaced
// still hold what was typed, so the new ones take it over, and the caret goes back where it was.
// Drafts (drafts.js) keep words across reloads; this keeps them across one redraw, any form,
// passwords included (held in memory for that moment only).

const FIELDS = "input:not([type=hidden]):not([type=button]):not([type=submit]), textarea, select";
let lastFocused = null;
const sent = new WeakSet(); // forms submitted: the next drawing shows what their change made

export function follow(main) {
  main.addEventListener("focusin", (event) => { lastFocused = event.target; });
  main.addEventListener("submit", (event) => sent.add(event.target));
}

// Someone has a field of this screen under their fingers.
export function typing(main) {
  return main.contains(document.activeElement) && document.activeElement.matches(FIELDS);
}

// The same field on the next drawing: the card it is in, its form, its name. A form is known by
// its draft key, else by its fields' names and its place among the forms with the same ones (so
// a form that appears above it on the next drawing moves no words).
function identities(main) {
  const signature = (form) => [...form.elements].map((el) => el.name).join(",");
  const alike = new Map();
  const forms = new Map();
  for (const form of main.querySelectorAll("form")) {
    const key = form.dataset.draft || signature(form);
    alike.set(key, (alike.get(key) ?? -1) + 1);
    forms.set(form, `${key}#${alike.get(key)}`);
  }
  return (el) => {
    const option = ["checkbox", "radio"].includes(el.type) ? `=${el.value}` : "";
    return `${el.closest("[data-alliance]")?.dataset.alliance || ""}|${forms.get(el.closest("form")) || ""}|${el.name}${option}`;
  };
}

const changed = (el) => (["checkbox", "radio"].includes(el.type) ? el.checked !== el.defaultChecked
  : el.tagName === "SELECT" ? [...el.options].some((o) => o.selected !== o.defaultSelected)
    : el.value !== el.defaultValue);

// Before a redraw: the fields on screen now. Returns what, after it, gives the new fields what the
// person changed in the old ones meanwhile (read at the end: typing lands while the redraw runs).
export function keep(main) {
  const identity = identities(main);
  const before = [...main.querySelectorAll(FIELDS)].filter((el) => el.name).map((el) => [identity(el), el]);
  return function putBack() {
    const replaced = new Map(before.filter(([, el]) => !el.isConnected && !sent.has(el.form)));
    const now = identities(main);
    for (const el of main.querySelectorAll(FIELDS)) {
      const old = el.name && replaced.get(now(el));
      if (!old || el === document.activeElement) continue;
      if (changed(old)) {
        if (["checkbox", "radio"].includes(old.type)) el.checked = old.checked;
        else el.value = old.value;
        // Counters and drafts follow the input; what a field shows or hides follows its change.
        for (const type of ["input", "change"]) el.dispatchEvent(new Event(type, { bubbles: true }));
      }
      // The field under their fingers went with the old screen, and the focus with it (to nowhere).
      if (old === lastFocused && [null, document.body].includes(document.activeElement)) {
        el.focus();
        if (el.setSelectionRange && old.selectionStart !== null) el.setSelectionRange(old.selectionStart, old.selectionEnd);
      }
    }
  };
}
