/**
 * The `zonekeeper` command: argument parsing (commander), validation, backend construction and the
 * commands, behind one testable entry point, {@link runCli}.
 *
 * Every command follows the same order: parse → validate every flag, argument and environment value
 * (exit 2 on bad input, before any client is built and anything is sent) → build the ports → run the
 * facade operation with the command's `AbortSignal` → print a view (tables, or one JSON document).
 *
 * @packageDocumentation
 */

import { readFileSync } from 'node:fs';
import { invalidInput, isZonekeeperError, type Logger, toZonekeeperError } from '@zonekeeper/core';
import { Command, CommanderError, Option } from 'commander';
import type { CliDeps } from './backend.js';
import {
  type CommandContext,
  type CommandOutcome,
  cliMessage,
  cliText,
  type ExecuteOptions,
  type GlobalFlags,
  type PromptInput,
} from './command.js';
import { certificateChoices, registerCertCommands } from './commands/cert.js';
import { policyChoices, registerClusterCommands } from './commands/cluster.js';
import { registerCredentialsCommands } from './commands/credentials.js';
import { registerDevCommands } from './commands/dev.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerGcCommands } from './commands/gc.js';
import { registerOrgCommands } from './commands/org.js';
import { type ExitCode, ExitCodes, exitCodeOf } from './exit-codes.js';
import {
  formatDocument,
  maskText,
  OUTPUT_FORMATS,
  Output,
  type OutputFormat,
  type TextSink,
} from './output.js';
import { stripMilliseconds } from './render.js';
import { type CliEnv, resolveSettings } from './settings.js';

export type { CliDeps } from './backend.js';

/**
 * Choices shown in the help without loading the libraries (startup stays fast); the commands validate
 * with the libraries themselves, and a unit test keeps these lists equal to theirs.
 */
export const helpChoices = {
  policies: policyChoices,
  keyAlgorithms: certificateChoices.keyAlgorithms,
  defaultKeyAlgorithm: certificateChoices.defaultKeyAlgorithm,
  leafValidityDays: certificateChoices.leafValidityDays,
} as const;
export { ExitCodes } from './exit-codes.js';
export type { OutputFormat, TextSink } from './output.js';

/** Options of {@link runCli}: the process's environment and streams, made injectable. */
export interface RunCliOptions {
  /** The environment (`process.env` in the bin). */
  readonly env: CliEnv;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /**
   * Aborts the running operation (the bin aborts it on SIGINT and SIGTERM); the command then exits 130 —
   * except `gc run --watch`, which exits 0 when the abort reason carries `signal: 'SIGTERM'`.
   */
  readonly signal?: AbortSignal;
  /** Ready ports to use instead of the ones built from flags and the environment (tests). */
  readonly deps?: CliDeps;
  /** Directory relative paths are resolved against (default `process.cwd()`). */
  readonly cwd?: string;
  /** Where confirmations are read (the bin passes `process.stdin`); asked only when it is a TTY. */
  readonly stdin?: PromptInput;
}

