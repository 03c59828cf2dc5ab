/**
 * `zonekeeper org …`: an organisation's zone, identity, key and CA — ensure, list, show, and delete
 * (offboarding, confirmed by typing the organisation's name on a terminal, or `--yes`).
 *
 * @internal
 * @packageDocumentation
 */

import { invalidInput, organizationZoneName, validateOrganizationName } from '@zonekeeper/core';
import type { ClusterInventory } from '../../inventory.js';
import { checkInventoryFile, checkVaultSettings, createFileInventory } from '../backend.js';
import {
  buildFacade,
  type CommandContext,
  type CommandGroup,
  commandFlag,
  commandString,
  isFleet,
  type PromptInput,
  signalOf,
} from '../command.js';
import { renderBlocks } from '../render.js';
import { organizationView, renderOrganization } from '../views.js';
import {
  organizationDeletionView,
  organizationDescriptionView,
  organizationListView,
  renderOrganizationDeletion,
  renderOrganizationDescription,
  renderOrganizationList,
} from '../views-org.js';
import {
  fleetOrganizationEnsure,
  fleetOrganizationList,
  fleetOrganizationMove,
  fleetOrganizationShow,
  singleAccountOnly,
} from './fleet.js';
import { parseDuration } from './gc.js';

/** The inventory of `--inventory` (or the test's), when one is given: the views then show what it says. */
export async function optionalInventory(ctx: CommandContext): Promise<ClusterInventory | undefined> {
  if (ctx.deps.inventory) return ctx.deps.inventory;
  const file = ctx.settings.inventoryFile;
  if (file === undefined) return undefined;
  if (!ctx.deps.secrets) checkVaultSettings(ctx.settings.vault);
  await checkInventoryFile(file, signalOf(ctx));
  return createFileInventory(file);
}

/** The instant ages are measured from in the human views: the test's clock, else now. */
export function nowOf(ctx: CommandContext): Date {
  return ctx.deps.clock?.now() ?? new Date();
}

/** Reads one line from a terminal (resolves `undefined` at end of input). */
async function readLine(input: PromptInput, signal: AbortSignal | undefined): Promise<string | undefined> {
  let text = '';
  const aborted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  const read = (async () => {
    for await (const chunk of input) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) return text.slice(0, nl).replace(/\r$/, '');
    }
    return text === '' ? undefined : text;
  })();
  return Promise.race([read, aborted]);
}

