/**
 * `zonekeeper cluster …`: an organisation's clusters (ExternalDNS, TLS Secrets, cluster identities).
 *
 * @internal
 * @packageDocumentation
 */

import { readFile } from 'node:fs/promises';
import {
  invalidInput,
  organizationZoneName,
  validateClusterId,
  validateDnsLabel,
  validateOrganizationName,
} from '@zonekeeper/core';
import type { ExternalDnsPolicy } from '@zonekeeper/externaldns-deployer';
import type { ExternalDnsDefaults, IdentityScope } from '../../config.js';
import type { FleetExternalDnsSettings } from '../../fleet/budget.js';
import type { AttachClusterInput, Zonekeeper } from '../../results.js';
import {
  buildFacade,
  buildFleetFacade,
  type CommandContext,
  type CommandGroup,
  commandFlag,
  commandList,
  commandString,
  isFleet,
  signalOf,
} from '../command.js';
import { type CertSpec, parseCertSpec, parsePositiveInteger } from '../settings.js';
import { attachView, detachView, renderAttach, renderDetach } from '../views.js';
import { clusterListView, renderClusterList } from '../views-org.js';
import { fleetClusterList, withAccount, withAccountLine } from './fleet.js';
import { nowOf, optionalInventory } from './org.js';

/** Choices shown in the help without loading the libraries; a unit test keeps them equal to theirs. */
export const policyChoices = ['upsert-only', 'sync', 'create-only'] as const;

function checkDistinctCertificates(certs: readonly CertSpec[]): void {
  const seen = new Set<string>();
  for (const c of certs) {
    if (seen.has(c.name)) throw invalidInput(`--cert names certificate ${c.name} twice.`);
    seen.add(c.name);
  }
}

/** The ExternalDNS flags of `cluster attach` (the facade validates them with the renderer's rules). */
function externalDnsOverrides(ctx: CommandContext): ExternalDnsDefaults | undefined {
  const namespace = commandString(ctx, 'namespace');
  const policy = commandString(ctx, 'policy');
  const interval = commandString(ctx, 'interval');
  const image = commandString(ctx, 'image');
  const timeout = commandString(ctx, 'rolloutTimeout');
  const annotationPrefix = commandString(ctx, 'annotationPrefix');
  const txtPrefix = commandString(ctx, 'txtPrefix');
  const zonesCacheDuration = commandString(ctx, 'zonesCacheDuration');
  const extraArgs = commandList(ctx, 'externalDnsArg');
  if (policy !== undefined && !(policyChoices as readonly string[]).includes(policy))
    throw invalidInput(`--policy must be one of ${policyChoices.join(', ')}, got ${JSON.stringify(policy)}.`);
  if (namespace !== undefined) validateDnsLabel(namespace, 'Namespace');
  const overrides: ExternalDnsDefaults = {
    ...(namespace === undefined ? {} : { namespace }),
    ...(policy === undefined ? {} : { policy: policy as ExternalDnsPolicy }),
    ...(interval === undefined ? {} : { interval }),
    ...(image === undefined ? {} : { image }),
    ...(annotationPrefix === undefined ? {} : { annotationPrefix }),
    ...(txtPrefix === undefined ? {} : { txtPrefix }),
    ...(zonesCacheDuration === undefined ? {} : { zonesCacheDuration }),
    ...(extraArgs === undefined ? {} : { extraArgs }),
    ...(timeout === undefined
      ? {}
      : { rolloutTimeoutMs: parsePositiveInteger(timeout, '--rollout-timeout', 86_400) * 1000 }),
  };
  return Object.keys(overrides).length === 0 ? undefined : overrides;
}

/**
 * The ExternalDNS settings in a `--fleet-budget` file: `planFleetBudget`'s JSON (a plan that fits, or the
 * `perAccount` plan of one that needs accounts) or its `settings` alone. Their validity is the facade's
 * to check (`attachCluster`, before any call). Pure.
 * @internal
 */
