/**
 * `zonekeeper gc …`: the billing-aware garbage collector.
 *
 * @internal
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';
import type { ClusterInventory } from '../../inventory.js';
import { checkInventoryFile, checkVaultSettings, createFileInventory } from '../backend.js';
import {
  buildFacade,
  type CommandContext,
  type CommandGroup,
  type CommandOutcome,
  cliMessage,
  cliText,
  commandFlag,
  commandString,
  signalOf,
} from '../command.js';
import { type ExitCode, ExitCodes, exitCodeOfCode, worstExitCode } from '../exit-codes.js';
import { formatInstant } from '../render.js';
import { parseInstant } from '../settings.js';
import { collectionView, renderCollection } from '../views.js';

async function runCollection(ctx: CommandContext, name: string, dryRun: boolean): Promise<CommandOutcome> {
  const nowText = commandString(ctx, 'now');
  const now = nowText === undefined ? undefined : parseInstant(nowText);
  let inventory: ClusterInventory;
  if (ctx.deps.inventory) inventory = ctx.deps.inventory;
  else {
    const file = ctx.settings.inventoryFile;
    if (file === undefined)
      throw invalidInput(
        `${name} needs the cluster inventory: pass --inventory <file.json> (a JSON array of {"organization", "clusterId", "running"}). Without it nothing is planned or deleted (fail closed).`,
      );
    if (!ctx.deps.secrets) checkVaultSettings(ctx.settings.vault);
    await checkInventoryFile(file, signalOf(ctx));
    inventory = createFileInventory(file);
  }
  const zk = await buildFacade(ctx, inventory);
  ctx.out.progress(
    `zonekeeper ${name}: managed zones under ${ctx.settings.baseDomain}${now ? ` at ${formatInstant(now)}` : ''}${dryRun ? ' (plan only)' : ''}…`,
  );
  const result = await zk.collectGarbage({ dryRun, ...(now ? { now } : {}), ...signalOf(ctx) });
  const view = collectionView(result);
  const codes: ExitCode[] = result.results.map((r) =>
    r.status === 'failed'
      ? r.error
        ? exitCodeOfCode(r.error.code)
        : ExitCodes.FAILED
      : r.reason === 'fail-closed' || r.reason === 'organization-busy'
        ? ExitCodes.RETRY_LATER
        : ExitCodes.OK,
  );
  for (const r of result.results)
    if (r.status === 'failed' || r.reason === 'fail-closed' || r.reason === 'organization-busy')
      ctx.out.error(
        `${name}: zone ${r.zoneId} of ${r.organization}: ${r.error ? `${r.error.code}: ${cliMessage(r.error, r.organization)}` : cliText(r.message, r.organization)}`,
      );
  return { view, text: renderCollection(view, name === 'gc run'), exitCode: worstExitCode(codes) };
}

/** Registers `gc plan` and `gc run`. */
export const registerGcCommands: CommandGroup = (program, execute) => {
  const gc = program
    .command('gc')
    .description('the billing-aware garbage collector of unused organisation zones (needs --inventory)');
  gc.command('plan')
    .description('show what the collector would delete now, keep, or delete just before the next charge')
    .option('--now <iso>', 'evaluate at this instant (e.g. 2025-03-01T12:00:00Z; default: now)')
    .action(execute('gc plan', async (ctx) => runCollection(ctx, 'gc plan', true)));
  gc.command('run')
    .description(
      'delete the zones due now (re-checking the inventory before each), with their identities and secrets',
    )
    .option('--now <iso>', 'evaluate at this instant (default: now)')
    .option('--dry-run', 'plan only, delete nothing (same as gc plan)')
    .action(execute('gc run', async (ctx) => runCollection(ctx, 'gc run', commandFlag(ctx, 'dryRun'))));
};
