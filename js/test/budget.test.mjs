// The request budget through the JS Redis stores against a real redis-server
// (started here on a free port), counting token requests at the mock provider:
// two clients with separate memories, one over node-redis and one over ioredis,
// share one budget through the core's counter script.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import Redis from 'ioredis';
import { TokenClient, TokenwellError, redisStore, MemoryStore } from 'tokenwell';
import { startMock } from './helpers/mock.mjs';
import { NO_REDIS, redisTest, startRedis } from './helpers/redis.mjs';

let mock;
let redis;
let redisUrl;

before(async () => {
  mock = await startMock();
  if (NO_REDIS) return;
  redis = await startRedis();
  redisUrl = redis.url;
});

after(async () => {
  await mock?.stop();
  await redis?.stop();
});

const config = (budget) => ({
  provider: 'deliveroo', environment: 'sandbox', base_url: `${mock.url}/deliveroo`,
  client_id: 'budget-js', client_secret: 'sx-Q81x-9f7Zk2',
  policy: { maxRequestsPerHour: budget },
});

redisTest('two clients over node-redis and ioredis share one budget: the second request is refused fleet-wide, never sent', async () => {
  await mock.admin.reset();
  const nodeRedis = await createClient({ url: redisUrl }).connect();
  const ioredis = new Redis(redisUrl);
  try {
    const a = new TokenClient({ ...config(1), store: redisStore(nodeRedis) });
    const b = new TokenClient({ ...config(1), store: redisStore(ioredis) });
    const token = await a.token();
    // A 401 with that token: the shared record goes, and a new token would take a request.
    a.invalidate(token.accessToken);
    await a.settle();
    await assert.rejects(b.token(), (e) => {
      assert.ok(e instanceof TokenwellError);
      assert.equal(e.code, 'rate_limited');
      assert.equal(e.status, null);
      assert.ok(e.retryAfterMs > 3_500_000 && e.retryAfterMs <= 3_600_000, String(e.retryAfterMs));
      assert.match(e.detail, /own request budget .* fleet-wide/);
      return true;
    });
    // The client that sent the request still serves the token it dropped (still usable).
    assert.equal((await a.token()).accessToken, token.accessToken);
    assert.equal(await mock.admin.count(), 1, 'token requests at the mock');
  } finally {
    await nodeRedis.quit();
    ioredis.disconnect();
  }
});

test('a budget below 1 or not a whole number is a config error naming the key', () => {
  for (const bad of [0, -1, 1.5, '2']) {
    assert.throws(() => new TokenClient({ ...config(bad), base_url: 'http://127.0.0.1:1/deliveroo' }),
      (e) => e.code === 'config' && /policy\.max_requests_per_hour/.test(e.message));
  }
});

test('MemoryStore counts a budget: 0 while it allows, then the wait until the oldest leaves', () => {
  const store = new MemoryStore();
  assert.equal(store.spend('k', 2, 3_600_000, 1_000), 0);
  assert.equal(store.spend('k', 2, 3_600_000, 2_000), 0);
  assert.equal(store.spend('k', 2, 3_600_000, 3_000), 3_598_000);
  assert.equal(store.spend('k', 2, 3_600_000, 3_601_000), 0);
});
