// The server's JSON API. Changes carry X-Doorhunt-Request, which the server requires (a page
// on another origin cannot add it without a CORS preflight the server never answers).

export class ApiError extends Error {
  constructor(message, status, location) {
    super(message);
    this.status = status;
    this.location = location;
  }
}

async function parse(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || response.statusText || String(response.status);
    throw new ApiError(message, response.status, data && data.location);
  }
  return data;
}

export function url(path, params = {}) {
  const target = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '') continue;
    if (Array.isArray(value)) value.forEach((item) => target.searchParams.append(key, item));
    else target.searchParams.set(key, value);
  }
  return target.pathname + target.search;
}

export async function get(path, params = {}) {
  const response = await fetch(url(path, params), {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  return parse(response);
}

export async function send(method, path, body, params = {}) {
  const response = await fetch(url(path, params), {
    method,
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Doorhunt-Request': '1' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parse(response);
}

export const enc = encodeURIComponent;
