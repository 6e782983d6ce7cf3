// The server, through the documented protocol only (docs/PROTOCOL.md).

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The server answered ${status}`);
    this.status = status;
    this.problem = problem;
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

// Server-sent events over fetch, since EventSource cannot send the Authorization header.
// With the device's client id, changes come as pages for it.
export async function listen(token, clientId, onEvent, signal) {
  const path = `/api/v1/sync/live${clientId ? `?client_id=${encodeURIComponent(clientId)}` : ""}`;
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, signal });
  if (!response.ok) throw new ApiError(response.status, {});
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
