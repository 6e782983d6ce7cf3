// Building the screen from data. Text always goes in as text nodes, never as HTML.

// The longest text the server takes (MAX_TEXT in events/alliance.py): fields stop there, with a counter.
export const MAX_TEXT = 10_000;
// Fields people type their own words in follow the words' direction (Arabic, Hebrew: right to left).
const TYPED = new Set(["text", "search", "email", undefined]);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  if ((tag === "textarea" || (tag === "input" && TYPED.has(attrs?.type))) && !attrs?.dir) el.dir = "auto";
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function show(root, ...children) {
  root.replaceChildren();
  append(root, children);
}

// Dates in the person's own languages (the browser's list, in their order) and their own time zone.
export const LOCALES = navigator.languages?.length ? [...navigator.languages] : undefined;

// "3 March 2027" from "2027-03-03" (a calendar day: no time zone moves it); the year only when it is not this year.
export function day(iso) {
  if (!iso) return "";
  const d = new Date(`${iso}T12:00:00`);
  const options = { day: "numeric", month: "long" };
  if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return d.toLocaleDateString(LOCALES, options);
}

export function when(isoMoment) {
  return isoMoment ? new Date(isoMoment).toLocaleString(LOCALES, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function uuid() {
  return crypto.randomUUID();
}

// Erased words: the server's placeholder (its form in docs/PROTOCOL.md), shown muted wherever it stands.
export const ERASED = /\(erased at their request on \d{1,2} [A-Z][a-z]+ \d{4}\)/;
export function muteErased(root) {
  const found = [];
  for (const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); walker.nextNode();) {
    if (ERASED.test(walker.currentNode.data) && !walker.currentNode.parentElement.closest(".erased")) found.push(walker.currentNode);
  }
  for (const node of found) node.replaceWith(h("span", { class: "erased" }, node.data));
}