/** Registers `org ensure`, `org list`, `org show` and `org delete`. */
export const registerOrgCommands: CommandGroup = (program, execute) => {
  const org = program.command('org').description('organisations');
  org
    .command('ensure')
    .description(
      "create or repair an organisation: zone + delegation, scoped IAM identity, access key in Vault, the organisation's CA",
    )
    .argument('<org>', 'organisation name (a lowercase DNS label)')
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      execute('org ensure', async (ctx, name: string) => {
        const organization = validateOrganizationName(name);
        organizationZoneName(organization, ctx.settings.baseDomain);
        const dryRun = commandFlag(ctx, 'dryRun');
        if (isFleet(ctx)) return fleetOrganizationEnsure(ctx, organization, dryRun);
        const zk = await buildFacade(ctx);
        ctx.out.progress(`zonekeeper org ensure: ${organization}${dryRun ? ' (dry run)' : ''}…`);
        const result = await zk.ensureOrganization(organization, { dryRun, ...signalOf(ctx) });
        const view = organizationView(result);
        return { view, text: renderOrganization(view) };
      }),
    );
  org
    .command('list')
    .description('the organisations of this platform: zone, IAM users, attached clusters (reads only)')
    .action(
      execute('org list', async (ctx) => {
        if (isFleet(ctx)) return fleetOrganizationList(ctx, nowOf(ctx));
        const zk = await buildFacade(ctx);
        ctx.out.progress(`zonekeeper org list: organisations under ${ctx.settings.baseDomain}…`);
        const view = organizationListView(await zk.listOrganizations(signalOf(ctx)));
        return { view, text: renderOrganizationList(view, nowOf(ctx)) };
      }),
    );
  org
    .command('show')
    .description(
      "one organisation: zone, delegation, identity and policy, key age, clusters, certificates, the collector's next decision (with --inventory)",
    )
    .argument('<org>', 'organisation name')
    .action(
      execute('org show', async (ctx, name: string) => {
        const organization = validateOrganizationName(name);
        organizationZoneName(organization, ctx.settings.baseDomain);
        if (isFleet(ctx)) return fleetOrganizationShow(ctx, organization, await optionalInventory(ctx));
        const zk = await buildFacade(ctx, await optionalInventory(ctx));
        ctx.out.progress(`zonekeeper org show: ${organization}…`);
        const view = organizationDescriptionView(await zk.describeOrganization(organization, signalOf(ctx)));
        return { view, text: renderOrganizationDescription(view) };
      }),
    );
  org
    .command('move')
    .description(
      'move an organisation to another account of the fleet (--fleet): zone and records copied, delegation moved, identity re-issued, the old zone deleted after --drain; run again to continue or finish',
    )
    .argument('<org>', 'organisation name')
    .requiredOption('--to <account>', 'the account id to move it to (one of the fleet file)')
    .option(
      '--drain <duration>',
      'keep the old zone this long after the delegation moved (default: the delegation and apex NS TTLs)',
    )
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      execute('org move', async (ctx, name: string) => {
        const organization = validateOrganizationName(name);
        organizationZoneName(organization, ctx.settings.baseDomain);
        if (!isFleet(ctx))
          throw invalidInput('org move needs --fleet <file>: it moves an organisation between its accounts.');
        const to = commandString(ctx, 'to') ?? '';
        const drain = commandString(ctx, 'drain');
        const drainMs =
          drain === undefined ? undefined : drain.trim() === '0' ? 0 : parseDuration(drain, '--drain');
        return fleetOrganizationMove(ctx, organization, to, drainMs, commandFlag(ctx, 'dryRun'));
      }),
    );
  org
    .command('delete')
    .description(
      'offboard an organisation: its zone (delegation, records, zone), IAM identities, Vault secrets; refused while clusters are attached',
    )
    .argument('<org>', 'organisation name')
    .option('--dry-run', 'print what would be deleted, change nothing')
    .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .action(
      execute('org delete', async (ctx, name: string) => {
        const organization = validateOrganizationName(name);
        organizationZoneName(organization, ctx.settings.baseDomain);
        singleAccountOnly(ctx, 'org delete');
        const dryRun = commandFlag(ctx, 'dryRun');
        const yes = commandFlag(ctx, 'yes');
        const ask = !dryRun && !yes;
        if (ask && ctx.stdin?.isTTY !== true)
          throw invalidInput(
            `org delete ${organization} deletes the organisation's zone, identities and secrets: pass --yes to confirm (stdin is not a terminal, so it cannot ask), or --dry-run to see what it would delete.`,
          );
        const zk = await buildFacade(ctx, await optionalInventory(ctx));
        ctx.out.progress(`zonekeeper org delete: ${organization}${dryRun ? ' (dry run)' : ''}…`);
        if (ask) {
          // Show what would go (refusals, e.g. attached clusters, come here, before the question).
          const plan = organizationDeletionView(
            await zk.deleteOrganization(organization, { dryRun: true, ...signalOf(ctx) }),
          );
          // Nothing left: the real run below is an empty plan (no lock, no write); nothing to confirm.
          if (plan.existed) {
            // On stderr, in plain columns (the question follows it there, whatever stdout is).
            ctx.out.progress(renderBlocks(renderOrganizationDeletion(plan), { tty: false, wide: false }));
            ctx.out.warn(
              `this deletes organisation ${organization} for good. Type its name (${organization}) to confirm:`,
            );
            const answer = await readLine(ctx.stdin as PromptInput, ctx.signal);
            if (answer?.trim() !== organization)
              throw invalidInput(
                `The confirmation did not match ${JSON.stringify(organization)}; nothing was deleted.`,
              );
          }
        }
        const result = await zk.deleteOrganization(organization, { dryRun, ...signalOf(ctx) });
        const view = organizationDeletionView(result);
        return { view, text: renderOrganizationDeletion(view) };
      }),
    );
};
