/**
 * What every command body shares: its context (output, settings, flags, signal, ports), what it returns,
 * reading its own flags, building the facade, and error messages in CLI terms.
 *
 * @internal
 * @packageDocumentation
 */

import type { AcmeSettings } from '@zonekeeper/cert-issuer';
import type { Logger, ZonekeeperError } from '@zonekeeper/core';
import type { Command } from 'commander';
import type { Fleet } from '../fleet/accounts.js';
import type { ClusterInventory } from '../inventory.js';
import type { Zonekeeper } from '../results.js';
import {
  assumedRoleCredentials,
  buildDnsProvider,
  buildIdentityProvider,
  buildRoleProvider,
  buildSecretStore,
  type CliDeps,
  checkVaultSettings,
  kubeconfigResolver,
  lazyPodIdentityProvider,
} from './backend.js';
import type { ExitCode } from './exit-codes.js';
import { loadFleetFile } from './fleet-file.js';
import type { Output } from './output.js';
import type { HumanView } from './render.js';
import type { CliEnv, CliSettings, RawGlobalOptions } from './settings.js';

/** What a command body returns. */
export interface CommandOutcome {
  /** The secret-free view: the `result` of the JSON / YAML document. */
  readonly view: unknown;
  /**
   * The readable rendering of the view: a {@link HumanView} (tables and fields, laid out for stdout —
   * fitted on a terminal, plain in a pipe, `wide` columns with `-o wide`), or ready text.
   */
  readonly text?: string | HumanView;
  /** A payload printed even with `--quiet` (PEM), never with `-o json|yaml`. */
  readonly payload?: string;
  /** Non-zero when the command finished but part of it failed (e.g. a zone `gc run` could not delete). */
  readonly exitCode?: ExitCode;
}

/** The global flags, plus the command's own (commander merges them). */
export interface GlobalFlags extends RawGlobalOptions {
  readonly json?: boolean;
  /** `-o, --output`: `table`, `wide`, `json` or `yaml` (checked by commander). */
  readonly output?: string;
  readonly quiet?: boolean;
}

/** Where a command reads a confirmation from (the process's stdin in the bin). */
export interface PromptInput extends AsyncIterable<string | Buffer> {
  /** `true` on a terminal: only then does a command ask. */
  readonly isTTY?: boolean;
}

/** What a command body gets. */
export interface CommandContext {
  readonly out: Output;
  readonly settings: CliSettings;
  readonly globals: GlobalFlags;
  readonly signal: AbortSignal | undefined;
  readonly deps: CliDeps;
  readonly logger: Logger;
  readonly cwd: string;
  /** The environment the command runs in (`process.env` in the bin). */
  readonly env: CliEnv;
  /** Where confirmations are read from (absent: not a terminal). */
  readonly stdin?: PromptInput;
}

/** How {@link Execute} resolves a command's settings. */
export interface ExecuteOptions {
  /** The base domain when neither `--base-domain` nor `ZONEKEEPER_BASE_DOMAIN` gives one (`dev`). */
  readonly defaultBaseDomain?: string;
}

/** Wraps a command body (settings, output, errors, the JSON document) as a commander action. */
export type Execute = (
  name: string,
  body: (ctx: CommandContext, ...args: never[]) => Promise<CommandOutcome>,
  options?: ExecuteOptions,
) => (...actionArgs: unknown[]) => Promise<void>;

/** Registers a command group on the program. */
export type CommandGroup = (program: Command, execute: Execute) => void;

/** The signal of the command, as call options. */
export function signalOf(ctx: CommandContext): { signal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { signal: ctx.signal };
}

/** The command's own boolean flag. */
export function commandFlag(ctx: CommandContext, name: string): boolean {
  return (ctx.globals as Record<string, unknown>)[name] === true;
}

