// The mock provider's admin routes over plain fetch: usable from every runtime.

/** The admin routes of a mock at `url` (works in every runtime: plain fetch). */
export function adminClient(url) {
  const call = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`mock ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    reset: () => call('POST', '/__admin/reset'),
    script: (responses) => call('POST', '/__admin/script', { responses }),
    requests: () => call('GET', '/__admin/requests'),
    async count() { return (await call('GET', '/__admin/requests')).count; },
    /** The accepted client's new secret; the old one is refused from then on. */
    rotate: (clientSecret) => call('POST', '/__admin/rotate', { client_secret: clientSecret }),
  };
}
