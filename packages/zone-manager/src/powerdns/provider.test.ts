import { afterAll, beforeAll } from 'vitest';
import { dnsProviderContract } from '../testing.js';
import { type PowerDnsBackend, startPowerDnsBackend } from './pdns.test.support.js';

let backend: PowerDnsBackend;
beforeAll(async () => {
  backend = await startPowerDnsBackend();
});
afterAll(async () => {
  await backend?.stop();
});

// PowerDNS lacks, by design: duplicate zone names (uniqueZoneNames), a memory of CallerReferences of
// deleted zones (callerReferenceIdempotency), PENDING changes and name-level zone paging.
dnsProviderContract({
  name: 'powerdns adapter on a real pdns_server',
  create: async () => ({ provider: backend.provider() }),
  capabilities: {
    uniqueZoneNames: true,
    strictChangeBatchValidation: true,
    plainSoa: true,
    unknownChangeNotFound: true,
  },
});
