/**
 * The collector's configuration, from flags and the environment (flags win). Everything is checked
 * here, before anything is built or called: a problem is an `INVALID_INPUT` error (exit code 2).
 */

import { parseArgs } from 'node:util';
import {
  invalidInput,
  normalizeBaseDomain,
  validateDnsLabel,
  validateOrganizationName,
} from '@zonekeeper/core';

/** Where the Kubernetes Lease of `--loop` lives. */
export interface LeaseConfig {
  readonly namespace: string;
  readonly name: string;
  /** This replica's identity (the pod name). */
  readonly identity: string;
}

/** The whole configuration. */
export interface CollectorConfig {
  /** `aws`: Route 53 + IAM + Vault (the default). `memory`: the embedded in-memory ports, for trying it out. */
  readonly backend: 'aws' | 'memory';
  readonly baseDomain: string;
  readonly parentZoneId?: string;
  /** A JSON file path, or an http(s) URL of the host platform's inventory endpoint. */
  readonly inventory: string;
  readonly inventoryToken?: string;
  readonly dryRun: boolean;
  /** Evaluate as of this instant (dry runs only). */
  readonly now?: Date;
  /** Run `runGarbageCollector` until SIGTERM instead of one collection. */
  readonly loop: boolean;
  readonly lease?: LeaseConfig;
  readonly json: boolean;
  /** Memory backend only: organisations to create first. */
  readonly seed: readonly string[];
  /** Route 53 requests per second for zonekeeper's share of the account budget (default 2). */
  readonly route53RequestsPerSecond: number;
  /** The Vault KV v2 mount (default `secret`). */
  readonly vaultMount: string;
  /** The secret path prefix (default `zonekeeper`). */
  readonly secretPrefix?: string;
}

/** Thrown for `--help`. */
export class HelpRequested extends Error {}

export const USAGE = `Usage: gc-cron [options]

Runs zonekeeper's billing-aware garbage collector once (or, with --loop, until SIGTERM).

Options (environment variable in brackets):
  --base-domain <domain>     parent domain of the organisation zones  [ZONEKEEPER_BASE_DOMAIN]
  --parent-zone-id <id>      the parent zone's id, if its name is ambiguous  [ZONEKEEPER_PARENT_ZONE_ID]
  --inventory <file|url>     cluster inventory: a JSON file or an http(s) URL  [ZONEKEEPER_INVENTORY]
                             (bearer token for the URL: [ZONEKEEPER_INVENTORY_TOKEN])
  --dry-run                  plan only: print the decisions, delete nothing
  --now <iso-instant>        with --dry-run: decide as of this instant
  --loop                     keep collecting; sleep until the next review (at most 1 h)
                             lease: [ZONEKEEPER_LEASE_NAMESPACE] (enables it), [ZONEKEEPER_LEASE_NAME]
                             (default zonekeeper-gc), identity [POD_NAME] or [HOSTNAME]
  --json                     print the summary as JSON
  --backend <aws|memory>     default aws  [ZONEKEEPER_BACKEND]
  --seed <org,org,…>         memory backend: create these organisations first
  -h, --help                 this text

aws backend: AWS credentials from the default chain (AWS_REGION, AWS_PROFILE, IRSA, …),
VAULT_ADDR and VAULT_TOKEN, [ZONEKEEPER_VAULT_MOUNT] (default secret), [ZONEKEEPER_SECRET_PREFIX],
[ZONEKEEPER_ROUTE53_RPS] (default 2), and for --loop with a lease a kubeconfig (KUBECONFIG,
~/.kube/config or the in-cluster service account).

Exit codes (those of the zonekeeper command): 0 done · 1 failed · 2 bad configuration · 3 refused
(NOT_OWNED, PERMISSION_DENIED, CONFLICT…) · 4 retry later (THROTTLED, UNAVAILABLE, and an unavailable
inventory, after which nothing is deleted).`;

