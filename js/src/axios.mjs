// tokenwell/axios: a TokenClient's token on every request of an axios instance.
// axios is an optional peer dependency: this entry only uses the instance it is
// given, and imports nothing of axios (nor of the WebAssembly core: it talks to
// the client through its public API).
//
//   import axios from 'axios';
//   import { attachTokenwell } from 'tokenwell/axios';
//   const api = axios.create({ baseURL: 'https://api.example.com' });
//   attachTokenwell(api, client);
//
// The request interceptor sets `Authorization`; the response interceptor, on a
// 401 from the origin the request was sent to, invalidates that token and
// re-sends the request's config once (marked, so that the retry's own 401 is
// returned). A body that is a stream (one-shot) is never re-sent.

const RETRIED = '__tokenwellRetried';

/** The tokens sent, per request config (not on the config: axios errors carry it). */
const sent = new WeakMap();

function originOf(url, base) {
  try {
    return new URL(url, base).origin;
  } catch {
    return null;
  }
}

// Where the response came from after redirects: the Node adapter (follow-redirects)
// and the XHR adapter say; null where the adapter does not.
function finalUrl(response) {
  const request = response?.request;
  return request?.res?.responseUrl ?? request?.responseURL ?? null;
}

// A stream (Node's or the web's) or an async iterable can be read once.
function oneShot(data) {
  if (data === null || typeof data !== 'object') return false;
  if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return false;
  return typeof data.pipe === 'function' || typeof data.getReader === 'function'
    || typeof data[Symbol.asyncIterator] === 'function';
}

// An AxiosError carries its request's config (its toJSON() too): the token it
// was sent with is not left in it. (A retry of that config gets a fresh one from
// the request interceptor.)
function redact(config) {
  if (!config || !sent.has(config)) return;
  setHeader(config, '[redacted]');
}

function setHeader(config, value) {
  if (typeof config.headers?.set === 'function') config.headers.set('Authorization', value);
  else config.headers = { ...config.headers, Authorization: value };
}

/**
 * Installs the interceptors on `instance` (an axios instance, or axios itself).
 * `options.waitUntil` is passed to the client as for token(). Returns `{ eject() }`.
 */
export function attachTokenwell(instance, client, options = undefined) {
  if (instance === null || typeof instance !== 'function' && typeof instance !== 'object'
      || typeof instance.interceptors?.request?.use !== 'function') {
    throw new TypeError('attachTokenwell takes an axios instance');
  }
  if (client === null || typeof client !== 'object' || typeof client.token !== 'function'
      || typeof client.invalidate !== 'function') {
    throw new TypeError('attachTokenwell takes a tokenwell TokenClient');
  }
  const base = () => globalThis.location?.href;

  const onRequest = instance.interceptors.request.use(async (config) => {
    const token = await client.token(options);
    sent.set(config, token);
    setHeader(config, token.authorizationHeader);
    return config;
  });

  // The retry's config, or null: a 401 from the origin the token went to, not yet
  // retried, with a body that can be sent again.
  const retryOf = (response) => {
    const config = response?.config;
    if (response?.status !== 401 || !config || config[RETRIED] || oneShot(config.data)) return null;
    const token = sent.get(config);
    if (token === undefined) return null;
    const asked = originOf(instance.getUri(config), base());
    const answered = finalUrl(response);
    if (answered !== null && originOf(answered, base()) !== asked) return null;
    client.invalidate(token.accessToken, options);
    return { ...config, [RETRIED]: true };
  };

  const onResponse = instance.interceptors.response.use(
    (response) => {
      const retry = retryOf(response); // (with a validateStatus that accepts 401)
      return retry === null ? response : instance.request(retry);
    },
    (error) => {
      const retry = retryOf(error?.response);
      if (retry !== null) return instance.request(retry);
      redact(error?.config);
      return Promise.reject(error);
    },
  );

  return {
    eject() {
      instance.interceptors.request.eject(onRequest);
      instance.interceptors.response.eject(onResponse);
    },
  };
}
