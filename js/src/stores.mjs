// The shared stores shipped with the npm package: each maps the core's store
// calls (see `Store` in index.d.ts) onto one runtime's API and decides nothing.
// The keys (hashed), the records (sealed), the lock rules, the time-boxing and
// the circuit breaker are the core's; the Redis stores run the core's own Lua
// (./scripts.mjs is generated from src/fleet/scripts.rs by scripts/build.sh).
import { GET, PUBLISH, UNLOCK, REMOVE_IF, BUDGET } from './scripts.mjs';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const DENO_INSPECT = Symbol.for('Deno.customInspect');

// A whole, positive number of milliseconds (what SET PX and the scripts take).
const ms = (ttlMs) => String(Math.max(1, Math.ceil(Number(ttlMs) || 0)));

// What the stores show of themselves: their kind, never their client (whose
// options may hold a password or a token).
function named(store, name) {
  const show = () => `${name} {}`;
  Object.defineProperties(store, {
    toString: { value: show },
    toJSON: { value: () => ({ store: name }) },
    [INSPECT]: { value: show },
    [DENO_INSPECT]: { value: show },
  });
  return Object.freeze(store);
}

// A reply that says the server will not run the core's scripts at all (an
// ACL without scripting, a proxy without EVAL), rather than that one run failed.
const SCRIPTS_REFUSED = /\b(NOPERM|NOSCRIPT)\b|unknown command/i;
// After such a reply, how long the store takes the server at its word before it
// sends a script again (an operator may grant the rules meanwhile).
const SCRIPTS_RECHECK_MS = 60_000;

/**
 * A store over Redis commands, `run(['SET', …])` answering a promise of the
 * reply: the native Redis store's commands and scripts, so every language
 * shares the same records and lock on one Redis. A server that refuses the
 * scripts makes it say so (`scriptsRefused`, read by the core, which then
 * treats it as a failing store): meanwhile it takes no lock and sends no
 * script, and it releases a lock it holds with GET then DEL.
 */
function commandStore(run, name) {
  let refusedUntil = 0;
  const refused = () => Date.now() < refusedUntil;
  const notNow = () => new Error('the Redis server refuses scripts; not sending one again yet');
  const script = async (args) => {
    if (refused()) throw notNow();
    try {
      return await run(args);
    } catch (e) {
      if (SCRIPTS_REFUSED.test(String(e?.message))) refusedUntil = Date.now() + SCRIPTS_RECHECK_MS;
      throw e;
    }
  };
  return named({
    get scriptsRefused() { return refused(); },
    async get(key) {
      // The core's GET script: a record over the core's limit is refused in
      // Redis (an error, so a miss), never transferred.
      const record = await run(['EVAL', GET, '1', key]);
      return typeof record === 'string' ? record : null;
    },
    async put(key, record, ttlMs) {
      await run(['SET', key, record, 'PX', ms(ttlMs)]);
    },
    async removeIf(key, _record, fingerprint) {
      await script(['EVAL', REMOVE_IF, '1', key, fingerprint]);
    },
    async tryLock(lock, owner, ttlMs) {
      // A lock it could release only without a script: none taken.
      if (refused()) throw notNow();
      return (await run(['SET', lock, owner, 'NX', 'PX', ms(ttlMs)])) === 'OK';
    },
    async unlock(lock, owner) {
      if (!refused()) {
        try {
          await script(['EVAL', UNLOCK, '1', lock, owner]);
          return;
        } catch (e) {
          if (!refused()) throw e;
        }
      }
      // Without a script: GET, then DEL if it still holds our owner. Not
      // atomic: should our lock lapse between the two and another process take
      // it, the DEL frees theirs (at worst one more token request). The lock
      // outlives the HTTP timeout by seconds and is released right after the
      // fetch, so that window is rarely open.
      if ((await run(['GET', lock])) === owner) await run(['DEL', lock]);
    },
    async publish(key, record, ttlMs, lock, owner) {
      await script(lock ? ['EVAL', PUBLISH, '2', key, lock, record, ms(ttlMs), owner]
        : ['EVAL', PUBLISH, '1', key, record, ms(ttlMs)]);
    },
    // The request budget's counter: the core's script on its own key.
    async spend(key, limit, windowMs, nowUnixMs) {
      return Number(await script(['EVAL', BUDGET, '1', key, String(limit), String(windowMs), String(nowUnixMs)]));
    },
  }, name);
}

