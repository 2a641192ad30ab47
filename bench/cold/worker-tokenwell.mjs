// workerd cold start, tokenwell's side (the package's workerd entry).
import { TokenClient } from '../../js/dist/workerd.mjs';
import { worker } from './worker.mjs';

export default worker((mockUrl) => {
  const client = new TokenClient({ provider: 'custom', tokenUrl: `${mockUrl}/custom/token`,
    clientId: 'cold-worker', clientSecret: 'cold-secret-Qv8p' });
  return { token: async () => (await client.token()).accessToken };
});
