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
 *  listOrganizations   organization/   managed zones + identities + stored secrets + bindings (reads)
 *  listClusters        organization/   attachments + bindings (+ the inventory's view) (reads)
 *  describeOrganization organization/  zone, delegation, identity, key age, clusters, certificates, the
 *                                      collector's next decision (reads)
 *  deleteOrganization  organization/   refuse while clusters are attached ─► holding its lock: per zone
 *                                      delegation → records → zone ─► identities ─► secrets ─► lock record
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
import { deleteOrganization } from './organization/delete.js';
import { describeOrganization, listClusters, listOrganizations } from './organization/describe.js';
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
  ClusterSummary,
  CollectionResult,
  DelegationState,
  DescribedCertificate,
  DescribedCluster,
  DetachResult,
  GarbageCollectorOptions,
  OrganizationDeletionResult,
  OrganizationDeletionStep,
  OrganizationDescription,
  OrganizationResult,
  OrganizationSummary,
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
    listOrganizations: (options) =>
      traced(ctx, 'listOrganizations', {}, () => listOrganizations(ctx, options)),
    listClusters: (options) => traced(ctx, 'listClusters', {}, () => listClusters(ctx, options)),
    describeOrganization: (organization, options) =>
      traced(ctx, 'describeOrganization', { organization }, () =>
        describeOrganization(ctx, organization, options),
      ),
    deleteOrganization: (organization, options) =>
      traced(ctx, 'deleteOrganization', { organization, dryRun: options?.dryRun }, () =>
        deleteOrganization(ctx, organization, options),
      ),
    collectGarbage: (options) => collectionPass(ctx, options),
    runGarbageCollector: (options) => runGarbageCollector(ctx, options),
    auditFleet: (options) =>
      traced(ctx, 'auditFleet', options?.organization ? { organization: options.organization } : {}, () =>
        auditFleet(ctx, options),
      ),
  };
}
