/**
 * Test support for the facade on the PowerDNS backend (`powerdns-backend.test.ts`,
 * `powerdns-audit.test.ts`): a platform on its own parent zone of a real `pdns_server`, with the memory
 * secret store and memory clusters, and its PowerDNS API calls counted.
 */

import { createManualClock } from '@zonekeeper/core';
import { createMemoryCluster, type MemoryCluster } from '@zonekeeper/externaldns-deployer';
import { createMemorySecretStore, readTsigKey } from '@zonekeeper/vault-keys';
import { createPowerDnsProvider, type PowerDnsApi } from '@zonekeeper/zone-manager/powerdns';
import type { PowerDnsBackendConfig } from './config.js';
import { createMemoryInventory } from './inventory.js';
import { capturingLogger } from './memory.test.support.js';
import { createZonekeeper } from './zonekeeper.js';

const READS = /^(get|list|search)/;

/** The API with its calls counted: every call, and those that write. */
export function countingApi(api: PowerDnsApi) {
  const counts = { calls: 0, writes: 0 };
  const wrapped = new Proxy(api, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counts.calls++;
        if (!READS.test(String(prop))) counts.writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { api: wrapped, counts };
}

/** Options of {@link powerDnsPlatform}. */
export interface PowerDnsPlatformOptions {
  /** Overrides of the `powerdns` settings. */
  readonly extra?: Partial<PowerDnsBackendConfig>;
  /** Give the platform a memory inventory (default false: the collector's findings stay out of audits). */
  readonly inventory?: boolean;
}

/** A platform on its own parent zone `base` of the server. */
export async function powerDnsPlatform(
  server: { readonly api: PowerDnsApi; readonly dnsPort: number },
  base: string,
  options: PowerDnsPlatformOptions = {},
) {
  const parent = createPowerDnsProvider({ api: server.api, nameServers: ['ns1.pdns.test'] });
  await parent.createZone({ name: base, callerReference: `parent-${base}` });
  const clock = createManualClock(new Date(Math.ceil(Date.now() / 1000) * 1000));
  const secrets = createMemorySecretStore({ clock });
  const clusters = new Map<string, MemoryCluster>();
  const cluster = (id: string) => {
    let c = clusters.get(id);
    if (!c) {
      c = createMemoryCluster({ name: id, clock });
      clusters.set(id, c);
    }
    return c;
  };
  const { api, counts } = countingApi(server.api);
  const logger = capturingLogger();
  const inventory = options.inventory ? createMemoryInventory() : undefined;
  const zk = createZonekeeper({
    baseDomain: base,
    clock,
    logger,
    secrets,
    ...(inventory ? { inventory } : {}),
    clusters: cluster,
    powerdns: {
      api,
      nameServers: ['ns1.pdns.test'],
      dnsUpdate: { host: '127.0.0.1', port: server.dnsPort },
      // The server takes no update from anywhere unless a zone lists the source (allow-dnsupdate-from
      // is empty): the tests' updates come from 127.0.0.1.
      updateSources: ['127.0.0.1/32'],
      ...options.extra,
    },
  });
  const storedKey = (organization: string) => readTsigKey(secrets, { organization }, zk.secretLayout);
  return { zk, secrets, cluster, counts, logger, storedKey, base, inventory };
}
