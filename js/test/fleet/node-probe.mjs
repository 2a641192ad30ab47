// One Node process of a fleet test (redis.test.mjs): a TokenClient sharing
// tokens through redisStore over node-redis or ioredis, N concurrent token()
// calls at a given instant, then one line like the Rust `tokenwell fleet-probe`:
// `ok callers=N tokens=<distinct> token=<sha256 prefix> pid=<pid>` (a digest,
// never the token). Usage: node node-probe.mjs CONFIG_JSON REDIS_URL KIND CALLERS START_AT
// KIND: redis, ioredis, or redis-cluster / ioredis-cluster with REDIS_URL a
// comma-separated list of the cluster nodes' URLs.
import { createHash } from 'node:crypto';
import { TokenClient, redisStore } from 'tokenwell';

const [config, redisUrl, kind, callers, startAt] = process.argv.slice(2);
let client;
let close;
if (kind === 'ioredis-cluster') {
  const { default: Redis } = await import('ioredis');
  client = new Redis.Cluster(redisUrl.split(',').map((url) => {
    const { hostname: host, port } = new URL(url);
    return { host, port: Number(port) };
  }));
  close = () => client.quit();
} else if (kind === 'redis-cluster') {
  const { createCluster } = await import('redis');
  client = await createCluster({ rootNodes: redisUrl.split(',').map((url) => ({ url })) }).connect();
  close = () => (client.close ?? client.quit).call(client);
} else if (kind === 'ioredis') {
  const { default: Redis } = await import('ioredis');
  client = new Redis(redisUrl);
  close = () => client.quit();
} else {
  const { createClient } = await import('redis');
  client = await createClient({ url: redisUrl }).connect();
  close = () => (client.close ?? client.quit).call(client);
}
const tokens = new TokenClient({ ...JSON.parse(config), store: redisStore(client) });
await new Promise((resolve) => { setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())); });
const got = await Promise.all(Array.from({ length: Number(callers) }, () => tokens.token()));
const distinct = new Set(got.map((t) => t.accessToken));
const digest = createHash('sha256').update([...distinct][0]).digest('hex').slice(0, 16);
await tokens.settle();
console.log(`ok callers=${callers} tokens=${distinct.size} token=${digest} pid=${process.pid}`);
await close();
