/**
 * `zonekeeper dev …`: a local backend to try the command on a laptop — moto for Route 53 and IAM, the
 * testkit Vault fake and one Kubernetes API fake per cluster, as detached processes on 127.0.0.1.
 *
 * The other commands do not read the backend's state: `dev up` and `dev env` print the `export` lines
 * (`eval "$(zonekeeper dev env)"`), so the backend in use is always what the environment says — the same
 * variables that point `aws`, `vault` and `kubectl` at it, and never a mix of the local backend with a
 * real account.
 *
 * @internal
 * @packageDocumentation
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidInput, ZonekeeperError } from '@zonekeeper/core';
import { type CommandContext, type CommandGroup, commandString, signalOf } from '../command.js';
import {
  checkExternalDnsBinary,
  type DevInspection,
  devDown,
  devUp,
  inspectBackend,
  motoPython,
  requireState,
} from '../dev/local-backend.js';
import {
  DEV_DEFAULT_BASE_DOMAIN,
  type DevPaths,
  type DevState,
  devDirectory,
  exportLines,
  MOTO_INSTALL_HINT,
  parseClusterList,
  unsetLine,
} from '../dev/state.js';
import { ExitCodes } from '../exit-codes.js';
import { fields, formatInstant, type HumanView, table } from '../render.js';

const DIR_HELP =
  'directory of the local backend (env ZONEKEEPER_DEV_DIR, default $XDG_STATE_HOME/zonekeeper/dev or ~/.local/state/zonekeeper/dev)';

function dirOf(ctx: CommandContext): string {
  return devDirectory(commandString(ctx, 'dir'), ctx.env, ctx.cwd);
}

/** The secret-free view of a backend (no Vault token; `redact` would drop it anyway). */
function backendView(paths: DevPaths, state: DevState, inspection?: DevInspection) {
  return {
    dir: paths.dir,
    stateFile: paths.state,
    ready: state.ready,
    startedAt: state.startedAt,
    baseDomain: state.baseDomain,
    ...(state.parentZoneId === undefined ? {} : { parentZoneId: state.parentZoneId }),
    region: state.region,
    clusters: state.clusters,
    files: { kubeconfig: paths.kubeconfig, inventory: paths.inventory, vaultTokenFile: paths.vaultToken },
    processes: (inspection?.processes ?? state.processes).map((p) => ({
      name: p.name,
      kind: p.kind,
      pid: p.pid,
      endpoint: p.endpoint ?? null,
      ...('state' in p ? { state: p.state } : {}),
      log: p.log,
    })),
    ...(inspection === undefined ? {} : { healthy: inspection.healthy }),
  };
}

/**
 * The human view of `dev status`: the backend's files and base domain, then its processes; `-o wide`
 * adds each process's pid and log file.
 */
export function renderStatus(inspection: DevInspection): HumanView {
  const { paths, state } = inspection;
  return [
    fields([
      ['State file', paths.state],
      ['Base domain', state.baseDomain],
      ['Parent zone id', state.parentZoneId, 'wide'],
      ['Kubeconfig', paths.kubeconfig],
      ['Contexts', state.clusters],
      ['Inventory', paths.inventory],
      ['Started', formatInstant(state.startedAt)],
    ]),
    table(
      ['Process', { header: 'Pid', wide: true }, 'Endpoint', 'State', { header: 'Log', wide: true }],
      inspection.processes.map((p) => [p.name, p.pid, p.endpoint, p.state, p.log]),
    ),
  ];
}

