// Versions in words (issue 11): the content version is the one number a person sees; agreed
// versions are told as "Agreed on 3 December 2026 by Ann and Sam", and names people gave
// versions show wherever a version does. Also the content hash of PROTOCOL.md's recipe,
// recomputed on this phone.

import { nameOf } from "./model.js";

// "Ann and Sam", "Ann, Bo and Sam".
export function names(list) {
  return list.length < 3 ? list.join(" and ") : `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
}

export const nameOfVersion = (state, version) => state?.version_names?.[String(version)]?.name || "";

// The latest time everyone agreed to this content version, or null.
export function agreementOf(state, version) {
  return [...(state?.agreements || [])].reverse().find((a) => a.version === version) || null;
}

// "Agreed on 3 December 2026 by Ann and Sam" (or "Agreed" alone for an old record without who and when).
export function agreedWords(state, agreement) {
  if (!agreement.at) return "Agreed";
  const who = names(Object.keys(agreement.consents || {}).map((uid) => nameOf(state, uid)));
  const on = new Date(agreement.at).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
  return `Agreed on ${on}${who ? ` by ${who}` : ""}`;
}

// "version 7, “after our first review”": the number with its name, if it has one.
export function versionLabel(state, version, name = nameOfVersion(state, version)) {
  return name ? `version ${version}, “${name}”` : `version ${version}`;
}

// Everything a version is called: its name, and when it was agreed by whom.
export function versionWords(state, version) {
  const agreement = agreementOf(state, version);
  const label = versionLabel(state, version);
  return agreement ? `${agreedWords(state, agreement)} (${label})` : `${label[0].toUpperCase()}${label.slice(1)}`;
}

// The versions a person can pick to compare, in words, newest first: now, every agreed one, every named one.
export function versionChoices(state) {
  const versions = new Set([...(state?.agreements || []).map((a) => a.version),
    ...Object.keys(state?.version_names || {}).map(Number)]);
  versions.delete(state.content_version);
  return [{ version: state.version, words: `Now (${versionLabel(state, state.content_version)})` },
    ...[...versions].sort((a, b) => b - a).map((v) => ({ version: v, words: versionWords(state, v) }))];
}

// Event kinds whose event always changes the content: their event version is a content version.
export const CONTENT_KINDS = new Set(["Designed", "QuestionAdded", "QuestionReworded", "QuestionRemoved",
  "QuestionAnswered", "OwnAnswerGiven", "CommitmentMade", "CommitmentAmended", "CommitmentWithdrawn",
  "ConflictResolved", "ReviewScheduled", "AllianceRenamed", "VersionRestored", "AnswerRestored", "CommitmentRestored"]);

// ----- the consented content and its hash, exactly as docs/PROTOCOL.md says -----

const pick = (thing, keys) => Object.fromEntries(keys.map((k) => [k, thing[k] ?? null]));

// What a consent is given to, built from a state as the server builds it (private questions left out).
export function consentedContent(state) {
  const isPrivate = (qid) => Boolean(state.questions[qid]?.private);
  const keep = (map) => Object.fromEntries(Object.entries(map || {}).filter(([qid]) => !isPrivate(qid)));
  const map = (object, f) => Object.fromEntries(Object.entries(object || {}).map(([k, v]) => [k, f(v)]));
  return {
    title: state.title,
    questions: map(state.questions, (q) => pick(q, ["section", "text", "removed"])),
    answers: map(keep(state.answers), (a) => ({ text: a.text, conflict: a.conflict || [] })),
    own_answers: keep(state.own_answers),
    commitments: map(state.commitments, (c) => pick(c, ["text", "owner_id", "due", "status", "conflict"])),
    rhythm: state.rhythm ?? null,
  };
}

// JSON with every object's keys sorted by code point and no whitespace (never rely on key order).
export function sortedStringify(value) {
  if (Array.isArray(value)) return `[${value.map(sortedStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedStringify(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function contentHash(content) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sortedStringify(content)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
