// workerd cold start, the baseline: one plain fetch POST to the token endpoint.
import { worker } from './worker.mjs';

export default worker((mockUrl) => ({
  async token() {
    const res = await fetch(`${mockUrl}/custom/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa('cold-worker:cold-secret-Qv8p')}` },
      body: 'grant_type=client_credentials',
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    return (await res.json()).access_token;
  },
}));