function packageVersion(): string {
  try {
    // src/cli and dist/cli are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const HELP_FOOTER = `
Environment:
  ZONEKEEPER_BASE_DOMAIN       default of --base-domain
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, …
                               AWS credentials (the SDK's default provider chain)
  AWS_REGION                   default of --region (then AWS_DEFAULT_REGION, then us-east-1)
  AWS_ENDPOINT_URL             default of --aws-endpoint (AWS_ENDPOINT_URL_ROUTE_53 / _IAM per service)
  VAULT_ADDR                   Vault address (default of --vault-addr)
  VAULT_TOKEN                  Vault token (environment only: a flag would show it in \`ps\`)
  VAULT_NAMESPACE              Vault Enterprise namespace
  ZONEKEEPER_PDNS_API_URL      default of --pdns-api-url: the PowerDNS backend instead of Route 53 and IAM
  ZONEKEEPER_PDNS_API_KEY      PowerDNS API key (environment only: a flag would show it in \`ps\`)
  ZONEKEEPER_PDNS_NAME_SERVERS default of --pdns-name-server (comma-separated)
  ZONEKEEPER_PDNS_UPDATE_HOST, ZONEKEEPER_PDNS_UPDATE_PORT, ZONEKEEPER_PDNS_SERVER_ID
                               defaults of --pdns-update-host, --pdns-update-port, --pdns-server-id
  ZONEKEEPER_FLEET_FILE        default of --fleet (several AWS accounts, each reached through its roleArn)
  AWS_ENDPOINT_URL_STS         STS endpoint of the fleet file's AssumeRole calls (default AWS_ENDPOINT_URL)
  KUBECONFIG                   kubeconfig files (default ~/.kube/config); a cluster id is the context name
                               unless mapped with --context <cluster>=<context>

Exit codes:
  0    success
  1    other failure (INTERNAL, unexpected errors)
  2    invalid input or usage (INVALID_INPUT): nothing was sent anywhere
  3    refused (NOT_OWNED, PERMISSION_DENIED, CONFLICT, NOT_FOUND, ALREADY_EXISTS)
  4    retry later (THROTTLED, UNAVAILABLE, TIMEOUT, PENDING)
  5    doctor: at least one finding of severity error
  130  interrupted (SIGINT, or SIGTERM): the operation was aborted; run it again to finish (operations
       are idempotent). gc run --watch stopped by SIGTERM exits 0
`;

/**
 * Runs the `zonekeeper` command with `argv` (the user's arguments, without `node` and the script) and
 * resolves to the exit code. Never throws and never calls `process.exit`.
 *
 * @example
 * ```ts
 * const code = await runCli(['org', 'ensure', 'acme', '--json'], { env: process.env, stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function runCli(argv: readonly string[], options: RunCliOptions): Promise<number> {
  const { env, stdout, stderr } = options;
  const deps = options.deps ?? {};
  const cwd = options.cwd ?? process.cwd();
  let exitCode: number = ExitCodes.OK;

  /** Wraps a command body: settings, output, progress, errors and the JSON document. */
  const execute =
    (
      name: string,
      body: (ctx: CommandContext, ...args: never[]) => Promise<CommandOutcome>,
      executeOptions: ExecuteOptions = {},
    ) =>
    async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const positional = actionArgs.slice(0, -2) as never[];
      const globals = command.optsWithGlobals<GlobalFlags & Record<string, unknown>>();
      const out = new Output({
        stdout,
        stderr,
        format: globals.json === true ? 'json' : ((globals.output as OutputFormat | undefined) ?? 'table'),
        quiet: globals.quiet === true,
      });
      const organization =
        typeof globals.org === 'string'
          ? globals.org
          : command.registeredArguments[0]?.name() === 'org' && typeof positional[0] === 'string'
            ? (positional[0] as string)
            : undefined;
      const started = Date.now();
      try {
        options.signal?.throwIfAborted();
        if (globals.json === true && globals.output !== undefined && globals.output !== 'json')
          throw invalidInput(
            `--json is short for -o json; it cannot be combined with -o ${globals.output}. Pass one of them.`,
          );
        const fallback = executeOptions.defaultBaseDomain;
        const settings = resolveSettings(
          globals,
          fallback !== undefined && !env.ZONEKEEPER_BASE_DOMAIN?.trim()
            ? { ...env, ZONEKEEPER_BASE_DOMAIN: fallback }
            : env,
          cwd,
        );
        const progressLogger = inCliTerms(out.logger(), organization);
        const logger = deps.logger ? tee(progressLogger, deps.logger) : progressLogger;
        const outcome = await body(
          {
            out,
            settings,
            globals,
            signal: options.signal,
            deps,
            logger,
            cwd,
            env,
            ...(options.stdin ? { stdin: options.stdin } : {}),
          },
          ...positional,
        );
        exitCode = outcome.exitCode ?? ExitCodes.OK;
        out.document({ ok: exitCode === ExitCodes.OK, command: name, exitCode, result: outcome.view });
        if (outcome.text !== undefined) out.print(outcome.text);
        if (outcome.payload !== undefined) out.payload(outcome.payload);
        out.progress(
          `zonekeeper ${name}: ${exitCode === ExitCodes.OK ? 'done' : `finished with failures (exit ${exitCode})`} in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        );
      } catch (error) {
        exitCode = reportError(out, name, error, options.signal, organization);
      }
    };

  const program = new Command('zonekeeper');
  program
    .description(
      'Per-organisation Route 53 zones, scoped IAM credentials in Vault, ExternalDNS and TLS certificates for multi-tenant Kubernetes platforms, with a billing-aware garbage collector.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      outputError: (s, write) => write(maskText(s)),
      // Help fits a terminal like the tables do; 100 columns otherwise.
      getOutHelpWidth: () => (stdout.isTTY === true && stdout.columns ? stdout.columns : 100),
      getErrHelpWidth: () => (stderr.isTTY === true && stderr.columns ? stderr.columns : 100),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage)')
    .option('--base-domain <domain>', 'parent domain of every organisation zone (env ZONEKEEPER_BASE_DOMAIN)')
    .option('--parent-zone-id <id>', "the parent zone's Route 53 id (default: found by name)")
    .option('--region <region>', 'AWS region (env AWS_REGION, default us-east-1)')
    .option('--aws-endpoint <url>', 'AWS endpoint for Route 53 and IAM, e.g. moto (env AWS_ENDPOINT_URL)')
    .option(
      '--requests-per-second <n>',
      'Route 53 requests per second this process may use (default 10, the account rate; every throttling bucket scales with it)',
    )
    .option('--vault-addr <url>', 'Vault address (env VAULT_ADDR); the token comes from VAULT_TOKEN only')
    .option('--vault-mount <mount>', 'Vault KV version 2 mount (default secret)')
    .option(
      '--pdns-api-url <url>',
      'the PowerDNS backend: zones on this PowerDNS HTTP API, TSIG keys as identities, ExternalDNS with rfc2136 (env ZONEKEEPER_PDNS_API_URL; the key comes from ZONEKEEPER_PDNS_API_KEY only)',
    )
    .option('--pdns-server-id <id>', 'PowerDNS server id in API paths (default localhost)')
    .option(
      '--pdns-name-server <host>',
      'name server every new zone publishes (repeatable; required)',
      collect,
    )
    .option('--pdns-update-host <host>', "where clusters' ExternalDNS sends RFC 2136 updates (required)")
    .option('--pdns-update-port <port>', 'RFC 2136 port (default 53)')
    .option(
      '--pdns-update-source <cidr>',
      "network updates may come from (repeatable; each zone's ALLOW-DNSUPDATE-FROM)",
      collect,
    )
    .option(
      '--pdns-axfr',
      "let each organisation's key transfer its zone, so ExternalDNS can update and delete",
    )
    .option('--kubeconfig <file>', 'kubeconfig file (env KUBECONFIG, default ~/.kube/config)')
    .option(
      '--context <cluster=context>',
      'kubeconfig context of a cluster id (repeatable; default: the context named like the cluster id)',
      collect,
    )
    .option(
      '--fleet <file>',
      'several AWS accounts: a JSON fleet file of accounts (id, roleArn, zoneQuota, …); doctor, gc, org and cluster list sweep every account (env ZONEKEEPER_FLEET_FILE)',
    )
    .option('--inventory <file>', 'cluster inventory: JSON array of {organization, clusterId, running}')
    .option(
      '--aws-account-id <id>',
      "the AWS account of keyless credentials' IAM roles and OIDC providers (env ZONEKEEPER_AWS_ACCOUNT_ID; needed by cluster attach --credentials irsa|pod-identity|web-identity)",
    )
    .option(
      '--identity-scope <scope>',
      'the identity scope of clusters attached without --scope: "organization" (default) or "cluster"',
    )
    .option(
      '--secret-prefix <path>',
      'secret path prefix in Vault (env ZONEKEEPER_SECRET_PREFIX, default zonekeeper/platforms/<base-domain>)',
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'output format: table (default; fitted to the terminal, plain columns in a pipe), wide (more columns), json or yaml (one document on stdout, for scripts)',
      ).choices(OUTPUT_FORMATS),
    )
    .option('--json', 'print one JSON document on stdout (for scripts); same as -o json')
    .option('-q, --quiet', 'no progress and no tables (errors and requested PEM output still shown)')
    .addHelpText('after', HELP_FOOTER);

  for (const register of [
    registerOrgCommands,
    registerClusterCommands,
    registerCredentialsCommands,
    registerGcCommands,
    registerCertCommands,
    registerDoctorCommand,
    registerDevCommands,
  ])
    register(program, execute);

  // Which command a usage error belongs to (commander's errors do not say): every command records
  // itself before commander's error propagates.
  let failedCommand: Command | undefined;
  const recordFailure = (cmd: Command) => {
    cmd.exitOverride((error) => {
      failedCommand = cmd;
      throw error;
    });
    for (const sub of cmd.commands) recordFailure(sub);
  };
  recordFailure(program);

  try {
    await program.parseAsync(helpArguments(argv), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for (`--help`, `help <command>`) exits 0; a group without its command (`zonekeeper
      // org`) shows the help as an error (commander's exit code 1), a usage error here.
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        (error.code === 'commander.help' && error.exitCode === 0)
      )
        return ExitCodes.OK;
      const format = requestedDocumentFormat(argv);
      if (format !== undefined) {
        const path = commandPath(failedCommand);
        stdout.write(
          formatDocument(
            {
              ok: false,
              command: path === '' ? null : path,
              exitCode: ExitCodes.INVALID,
              error: { code: 'INVALID_INPUT', message: usageMessage(error, path) },
            },
            format,
          ),
        );
      }
      return ExitCodes.INVALID;
    }
    // Not reachable: command bodies catch everything. Keep the promise of never throwing.
    stderr.write(`zonekeeper: ${maskText(toZonekeeperError(error).message)}\n`);
    return ExitCodes.FAILED;
  }
  return exitCode;
}

/** `zonekeeper help org ensure` is `zonekeeper org ensure --help` (commander's help command goes one level deep). */
function helpArguments(argv: readonly string[]): string[] {
  if (argv[0] === 'help' && argv.length > 1 && !argv[1]?.startsWith('-')) return [...argv.slice(1), '--help'];
  return [...argv];
}

/**
 * The document format a usage error is printed in: `json` with `--json` or `-o json`, `yaml` with
 * `-o yaml`, none otherwise (the error is on stderr only). Read from the raw arguments, since commander
 * has not finished parsing them.
 */
export function requestedDocumentFormat(argv: readonly string[]): 'json' | 'yaml' | undefined {
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') break;
    if (a === '--json') return 'json';
    if (a === '-o' || a === '--output') format = argv[++i];
    else if (a.startsWith('--output=')) format = a.slice('--output='.length);
    else if (a.startsWith('-o') && !a.startsWith('--') && a.length > 2) format = a.slice(2);
  }
  return format === 'json' || format === 'yaml' ? format : undefined;
}

function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A commander error as one sentence (without commander's `error: ` prefix). */
function usageMessage(error: CommanderError, path: string): string {
  if (error.code === 'commander.help')
    return path === ''
      ? "zonekeeper needs a command: see 'zonekeeper --help'."
      : `zonekeeper ${path} needs a command: see 'zonekeeper help ${path}'.`;
  const text = error.message.replace(/^error: /, '').trim();
  return maskText(`${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`);
}

/** The libraries' log lines with operation names as commands (`holding the lock of acme ('zonekeeper org ensure acme')`). */
function inCliTerms(logger: Logger, organization: string | undefined): Logger {
  const map =
    (write: (m: string, ...x: unknown[]) => void) =>
    (m: string, ...x: unknown[]) =>
      write(cliText(m, organization), ...x);
  return {
    trace: () => {},
    debug: map(logger.debug),
    info: map(logger.info),
    warn: map(logger.warn),
    error: map(logger.error),
  };
}

function tee(a: Logger, b: Logger): Logger {
  return {
    trace: (m, ...x) => {
      a.trace?.(m, ...x);
      b.trace?.(m, ...x);
    },
    debug: (m, ...x) => {
      a.debug(m, ...x);
      b.debug(m, ...x);
    },
    info: (m, ...x) => {
      a.info(m, ...x);
      b.info(m, ...x);
    },
    warn: (m, ...x) => {
      a.warn(m, ...x);
      b.warn(m, ...x);
    },
    error: (m, ...x) => {
      a.error(m, ...x);
      b.error(m, ...x);
    },
  };
}

/** Prints an error (message and code only) and returns its exit code. */
function reportError(
  out: Output,
  command: string,
  error: unknown,
  signal: AbortSignal | undefined,
  organization: string | undefined,
): ExitCode {
  const aborted = signal?.aborted === true;
  const code = exitCodeOf(error, aborted);
  if (code === ExitCodes.INTERRUPTED) {
    out.error(
      `${command}: interrupted; the operation was aborted. Run the command again to finish it (every operation is idempotent).`,
    );
    out.document({
      ok: false,
      command,
      exitCode: code,
      error: { code: 'ABORTED', message: 'Interrupted; the operation was aborted.' },
    });
    return code;
  }
  const e = isZonekeeperError(error) ? error : toZonekeeperError(error);
  const next =
    code === ExitCodes.RETRY_LATER
      ? ' (retry later)'
      : code === ExitCodes.INVALID
        ? ' (nothing was changed)'
        : '';
  const message = stripMilliseconds(cliMessage(e, organization));
  out.error(`${command}: ${e.code}: ${message}${next}`);
  out.document({ ok: false, command, exitCode: code, error: { code: e.code, message } });
  return code;
}
