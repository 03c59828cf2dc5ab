/**
 * The zonekeeper facade: the platform operations, each one module of gather → pure plan → apply,
 * wired to one validated context.
 *
 * ```
 *  ensureOrganization  organization/   zone + delegation ─► identity + policy ─► key in the store ─► CA
 *  attachCluster       clusters/       the organisation ─► bind the cluster ─► record it ─► cluster identity
 *                                      ─► ExternalDNS (rolled out) ─► TLS Secrets
 *  detachCluster       clusters/       ExternalDNS, TLS Secrets ─► cluster identity ─► records ─► binding
 *  rotateCredentials   credentials/    new key ─► store (old one recorded) ─► its clusters ─► old key gone
 *  issueCertificate    certificates/   CA ─► certificate in the store (existing organisations only)
 *  collectGarbage      gc/             managed zones + inventory ─► gc-policy ─► per organisation, holding
 *                                      its lock: re-check ─► delegation → records → zone ─► identities
 *                                      ─► secrets; delegations of kept zones restored; orphans swept
 *  runGarbageCollector gc/             the collection as a loop, optionally Lease-held
 *  auditFleet          audit/          everything, read only ─► planAudit ─► findings (no lock, no write)
 * ```
 *
 * Every write of one organisation holds its lock (`locks.ts`): operations on one organisation never
 * interleave, within a process or across processes sharing the secret store. Dry runs are decided in one
 * place, core's `ensure`: they gather the same state and return the plan a real run would execute.
 *
 * @packageDocumentation
 */

import { auditFleet } from './audit/audit.js';
import { issueCertificate } from './certificates/issue.js';
import { attachCluster } from './clusters/attach.js';
import { detachCluster } from './clusters/detach.js';
import type { ZonekeeperConfig } from './config.js';
import { resolveContext } from './context.js';
import { rotateCredentials } from './credentials/rotate.js';
import { runGarbageCollector } from './gc/loop.js';
import { collectionPass } from './gc/pass.js';
import { ensureOrganization } from './organization/ensure.js';
import type { Zonekeeper } from './results.js';
import { traced } from './telemetry/telemetry.js';

export type {
  AttachClusterInput,
  AttachResult,
  AuditFleetOptions,
  AuditResult,
  ClusterCertificate,
  ClusterIdentityResult,
  CollectionResult,
  DetachResult,
  GarbageCollectorOptions,
  OrganizationResult,
  RotationResult,
  ZoneCollection,
  Zonekeeper,
} from './results.js';

/**
 * Creates a zonekeeper instance. With only `baseDomain`, everything runs on the embedded in-memory
 * ports (the parent zone is created in the memory DNS provider on first use). The configuration is
 * validated here (`INVALID_INPUT`); nothing is sent anywhere until an operation runs.
 *
 * @example
 * ```ts
 * const zk = createZonekeeper({ baseDomain: 'example.com' });
 * await zk.ensureOrganization('acme');
 * await zk.attachCluster('acme', { clusterId: 'prod-1' });
 * ```
 * @public
 */
export function createZonekeeper(config: ZonekeeperConfig): Zonekeeper {
  const ctx = resolveContext(config);
  return {
    baseDomain: ctx.baseDomain,
    ports: ctx.ports,
    secretLayout: ctx.layout,
    ensureOrganization: (organization, options) =>
      traced(ctx, 'ensureOrganization', { organization, dryRun: options?.dryRun }, () =>
        ensureOrganization(ctx, organization, options),
      ),
    attachCluster: (organization, input, options) =>
      traced(
        ctx,
        'attachCluster',
        { organization, clusterId: input?.clusterId, dryRun: options?.dryRun },
        () => attachCluster(ctx, organization, input, options),
      ),
    detachCluster: (organization, clusterId, options) =>
      traced(ctx, 'detachCluster', { organization, clusterId, dryRun: options?.dryRun }, () =>
        detachCluster(ctx, organization, clusterId, options),
      ),
    rotateCredentials: (organization, options) =>
      traced(ctx, 'rotateCredentials', { organization }, () => rotateCredentials(ctx, organization, options)),
    issueCertificate: (organization, input, options) =>
      traced(ctx, 'issueCertificate', { organization, dryRun: options?.dryRun }, () =>
        issueCertificate(ctx, organization, input, options),
      ),
    collectGarbage: (options) => collectionPass(ctx, options),
    runGarbageCollector: (options) => runGarbageCollector(ctx, options),
    auditFleet: (options) =>
      traced(ctx, 'auditFleet', options?.organization ? { organization: options.organization } : {}, () =>
        auditFleet(ctx, options),
      ),
  };
}
