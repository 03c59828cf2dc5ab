/**
 * Test support (not shipped): a zonekeeper on the embedded in-memory backend with a ManualClock, the
 * memory ports typed with their inspection helpers, a capturing logger and small helpers.
 */

import { createManualClock, type Logger, type ManualClock } from '@zonekeeper/core';
import type { MemoryCluster } from '@zonekeeper/externaldns-deployer';
import type { MemoryIdentityProvider } from '@zonekeeper/iam-scoper';
import type { MemorySecretStore } from '@zonekeeper/vault-keys';
import type { MemoryDnsProvider, RecordSet } from '@zonekeeper/zone-manager';
import type { ZonekeeperConfig } from './config.js';
import { defaultSecretPrefix } from './context.js';
import { createMemoryInventory, type MemoryInventory } from './inventory.js';
import { createZonekeeper, type Zonekeeper } from './zonekeeper.js';

export const BASE = 'example.com';
/** Tuesday 10 March 2026, 05:00 UTC (the billing model's worked timeline). */
export const T0 = new Date('2026-03-10T05:00:00.000Z');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** A logger that keeps every line of every level, with its meta arguments rendered. */
export interface CapturingLogger extends Logger {
  readonly lines: string[];
  readonly trace: (message: string, ...meta: unknown[]) => void;
}

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string, ...meta: unknown[]) => {
      lines.push(`${level} ${[message, ...meta].map(render).join(' ')}`);
    };
  return {
    lines,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/** Lets every pending promise chain and timer-free task run (no real sleep). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export interface MemoryWorld {
  readonly zk: Zonekeeper;
  /** The secret layout the facade uses (its default prefix for the base domain, and its owner mark). */
  readonly layout: { readonly prefix: string; readonly owner: string };
  readonly clock: ManualClock;
  readonly inventory: MemoryInventory;
  readonly logger: CapturingLogger;
  readonly dns: MemoryDnsProvider;
  readonly identity: MemoryIdentityProvider;
  readonly secrets: MemorySecretStore;
  cluster(id: string): Promise<MemoryCluster>;
  /** Write calls per port so far (clusters: those given). */
  writes(clusterIds?: readonly string[]): Promise<Record<string, number>>;
  /** Every call per port so far (clusters: those given). */
  callCount(clusterIds?: readonly string[]): Promise<number>;
  /** The NS delegation of `name` in the parent zone, if any. */
  delegation(name: string): RecordSet | undefined;
}

/**
 * The embedded backend: `createZonekeeper({ baseDomain, clock, inventory, logger, ...overrides })`.
 */
export function memoryWorld(
  overrides: Partial<Omit<ZonekeeperConfig, 'baseDomain' | 'clock' | 'inventory' | 'logger'>> & {
    readonly start?: Date;
  } = {},
): MemoryWorld {
  const { start, ...rest } = overrides;
  const clock = createManualClock(start ?? T0);
  const inventory = createMemoryInventory();
  const logger = capturingLogger();
  const zk = createZonekeeper({ baseDomain: BASE, clock, inventory, logger, ...rest });
  const dns = zk.ports.dns as MemoryDnsProvider;
  const identity = zk.ports.identity as MemoryIdentityProvider;
  const secrets = zk.ports.secrets as MemorySecretStore;
  const cluster = async (id: string) => (await zk.ports.cluster(id)) as MemoryCluster;
  const storeWrites = () =>
    (secrets.calls.write ?? 0) + (secrets.calls.writeMetadata ?? 0) + (secrets.calls.deleteAll ?? 0);
  return {
    zk,
    layout: { prefix: rest.secretPrefix ?? defaultSecretPrefix(BASE), owner: BASE },
    clock,
    inventory,
    logger,
    dns,
    identity,
    secrets,
    cluster,
    async writes(clusterIds = []) {
      const out: Record<string, number> = {
        dns: dns.writes,
        identity: identity.writes(),
        secrets: storeWrites(),
      };
      for (const id of clusterIds) {
        const c = await cluster(id);
        out[`cluster:${id}`] = (c.calls.apply ?? 0) + (c.calls.delete ?? 0) + (c.calls.replace ?? 0);
      }
      return out;
    },
    async callCount(clusterIds = []) {
      const sum = (r: Readonly<Record<string, number | undefined>>) =>
        Object.values(r).reduce<number>((a, b) => a + (b ?? 0), 0);
      let n = sum(dns.calls) + sum(identity.calls) + sum(secrets.calls);
      for (const id of clusterIds) n += sum((await cluster(id)).calls);
      return n;
    },
    delegation(name) {
      const parent = dns.snapshot().find((z) => z.name === BASE);
      return parent?.records.find((r) => r.name === name && r.type === 'NS');
    },
  };
}

/** Every string reachable from an error: message, stack, enumerable fields, `details`, the cause chain. */
export function everythingIn(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object' && typeof value !== 'function') return String(value);
  if (seen.has(value)) return '';
  seen.add(value);
  const e = value as { message?: unknown; stack?: unknown; cause?: unknown; details?: unknown };
  const parts: string[] = [];
  for (const k of ['message', 'stack', 'cause', 'details'] as const) {
    try {
      parts.push(everythingIn(e[k], seen));
    } catch {
      // a throwing getter: nothing to read
    }
  }
  for (const v of Object.values(value as object)) parts.push(everythingIn(v, seen));
  return parts.join('\n');
}

/** The rejection of a promise that must reject. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
