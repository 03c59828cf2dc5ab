/**
 * Test support (not shipped): collections under an inventory that flips and fails while they run.
 *
 * A scripted inventory answers for a few organisations; after every DNS call the collection makes,
 * a seeded coin may bring an organisation back (a cluster starts) or stop it, and every inventory read
 * may fail. A monitor in front of the DNS port checks, right before each destructive call (a DELETE in a
 * change batch, a zone deletion) and each identity or secret deletion, that the organisation concerned
 * is not in use at that instant and that no inventory read of this collection has failed. Nothing a
 * collection does may ever break either rule.
 */

import { createManualClock, type Logger } from '@zonekeeper/core';
import { identityUserName } from '@zonekeeper/iam-scoper';
import { listManagedZones } from '@zonekeeper/zone-manager';
import type { ClusterInventory, ClusterRecord } from '../inventory.js';
import { createMemoryInventory } from '../inventory.js';
import { createZonekeeper } from '../zonekeeper.js';
import { BASE_DOMAIN, type Backend } from './backends.test.support.js';

const HOUR = 3_600_000;

/** mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface FuzzFigures {
  rounds: number;
  inventoryReads: number;
  inventoryFailures: number;
  flips: number;
  zonesDeleted: number;
  deletionsRefused: number;
  collectionsFailedClosed: number;
  violations: string[];
}

/**
 * Runs `rounds` collections over `organizations` (each recreated with `ensureOrganization` when its zone
 * is gone), with flips after DNS calls (probability `flip`) and failing inventory reads (`fail`).
 */
export async function inventoryFuzz(
  backend: Backend,
  options: {
    readonly organizations: readonly string[];
    readonly rounds: number;
    readonly seed: number;
    readonly flip: number;
    readonly fail: number;
    readonly logger?: Logger;
  },
): Promise<FuzzFigures> {
  const random = prng(options.seed);
  const clock = createManualClock(new Date('2026-03-10T05:00:00.000Z'), { autoAdvance: true });
  await backend.reset(clock);
  const figures: FuzzFigures = {
    rounds: 0,
    inventoryReads: 0,
    inventoryFailures: 0,
    flips: 0,
    zonesDeleted: 0,
    deletionsRefused: 0,
    collectionsFailedClosed: 0,
    violations: [],
  };
  const running = new Map(options.organizations.map((o) => [o, false]));
  let collecting = false;
  let failedThisCollection = false;
  const inventory: ClusterInventory = {
    async listClusters() {
      figures.inventoryReads += 1;
      if (collecting && random() < options.fail) {
        figures.inventoryFailures += 1;
        failedThisCollection = true;
        throw new Error('inventory service: 503 (injected)');
      }
      return [...running].map(
        ([organization, on]): ClusterRecord => ({
          organization,
          clusterId: `${organization}-1`,
          running: on,
        }),
      );
    },
  };
  const ports = backend.config();
  const dns = ports.dns as NonNullable<typeof ports.dns>;
  const identity = ports.identity as NonNullable<typeof ports.identity>;
  const secrets = ports.secrets as NonNullable<typeof ports.secrets>;
  const zoneOrg = new Map<string, string>();
  const orgOfRecord = (name: string) =>
    name.endsWith(`.${BASE_DOMAIN}`) ? name.slice(0, -BASE_DOMAIN.length - 1) : undefined;
  const check = (organization: string | undefined, what: string) => {
    if (!collecting || organization === undefined) return;
    if (running.get(organization)) figures.violations.push(`${what} of ${organization} while it was in use`);
    if (failedThisCollection)
      figures.violations.push(`${what} of ${organization} after an inventory read failed`);
  };
  const maybeFlip = () => {
    if (!collecting || random() >= options.flip) return;
    const org = options.organizations[Math.floor(random() * options.organizations.length)] as string;
    running.set(org, !running.get(org));
    figures.flips += 1;
  };
  const monitored = new Proxy(dns, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (property === 'deleteZone')
          check(zoneOrg.get(args[0] as string), `deleting zone ${String(args[0])}`);
        if (property === 'changeRecords') {
          const changes = args[1] as readonly { action: string; recordSet: { name: string; type: string } }[];
          for (const c of changes.filter((x) => x.action === 'DELETE')) {
            const org = zoneOrg.get(args[0] as string) ?? orgOfRecord(c.recordSet.name);
            check(org, `deleting ${c.recordSet.type} ${c.recordSet.name}`);
          }
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        maybeFlip();
        return result;
      };
    },
  });
  const users = new Map(
    options.organizations.map((o) => [identityUserName({ baseDomain: BASE_DOMAIN, organization: o }), o]),
  );
  const monitoredIdentity = new Proxy(identity, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (property === 'deleteUser' || property === 'deleteAccessKey')
          check(users.get(args[0] as string), `${String(property)} ${String(args[0])}`);
        return (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
      };
    },
  });
  const monitoredSecrets = new Proxy(secrets, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (property === 'deleteAll')
          check(/orgs\/([^/]+)\//.exec(args[0] as string)?.[1], `deleting secret ${String(args[0])}`);
        return (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
      };
    },
  });
  const setupInventory = createMemoryInventory();
  const setup = createZonekeeper({ baseDomain: BASE_DOMAIN, clock, inventory: setupInventory, ...ports });
  const zk = createZonekeeper({
    baseDomain: BASE_DOMAIN,
    clock,
    inventory,
    ...(options.logger ? { logger: options.logger } : {}),
    ...ports,
    dns: monitored,
    identity: monitoredIdentity,
    secrets: monitoredSecrets,
  });
  for (let round = 0; round < options.rounds; round++) {
    figures.rounds += 1;
    const zones = await listManagedZones({ dns: backend.inspect.dns }, { baseDomain: BASE_DOMAIN });
    for (const org of options.organizations) {
      if (!zones.some((z) => z.organization === org)) await setup.ensureOrganization(org);
      running.set(org, random() < 0.3);
    }
    zoneOrg.clear();
    let newest = 0;
    for (const z of await listManagedZones({ dns: backend.inspect.dns }, { baseDomain: BASE_DOMAIN })) {
      zoneOrg.set(z.id, z.organization);
      newest = Math.max(newest, z.createdAt?.getTime() ?? 0);
    }
    collecting = true;
    failedThisCollection = false;
    try {
      const result = await zk.collectGarbage({ now: new Date(newest + HOUR) });
      figures.zonesDeleted += result.results.filter((r) => r.status === 'deleted').length;
      figures.deletionsRefused += result.results.filter(
        (r) =>
          r.status === 'skipped' &&
          (r.reason === 'in-use-again' || r.reason === 'not-due-again' || r.reason === 'came-back'),
      ).length;
      if (result.results.some((r) => r.reason === 'fail-closed')) figures.collectionsFailedClosed += 1;
    } catch {
      figures.collectionsFailedClosed += 1; // the first read failed: nothing was planned
    } finally {
      collecting = false;
    }
  }
  return figures;
}
