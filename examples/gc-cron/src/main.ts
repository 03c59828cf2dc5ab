/**
 * `gc-cron`: zonekeeper's garbage collector as a Kubernetes CronJob (or, with `--loop`, a long-running
 * process guarded by a Lease). Configuration comes from flags and the environment; `--help` lists it.
 *
 *   pnpm --filter @zonekeeper-examples/gc-cron start -- --backend memory --seed acme,globex \
 *     --base-domain example.com --inventory inventory.example.json
 *
 * One run: read the inventory (a JSON file or the host platform's HTTP endpoint), `collectGarbage()`,
 * print a summary, exit with a code that says what happened (see the README).
 */
import { toZonekeeperError } from '@zonekeeper/core';
import { buildCollector, collectOnce, ExitCode, formatOutcome, isUsageError, runLoop } from './collector.js';
import { HelpRequested, readConfig } from './config.js';

const print = (text: string) => console.log(text);

async function main(): Promise<number> {
  let config: ReturnType<typeof readConfig>;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      print(error.message);
      return ExitCode.OK;
    }
    console.error(toZonekeeperError(error).message);
    return ExitCode.USAGE;
  }
  try {
    const collector = await buildCollector(config);
    // The memory backend starts empty: create the organisations to play with.
    for (const org of config.seed) await collector.zk.ensureOrganization(org);

    if (config.loop) {
      const controller = new AbortController();
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => controller.abort());
      print(
        `zonekeeper gc loop started${config.lease ? ` (lease ${config.lease.namespace}/${config.lease.name} as ${config.lease.identity})` : ''}; stop with SIGTERM`,
      );
      await runLoop(collector, config, controller.signal, print);
      print('zonekeeper gc loop stopped');
      return ExitCode.OK;
    }
    const outcome = await collectOnce(collector, {
      dryRun: config.dryRun,
      ...(config.now ? { now: config.now } : {}),
    });
    print(formatOutcome(outcome, { json: config.json }));
    return outcome.exitCode;
  } catch (error) {
    console.error(`zonekeeper gc: ${toZonekeeperError(error).message}`);
    return isUsageError(error) ? ExitCode.USAGE : ExitCode.FAILED;
  }
}

process.exitCode = await main();
