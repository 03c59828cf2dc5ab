/**
 * `zonekeeper doctor`: one read-only audit of the fleet (the facade's `auditFleet`). Exit code 0 when no
 * finding is an `error`, {@link ExitCodes.FINDINGS} (5) otherwise; a failed audit exits as any command.
 *
 * @internal
 * @packageDocumentation
 */

import { validateOrganizationName } from '@zonekeeper/core';
import type { ClusterInventory } from '../../inventory.js';
import { checkInventoryFile, checkVaultSettings, createFileInventory } from '../backend.js';
import { buildFacade, type CommandGroup, commandString, isFleet, signalOf } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { parseInstant } from '../settings.js';
import { doctorView, renderDoctor } from '../views-doctor.js';
import { fleetDoctor } from './fleet.js';

/** Registers `doctor`. */
export const registerDoctorCommand: CommandGroup = (program, execute) => {
  program
    .command('doctor')
    .description(
      'audit the fleet, read only: zones and delegations, IAM policies and keys, ExternalDNS on every attached cluster, certificates, what the collector would delete; exit 5 on errors',
    )
    .option('--org <org>', 'audit one organisation only')
    .option('--now <iso>', 'judge renewals and the collector at this instant (default: now)')
    .action(
      execute('doctor', async (ctx) => {
        const org = commandString(ctx, 'org');
        const organization = org === undefined ? undefined : validateOrganizationName(org);
        const nowText = commandString(ctx, 'now');
        const now = nowText === undefined ? undefined : parseInstant(nowText);
        let inventory: ClusterInventory | undefined = ctx.deps.inventory;
        const file = ctx.settings.inventoryFile;
        if (!inventory && file !== undefined) {
          if (!ctx.deps.secrets) checkVaultSettings(ctx.settings.vault);
          await checkInventoryFile(file, signalOf(ctx));
          inventory = createFileInventory(file);
        }
        if (isFleet(ctx)) return fleetDoctor(ctx, organization, now, inventory);
        const zk = await buildFacade(ctx, inventory);
        ctx.out.progress(
          `zonekeeper doctor: ${organization ?? `every organisation under ${ctx.settings.baseDomain}`} (read only)…`,
        );
        const result = await zk.auditFleet({
          ...(organization ? { organization } : {}),
          ...(now ? { now } : {}),
          ...signalOf(ctx),
        });
        const view = doctorView(result);
        return {
          view,
          text: renderDoctor(view),
          exitCode: result.summary.error > 0 ? ExitCodes.FINDINGS : ExitCodes.OK,
        };
      }),
    );
};
