// The native transport's proxy, CA and client-certificate keys (`http.proxy`,
// `http.caFile`, `http.clientCertFile`, …) are refused in JS with a config error
// naming the key and quoting no value: the `fetch` the application passes holds
// its proxy, CAs and client certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenClient, TokenwellError } from 'tokenwell';

test('the native network keys are config errors in JS, named, their values not shown', () => {
  const keys = {
    proxy: 'http://user:pr0xy-pa55word@proxy.internal:3128', noProxy: 'internal', caFile: '/ca.pem',
    caOnly: true, clientCertFile: '/c.pem', clientKeyFile: '/k.pem',
  };
  for (const [key, value] of Object.entries(keys)) {
    assert.throws(
      () => new TokenClient({ provider: 'deliveroo', clientId: 'a', clientSecret: 's3cr3t-value', http: { [key]: value } }),
      (e) => e instanceof TokenwellError && e.code === 'config' && e.detail.includes(key)
        && !e.message.includes('pr0xy-pa55word') && !e.message.includes('s3cr3t-value'),
      key,
    );
  }
});
