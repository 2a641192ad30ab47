// A Cloudflare module worker (run in real workerd through miniflare): imports
// the package's workerd entry, which imports the .wasm as a compiled module.
import * as tokenwell from '../../dist/workerd.mjs';
import { smoke } from './smoke.mjs';

export default {
  async fetch(request, env) {
    try {
      const passed = await smoke(tokenwell, env.MOCK_URL);
      return Response.json({ ok: true, passed, runtime: navigator.userAgent });
    } catch (e) {
      return Response.json({ ok: false, error: String(e?.stack ?? e) }, { status: 500 });
    }
  },
};
