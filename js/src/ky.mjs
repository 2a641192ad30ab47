// tokenwell/ky: a TokenClient's token on every request of a ky instance, as ky
// hooks. ky is an optional peer dependency: this entry imports nothing of ky
// (nor of the WebAssembly core: it talks to the client through its public API).
//
//   import ky from 'ky';
//   import { tokenwellHooks } from 'tokenwell/ky';
//   const api = ky.create({ prefixUrl: 'https://api.example.com', hooks: tokenwellHooks(client) });
//
// beforeRequest sets `Authorization`; afterResponse, on a 401 from the origin the
// request was sent to, invalidates that token and sends the request once more
// with a fresh one (ky hands the hook an unsent copy of the request: its body can
// be sent again). One retry per call, whatever ky's own retries do.

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * `{ beforeRequest, afterResponse }` for ky's `hooks` option (ky.create, ky.extend
 * or one call's options). `options.waitUntil` is passed to the client as for token().
 */
export function tokenwellHooks(client, options = undefined) {
  if (client === null || typeof client !== 'object' || typeof client.token !== 'function'
      || typeof client.invalidate !== 'function') {
    throw new TypeError('tokenwellHooks takes a tokenwell TokenClient');
  }
  // Per call (ky makes one options object per call): the token last sent, and
  // whether the call has used its retry.
  const sent = new WeakMap();
  const retried = new WeakSet();

  const beforeRequest = async (request, kyOptions) => {
    const token = await client.token(options);
    sent.set(kyOptions, token);
    request.headers.set('Authorization', token.authorizationHeader);
  };

  const afterResponse = async (request, kyOptions, response) => {
    if (response.status !== 401 || retried.has(kyOptions)) return undefined;
    const token = sent.get(kyOptions);
    if (token === undefined) return undefined;
    // After a redirect to another origin, fetch sent no token there: its 401 says nothing of it.
    if (response.redirected && originOf(response.url) !== originOf(request.url)) return undefined;
    retried.add(kyOptions);
    client.invalidate(token.accessToken, options);
    const fresh = await client.token(options);
    sent.set(kyOptions, fresh);
    // (Not awaited: the hook's response is one branch of a tee, whose cancel settles with the other's.)
    response.body?.cancel().catch(() => {});
    // A copy again: ky keeps `request` unsent for its own retries.
    const again = request.clone();
    again.headers.set('Authorization', fresh.authorizationHeader);
    const send = typeof kyOptions?.fetch === 'function' ? kyOptions.fetch : globalThis.fetch;
    return send(again);
  };

  return { beforeRequest: [beforeRequest], afterResponse: [afterResponse] };
}