/**
 * Redis through the application's own client: node-redis v4+ (`createClient()`
 * or `createCluster()`, connected) or ioredis (`new Redis()` or `new
 * Redis.Cluster()`), told apart by their API. Same keys, Lua scripts and sealed
 * records as the native Redis store of the Rust, Python and Kotlin packages: a
 * Node service shares one token with them. The commands it sends: GET, SET (NX
 * PX), DEL and EVAL; each names its keys, which share a hash tag (one cluster
 * slot).
 * @param {object} client a connected node-redis client or cluster, or an ioredis client or cluster
 */
export function redisStore(client) {
  if (client && typeof client.call === 'function' && typeof client.defineCommand === 'function') {
    // ioredis, single or Cluster: call(command, ...args), routed by its keys.
    const kind = client.isCluster ? 'ioredis cluster' : 'ioredis';
    return commandStore((args) => client.call(...args), `redisStore(${kind})`);
  }
  if (client && typeof client.sendCommand === 'function' && Array.isArray(client.masters)) {
    // node-redis cluster: sendCommand(firstKey, isReadonly, [command, ...args])
    // routes by the first key; every call goes to the slot's primary (a
    // replica could miss a record just published).
    return commandStore((args) => client.sendCommand(firstKey(args), false, args), 'redisStore(node-redis cluster)');
  }
  if (client && typeof client.sendCommand === 'function') {
    // node-redis v4+: sendCommand([command, ...args]).
    return commandStore((args) => client.sendCommand(args), 'redisStore(node-redis)');
  }
  throw new TypeError('redisStore: expected a node-redis (v4+) or an ioredis client');
}

/** The first key of one of the store's commands: `EVAL script numkeys key…`, else `CMD key …`. */
function firstKey(args) {
  return args[0] === 'EVAL' ? args[3] : args[1];
}

/**
 * Redis over HTTP with `@upstash/redis` (Vercel and Netlify edge functions):
 * the same commands and scripts as redisStore.
 * @param {object} redis an `@upstash/redis` `Redis`
 */
export function upstashStore(redis) {
  if (!redis || typeof redis.eval !== 'function' || typeof redis.set !== 'function') {
    throw new TypeError('upstashStore: expected an @upstash/redis Redis');
  }
  const run = ([command, ...args]) => {
    switch (command) {
      case 'GET': return redis.get(args[0]);
      case 'DEL': return redis.del(args[0]);
      case 'SET': return args[2] === 'NX'
        ? redis.set(args[0], args[1], { nx: true, px: Number(args[4]) })
        : redis.set(args[0], args[1], { px: Number(args[3]) });
      default: { // EVAL script numkeys ...keys ...args
        const [script, count, ...rest] = args;
        return redis.eval(script, rest.slice(0, Number(count)), rest.slice(Number(count)));
      }
    }
  };
  return commandStore(run, 'upstashStore');
}

/**
 * Deno KV (`await Deno.openKv()`, local or Deno Deploy). The lock is an
 * `atomic().check()` on the entry's versionstamp; each value keeps its own
 * deadline, since `expireIn` only bounds when Deno deletes it.
 * @param {object} kv a `Deno.Kv`
 * @param {{ prefix?: unknown[] }} [options] the key prefix (default `['tokenwell']`)
 */
