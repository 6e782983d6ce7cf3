// The server, through the documented protocol only (docs/PROTOCOL.md).

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}`);
    this.status = status;
    this.problem = problem;
    // A deleted account's token: the first call to hear it tells the app, which wipes the phone (app.js).
    if (status === 401 && problem.code === "account_deleted") dispatchEvent(new CustomEvent("account-deleted", { detail: this.message }));
  }
}

export async function call(method, path, { body, token, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (response.status === 429) throw new ApiError(429, { ...(typeof data === "object" ? data : {}), detail: tooMany(response) });
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: data });
  return data;
}

// A rate limit, in a sentence (the server's own words are the bare "Too Many Requests"): how long to wait.
function tooMany(response) {
  const seconds = Number(response.headers.get("RateLimit-Reset") || response.headers.get("Retry-After"));
  const wait = seconds > 90 ? `about ${Math.ceil(seconds / 60)} minutes` : seconds > 0 ? `${Math.ceil(seconds)} seconds` : "a minute";
  return `There have been too many tries from here in a short time. Wait ${wait}, then try again.`;
}

// An export, fetched with the token: opened (a page to print) or saved as the server names it. Trouble in words, or "".
export async function fetchFile(path, token, { open = false, name = "" } = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  } catch {
    return "This needs a connection: try again when online.";
  }
  if (!response.ok) return (await response.json().catch(() => ({}))).detail || "The download failed.";
  const url = URL.createObjectURL(await response.blob());
  if (open) window.open(url, "_blank");
  else Object.assign(document.createElement("a"), { href: url,
    download: /filename="([^"]+)"/.exec(response.headers.get("content-disposition"))?.[1] || name }).click();
  return "";
}

// Server-sent events over fetch, since EventSource cannot send the Authorization header.
// With the device's client id, changes come as pages for it.
export async function listen(token, clientId, onEvent, signal) {
  const path = `/api/v1/sync/live${clientId ? `?client_id=${encodeURIComponent(clientId)}` : ""}`;
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, signal });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end; // an event ends with a blank line, and lines may end in CRLF (as the server sends), LF or CR
    while ((end = /\r\n\r\n|\n\n|\r\r/.exec(buffer))) {
      const block = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      if (event) onEvent(event, /^data: (.*)$/m.exec(block)?.[1]);
    }
  }
}
