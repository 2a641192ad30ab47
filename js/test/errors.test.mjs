// The error codes and flags come from the core's table, which the .wasm exports
// as wasm-bindgen's ErrorKind enum (kind names; a code is its name in
// snake_case) and errorKindFlags(kind) (1 credential error, 2 retryable):
// ERROR_CODES, each TokenwellError's isCredentialError and isRetryable, and the
// ErrorCode type in index.d.ts must all agree with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TokenClient, TokenwellError, AccessToken, ManualClock, ERROR_CODES } from 'tokenwell';
// The core's own exports, from the glue and .wasm the package is built from (the
// Node entry bundles its own copy of both: this instance is the test's).
import { ErrorKind, errorKindFlags, initSync } from '../dist/glue.mjs';
import { startMock } from './helpers/mock.mjs';

initSync({ module: new WebAssembly.Module(readFileSync(new URL('../dist/tokenwell_bg.wasm', import.meta.url))) });

const snake = (name) => name.replace(/[A-Z]/g, (c, at) => (at ? '_' : '') + c.toLowerCase());
// The core's table, as JS receives it: [{code, isCredentialError, isRetryable}].
const table = Object.entries(ErrorKind)
  .filter(([name]) => !/^\d+$/.test(name))
  .map(([name, value]) => {
    const flags = errorKindFlags(value);
    return { code: snake(name), isCredentialError: (flags & 1) !== 0, isRetryable: (flags & 2) !== 0 };
  });
let mock;
before(async () => { mock = await startMock(); });
after(async () => { await mock?.stop(); });

test('the core exports every kind, with its flags', () => {
  assert.ok(table.length > 0);
  assert.equal(new Set(table.map((k) => k.code)).size, table.length, 'codes are unique');
  assert.ok(table.some((k) => k.isCredentialError) && table.some((k) => k.isRetryable));
  assert.ok(table.every((k) => !(k.isCredentialError && k.isRetryable)));
  assert.equal(errorKindFlags(table.length), 0, 'no flags beyond the table');
});

test('ERROR_CODES is the core table\'s codes, in order', () => {
  assert.deepEqual([...ERROR_CODES], table.map((k) => k.code));
  assert.ok(Object.isFrozen(ERROR_CODES));
});

test('every TokenwellError takes its flags from the core table', () => {
  for (const kind of table) {
    const e = new TokenwellError(kind.code, `${kind.code}: x`, { detail: 'x' });
    assert.equal(e.isCredentialError, kind.isCredentialError, kind.code);
    assert.equal(e.isRetryable, kind.isRetryable, kind.code);
  }
  const unknown = new TokenwellError('not_a_code', 'x');
  assert.equal(unknown.isCredentialError, false);
  assert.equal(unknown.isRetryable, false);
});

