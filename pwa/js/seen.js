// When this person last opened an alliance before this visit: an ISO time, or null the
// first time. The same value on every redraw of one visit (a visit: this page's life).

const visit = new Map();

export async function openedBefore(allianceId) {
  if (!visit.has(allianceId)) {
    const key = `alliance.opened.${allianceId}`;
    visit.set(allianceId, localStorage.getItem(key));
    localStorage.setItem(key, new Date().toISOString());
  }
  return visit.get(allianceId);
}
