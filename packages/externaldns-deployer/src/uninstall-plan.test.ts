import { type KubernetesObject, ZONEKEEPER_MANAGER, ZonekeeperLabels } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { planUninstall, type UninstallState } from './apply.js';

const owned = (extra: Record<string, string> = {}) => ({
  [ZonekeeperLabels.managedBy]: ZONEKEEPER_MANAGER,
  ...extra,
});

const namespaceObject = (labels: Record<string, string>): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'external-dns', labels },
});

const objects: KubernetesObject[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'external-dns', namespace: 'external-dns', labels: owned() },
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'external-dns-aws', namespace: 'external-dns', labels: owned() },
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'zonekeeper:external-dns:external-dns', labels: owned() },
    subjects: [{ kind: 'ServiceAccount', name: 'external-dns', namespace: 'external-dns' }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'zonekeeper:other:external-dns', labels: owned() },
    subjects: [{ kind: 'ServiceAccount', name: 'external-dns', namespace: 'other' }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'zonekeeper:external-dns:external-dns', labels: owned() },
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'zonekeeper:other:external-dns', labels: owned() },
  },
];

const state = (over: Partial<UninstallState> = {}): UninstallState => ({
  namespace: 'external-dns',
  name: 'external-dns',
  objects,
  ...over,
});

const names = (s: UninstallState) => planUninstall(s).steps.map((st) => `${st.ref.kind}/${st.ref.name}`);

describe('planUninstall (pure)', () => {
  it('deletes namespaced objects first, then the RBAC bound to this namespace only', () => {
    expect(names(state())).toEqual([
      'Deployment/external-dns',
      'Secret/external-dns-aws',
      'ClusterRoleBinding/zonekeeper:external-dns:external-dns',
      'ClusterRole/zonekeeper:external-dns:external-dns',
    ]);
  });

  it.each([
    ['created by zonekeeper', owned({ [ZonekeeperLabels.createdNamespace]: 'true' }), undefined, true],
    ['not created by zonekeeper', owned(), undefined, false],
    [
      'created, but without the ownership label',
      { [ZonekeeperLabels.createdNamespace]: 'true' },
      undefined,
      false,
    ],
    [
      "created for this organisation's installation",
      owned({ [ZonekeeperLabels.createdNamespace]: 'true', [ZonekeeperLabels.organization]: 'acme' }),
      'acme',
      true,
    ],
    [
      "created for another organisation's installation",
      owned({ [ZonekeeperLabels.createdNamespace]: 'true', [ZonekeeperLabels.organization]: 'globex' }),
      'acme',
      false,
    ],
  ])('the namespace, %s: deleted = %s', (_what, labels, organization, deleted) => {
    const plan = planUninstall(
      state({ namespaceObject: namespaceObject(labels), ...(organization ? { organization } : {}) }),
    );
    expect(plan.steps.some((s) => s.ref.kind === 'Namespace')).toBe(deleted);
    if (deleted)
      expect(plan.steps.at(-1)?.ref).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: 'external-dns' });
  });

  it('nothing left plans nothing, and the plan is JSON data', () => {
    expect(planUninstall(state({ objects: [] }))).toEqual({ steps: [] });
    const plan = planUninstall(state());
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});
