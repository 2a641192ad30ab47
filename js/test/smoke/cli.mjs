// Runs the smoke test in Deno or Bun: `deno run --allow-net=127.0.0.1 cli.mjs URL`
// or `bun cli.mjs URL`. Prints one line per check and `SMOKE OK <runtime>`.
const tokenwell = typeof Deno !== 'undefined' ? await import('../../dist/deno.mjs') : await import('../../dist/index.mjs');
import { smoke } from './smoke.mjs';

const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : 'node';
const url = (typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2))[0];
try {
  for (const name of await smoke(tokenwell, url)) console.log(`ok ${name}`);
  console.log(`SMOKE OK ${runtime}`);
} catch (e) {
  console.log(`SMOKE FAILED ${runtime}: ${e?.stack ?? e}`);
  if (typeof Deno !== 'undefined') Deno.exit(1); else process.exit(1);
}
