/**
 * What every command body shares: its context (output, settings, flags, signal, ports), what it returns,
 * reading its own flags, building the facade, and error messages in CLI terms.
 *
 * @internal
 * @packageDocumentation
 */

import type { Logger, ZonekeeperError } from '@zonekeeper/core';
import type { Command } from 'commander';
import type { ClusterInventory } from '../inventory.js';
import type { Zonekeeper } from '../results.js';
import {
  buildDnsProvider,
  buildIdentityProvider,
  buildSecretStore,
  type CliDeps,
  checkVaultSettings,
  kubeconfigResolver,
} from './backend.js';
import type { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';
import type { CliSettings, RawGlobalOptions } from './settings.js';

/** What a command body returns. */
export interface CommandOutcome {
  /** The secret-free view: the `result` of the JSON document. */
  readonly view: unknown;
  /** The readable rendering of the view. */
  readonly text?: string;
  /** A payload printed even with `--quiet` (PEM), never in `--json` mode. */
  readonly payload?: string;
  /** Non-zero when the command finished but part of it failed (e.g. a zone `gc run` could not delete). */
  readonly exitCode?: ExitCode;
}

/** The global flags, plus the command's own (commander merges them). */
export interface GlobalFlags extends RawGlobalOptions {
  readonly json?: boolean;
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
  /** Where confirmations are read from (absent: not a terminal). */
  readonly stdin?: PromptInput;
}

/** Wraps a command body (settings, output, errors, the JSON document) as a commander action. */
export type Execute = (
  name: string,
  body: (ctx: CommandContext, ...args: never[]) => Promise<CommandOutcome>,
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
export async function buildFacade(ctx: CommandContext, inventory?: ClusterInventory): Promise<Zonekeeper> {
  const { settings, deps } = ctx;
  if (!deps.secrets) checkVaultSettings(settings.vault);
  const secrets = deps.secrets ?? (await buildSecretStore(settings.vault));
  const dns = deps.dns ?? (await buildDnsProvider(settings));
  const identity = deps.identity ?? (await buildIdentityProvider(settings));
  const clusters = deps.clusters ?? kubeconfigResolver(settings.kube);
  const inv = inventory ?? deps.inventory;
  const { createZonekeeper } = await import('../zonekeeper.js');
  return createZonekeeper({
    baseDomain: settings.baseDomain,
    ...(settings.parentZoneId === undefined ? {} : { parentZoneId: settings.parentZoneId }),
    dns,
    identity,
    secrets,
    clusters,
    ...(inv === undefined ? {} : { inventory: inv }),
    ...(settings.identityScope === undefined ? {} : { identityScope: settings.identityScope }),
    ...(settings.secretPrefix === undefined ? {} : { secretPrefix: settings.secretPrefix }),
    externalDns: { region: settings.aws.region },
    logger: ctx.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
}

/** The CLI command that does what a library operation does, for "run … first" hints. */
const COMMANDS: Readonly<Record<string, (organization: string) => string>> = {
  ensureOrganization: (org) => `zonekeeper org ensure ${org}`,
  attachCluster: (org) => `zonekeeper cluster attach ${org} <cluster>`,
  detachCluster: (org) => `zonekeeper cluster detach ${org} <cluster>`,
  rotateCredentials: (org) => `zonekeeper credentials rotate ${org}`,
  deleteOrganization: (org) => `zonekeeper org delete ${org}`,
  collectGarbage: () => 'zonekeeper gc run',
  ensureZoneIdentity: (org) => `zonekeeper org ensure ${org}`,
  ensureOrganizationZone: (org) => `zonekeeper org ensure ${org}`,
};

/**
 * An error's message in CLI terms: library function names (`run ensureOrganization first`) become the
 * commands that do the same (`run 'zonekeeper org ensure acme' first`), and Vault's multi-error text
 * (`1 error occurred:\n\t* …`) becomes one sentence.
 */
export function cliMessage(error: ZonekeeperError, fallbackOrganization = '<org>'): string {
  const details = (error.details ?? {}) as { organization?: unknown };
  const org = typeof details.organization === 'string' ? details.organization : fallbackOrganization;
  let text = error.message
    .replace(/\d+ errors? occurred:\s*/g, '')
    .replace(/\n\t\* /g, '; ')
    .replace(/\s*\n+\s*/g, ' ');
  text = text.replace(
    /\b(ensureOrganization|attachCluster|detachCluster|rotateCredentials|deleteOrganization|collectGarbage|ensureZoneIdentity|ensureOrganizationZone)\b(\s*\(or (attachCluster)\))?/g,
    (_m, fn: string, _or: string | undefined, alt: string | undefined) =>
      `'${(COMMANDS[fn] as (o: string) => string)(org)}'${alt ? ` (or '${(COMMANDS[alt] as (o: string) => string)(org)}')` : ''}`,
  );
  return text.trim();
}