function text(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Reads the configuration from `argv` (without `node` and the script) and `env`.
 * @throws `INVALID_INPUT` with a message saying what is missing; {@link HelpRequested} for `--help`.
 */
export function readConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CollectorConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'base-domain': { type: 'string' },
        'parent-zone-id': { type: 'string' },
        inventory: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        now: { type: 'string' },
        loop: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        backend: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw invalidInput(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  if (values.help) throw new HelpRequested(USAGE);
  const flag = (name: string) =>
    typeof values[name] === 'string' ? text(values[name] as string) : undefined;

  const backend = flag('backend') ?? text(env.ZONEKEEPER_BACKEND) ?? 'aws';
  if (backend !== 'aws' && backend !== 'memory')
    throw invalidInput(`--backend must be aws or memory, got ${backend}.`);
  const baseDomainInput = flag('base-domain') ?? text(env.ZONEKEEPER_BASE_DOMAIN);
  const inventory = flag('inventory') ?? text(env.ZONEKEEPER_INVENTORY);
  const missing = [
    baseDomainInput ? undefined : '--base-domain (or ZONEKEEPER_BASE_DOMAIN)',
    inventory ? undefined : '--inventory (or ZONEKEEPER_INVENTORY)',
    ...(backend === 'aws'
      ? [text(env.VAULT_ADDR) ? undefined : 'VAULT_ADDR', text(env.VAULT_TOKEN) ? undefined : 'VAULT_TOKEN']
      : []),
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) throw invalidInput(`Missing configuration: ${missing.join(', ')}.\n\n${USAGE}`);

  const dryRun = values['dry-run'] === true;
  const nowInput = flag('now');
  const now = nowInput === undefined ? undefined : new Date(nowInput);
  if (now && Number.isNaN(now.getTime()))
    throw invalidInput(`--now must be an ISO 8601 instant, got ${nowInput}.`);
  if (now && !dryRun)
    throw invalidInput('--now is only allowed with --dry-run (a real collection runs at the real time).');
  const loop = values.loop === true;
  if (loop && (dryRun || now)) throw invalidInput('--loop cannot be combined with --dry-run or --now.');

  const seed = (flag('seed') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((o) => validateOrganizationName(o));
  if (seed.length > 0 && backend !== 'memory') throw invalidInput('--seed is only for the memory backend.');

  const leaseNamespace = text(env.ZONEKEEPER_LEASE_NAMESPACE);
  const identity = text(env.POD_NAME) ?? text(env.HOSTNAME);
  if (loop && leaseNamespace && !identity)
    throw invalidInput('A lease needs this replica’s identity: set POD_NAME (or HOSTNAME).');
  const lease =
    loop && leaseNamespace && identity
      ? {
          namespace: validateDnsLabel(leaseNamespace, 'ZONEKEEPER_LEASE_NAMESPACE'),
          name: validateDnsLabel(text(env.ZONEKEEPER_LEASE_NAME) ?? 'zonekeeper-gc', 'ZONEKEEPER_LEASE_NAME'),
          identity,
        }
      : undefined;

  const rps = Number(text(env.ZONEKEEPER_ROUTE53_RPS) ?? '2');
  if (!(rps > 0 && rps <= 50))
    throw invalidInput('ZONEKEEPER_ROUTE53_RPS must be a number above 0 and at most 50.');
  const parentZoneId = flag('parent-zone-id') ?? text(env.ZONEKEEPER_PARENT_ZONE_ID);
  const inventoryToken = text(env.ZONEKEEPER_INVENTORY_TOKEN);
  const secretPrefix = text(env.ZONEKEEPER_SECRET_PREFIX);
  return {
    backend,
    baseDomain: normalizeBaseDomain(baseDomainInput),
    ...(parentZoneId ? { parentZoneId } : {}),
    inventory: inventory as string,
    ...(inventoryToken ? { inventoryToken } : {}),
    dryRun,
    ...(now ? { now } : {}),
    loop,
    ...(lease ? { lease } : {}),
    json: values.json === true,
    seed,
    route53RequestsPerSecond: rps,
    vaultMount: text(env.ZONEKEEPER_VAULT_MOUNT) ?? 'secret',
    ...(secretPrefix ? { secretPrefix } : {}),
  };
}
