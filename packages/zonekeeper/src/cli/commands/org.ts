/**
 * `zonekeeper org …`: an organisation's zone, identity, key and CA.
 *
 * @internal
 * @packageDocumentation
 */

import { organizationZoneName, validateOrganizationName } from '@zonekeeper/core';
import { buildFacade, type CommandGroup, commandFlag, signalOf } from '../command.js';
import { organizationView, renderOrganization } from '../views.js';

/** Registers `org ensure`. */
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
        const zk = await buildFacade(ctx);
        const dryRun = commandFlag(ctx, 'dryRun');
        ctx.out.progress(`zonekeeper org ensure: ${organization}${dryRun ? ' (dry run)' : ''}…`);
        const result = await zk.ensureOrganization(organization, { dryRun, ...signalOf(ctx) });
        const view = organizationView(result);
        return { view, text: renderOrganization(view) };
      }),
    );
};
