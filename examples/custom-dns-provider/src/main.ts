/**
 * `pnpm --filter @zonekeeper-examples/custom-dns-provider start`: zonekeeper on another DNS service.
 *
 * Starts the in-process fake of the example REST DNS API, points the REST provider at it, and runs the
 * zone operations of `@zonekeeper/zone-manager` — and then the whole facade — on top. Nothing here is
 * specific to Route 53: the port is the only contract.
 */
import { randomBytes } from 'node:crypto';
import { deleteOrganizationZone, ensureOrganizationZone, listManagedZones } from '@zonekeeper/zone-manager';
import { createZonekeeper } from 'zonekeeper';
import { startFakeDnsApi } from './fake-api.js';
import { createRestDnsProvider } from './rest-provider.js';

const print = (line = '') => console.log(line);
const token = randomBytes(24).toString('base64url'); // the fake accepts exactly this token

await using api = await startFakeDnsApi({ token });
const dns = createRestDnsProvider({ baseUrl: api.url, token });
print(`REST DNS API (in-process fake) at ${api.url}`);

// The parent zone exists before zonekeeper runs (zonekeeper never creates or changes it, except for the
// delegation records of organisation zones).
const parent = await dns.createZone({ name: 'example.com', callerReference: `parent-${Date.now()}` });
print(`parent zone ${parent.zone.name} (${parent.zone.id})`);

// 1. The zone operations, provider-agnostic.
const input = { organization: 'acme', baseDomain: 'example.com' };
const first = await ensureOrganizationZone(input, { dns });
print(`ensureOrganizationZone(acme): ${first.plan.steps.map((s) => s.op).join(', ')}`);
print(`  zone ${first.zone?.name} (${first.zone?.id}), name servers ${first.zone?.nameServers.join(', ')}`);
const second = await ensureOrganizationZone(input, { dns });
print(
  `ensureOrganizationZone(acme) again: ${second.plan.steps.length === 0 ? 'nothing to do (converged)' : 'changed'}`,
);
const managed = await listManagedZones({ dns }, { baseDomain: 'example.com' });
print(
  `managed zones: ${managed.map((z) => `${z.name} (${z.organization}, created ${z.createdAt?.toISOString()})`).join('; ')}`,
);
const deleted = await deleteOrganizationZone(first.zone?.id ?? '', { dns });
print(`deleteOrganizationZone: ${deleted.plan.steps.map((s) => s.op).join(', ')}`);

// 2. The facade on the same provider: zones here, identities/secrets/clusters in memory.
const zk = createZonekeeper({ baseDomain: 'example.com', dns });
const org = await zk.ensureOrganization('globex');
print(
  `zonekeeper.ensureOrganization(globex) on the REST provider: zone ${org.zone?.name}, identity ${org.userName}`,
);
print(`(the API served ${api.requests} requests)`);