/** The command's own string option. */
export function commandString(ctx: CommandContext, name: string): string | undefined {
  const v = (ctx.globals as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** The command's own repeatable option. */
export function commandList(ctx: CommandContext, name: string): string[] | undefined {
  const v = (ctx.globals as Record<string, unknown>)[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** The facade on the ports the settings (or the test's deps) describe. */
export async function buildFacade(
  ctx: CommandContext,
  inventory?: ClusterInventory,
  acme?: AcmeSettings,
): Promise<Zonekeeper> {
  const { settings, deps } = ctx;
  if (!deps.secrets) checkVaultSettings(settings.vault);
  const secrets = deps.secrets ?? (await buildSecretStore(settings.vault));
  // The PowerDNS backend builds its provider itself and has no identity port (a test's injected dns
  // replaces it: then it is a Route 53-shaped backend, as before).
  const pdns = deps.dns === undefined ? settings.powerdns : undefined;
  const dns = pdns ? undefined : (deps.dns ?? (await buildDnsProvider(settings)));
  const identity = pdns ? undefined : (deps.identity ?? (await buildIdentityProvider(settings)));
  // Keyless credentials on IAM and EKS when the identity is IAM's (a test's injected identity keeps
  // the embedded memory roles); the account comes from --aws-account-id. Not with PowerDNS.
  const keyless =
    deps.identity === undefined && !pdns
      ? {
          roles: await buildRoleProvider(settings),
          podIdentity: lazyPodIdentityProvider(settings),
          ...(settings.aws.accountId === undefined ? {} : { keyless: { accountId: settings.aws.accountId } }),
        }
      : {};
  const clusters = deps.clusters ?? kubeconfigResolver(settings.kube);
  const inv = inventory ?? deps.inventory;
  const { createZonekeeper } = await import('../zonekeeper.js');
  return createZonekeeper({
    baseDomain: settings.baseDomain,
    ...(settings.parentZoneId === undefined ? {} : { parentZoneId: settings.parentZoneId }),
    ...(dns ? { dns } : {}),
    ...(identity ? { identity } : {}),
    ...(pdns
      ? {
          powerdns: {
            apiUrl: pdns.apiUrl,
            apiKey: pdns.apiKey,
            ...(pdns.serverId === undefined ? {} : { serverId: pdns.serverId }),
            nameServers: pdns.nameServers,
            dnsUpdate: { host: pdns.updateHost, port: pdns.updatePort },
            ...(pdns.updateSources === undefined ? {} : { updateSources: pdns.updateSources }),
            axfr: pdns.axfr,
          },
        }
      : {}),
    ...keyless,
    secrets,
    clusters,
    ...(inv === undefined ? {} : { inventory: inv }),
    ...(settings.identityScope === undefined ? {} : { identityScope: settings.identityScope }),
    ...(settings.secretPrefix === undefined ? {} : { secretPrefix: settings.secretPrefix }),
    ...(pdns ? {} : { externalDns: { region: settings.aws.region } }),
    ...(acme === undefined ? {} : { acme: { ...acme, ...deps.acme } as AcmeSettings }),
    logger: ctx.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
}

/** Whether the command runs over several accounts (`--fleet`). */
export function isFleet(ctx: CommandContext): boolean {
  return ctx.settings.fleetFile !== undefined;
}

/**
 * The fleet of `--fleet <file>`: per account, Route 53 and IAM with the account's credentials (its
 * role assumed through STS, else the environment's) and its own Route 53 rate limiter; one secret
 * store, cluster resolver and inventory shared by every account. The file is read and checked first
 * (exit 2, nothing sent); building the clients sends nothing.
 */
export async function buildFleetFacade(ctx: CommandContext, inventory?: ClusterInventory): Promise<Fleet> {
  const { settings, deps } = ctx;
  const file = settings.fleetFile;
  if (file === undefined) throw new Error('buildFleetFacade needs --fleet');
  const fleetFile = await loadFleetFile(file, signalOf(ctx));
  if (!deps.secrets) checkVaultSettings(settings.vault);
  const secrets = deps.secrets ?? (await buildSecretStore(settings.vault));
  const { createRoute53Provider, createRoute53RateLimiter } = await import(
    '@zonekeeper/zone-manager/route53'
  );
  const { createIamIdentityProvider } = await import('@zonekeeper/iam-scoper/iam');
  const { aws } = settings;
  const accounts = fleetFile.accounts.map((a) => {
    const credentials =
      a.roleArn === undefined
        ? aws.credentials
        : assumedRoleCredentials(settings, {
            id: a.id,
            roleArn: a.roleArn,
            ...(a.externalId === undefined ? {} : { externalId: a.externalId }),
          });
    return {
      id: a.id,
      ...(a.roleArn === undefined ? {} : { roleArn: a.roleArn }),
      ...(a.zoneQuota === undefined ? {} : { zoneQuota: a.zoneQuota }),
      ...(a.maxOrganizations === undefined ? {} : { maxOrganizations: a.maxOrganizations }),
      ...(a.secretPrefix === undefined ? {} : { secretPrefix: a.secretPrefix }),
      dns: createRoute53Provider({
        region: aws.region,
        ...(aws.route53Endpoint === undefined ? {} : { endpoint: aws.route53Endpoint }),
        ...(credentials === undefined ? {} : { credentials }),
        rateLimiter: createRoute53RateLimiter({
          requestsPerSecond: a.requestsPerSecond ?? aws.requestsPerSecond ?? 10,
        }),
      }),
      identity: createIamIdentityProvider({
        region: aws.region,
        ...(aws.iamEndpoint === undefined ? {} : { endpoint: aws.iamEndpoint }),
        ...(credentials === undefined ? {} : { credentials }),
      }),
    };
  });
  const inv = inventory ?? deps.inventory;
  const { createFleet } = await import('../fleet/accounts.js');
  return createFleet({
    baseDomain: settings.baseDomain,
    accounts,
    ...(fleetFile.parent === undefined ? {} : { parent: fleetFile.parent }),
    secrets,
    clusters: deps.clusters ?? kubeconfigResolver(settings.kube),
    ...(inv === undefined ? {} : { inventory: inv }),
    ...(settings.identityScope === undefined ? {} : { identityScope: settings.identityScope }),
    ...(settings.secretPrefix === undefined ? {} : { secretPrefix: settings.secretPrefix }),
    externalDns: { region: settings.aws.region },
    logger: ctx.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
}

/** What a library operation's command needs. */
interface CommandArgs {
  readonly organization: string;
  readonly clusterId?: string;
  readonly name?: string;
}

/** The CLI command that does what a library operation does, for "run … first" advice. */
const COMMANDS: Readonly<Record<string, (a: CommandArgs) => string>> = {
  ensureOrganization: (a) => `zonekeeper org ensure ${a.organization}`,
  ensureOrganizationZone: (a) => `zonekeeper org ensure ${a.organization}`,
  ensureZoneIdentity: (a) => `zonekeeper org ensure ${a.organization}`,
  attachCluster: (a) => `zonekeeper cluster attach ${a.organization} ${a.clusterId ?? '<cluster>'}`,
  detachCluster: (a) => `zonekeeper cluster detach ${a.organization} ${a.clusterId ?? '<cluster>'}`,
  rotateCredentials: (a) => `zonekeeper credentials rotate ${a.organization}`,
  issueCertificate: (a) =>
    `zonekeeper cert issue <names…> --org ${a.organization}${a.name ? ` --name ${a.name}` : ''}`,
  deleteOrganization: (a) => `zonekeeper org delete ${a.organization}`,
  collectGarbage: () => 'zonekeeper gc run',
  auditFleet: () => 'zonekeeper doctor',
  listOrganizations: () => 'zonekeeper org list',
  describeOrganization: (a) => `zonekeeper org show ${a.organization}`,
  listClusters: () => 'zonekeeper cluster list',
  moveOrganization: (a) => `zonekeeper org move ${a.organization} --to <account> --fleet <file>`,
};

/** The library operations {@link cliMessage} knows, i.e. those with a CLI command. */
export const operationsWithCommands: readonly string[] = Object.keys(COMMANDS);

/** `details.remedy` of a zonekeeper error (see `ZonekeeperErrorOptions.details`), when well-formed. */
interface Remedy {
  readonly operation: string;
  readonly organization?: string;
  readonly clusterId?: string;
  readonly alternatives: readonly string[];
  readonly when: 'first' | 'again';
}

function remedyOf(value: unknown): Remedy | undefined {
  const r = value as Record<string, unknown> | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.operation !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const organization = str(r.organization);
  const clusterId = str(r.clusterId);
  return {
    operation: r.operation,
    ...(organization ? { organization } : {}),
    ...(clusterId ? { clusterId } : {}),
    alternatives: Array.isArray(r.alternatives)
      ? r.alternatives.filter((x): x is string => typeof x === 'string')
      : [],
    when: r.when === 'again' ? 'again' : 'first',
  };
}

/**
 * The command of a lock's purpose (`rotateCredentials acme`, `attachCluster acme prod-1`,
 * `issueCertificate acme web`, `collectGarbage orphans of acme`), or `undefined` for another text.
 */
export function commandOfPurpose(purpose: string): string | undefined {
  const [operation, ...args] = purpose.trim().split(/\s+/);
  const command = operation === undefined ? undefined : COMMANDS[operation];
  if (!command) return undefined;
  const organization =
    operation === 'collectGarbage' ? (args[args.length - 1] ?? '<org>') : (args[0] ?? '<org>');
  const second = args[1];
  return command({
    organization,
    ...(second !== undefined && (operation === 'attachCluster' || operation === 'detachCluster')
      ? { clusterId: second }
      : {}),
    ...(second !== undefined && operation === 'issueCertificate' ? { name: second } : {}),
  });
}

const WORD = (name: string) => new RegExp(`\\b${name}\\b`, 'g');

/**
 * An error's message in CLI terms:
 *
 * - `details.remedy` (the library's structured advice) names the operation to run: every mention of it
 *   (and of its `alternatives`) becomes the command that does the same, with the remedy's (else the
 *   error's, else the command line's) organisation and cluster — `run ensureOrganization first` →
 *   `run 'zonekeeper org ensure acme' first`; a message that does not mention it gets
 *   ` Run '<command>' first|again.` appended;
 * - `details.purpose` (a lock holder's operation, `rotateCredentials acme`) becomes its command;
 * - messages without those details (third-party errors, older libraries) still have the known
 *   operation names replaced;
 * - text over several lines (a multi-error list) becomes one line.
 *
 * `fallbackOrganization` is the organisation of the command line (`<org>` when it has none).
 */
export function cliMessage(error: ZonekeeperError, fallbackOrganization = '<org>'): string {
  const details = (error.details ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const organization = str(details.organization) ?? fallbackOrganization;
  let text = error.message
    .replace(/\d+ errors? occurred:\s*(\*\s+)?/g, '')
    .replace(/\n\t\* /g, '; ')
    .replace(/\s*\n+\s*/g, ' ')
    .trim();

  const remedy = remedyOf(details.remedy);
  const replaced = new Set<string>();
  if (remedy) {
    const clusterId = remedy.clusterId ?? str(details.clusterId);
    const args: CommandArgs = {
      organization: remedy.organization ?? organization,
      ...(clusterId ? { clusterId } : {}),
    };
    let mentioned = false;
    for (const operation of [remedy.operation, ...remedy.alternatives]) {
      const command = COMMANDS[operation];
      if (!command) continue;
      replaced.add(operation);
      text = text.replace(WORD(operation), () => {
        mentioned = true;
        return `'${command(args)}'`;
      });
    }
    const main = COMMANDS[remedy.operation];
    if (!mentioned && main)
      text = `${text}${/[.!?]$/.test(text) ? '' : '.'} Run '${main(args)}' ${remedy.when}.`;
  }

  const purpose = str(details.purpose);
  const purposeCommand = purpose === undefined ? undefined : commandOfPurpose(purpose);
  if (purpose && purposeCommand) text = text.split(purpose).join(`'${purposeCommand}'`);

  return cliText(text, organization, replaced);
}

/**
 * A library's text in CLI terms without structured details (a collection's per-zone message, a
 * third-party error): a lock holder in parentheses, `(rotateCredentials acme)`, becomes its command;
 * the other known operation names become their commands with `organization`.
 */
export function cliText(
  message: string,
  organization = '<org>',
  skip: ReadonlySet<string> = new Set(),
): string {
  const names = Object.keys(COMMANDS).filter((n) => !skip.has(n));
  if (names.length === 0) return message;
  const alternation = names.join('|');
  let text = message.replace(
    new RegExp(`\\(((?:${alternation})(?: [^()\\s]+)*)\\)`, 'g'),
    (whole, purpose: string) => {
      const command = commandOfPurpose(purpose);
      return command ? `('${command}')` : whole;
    },
  );
  text = text.replace(new RegExp(`(?<!['\\w])(${alternation})\\b(?![\\w'])`, 'g'), (_m, name: string) => {
    const command = COMMANDS[name] as (a: CommandArgs) => string;
    return `'${command({ organization })}'`;
  });
  return text;
}