test('the ErrorCode type in index.d.ts lists exactly the core\'s codes', () => {
  const dts = readFileSync(new URL('../src/index.d.ts', import.meta.url), 'utf8');
  const union = /export type ErrorCode =([^;]*);/.exec(dts);
  assert.ok(union, 'index.d.ts declares ErrorCode');
  const declared = [...union[1].matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
  assert.deepEqual([...declared].sort(), table.map((k) => k.code).sort());
  assert.equal(new Set(declared).size, declared.length, 'no duplicate in ErrorCode');
});

test('an error has the same shape in every path: fields, flags, message', async () => {
  // A config error (thrown by the constructor).
  assert.throws(() => new TokenClient({ provider: 'nope', clientId: 'a', clientSecret: 'b' }), (e) => {
    assert.ok(e instanceof TokenwellError && e instanceof Error);
    assert.deepEqual(Object.keys(e).sort(),
      ['code', 'detail', 'isCredentialError', 'isRetryable', 'name', 'retryAfterMs', 'status'].sort());
    assert.equal(e.name, 'TokenwellError');
    assert.equal(e.code, 'config');
    assert.equal(e.status, null);
    assert.equal(e.retryAfterMs, null);
    assert.ok(e.isCredentialError && !e.isRetryable);
    assert.ok(e.message.startsWith('config: ') && e.message.includes(e.detail), e.message);
    return true;
  });

  // A rate limit and a bad secret (rejected by lease()).
  const client = (name) => new TokenClient({
    provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: name, clientSecret: 's3cret-errors',
    clock: new ManualClock(),
  });
  await mock.admin.reset();
  await mock.admin.script([
    { status: 429, headers: { 'retry-after': '7' }, json: { error: 'slow_down' } },
    { status: 401, json: { error: 'invalid_client', error_description: 'unknown client' } },
  ]);
  await assert.rejects(client('a').token(), (e) => {
    assert.ok(e instanceof TokenwellError);
    assert.equal(e.code, 'rate_limited');
    assert.equal(e.status, 429);
    assert.equal(e.retryAfterMs, 7000);
    assert.ok(e.isRetryable && !e.isCredentialError);
    return true;
  });
  await assert.rejects(client('b').token(), (e) => {
    assert.equal(e.code, 'invalid_client');
    assert.equal(e.status, 401);
    assert.equal(e.retryAfterMs, null);
    assert.ok(e.detail.includes('unknown client'), e.detail);
    assert.ok(e.message.startsWith('invalid_client (HTTP 401): '), e.message);
    assert.ok(e.isCredentialError && !e.isRetryable);
    return true;
  });
});

test('instanceof knows an error or token of the other build (ESM and CommonJS loaded in one process)', async () => {
  const cjs = createRequire(import.meta.url)('tokenwell');
  assert.notEqual(cjs.TokenwellError, TokenwellError, 'two copies of the package');
  assert.throws(() => new cjs.TokenClient({ provider: 'nope', clientId: 'a', clientSecret: 'b' }), (e) => {
    assert.ok(e instanceof TokenwellError && e instanceof cjs.TokenwellError && e instanceof Error);
    return true;
  });
  assert.ok(new TokenwellError('timeout', 'x') instanceof cjs.TokenwellError);
  await mock.admin.reset();
  const token = await new cjs.TokenClient({
    provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'copies', clientSecret: 's3cret-copies',
  }).token();
  assert.ok(token instanceof AccessToken && token instanceof cjs.AccessToken);

  // Nothing else passes, and a subclass keeps the ordinary check.
  for (const other of [null, undefined, {}, 'TokenwellError', new Error('x'), Object.create(null)]) {
    assert.ok(!(other instanceof TokenwellError) && !(other instanceof AccessToken));
  }
  class Refusal extends TokenwellError {}
  assert.ok(!(new TokenwellError('timeout', 'x') instanceof Refusal));
  assert.ok(new Refusal('timeout', 'x') instanceof Refusal && new Refusal('timeout', 'x') instanceof cjs.TokenwellError);

  // A clock is tied to its copy's core: the other copy's is a config error.
  assert.throws(() => new TokenClient({
    provider: 'custom', tokenUrl: `${mock.url}/custom/token`, clientId: 'c', clientSecret: 's', clock: new cjs.ManualClock(),
  }), (e) => e instanceof TokenwellError && e.code === 'config');
});

test('a runtime without WebCrypto (Node 18 without its flag) is refused at construction', () => {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  let error;
  try {
    new TokenClient({ provider: 'custom', tokenUrl: 'https://auth.example/token', clientId: 'id', clientSecret: 's3cret-value' });
  } catch (e) {
    error = e;
  } finally {
    Object.defineProperty(globalThis, 'crypto', saved);
  }
  assert.ok(error instanceof TokenwellError, String(error));
  assert.equal(error.code, 'config');
  assert.match(error.detail, /crypto\.subtle/);
  assert.ok(!String(error).includes('s3cret-value'));
  // With WebCrypto back, the same options build a client.
  new TokenClient({ provider: 'custom', tokenUrl: 'https://auth.example/token', clientId: 'id', clientSecret: 's3cret-value' });
});
