// Building the screen from data. Text always goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
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

// "3 March 2027" from "2027-03-03"; the year only when it is not this year.
export function day(iso) {
  if (!iso) return "";
  const d = new Date(`${iso}T12:00:00`);
  const options = { day: "numeric", month: "long" };
  if (d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
  return d.toLocaleDateString(undefined, options);
}

export function when(isoMoment) {
  return isoMoment ? new Date(isoMoment).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function uuid() {
  return crypto.randomUUID();
}
