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
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EnsureCertificateResult, KeyAlgorithm } from '@zonekeeper/cert-issuer';
import {
  invalidInput,
  isZonekeeperError,
  type Logger,
  normalizeHostname,
  organizationZoneName,
  toZonekeeperError,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import type { ExternalDnsPolicy } from '@zonekeeper/externaldns-deployer';
import { Command, CommanderError } from 'commander';
import type { ExternalDnsDefaults } from '../config.js';
import type { ClusterInventory } from '../inventory.js';
import type { Zonekeeper } from '../zonekeeper.js';
import {
  buildDnsProvider,
  buildIdentityProvider,
  buildSecretStore,
  type CliDeps,
  checkInventoryFile,
  checkVaultSettings,
  createFileInventory,
  kubeconfigResolver,
} from './backend.js';
import { type ExitCode, ExitCodes, exitCodeOf, exitCodeOfCode, worstExitCode } from './exit-codes.js';
import { maskText, Output, type TextSink } from './output.js';
import {
  type CertSpec,
  type CliEnv,
  type CliSettings,
  checkWithinZone,
  defaultCertificateName,
  parseCertSpec,
  parseInstant,
  parsePositiveInteger,
  type RawGlobalOptions,
  resolveSettings,
} from './settings.js';
import {
  attachView,
  certificateIssueView,
  collectionView,
  detachView,
  organizationView,
  renderAttach,
  renderCertificateIssue,
  renderCollection,
  renderDetach,
  renderOrganization,
  renderRotation,
  rotationView,
} from './views.js';

export type { CliDeps } from './backend.js';

/**
 * Choices shown in the help without loading the libraries (startup stays fast); the commands validate
 * with the libraries themselves, and a unit test keeps these lists equal to theirs.
 */
export const helpChoices = {
  policies: ['upsert-only', 'sync', 'create-only'],
  keyAlgorithms: ['ECDSA_P256', 'RSA_2048'],
  defaultKeyAlgorithm: 'ECDSA_P256',
  leafValidityDays: 90,
} as const;
export { ExitCodes } from './exit-codes.js';
export type { TextSink } from './output.js';

/** Options of {@link runCli}: the process's environment and streams, made injectable. */
export interface RunCliOptions {
  /** The environment (`process.env` in the bin). */
  readonly env: CliEnv;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Aborts the running operation (the bin aborts it on SIGINT); the command then exits 130. */
  readonly signal?: AbortSignal;
  /** Ready ports to use instead of the ones built from flags and the environment (tests). */
  readonly deps?: CliDeps;
  /** Directory relative paths are resolved against (default `process.cwd()`). */
  readonly cwd?: string;
}

/** What a command body returns. */
interface CommandOutcome {
  /** The secret-free view: the `result` of the JSON document. */
  readonly view: unknown;
  /** The readable rendering of the view. */
  readonly text?: string;
  /** A payload printed even with `--quiet` (PEM), never in `--json` mode. */
  readonly payload?: string;
  /** Non-zero when the command finished but part of it failed (e.g. a zone `gc run` could not delete). */
  readonly exitCode?: ExitCode;
}

/** What a command body gets. */
interface CommandContext {
  readonly out: Output;
  readonly settings: CliSettings;
  readonly globals: GlobalFlags;
  readonly signal: AbortSignal | undefined;
  readonly deps: CliDeps;
  readonly logger: Logger;
  readonly cwd: string;
}

interface GlobalFlags extends RawGlobalOptions {
  readonly json?: boolean;
  readonly quiet?: boolean;
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
  KUBECONFIG                   kubeconfig files (default ~/.kube/config); a cluster id is the context name
                               unless mapped with --context <cluster>=<context>

Exit codes:
  0    success
  1    other failure (INTERNAL, unexpected errors)
  2    invalid input or usage (INVALID_INPUT): nothing was sent anywhere
  3    refused (NOT_OWNED, PERMISSION_DENIED, CONFLICT, NOT_FOUND, ALREADY_EXISTS)
  4    retry later (THROTTLED, UNAVAILABLE, TIMEOUT, PENDING)
  130  interrupted (SIGINT): the operation was aborted; run it again to finish (operations are idempotent)
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
    (name: string, body: (ctx: CommandContext, ...args: never[]) => Promise<CommandOutcome>) =>
    async (...actionArgs: unknown[]) => {
      const command = actionArgs[actionArgs.length - 1] as Command;
      const positional = actionArgs.slice(0, -2) as never[];
      const globals = command.optsWithGlobals<GlobalFlags & Record<string, unknown>>();
      const out = new Output({
        stdout,
        stderr,
        json: globals.json === true,
        quiet: globals.quiet === true,
      });
      const started = Date.now();
      try {
        options.signal?.throwIfAborted();
        const settings = resolveSettings(globals, env, cwd);
        const progressLogger = out.logger();
        const logger = deps.logger ? tee(progressLogger, deps.logger) : progressLogger;
        const outcome = await body(
          { out, settings, globals, signal: options.signal, deps, logger, cwd },
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
        exitCode = reportError(out, name, error, options.signal);
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
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage)')
    .option('--base-domain <domain>', 'parent domain of every organisation zone (env ZONEKEEPER_BASE_DOMAIN)')
    .option('--parent-zone-id <id>', "the parent zone's Route 53 id (default: found by name)")
    .option('--region <region>', 'AWS region (env AWS_REGION, default us-east-1)')
    .option('--aws-endpoint <url>', 'AWS endpoint for Route 53 and IAM, e.g. moto (env AWS_ENDPOINT_URL)')
    .option('--requests-per-second <n>', 'Route 53 request budget of this process (default 5)')
    .option('--vault-addr <url>', 'Vault address (env VAULT_ADDR); the token comes from VAULT_TOKEN only')
    .option('--vault-mount <mount>', 'Vault KV version 2 mount (default secret)')
    .option('--kubeconfig <file>', 'kubeconfig file (env KUBECONFIG, default ~/.kube/config)')
    .option(
      '--context <cluster=context>',
      'kubeconfig context of a cluster id (repeatable; default: the context named like the cluster id)',
      collect,
    )
    .option('--inventory <file>', 'cluster inventory: JSON array of {organization, clusterId, running}')
    .option('--identity-scope <scope>', 'IAM identity per "organization" (default) or per "cluster"')
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .option('-q, --quiet', 'no progress and no tables (errors and requested PEM output still shown)')
    .addHelpText('after', HELP_FOOTER);

  // ─── org ensure ───
  program
    .command('org')
    .description('organisations')
    .command('ensure')
    .description(
      "create or repair an organisation: zone + delegation, scoped IAM identity, access key in Vault, the organisation's CA",
    )
    .argument('<org>', 'organisation name (a lowercase DNS label)')
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      execute('org ensure', async (ctx, org: string) => {
        const organization = validateOrganizationName(org);
        organizationZoneName(organization, ctx.settings.baseDomain);
        const zk = await buildFacade(ctx);
        const dryRun = commandFlag(ctx, 'dryRun');
        ctx.out.progress(`zonekeeper org ensure: ${organization}${dryRun ? ' (dry run)' : ''}…`);
        const result = await zk.ensureOrganization(organization, { dryRun, ...signalOf(ctx) });
        const view = organizationView(result);
        return { view, text: renderOrganization(view) };
      }),
    );

  // ─── cluster attach / detach ───
  const cluster = program.command('cluster').description("an organisation's clusters");
  cluster
    .command('attach')
    .description(
      "deploy ExternalDNS with the organisation's (or a cluster-scoped) credentials and inject TLS Secrets; waits for the rollout",
    )
    .argument('<org>', 'organisation name')
    .argument('<cluster>', 'cluster id (a DNS label; the kubeconfig context unless mapped with --context)')
    .option('--namespace <ns>', 'namespace of ExternalDNS (default external-dns)')
    .option(
      '--cert <name:namespace:hosts>',
      'issue and inject a TLS Secret, e.g. web:default:www.acme.example.com,api.acme.example.com (repeatable)',
      collect,
    )
    .option(
      '--policy <policy>',
      `ExternalDNS --policy: ${helpChoices.policies.join(', ')} (default upsert-only)`,
    )
    .option('--interval <duration>', 'ExternalDNS --interval, a Go duration ≥ 1m (default 1m)')
    .option('--image <image>', 'ExternalDNS image, pinned by tag or digest')
    .option('--annotation-prefix <prefix>', 'annotations tenants write (default external-dns.kubernetes.io/)')
    .option(
      '--txt-prefix <prefix>',
      'ExternalDNS --txt-prefix (default _extdns-%{record_type}.; "" for none)',
    )
    .option(
      '--zones-cache-duration <duration>',
      'ExternalDNS --aws-zones-cache-duration (default 1h; 0s: off)',
    )
    .option(
      '--external-dns-arg <flag>',
      'one more ExternalDNS flag, e.g. --external-dns-arg=--events (repeatable)',
      collect,
    )
    .option('--rollout-timeout <seconds>', 'how long to wait for the rollout (default 300)')
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      execute('cluster attach', async (ctx, org: string, clusterArg: string) => {
        const organization = validateOrganizationName(org);
        const clusterId = validateClusterId(clusterArg);
        const zoneName = organizationZoneName(organization, ctx.settings.baseDomain);
        const certs = (commandList(ctx, 'cert') ?? []).map((s) => parseCertSpec(s, zoneName));
        checkDistinctCertificates(certs);
        const externalDns = await externalDnsOverrides(ctx, organization, clusterId, zoneName);
        const zk = await buildFacade(ctx);
        const dryRun = commandFlag(ctx, 'dryRun');
        // Loading the kubeconfig sends nothing: a missing context fails here, before any AWS call.
        await zk.ports.cluster(clusterId);
        ctx.out.progress(
          `zonekeeper cluster attach: ${organization}/${clusterId}${dryRun ? ' (dry run)' : ''}: organisation, ExternalDNS${certs.length > 0 ? `, ${certs.length} certificate(s)` : ''}…`,
        );
        const result = await zk.attachCluster(
          organization,
          {
            clusterId,
            certificates: certs.map((c) => ({ name: c.name, namespace: c.namespace, dnsNames: c.dnsNames })),
            externalDns,
          },
          { dryRun, ...signalOf(ctx) },
        );
        const view = attachView(
          result,
          certs.map((c) => c.name),
        );
        return { view, text: renderAttach(view) };
      }),
    );
  cluster
    .command('detach')
    .description("uninstall ExternalDNS and zonekeeper's TLS Secrets; remove a cluster-scoped identity")
    .argument('<org>', 'organisation name')
    .argument('<cluster>', 'cluster id')
    .option('--skip-cluster', 'do not touch the cluster (it is gone); only remove identities and secrets')
    .option('--dry-run', 'print what would be removed, change nothing')
    .action(
      execute('cluster detach', async (ctx, org: string, clusterArg: string) => {
        const organization = validateOrganizationName(org);
        const clusterId = validateClusterId(clusterArg);
        const skipCluster = commandFlag(ctx, 'skipCluster');
        const zk = await buildFacade(ctx);
        const dryRun = commandFlag(ctx, 'dryRun');
        if (!skipCluster) await zk.ports.cluster(clusterId);
        ctx.out.progress(
          `zonekeeper cluster detach: ${organization}/${clusterId}${dryRun ? ' (dry run)' : ''}${skipCluster ? ' (skipping the cluster)' : ''}…`,
        );
        const result = await zk.detachCluster(organization, clusterId, {
          dryRun,
          skipCluster,
          ...signalOf(ctx),
        });
        const view = detachView(result);
        return { view, text: renderDetach(view) };
      }),
    );

  // ─── credentials rotate ───
  program
    .command('credentials')
    .description("an organisation's AWS credentials")
    .command('rotate')
    .description(
      'new access key → Vault → every attached cluster (pods roll) → old key deleted; re-run finishes an interrupted rotation',
    )
    .argument('<org>', 'organisation name')
    .action(
      execute('credentials rotate', async (ctx, org: string) => {
        const organization = validateOrganizationName(org);
        const zk = await buildFacade(ctx);
        ctx.out.progress(`zonekeeper credentials rotate: ${organization}…`);
        const result = await zk.rotateCredentials(organization, signalOf(ctx));
        const view = rotationView(result);
        return { view, text: renderRotation(view) };
      }),
    );

  // ─── gc plan / run ───
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

  // ─── cert issue ───
  program
    .command('cert')
    .description('TLS certificates from the organisation CA')
    .command('issue')
    .description(
      'issue (or renew when due) a server certificate into Vault; print it, or write tls.crt, tls.key and ca.crt with --out',
    )
    .argument('<names...>', "DNS names (within the organisation's zone; wildcards as *.<name>)")
    .requiredOption('--org <org>', 'organisation name')
    .option('--name <name>', 'certificate name in the store (default: derived from the first DNS name)')
    .option('--out <dir>', 'write tls.crt (chain), tls.key (mode 0600) and ca.crt into this directory')
    .option(
      '--validity-days <days>',
      `lifetime of a new certificate (default ${helpChoices.leafValidityDays})`,
    )
    .option(
      '--key-algorithm <algorithm>',
      `${helpChoices.keyAlgorithms.join(' or ')} (default ${helpChoices.defaultKeyAlgorithm})`,
    )
    .option('--dry-run', 'print the plan, issue nothing, write nothing')
    .action(execute('cert issue', async (ctx, names: string[]) => issueCertificate(ctx, names)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCodes.OK;
      if (argv.includes('--json'))
        stdout.write(
          `${JSON.stringify({ ok: false, exitCode: ExitCodes.INVALID, error: { code: 'INVALID_INPUT', message: maskText(error.message) } }, null, 2)}\n`,
        );
      return ExitCodes.INVALID;
    }
    // Not reachable: command bodies catch everything. Keep the promise of never throwing.
    stderr.write(`zonekeeper: ${maskText(toZonekeeperError(error).message)}\n`);
    return ExitCodes.FAILED;
  }
  return exitCode;
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

function signalOf(ctx: CommandContext): { signal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { signal: ctx.signal };
}

/** The command's own option values (commander merges them into `optsWithGlobals`). */
function commandFlag(ctx: CommandContext, name: string): boolean {
  return (ctx.globals as Record<string, unknown>)[name] === true;
}

function commandString(ctx: CommandContext, name: string): string | undefined {
  const v = (ctx.globals as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

function commandList(ctx: CommandContext, name: string): string[] | undefined {
  const v = (ctx.globals as Record<string, unknown>)[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Prints an error (message and code only) and returns its exit code. */
function reportError(
  out: Output,
  command: string,
  error: unknown,
  signal: AbortSignal | undefined,
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
  out.error(`${command}: ${e.code}: ${e.message}${next}`);
  out.document({ ok: false, command, exitCode: code, error: { code: e.code, message: e.message } });
  return code;
}

async function buildFacade(ctx: CommandContext, inventory?: ClusterInventory): Promise<Zonekeeper> {
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
    identityScope: settings.identityScope,
    externalDns: { region: settings.aws.region },
    logger: ctx.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
}

function checkDistinctCertificates(certs: readonly CertSpec[]): void {
  const seen = new Set<string>();
  for (const c of certs) {
    if (seen.has(c.name)) throw invalidInput(`--cert names certificate ${c.name} twice.`);
    seen.add(c.name);
  }
}

/** Validates the ExternalDNS flags of `cluster attach` with the renderer's own rules (placeholders for what only the backend knows). */
async function externalDnsOverrides(
  ctx: CommandContext,
  organization: string,
  clusterId: string,
  zoneName: string,
): Promise<ExternalDnsDefaults> {
  const { EXTERNAL_DNS_POLICIES, resolveExternalDnsOptions } = await import(
    '@zonekeeper/externaldns-deployer'
  );
  const namespace = commandString(ctx, 'namespace');
  const policy = commandString(ctx, 'policy');
  const interval = commandString(ctx, 'interval');
  const image = commandString(ctx, 'image');
  const timeout = commandString(ctx, 'rolloutTimeout');
  const annotationPrefix = commandString(ctx, 'annotationPrefix');
  const txtPrefix = commandString(ctx, 'txtPrefix');
  const zonesCacheDuration = commandString(ctx, 'zonesCacheDuration');
  const extraArgs = commandList(ctx, 'externalDnsArg');
  const edns = {
    ...(annotationPrefix === undefined ? {} : { annotationPrefix }),
    ...(txtPrefix === undefined ? {} : { txtPrefix }),
    ...(zonesCacheDuration === undefined ? {} : { zonesCacheDuration }),
    ...(extraArgs === undefined ? {} : { extraArgs }),
  };
  if (policy !== undefined && !(EXTERNAL_DNS_POLICIES as readonly string[]).includes(policy))
    throw invalidInput(
      `--policy must be one of ${EXTERNAL_DNS_POLICIES.join(', ')}, got ${JSON.stringify(policy)}.`,
    );
  if (namespace !== undefined) validateDnsLabel(namespace, 'Namespace');
  const overrides: ExternalDnsDefaults = {
    ...(namespace === undefined ? {} : { namespace }),
    ...(policy === undefined ? {} : { policy: policy as ExternalDnsPolicy }),
    ...(interval === undefined ? {} : { interval }),
    ...(image === undefined ? {} : { image }),
    ...edns,
    ...(timeout === undefined
      ? {}
      : { rolloutTimeoutMs: parsePositiveInteger(timeout, '--rollout-timeout', 86_400) * 1000 }),
  };
  resolveExternalDnsOptions({
    clusterId,
    organization,
    zoneName,
    zoneId: 'Z00000000000000000000',
    credentials: { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'placeholder-not-a-secret' },
    region: ctx.settings.aws.region,
    ...(namespace === undefined ? {} : { namespace }),
    ...(policy === undefined ? {} : { policy: policy as ExternalDnsPolicy }),
    ...(interval === undefined ? {} : { interval }),
    ...(image === undefined ? {} : { image }),
    ...edns,
  });
  return overrides;
}

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
    `zonekeeper ${name}: managed zones under ${ctx.settings.baseDomain}${now ? ` at ${now.toISOString()}` : ''}${dryRun ? ' (plan only)' : ''}…`,
  );
  const result = await zk.collectGarbage({ dryRun, ...(now ? { now } : {}), ...signalOf(ctx) });
  const view = collectionView(result);
  const failures = result.results.filter((r) => r.status !== 'deleted');
  const codes: ExitCode[] = failures.map((r) =>
    r.status === 'failed'
      ? r.error
        ? exitCodeOfCode(r.error.code)
        : ExitCodes.FAILED
      : r.reason?.startsWith('inventory unavailable')
        ? ExitCodes.RETRY_LATER
        : ExitCodes.OK,
  );
  for (const r of failures)
    if (r.status === 'failed' || r.reason?.startsWith('inventory unavailable'))
      ctx.out.error(
        `${name}: zone ${r.zoneId} of ${r.organization}: ${r.error ? `${r.error.code}: ${r.error.message}` : r.reason}`,
      );
  return { view, text: renderCollection(view, name === 'gc run'), exitCode: worstExitCode(codes) };
}

async function issueCertificate(ctx: CommandContext, namesInput: readonly string[]): Promise<CommandOutcome> {
  const { certificateDefaults, ensureCertificate, KEY_ALGORITHMS } = await import('@zonekeeper/cert-issuer');
  const { readCertificate } = await import('@zonekeeper/vault-keys');
  const organization = validateOrganizationName(commandString(ctx, 'org'));
  const zoneName = organizationZoneName(organization, ctx.settings.baseDomain);
  if (namesInput.length === 0) throw invalidInput('cert issue needs at least one DNS name.');
  const dnsNames = [...new Set(namesInput.map((n) => normalizeHostname(n)))];
  checkWithinZone(dnsNames, zoneName, 'cert issue');
  const nameFlag = commandString(ctx, 'name');
  const name =
    nameFlag === undefined
      ? defaultCertificateName(dnsNames[0] as string, zoneName)
      : validateDnsLabel(nameFlag, 'Certificate name');
  const days = commandString(ctx, 'validityDays');
  const validityDays =
    days === undefined
      ? undefined
      : parsePositiveInteger(days, '--validity-days', certificateDefaults.maxLeafValidityDays);
  const algorithm = commandString(ctx, 'keyAlgorithm');
  if (algorithm !== undefined && !(KEY_ALGORITHMS as readonly string[]).includes(algorithm))
    throw invalidInput(
      `--key-algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}.`,
    );
  const outDir = commandString(ctx, 'out');
  const outPath = outDir === undefined ? undefined : resolve(ctx.cwd, outDir);
  if (outPath !== undefined) await checkOutDir(outPath);
  const dryRun = commandFlag(ctx, 'dryRun');

  if (!ctx.deps.secrets) checkVaultSettings(ctx.settings.vault);
  const secrets = ctx.deps.secrets ?? (await buildSecretStore(ctx.settings.vault));
  ctx.out.progress(
    `zonekeeper cert issue: ${name} for ${organization} (${dnsNames.join(', ')})${dryRun ? ' (dry run)' : ''}…`,
  );
  const result: EnsureCertificateResult = await ensureCertificate(
    {
      organization,
      name,
      dnsNames,
      withinDomain: zoneName,
      ...(validityDays === undefined ? {} : { validityDays }),
      ...(algorithm === undefined ? {} : { keyAlgorithm: algorithm as KeyAlgorithm }),
    },
    { secrets, logger: ctx.logger, ...(ctx.deps.clock ? { clock: ctx.deps.clock } : {}) },
    { dryRun, ...signalOf(ctx) },
  );
  const view = certificateIssueView(organization, name, result);
  if (dryRun) return { view, text: renderCertificateIssue(view, undefined) };

  const stored = await readCertificate(secrets, organization, name, signalOf(ctx));
  if (!stored)
    throw new ZonekeeperError(
      'NOT_FOUND',
      `Certificate ${name} of ${organization} is not in the secret store after issuing (deleted concurrently?); run again.`,
      { retry: 'transient' },
    );
  if (outPath !== undefined) {
    // Paths only: the key's file name is fine to show, its content never is.
    const files = {
      'tls.crt': join(outPath, 'tls.crt'),
      'tls.key': join(outPath, 'tls.key'),
      'ca.crt': join(outPath, 'ca.crt'),
    };
    await mkdir(outPath, { recursive: true, mode: 0o700 });
    await writeFileAtomic(files['tls.crt'], stored.chainPem, 0o644);
    await writeFileAtomic(files['tls.key'], stored.privateKeyPem, 0o600);
    await writeFileAtomic(files['ca.crt'], stored.caPem, 0o644);
    ctx.out.progress(
      `zonekeeper cert issue: wrote ${files['tls.crt']}, ${files['tls.key']} (mode 0600), ${files['ca.crt']}.`,
    );
    return { view: { ...view, files }, text: renderCertificateIssue(view, files) };
  }
  return {
    view: { ...view, certificatePem: stored.certificatePem, chainPem: stored.chainPem, caPem: stored.caPem },
    text: renderCertificateIssue(view, undefined),
    payload: stored.chainPem,
  };
}

async function checkOutDir(dir: string): Promise<void> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw invalidInput(`--out ${dir} exists and is not a directory.`);
  } catch (error) {
    if (isZonekeeperError(error)) throw error;
    if ((error as { code?: unknown }).code !== 'ENOENT')
      throw invalidInput(`--out ${dir} cannot be used (${String((error as { code?: unknown }).code)}).`);
  }
}

/** Writes `content` to `file` through a temporary file in the same directory, with `mode`. */
async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
    await chmod(file, mode);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