export function fleetBudgetFromJson(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidInput(
      `--fleet-budget ${file} is not JSON (write it with JSON.stringify(planFleetBudget(…))).`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidInput(`--fleet-budget ${file} must hold a plan of planFleetBudget or its settings.`);
  const plan = value as {
    outcome?: unknown;
    settings?: unknown;
    perAccount?: { settings?: unknown };
    message?: unknown;
  };
  if (plan.outcome === 'fits') return plan.settings;
  if (plan.outcome === 'needs-accounts') return plan.perAccount?.settings;
  if (plan.outcome === 'impossible')
    throw invalidInput(
      `--fleet-budget ${file} is a plan no number of accounts holds: ${typeof plan.message === 'string' ? plan.message : 'plan again'}`,
    );
  return value;
}

async function fleetBudgetFlag(ctx: CommandContext): Promise<unknown> {
  const file = commandString(ctx, 'fleetBudget');
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalidInput(
      `--fleet-budget ${file} cannot be read (${typeof code === 'string' ? code : 'error'}).`,
    );
  }
  return fleetBudgetFromJson(text, file);
}

function identityScopeFlag(ctx: CommandContext): IdentityScope | undefined {
  const scope = commandString(ctx, 'scope');
  if (scope !== undefined && scope !== 'organization' && scope !== 'cluster')
    throw invalidInput(`--scope must be "organization" or "cluster", got ${JSON.stringify(scope)}.`);
  return scope as IdentityScope | undefined;
}

/** `--credentials` and what a keyless mode needs (the facade validates them). */
function credentialsFlags(ctx: CommandContext): Pick<AttachClusterInput, 'credentials' | 'workloadIdentity'> {
  const mode = commandString(ctx, 'credentials');
  const issuerUrl = commandString(ctx, 'oidcIssuer');
  const eksClusterArn = commandString(ctx, 'eksClusterArn');
  const audience = commandString(ctx, 'tokenAudience');
  const workloadIdentity = {
    ...(issuerUrl === undefined ? {} : { issuerUrl }),
    ...(eksClusterArn === undefined ? {} : { eksClusterArn }),
    ...(audience === undefined ? {} : { audience }),
  };
  if (mode === undefined && Object.keys(workloadIdentity).length > 0)
    throw invalidInput(
      '--oidc-issuer, --eks-cluster-arn and --token-audience need --credentials irsa, pod-identity or web-identity.',
    );
  return {
    ...(mode === undefined ? {} : { credentials: mode as NonNullable<AttachClusterInput['credentials']> }),
    ...(Object.keys(workloadIdentity).length === 0 ? {} : { workloadIdentity }),
  };
}

/**
 * `--certificates` and the cert-manager mode's flags (the facade validates them). Pure.
 * @internal
 */
export function certificateModeFlags(
  ctx: CommandContext,
): Pick<AttachClusterInput, 'certificateMode' | 'certManager'> {
  const mode = commandString(ctx, 'certificates');
  const namespaces = commandList(ctx, 'certManagerNamespace');
  const server = commandString(ctx, 'acmeServer');
  const email = commandString(ctx, 'acmeEmail');
  // commander's `--no-approver-policy`: `approverPolicy` is true unless it is given.
  const noApproverPolicy = (ctx.globals as Record<string, unknown>).approverPolicy === false;
  const ca = commandFlag(ctx, 'certManagerCa');
  const trustBundle = commandFlag(ctx, 'trustBundle');
  const noAcme = (ctx.globals as Record<string, unknown>).acme === false;
  if (mode !== undefined && mode !== 'zonekeeper' && mode !== 'cert-manager')
    throw invalidInput(`--certificates must be "zonekeeper" or "cert-manager", got ${JSON.stringify(mode)}.`);
  const given =
    namespaces !== undefined ||
    server !== undefined ||
    email !== undefined ||
    noApproverPolicy ||
    ca ||
    trustBundle ||
    noAcme;
  if (given && mode !== 'cert-manager')
    throw invalidInput(
      '--cert-manager-namespace, --acme-server, --acme-email, --no-acme, --cert-manager-ca, --trust-bundle and --no-approver-policy need --certificates cert-manager.',
    );
  if (given && namespaces === undefined)
    throw invalidInput('cert-manager settings need the tenant namespaces: --cert-manager-namespace <ns>.');
  if (mode === 'cert-manager' && namespaces === undefined) return { certificateMode: mode };
  return {
    ...(mode === undefined ? {} : { certificateMode: mode }),
    ...(namespaces === undefined
      ? {}
      : {
          certManager: {
            namespaces,
            ...(noAcme
              ? { acme: false as const }
              : server === undefined && email === undefined
                ? {}
                : {
                    acme: {
                      ...(server === undefined ? {} : { server }),
                      ...(email === undefined ? {} : { email }),
                    },
                  }),
            ...(ca ? { ca: true } : {}),
            ...(trustBundle ? { trustBundle: true } : {}),
            ...(noApproverPolicy ? { approverPolicy: false } : {}),
          },
        }),
  };
}

