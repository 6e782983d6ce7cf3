// Erasure on the phone (issue 13). Where someone had their words erased, the server sends its
// placeholder in their place, always in the form docs/PROTOCOL.md gives ("Erasure and your data");
// every screen shows it as sent, muted. Also here: how the others name someone erased, and the
// words that ask before erasing one's own.

import { day, h } from "./dom.js";

// The placeholder's documented form, e.g. "(erased at their request on 4 December 2026)".
export const ERASED = /\(erased at their request on \d{1,2} [A-Z][a-z]+ \d{4}\)/;
const EVERY = new RegExp(ERASED.source, "g");

// Every placeholder under `root` in a muted <span class="erased">, so it never reads as someone's words.
export function muteErased(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (ERASED.test(node.data) && !node.parentElement.closest(".erased, textarea, option")
      ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
  });
  const found = [];
  while (walker.nextNode()) found.push(walker.currentNode);
  for (const node of found) {
    const parts = [];
    let last = 0;
    for (const match of node.data.matchAll(EVERY)) {
      parts.push(node.data.slice(last, match.index), h("span", { class: "erased" }, match[0]));
      last = match.index + match[0].length;
    }
    parts.push(node.data.slice(last));
    node.replaceWith(...parts.filter((part) => part !== ""));
  }
}

// The people of an alliance who had their words erased: [[user id, participant, erasure]].
export const erasedPeople = (state) => Object.entries(state?.erasures || {})
  .map(([uid, erasure]) => [uid, state.participants?.[uid], erasure]).filter(([, p]) => p);

// "Ann — words erased at their request on 4 December": how the others see someone erased.
export const erasedName = (participant, erasure) => `${participant.name} — words erased at their request${
  erasure?.at ? ` on ${day(erasure.at.slice(0, 10))}` : ""}`;

// Erasing one's own words from an alliance, behind a plain account of what happens (it cannot be undone).
export function erasePart(title, erase) {
  const box = h("details", { class: "erase" },
    h("summary", {}, "Erase my words and leave"),
    h("div", { class: "confirm-box", role: "group", "aria-label": "Erase my words and leave: what happens" },
      h("p", {}, `Everything you wrote in “${title}” is erased for good: your answers, commitments, notes, `
        + "reasons and thanks. It goes from the server, from exports and print, and from everyone's phones."),
      h("p", {}, "Where your words were, the others see that they were erased at your request, and on which day."),
      h("p", {}, "What stays is the shape of the agreement: that you took part, and what you did when "
        + "(who consented, who committed), without your words."),
      h("p", {}, "You leave the alliance, and this account cannot join it again."),
      h("p", {}, h("strong", {}, "This cannot be undone.")),
      h("p", {}, h("a", { href: "#/devices" }, "To keep a copy, download everything about you first")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "danger", onclick: erase }, "Erase my words and leave"),
        h("button", { type: "button", onclick: () => { box.open = false; } }, "Keep my words"))));
  return box;
}
