// The Worker that hosts the TokenwellCoordinator Durable Object class; the
// workers of edge.test.mjs bind it by `scriptName`.
export { TokenwellCoordinator } from '../../dist/workerd.mjs';

export default {
  fetch() { return new Response('tokenwell coordinator'); },
};