export function denoKvStore(kv, { prefix = ['tokenwell'] } = {}) {
  if (!kv || typeof kv.atomic !== 'function') throw new TypeError('denoKvStore: expected a Deno.Kv');
  const at = (key) => [...prefix, key];
  // The local (SQLite) backend shared by several processes answers a write
  // that meets another one with "database is locked" instead of waiting: such
  // a write is retried a few times, briefly (other errors are the store's).
  const busy = (e) => /database is locked|busy/i.test(String(e?.message));
  const write = async (op) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        if (!busy(e) || attempt >= 8) throw e;
        await new Promise((resolve) => { setTimeout(resolve, 2 + Math.random() * 8 * (attempt + 1)); });
      }
    }
  };
  // The entry and its value while its deadline holds (else value null).
  const read = async (key) => {
    const entry = await kv.get(at(key));
    const live = entry.value !== null && typeof entry.value === 'object' && entry.value.until > Date.now();
    return { entry, value: live ? entry.value : null };
  };
  // A value with its deadline, kept by Deno until then at least.
  const entryOf = (value, ttlMs) => [{ ...value, until: Date.now() + Number(ttlMs) },
    { expireIn: Math.max(1, Math.ceil(Number(ttlMs))) }];
  // Deletes `key` if it still holds what `matches` accepts, atomically.
  const deleteIf = async (key, matches) => {
    const { entry, value } = await read(key);
    if (value !== null && matches(value)) await write(() => kv.atomic().check(entry).delete(at(key)).commit());
  };
  return named({
    async get(key) {
      const { value } = await read(key);
      return value !== null && typeof value.record === 'string' ? value.record : null;
    },
    async put(key, record, ttlMs) {
      await write(() => kv.set(at(key), ...entryOf({ record }, ttlMs)));
    },
    removeIf(key, record) { return deleteIf(key, (v) => v.record === record); },
    async tryLock(lock, owner, ttlMs) {
      const { entry, value } = await read(lock);
      if (value !== null) return false;
      // Commits only if nobody wrote the lock since we read it.
      const result = await write(() => kv.atomic().check(entry).set(at(lock), ...entryOf({ owner }, ttlMs)).commit());
      return result.ok === true;
    },
    unlock(lock, owner) { return deleteIf(lock, (v) => v.owner === owner); },
  }, 'denoKvStore');
}

/**
 * Cloudflare Workers KV (`env.KV`): a cache tier only. KV has no
 * compare-and-set, so no lock: isolates adopt a token another isolate stored,
 * but cold isolates racing each fetch once. Records are written with KV's
 * minimum TTL of 60 s at least, and at most once per second per key from an
 * isolate (KV's write limit); each record carries its own expiry, which the
 * core checks.
 * @param {object} namespace a KV namespace binding
 */
export function workersKvStore(namespace) {
  if (!namespace || typeof namespace.get !== 'function' || typeof namespace.put !== 'function') {
    throw new TypeError('workersKvStore: expected a KV namespace binding');
  }
  const lastWrite = new Map(); // key -> Date.now() of this isolate's last write
  return named({
    get(key) { return namespace.get(key); },
    async put(key, record, ttlMs) {
      const now = Date.now();
      if (now - (lastWrite.get(key) ?? -Infinity) < 1_000) return; // written within the second
      lastWrite.set(key, now);
      await namespace.put(key, record, { expirationTtl: Math.max(60, Math.ceil(Number(ttlMs) / 1_000)) });
    },
    async removeIf(key, record) {
      // Not atomic (KV cannot be): a newer record written in between may go too.
      if ((await namespace.get(key)) === record) await namespace.delete(key);
    },
  }, 'workersKvStore');
}

/**
 * The Durable Object that coordinates every isolate of a Worker: one instance
 * (by name) keeps the records and the lock, strongly consistent, so all
 * isolates together make exactly one token request. Export it from your Worker
 * and bind it in wrangler.toml (see the README); use it through
 * durableObjectStore(env.TOKENWELL). Records are also kept in the object's
 * storage, so they outlive its eviction; locks live in memory only.
 */