/** Registers `cluster attach`, `cluster detach` and `cluster list`. */
export const registerClusterCommands: CommandGroup = (program, execute) => {
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
      '--credentials <mode>',
      'how ExternalDNS authenticates: access-key, irsa, pod-identity or web-identity (recorded; default: the recorded mode, else access-key; see docs/credentials.md)',
    )
    .option(
      '--oidc-issuer <url>',
      "irsa, web-identity: the cluster's service-account issuer (EKS: identity.oidc.issuer)",
    )
    .option('--eks-cluster-arn <arn>', "pod-identity: the EKS cluster's ARN")
    .option('--token-audience <aud>', 'web-identity: the token audience (default sts.amazonaws.com)')
    .option(
      '--scope <scope>',
      'the identity ExternalDNS runs with: "organization" or "cluster" (recorded; default: the recorded one, else --identity-scope)',
    )
    .option(
      '--cert <name:namespace:hosts>',
      'issue and inject a TLS Secret, e.g. web:default:www.acme.example.com,api.acme.example.com (repeatable)',
      (value: string, previous: readonly string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--policy <policy>', `ExternalDNS --policy: ${policyChoices.join(', ')} (default upsert-only)`)
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
      (value: string, previous: readonly string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--rollout-timeout <seconds>', 'how long to wait for the rollout (default 300)')
    .option(
      '--fleet-budget <file>',
      "planFleetBudget's JSON (or its settings): render the planned --interval, zone cache, --events, --min-event-sync-interval and batch size",
    )
    .option(
      '--certificates <mode>',
      "who issues the cluster's certificates: zonekeeper, or cert-manager (per-namespace ACME issuers with a TXT-only identity; recorded; see docs/certificates.md)",
    )
    .option(
      '--cert-manager-namespace <ns>',
      'cert-manager mode: a tenant namespace that gets the issuers (repeatable; recorded)',
      (value: string, previous: readonly string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--acme-server <url>',
      "cert-manager mode: the ACME Issuer's directory URL (e.g. https://acme-v02.api.letsencrypt.org/directory)",
    )
    .option('--acme-email <address>', "cert-manager mode: the ACME account's contact e-mail")
    .option('--no-acme', 'cert-manager mode: no ACME issuer (with --cert-manager-ca)')
    .option(
      '--cert-manager-ca',
      "cert-manager mode: also a CA issuer, an intermediate of the organisation's CA (needs a CA with pathlen >= 1)",
    )
    .option(
      '--trust-bundle',
      "cert-manager mode: a trust-manager Bundle of the organisation's CA for the namespaces",
    )
    .option(
      '--no-approver-policy',
      'cert-manager mode: approver-policy is not installed; render no CertificateRequestPolicy',
    )
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      execute('cluster attach', async (ctx, org: string, clusterArg: string) => {
        const organization = validateOrganizationName(org);
        const clusterId = validateClusterId(clusterArg);
        const zoneName = organizationZoneName(organization, ctx.settings.baseDomain);
        const certs = (commandList(ctx, 'cert') ?? []).map((s) => parseCertSpec(s, zoneName));
        checkDistinctCertificates(certs);
        const externalDns = externalDnsOverrides(ctx);
        const identityScope = identityScopeFlag(ctx);
        const fleetBudget = await fleetBudgetFlag(ctx);
        const keyless = credentialsFlags(ctx);
        const certificateMode = certificateModeFlags(ctx);
        if (isFleet(ctx) && keyless.credentials !== undefined && keyless.credentials !== 'access-key')
          throw invalidInput(
            `cluster attach --fleet attaches with access keys only: --credentials ${keyless.credentials} needs the account's IAM roles, which a fleet does not configure yet. Run it without --fleet against the organisation's account.`,
          );
        // Over several accounts: placed (a new organisation) and attached in the organisation's account.
        const fleet = isFleet(ctx) ? await buildFleetFacade(ctx) : undefined;
        const zk = fleet ?? (await buildFacade(ctx));
        const ports = fleet
          ? (fleet.accounts[0] as (typeof fleet.accounts)[number]).zonekeeper.ports
          : (zk as Zonekeeper).ports;
        const dryRun = commandFlag(ctx, 'dryRun');
        // Loading the kubeconfig sends nothing: a missing context fails here, before any AWS call.
        await ports.cluster(clusterId);
        ctx.out.progress(
          `zonekeeper cluster attach: ${organization}/${clusterId}${dryRun ? ' (dry run)' : ''}: organisation, ExternalDNS${certs.length > 0 ? `, ${certs.length} certificate(s)` : ''}…`,
        );
        const result = await zk.attachCluster(
          organization,
          {
            clusterId,
            certificates: certs.map((c) => ({ name: c.name, namespace: c.namespace, dnsNames: c.dnsNames })),
            ...(externalDns ? { externalDns } : {}),
            ...(identityScope ? { identityScope } : {}),
            // Checked by the facade, before any call, like every other setting.
            ...(fleetBudget === undefined ? {} : { fleetBudget: fleetBudget as FleetExternalDnsSettings }),
            ...keyless,
            ...certificateMode,
          },
          { dryRun, ...signalOf(ctx) },
        );
        const view = withAccount(
          result,
          attachView(
            result,
            certs.map((c) => c.name),
          ),
        );
        return { view, text: withAccountLine(result, renderAttach(view)) };
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
        const fleet = isFleet(ctx) ? await buildFleetFacade(ctx) : undefined;
        const zk = fleet ?? (await buildFacade(ctx));
        const ports = fleet
          ? (fleet.accounts[0] as (typeof fleet.accounts)[number]).zonekeeper.ports
          : (zk as Zonekeeper).ports;
        const dryRun = commandFlag(ctx, 'dryRun');
        if (!skipCluster) await ports.cluster(clusterId);
        ctx.out.progress(
          `zonekeeper cluster detach: ${organization}/${clusterId}${dryRun ? ' (dry run)' : ''}${skipCluster ? ' (skipping the cluster)' : ''}…`,
        );
        const result = await zk.detachCluster(organization, clusterId, {
          dryRun,
          skipCluster,
          ...signalOf(ctx),
        });
        const view = withAccount(result, detachView(result));
        return { view, text: withAccountLine(result, renderDetach(view)) };
      }),
    );
  cluster
    .command('list')
    .description(
      "the platform's clusters: attachments and bindings in Vault, with the inventory's view (with --inventory)",
    )
    .option('--org <org>', 'only the clusters of this organisation')
    .action(
      execute('cluster list', async (ctx) => {
        const only = commandString(ctx, 'org');
        const organization = only === undefined ? undefined : validateOrganizationName(only);
        if (isFleet(ctx))
          return fleetClusterList(ctx, organization, await optionalInventory(ctx), nowOf(ctx));
        const zk = await buildFacade(ctx, await optionalInventory(ctx));
        ctx.out.progress(`zonekeeper cluster list${organization ? `: ${organization}` : ''}…`);
        const view = clusterListView(
          await zk.listClusters({ ...(organization ? { organization } : {}), ...signalOf(ctx) }),
        );
        return { view, text: renderClusterList(view, nowOf(ctx)) };
      }),
    );
};
