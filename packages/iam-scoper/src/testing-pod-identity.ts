/**
 * The contract of the {@link PodIdentityAssociationProvider} port, as a Vitest suite. zonekeeper runs
 * it against the memory provider; moto has no Pod Identity API, so the EKS adapter runs it only against
 * a real AWS account (give it a cluster that exists) and is otherwise tested with a stubbed client.
 *
 * @packageDocumentation
 */

import { isZonekeeperError } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodIdentityAssociationProvider } from './pod-identity-ports.js';

/** Options of {@link podIdentityAssociationContract}. @public */
export interface PodIdentityAssociationContractOptions {
  readonly name: string;
  /** The provider and the name of an existing cluster it may create associations in (namespaces `zkc-<random>-…`). */
  create(): Promise<{
    readonly provider: PodIdentityAssociationProvider;
    readonly clusterName: string;
    /** A role ARN the associations may point at. */
    readonly roleArn: string;
    cleanup?(): Promise<void>;
  }>;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isZonekeeperError(error)
      ? error.code
      : `not a ZonekeeperError: ${String((error as { name?: unknown })?.name)}`;
  }
  return 'resolved';
}

/**
 * Registers the Pod Identity association contract suite.
 * @public
 */
export function podIdentityAssociationContract(options: PodIdentityAssociationContractOptions): void {
  describe(`PodIdentityAssociationProvider contract: ${options.name}`, () => {
    let p: PodIdentityAssociationProvider;
    let cluster = '';
    let roleArn = '';
    let cleanup: (() => Promise<void>) | undefined;
    const run = Math.random().toString(36).slice(2, 8);
    let n = 0;
    const ns = () => `zkc-${run}-${++n}`;
    const created: string[] = [];

    beforeAll(async () => {
      const made = await options.create();
      p = made.provider;
      cluster = made.clusterName;
      roleArn = made.roleArn;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      for (const id of created) await p.deleteAssociation(cluster, id).catch(() => undefined);
      await cleanup?.();
    });

    it('creates an association, describes it, lists it (also filtered) and deletes it', async () => {
      const namespace = ns();
      const a = await p.createAssociation({
        clusterName: cluster,
        namespace,
        serviceAccount: 'external-dns',
        roleArn,
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      });
      created.push(a.associationId);
      expect(a).toMatchObject({
        clusterName: cluster,
        namespace,
        serviceAccount: 'external-dns',
        roleArn,
        tags: { 'zonekeeper:managed-by': 'zonekeeper' },
      });
      expect(a.associationId).toMatch(/^a-[0-9a-z]+$/);
      expect(a.associationArn).toMatch(
        new RegExp(`^arn:aws:eks:[a-z0-9-]+:\\d{12}:podidentityassociation/${cluster}/${a.associationId}$`),
      );
      expect(await p.describeAssociation(cluster, a.associationId)).toMatchObject({
        associationId: a.associationId,
        roleArn,
        tags: a.tags,
      });
      const listed = await p.listAssociations(cluster, { namespace });
      expect(listed.map((x) => x.associationId)).toEqual([a.associationId]);
      expect(await p.listAssociations(cluster, { namespace, serviceAccount: 'other' })).toEqual([]);
      expect((await p.listAssociations(cluster)).some((x) => x.associationId === a.associationId)).toBe(true);
      await p.deleteAssociation(cluster, a.associationId);
      expect(await p.describeAssociation(cluster, a.associationId)).toBeUndefined();
      expect(await codeOf(p.deleteAssociation(cluster, a.associationId))).toBe('NOT_FOUND');
    });

    it('allows one association per service account: a second is ALREADY_EXISTS', async () => {
      const namespace = ns();
      const a = await p.createAssociation({
        clusterName: cluster,
        namespace,
        serviceAccount: 'external-dns',
        roleArn,
        tags: {},
      });
      created.push(a.associationId);
      expect(
        await codeOf(
          p.createAssociation({
            clusterName: cluster,
            namespace,
            serviceAccount: 'external-dns',
            roleArn,
            tags: {},
          }),
        ),
      ).toBe('ALREADY_EXISTS');
      const other = await p.createAssociation({
        clusterName: cluster,
        namespace,
        serviceAccount: 'edns',
        roleArn,
        tags: {},
      });
      created.push(other.associationId);
      expect((await p.listAssociations(cluster, { namespace })).length).toBe(2);
    });

    it('a retried create with the same client request token creates nothing new', async () => {
      const namespace = ns();
      const spec = {
        clusterName: cluster,
        namespace,
        serviceAccount: 'external-dns',
        roleArn,
        tags: {},
        clientRequestToken: `zkc-${run}-token`,
      };
      const a = await p.createAssociation(spec);
      created.push(a.associationId);
      const again = await p.createAssociation(spec);
      expect(again.associationId).toBe(a.associationId);
      expect((await p.listAssociations(cluster, { namespace })).length).toBe(1);
    });

    it('a missing cluster is NOT_FOUND', async () => {
      const ghost = `zkc-${run}-no-such-cluster`;
      expect(await codeOf(p.listAssociations(ghost))).toBe('NOT_FOUND');
      expect(
        await codeOf(
          p.createAssociation({
            clusterName: ghost,
            namespace: ns(),
            serviceAccount: 'external-dns',
            roleArn,
            tags: {},
          }),
        ),
      ).toBe('NOT_FOUND');
    });

    it('rejects invalid input with INVALID_INPUT', async () => {
      const namespace = ns();
      const attempts: Promise<unknown>[] = [
        p.createAssociation({
          clusterName: `arn:aws:eks:eu-west-1:123456789012:cluster/${cluster}`,
          namespace,
          serviceAccount: 'external-dns',
          roleArn,
          tags: {},
        }),
        p.createAssociation({
          clusterName: cluster,
          namespace: 'Bad',
          serviceAccount: 'external-dns',
          roleArn,
          tags: {},
        }),
        p.createAssociation({ clusterName: cluster, namespace, serviceAccount: 'a:b', roleArn, tags: {} }),
        p.createAssociation({
          clusterName: cluster,
          namespace,
          serviceAccount: 'external-dns',
          roleArn: 'zk-role',
          tags: {},
        }),
        p.createAssociation({
          clusterName: cluster,
          namespace,
          serviceAccount: 'external-dns',
          roleArn,
          tags: { 'aws:x': 'y' },
        }),
        p.describeAssociation(cluster, 'not-an-id'),
        p.deleteAssociation(cluster, ''),
      ];
      for (const attempt of attempts) expect(await codeOf(attempt)).toBe('INVALID_INPUT');
      expect(await p.listAssociations(cluster, { namespace })).toEqual([]);
    });

    it('re-throws the abort reason without calling on', async () => {
      const c = new AbortController();
      c.abort();
      const namespace = ns();
      await expect(
        p.createAssociation(
          { clusterName: cluster, namespace, serviceAccount: 'external-dns', roleArn, tags: {} },
          { signal: c.signal },
        ),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(await p.listAssociations(cluster, { namespace })).toEqual([]);
    });
  });
}