export class TokenwellCoordinator {
  #storage;
  #records = new Map(); // key -> [record, deadline (Date.now() ms)]
  #locks = new Map(); // lock -> [owner, deadline]
  #budgets = new Map(); // budget counter -> Unix ms of the requests it counted

  constructor(state) {
    this.#storage = state?.storage;
  }

  async fetch(request) {
    let op;
    let args;
    try {
      ({ op, args } = await request.json());
    } catch {
      return new Response('bad request', { status: 400 });
    }
    if (!Array.isArray(args) || typeof this[`op_${op}`] !== 'function') return new Response('bad request', { status: 400 });
    return Response.json({ result: (await this[`op_${op}`](...args)) ?? null });
  }

  #live(map, key) {
    const entry = map.get(key);
    if (entry !== undefined && entry[1] <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  async op_get(key) {
    let entry = this.#live(this.#records, key);
    if (entry === undefined && this.#storage) {
      const stored = await this.#storage.get(key);
      if (Array.isArray(stored) && stored[1] > Date.now()) this.#records.set(key, (entry = stored));
    }
    return entry?.[0] ?? null;
  }

  async op_put(key, record, ttlMs) {
    const entry = [String(record), Date.now() + Number(ttlMs)];
    this.#records.set(key, entry);
    await this.#storage?.put(key, entry);
  }

  async op_removeIf(key, record) {
    if ((await this.op_get(key)) !== record) return;
    this.#records.delete(key);
    await this.#storage?.delete(key);
  }

  op_tryLock(lock, owner, ttlMs) {
    if (this.#live(this.#locks, lock)) return false;
    this.#locks.set(lock, [owner, Date.now() + Number(ttlMs)]);
    return true;
  }

  op_unlock(lock, owner) {
    if (this.#live(this.#locks, lock)?.[0] === owner) this.#locks.delete(lock);
  }

  // The request budget: one object answers every isolate, one call at a time,
  // so the count is exact; kept in storage so an eviction forgets nothing.
  async op_spend(key, limit, windowMs, nowUnixMs) {
    const stored = this.#budgets.get(key) ?? (await this.#storage?.get(`budget:${key}`)) ?? [];
    const sent = stored.filter((t) => t > nowUnixMs - windowMs);
    let wait = 0;
    if (sent.length < limit) sent.push(nowUnixMs);
    else wait = Math.max(1, Math.min(...sent) + windowMs - nowUnixMs);
    this.#budgets.set(key, sent);
    await this.#storage?.put(`budget:${key}`, sent);
    return wait;
  }
}

/**
 * The store of a TokenwellCoordinator Durable Object: exactly one token request
 * for all isolates of every Worker bound to it.
 * @param {object} namespace the Durable Object namespace binding (`env.TOKENWELL`)
 * @param {{ name?: string }} [options] the coordinator's name (default `'tokenwell'`)
 */
export function durableObjectStore(namespace, { name = 'tokenwell' } = {}) {
  if (!namespace || typeof namespace.idFromName !== 'function') {
    throw new TypeError('durableObjectStore: expected a Durable Object namespace binding');
  }
  const id = namespace.idFromName(name);
  const call = async (op, ...args) => {
    // A stub per call: an I/O object belongs to the request that made it.
    const response = await namespace.get(id).fetch('https://tokenwell.invalid/', {
      method: 'POST',
      body: JSON.stringify({ op, args }),
    });
    if (!response.ok) throw new Error(`coordinator answered ${response.status}`);
    return (await response.json()).result;
  };
  return named({
    get: (key) => call('get', key),
    put: (key, record, ttlMs) => call('put', key, record, ttlMs),
    removeIf: (key, record) => call('removeIf', key, record),
    tryLock: (lock, owner, ttlMs) => call('tryLock', lock, owner, ttlMs),
    unlock: (lock, owner) => call('unlock', lock, owner),
    spend: (key, limit, windowMs, nowUnixMs) => call('spend', key, limit, windowMs, nowUnixMs),
  }, 'durableObjectStore');
}
