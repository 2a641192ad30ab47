// The TypeScript declarations of the config against the core's schema
// (schema/config.schema.json, generated from the Rust type): tsc proves that the
// keys of TokenConfig and of each nested object are exactly the schema's, in
// camelCase. And the core refuses an unknown key with an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenClient, TokenwellError } from 'tokenwell';

const JS = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA = JSON.parse(readFileSync(new URL('../../schema/config.schema.json', import.meta.url), 'utf8'));
const FREE_MAPS = new Set(['extra_params', 'headers', 'equals']);

function resolve(node) {
  if (node.$ref) return SCHEMA.$defs[node.$ref.replace('#/$defs/', '')];
  const inner = (node.anyOf ?? []).find((alt) => alt.$ref);
  return inner ? resolve(inner) : node;
}

/** [[TS type path, camelCase keys]] for the config and each nested object. */
function objects(node, path, out = []) {
  const props = resolve(node).properties;
  if (!props) return out;
  const keys = Object.keys(props).filter((k) => !/[A-Z]/.test(k));
  const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
  out.push([path, keys.map(camel)]);
  for (const k of keys) {
    if (!FREE_MAPS.has(k)) objects(props[k], `NonNullable<${path}['${camel(k)}']>`, out);
  }
  return out;
}

function tsc(source) {
  const dir = mkdtempSync(join(tmpdir(), 'tokenwell-schema-'));
  writeFileSync(join(dir, 'check.ts'), source);
  return new Promise((done) => {
    execFile(join(JS, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', join(dir, 'check.ts')],
      { cwd: dir, timeout: 120_000 }, (error, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        done({ ok: !error, output: `${stdout}${stderr}` });
      });
  });
}

function checkSource(groups) {
  const decl = join(JS, 'dist', 'index.d.mts').replace(/\.d\.mts$/, '.mjs');
  const lines = [
    `import type { TokenConfig } from ${JSON.stringify(decl)};`,
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
  ];
  groups.forEach(([path, keys], i) => {
    const union = keys.map((k) => JSON.stringify(k)).join(' | ');
    lines.push(`const ok${i}: Same<keyof ${path}, ${union}> = true;`);
  });
  return lines.join('\n') + '\n';
}

test('index.d.ts declares exactly the schema\'s config keys, object by object', async () => {
  const groups = objects(SCHEMA, 'TokenConfig');
  assert.ok(groups.length >= 6, JSON.stringify(groups));
  const good = await tsc(checkSource(groups));
  assert.ok(good.ok, good.output);
  // The check can fail: a key the declarations lack is caught.
  const [[path, keys], ...rest] = groups;
  const bad = await tsc(checkSource([[path, [...keys, 'notInTheDeclarations']], ...rest]));
  assert.ok(!bad.ok, 'tsc should refuse a key set that differs');
});

test('an unknown config key is refused with a config error that names it', () => {
  for (const [extra, key] of [[{ clientSecert: 'x' }, 'clientSecert'], [{ policy: { refreshRatoi: 0.5 } }, 'refreshRatoi']]) {
    assert.throws(
      () => new TokenClient({ provider: 'deliveroo', clientId: 'a', clientSecret: 's3cr3t-value', ...extra }),
      (e) => e instanceof TokenwellError && e.code === 'config' && e.detail.includes(key) && !e.message.includes('s3cr3t-value'),
    );
  }
});
