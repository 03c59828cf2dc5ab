/**
 * `zonekeeper credentials …`: an organisation's access keys.
 *
 * @internal
 * @packageDocumentation
 */

import { validateOrganizationName } from '@zonekeeper/core';
import { buildFacade, type CommandGroup, signalOf } from '../command.js';
import { renderRotation, rotationView } from '../views.js';
import { singleAccountOnly } from './fleet.js';

/** Registers `credentials rotate`. */
export const registerCredentialsCommands: CommandGroup = (program, execute) => {
  program
    .command('credentials')
    .description("an organisation's credentials (AWS access keys, or the TSIG key on PowerDNS)")
    .command('rotate')
    .description(
      'new access key (PowerDNS: TSIG key) → Vault → every attached cluster (pods roll) → old key deleted; re-run finishes an interrupted rotation',
    )
    .argument('<org>', 'organisation name')
    .action(
      execute('credentials rotate', async (ctx, org: string) => {
        singleAccountOnly(ctx, 'credentials rotate');
        const organization = validateOrganizationName(org);
        const zk = await buildFacade(ctx);
        ctx.out.progress(`zonekeeper credentials rotate: ${organization}…`);
        const result = await zk.rotateCredentials(organization, signalOf(ctx));
        const view = rotationView(result);
        return { view, text: renderRotation(view) };
      }),
    );
};
