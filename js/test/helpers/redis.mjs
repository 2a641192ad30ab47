// redis-server for the Redis tests: found on PATH (or the usual places),
// started on a free loopback port, stopped after. Without it the tests skip
// with a message, unless CI is set: then its absence fails them, as in
// tests/redis.rs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

export const find = (name) => [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin', '/usr/sbin', '/opt/homebrew/bin']
  .map((d) => join(d, name)).find((file) => existsSync(file));
export const REDIS_SERVER = find('redis-server');
export const REDIS_CLI = find('redis-cli');
const CI = !['', 'false', '0'].includes(process.env.CI ?? '');
assert.ok((REDIS_SERVER && REDIS_CLI) || !CI, 'redis-server not found and CI is set: install it (apt-get install redis-server; `make test` does)');
/** A test's `skip` option: false, or why it skips. */
export const NO_REDIS = REDIS_SERVER && REDIS_CLI ? false : 'redis-server not found (apt-get install redis-server, or `make test`, installs it)';
/** A test that needs redis-server. */
export const redisTest = (name, fn) => test(name, { skip: NO_REDIS }, fn);

/** A free loopback port (`wanted` if it is free, else null; 0: any). */
export async function freePort(wanted = 0) {
  const srv = createServer();
  const listening = await new Promise((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(wanted, '127.0.0.1', () => resolve(true));
  });
  if (!listening) return null;
  const { port } = srv.address();
  await new Promise((resolve) => { srv.close(resolve); });
  return port;
}

/**
 * Starts redis-server with `args` (and no persistence) on `port`, resolving
 * once it accepts connections: `{ process, port, url, stop(signal) }`. With no
 * `port`, on a free one, and on another if a parallel test took it meanwhile.
 */
export async function startRedis({ port = 0, args = [] } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await spawnRedis(port || await freePort(), args);
    } catch (e) {
      if (port || attempt === 3) throw e;
    }
  }
}

async function spawnRedis(port, args) {
  const server = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    server.stdout.on('data', (chunk) => {
      if (/Ready to accept connections/.test(String(chunk))) { clearTimeout(timer); resolve(); }
    });
    server.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server on port ${port} exited (${code})`)); });
  });
  const stop = async (signal = 'SIGTERM') => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => { server.once('exit', resolve); });
    server.kill(signal);
    await exited;
  };
  return { process: server, port, url: `redis://127.0.0.1:${port}`, stop };
}
