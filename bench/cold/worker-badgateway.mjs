// workerd cold start, @badgateway/oauth2-client's side (OAuth2Fetch's cache).
import { OAuth2Client, OAuth2Fetch } from '../../js/node_modules/@badgateway/oauth2-client/dist/index.js';
import { worker } from './worker.mjs';

export default worker((mockUrl) => {
  const client = new OAuth2Client({ server: mockUrl, tokenEndpoint: '/custom/token',
    clientId: 'cold-worker', clientSecret: 'cold-secret-Qv8p' });
  const cache = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
  return { token: async () => (await cache.getToken()).accessToken };
});