/** Registers `dev up`, `dev down`, `dev status`, `dev env` and `dev logs`. */
export const registerDevCommands: CommandGroup = (program, execute) => {
  const dev = program
    .command('dev')
    .description(
      'a local backend to try zonekeeper: moto, a Vault fake and Kubernetes API fakes on 127.0.0.1',
    )
    .addHelpText(
      'after',
      `
Use it with:  eval "$(zonekeeper dev up)"  …  eval "$(zonekeeper dev down)"
Environment:
  ZONEKEEPER_DEV_DIR       default of --dir
  ZONEKEEPER_MOTO_PYTHON   the Python that has moto (default python3; install: ${MOTO_INSTALL_HINT})
State is in memory: dev down loses it, and dev up starts empty.`,
    );
  const local = { defaultBaseDomain: DEV_DEFAULT_BASE_DOMAIN };

  dev
    .command('up')
    .description(
      'start moto (Route 53, IAM), the Vault fake and one Kubernetes API fake per cluster in the background, create the parent zone, print the export lines',
    )
    .option('--clusters <ids>', 'comma-separated cluster ids, one kubeconfig context each (default dev-1)')
    .option(
      '--external-dns <binary>',
      'run every ExternalDNS Deployment applied to a cluster with this binary (env ZONEKEEPER_EXTERNAL_DNS)',
    )
    .option('--dir <dir>', DIR_HELP)
    .action(
      execute(
        'dev up',
        async (ctx) => {
          const clusters = parseClusterList(commandString(ctx, 'clusters'));
          const dir = dirOf(ctx);
          const python = motoPython(ctx.env.ZONEKEEPER_MOTO_PYTHON);
          const binary =
            commandString(ctx, 'externalDns') ?? (ctx.env.ZONEKEEPER_EXTERNAL_DNS?.trim() || undefined);
          const externalDns =
            binary === undefined ? undefined : await checkExternalDnsBinary(binary, ctx.cwd);
          const { inspection, reused } = await devUp({
            dir,
            baseDomain: ctx.settings.baseDomain,
            region: ctx.settings.aws.region,
            clusters,
            python,
            ...(externalDns === undefined ? {} : { externalDns }),
            progress: (line) => ctx.out.progress(line),
            ...signalOf(ctx),
          });
          ctx.out.progress(
            `zonekeeper dev up: point this shell at it with: eval "$(zonekeeper dev env${commandString(ctx, 'dir') ? ` --dir ${dir}` : ''})"`,
          );
          return {
            view: { ...backendView(inspection.paths, inspection.state, inspection), reused },
            payload: exportLines(inspection.state, inspection.paths),
          };
        },
        local,
      ),
    );

  dev
    .command('down')
    .description('stop every process of the local backend and remove its files (its state is lost)')
    .option('--dir <dir>', DIR_HELP)
    .action(
      execute(
        'dev down',
        async (ctx) => {
          const result = await devDown(dirOf(ctx), (line) => ctx.out.progress(line));
          ctx.out.progress(
            result.found
              ? `zonekeeper dev down: stopped ${result.stopped.length} process(es)${result.alreadyGone.length > 0 ? `, ${result.alreadyGone.length} had already exited (${result.alreadyGone.map((p) => p.name).join(', ')})` : ''}; removed ${result.paths.dir}'s files.`
              : `zonekeeper dev down: no local backend in ${result.paths.dir}; nothing to stop.`,
          );
          return {
            view: {
              dir: result.paths.dir,
              found: result.found,
              stopped: result.stopped.map((p) => ({ name: p.name, pid: p.pid })),
              alreadyGone: result.alreadyGone.map((p) => ({ name: p.name, pid: p.pid })),
            },
            payload: unsetLine(),
          };
        },
        local,
      ),
    );

  dev
    .command('status')
    .description(
      'show the processes of the local backend and whether each runs and answers (exit 4 if one does not)',
    )
    .option('--dir <dir>', DIR_HELP)
    .action(
      execute(
        'dev status',
        async (ctx) => {
          const { paths, state } = await requireState(dirOf(ctx));
          const inspection = await inspectBackend(paths, state);
          for (const p of inspection.processes.filter((x) => x.state !== 'running'))
            ctx.out.warn(
              `${p.name} (pid ${p.pid}) ${p.state === 'exited' ? 'has exited' : 'does not answer'}; its log is ${p.log}. Run 'zonekeeper dev down', then 'zonekeeper dev up' for a new, empty backend.`,
            );
          if (!state.ready)
            ctx.out.warn('dev up has not finished (or was interrupted); run it again after dev down.');
          return {
            view: backendView(paths, state, inspection),
            text: renderStatus(inspection),
            ...(inspection.healthy ? {} : { exitCode: ExitCodes.RETRY_LATER }),
          };
        },
        local,
      ),
    );

  dev
    .command('env')
    .description('print the export lines of the local backend again: eval "$(zonekeeper dev env)"')
    .option('--dir <dir>', DIR_HELP)
    .action(
      execute(
        'dev env',
        async (ctx) => {
          const { paths, state } = await requireState(dirOf(ctx));
          return { view: backendView(paths, state), payload: exportLines(state, paths) };
        },
        local,
      ),
    );

  dev
    .command('logs')
    .description(
      "print a process's log: moto, vault, dns, a cluster id, or <cluster>/external-dns (the ExternalDNS dev up --external-dns runs)",
    )
    .argument('<name>', 'moto, vault, dns, <cluster> or <cluster>/external-dns')
    .option('--tail <lines>', 'only the last lines')
    .option('--dir <dir>', DIR_HELP)
    .action(
      execute(
        'dev logs',
        async (ctx, name: string) => {
          const { paths, state } = await requireState(dirOf(ctx));
          const file = devLogFile(paths, state, name);
          const tail = parseTail(commandString(ctx, 'tail'));
          const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return '';
            throw error;
          });
          const lines = text.split('\n').filter((l) => l !== '');
          const shown = tail === undefined ? lines : lines.slice(-tail);
          return {
            view: { name, file, lines: shown },
            payload: shown.length === 0 ? '' : `${shown.join('\n')}\n`,
          };
        },
        local,
      ),
    );
};

/** The log file of process `name` of the backend, or `NOT_FOUND` naming the names it has. */
export function devLogFile(paths: DevPaths, state: DevState, name: string): string {
  const cluster = /^(.+)\/external-dns$/.exec(name)?.[1];
  if (cluster !== undefined && state.clusters.includes(cluster)) {
    if (state.externalDns === undefined)
      throw new ZonekeeperError(
        'NOT_FOUND',
        `This local backend runs no ExternalDNS; start it with 'zonekeeper dev up --external-dns <binary>'.`,
      );
    return join(paths.logs, `${cluster}.external-dns.log`);
  }
  const process = state.processes.find((p) => p.name === name);
  if (process !== undefined) return process.log;
  const names = [
    ...state.processes.map((p) => p.name),
    ...(state.externalDns === undefined ? [] : state.clusters.map((c) => `${c}/external-dns`)),
  ];
  throw new ZonekeeperError(
    'NOT_FOUND',
    `No process ${JSON.stringify(name)} in this local backend; it has ${names.join(', ')}.`,
    {
      details: { names },
    },
  );
}

function parseTail(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw invalidInput(`--tail ${JSON.stringify(value)} must be a whole number of lines, 1 or more.`);
  return n;
}
