/**
 * How the real registry treats a PUT, per resource: whether a PUT of a missing object creates it
 * (`AllowCreateOnUpdate`) and whether a PUT without `metadata.resourceVersion` overwrites the stored
 * object (`AllowUnconditionalUpdate`). The lists are those of the Kubernetes 1.32 registry strategies
 * (pkg/registry/…/strategy.go) for resources the fake serves or may serve; every other resource
 * answers 404 to a PUT of a missing object and accepts an unconditional update.
 * @internal
 */

import type { ResourceDefinition } from './resources.js';

/** `group/plural` of resources whose PUT creates a missing object (201). */
const CREATE_ON_UPDATE: ReadonlySet<string> = new Set([
  'coordination.k8s.io/leases',
  'rbac.authorization.k8s.io/roles',
  'rbac.authorization.k8s.io/rolebindings',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  '/services',
  '/endpoints',
  '/events',
  '/limitranges',
]);

/** `group/plural` of resources whose PUT must carry a resourceVersion (422 without one). */
const CONDITIONAL_UPDATE_ONLY: ReadonlySet<string> = new Set([
  'coordination.k8s.io/leases',
  'policy/poddisruptionbudgets',
]);

const key = (def: Pick<ResourceDefinition, 'group' | 'plural'>) => `${def.group}/${def.plural}`;

/** Whether a PUT of a missing object of this resource creates it. */
export function allowsCreateOnUpdate(def: Pick<ResourceDefinition, 'group' | 'plural'>): boolean {
  return CREATE_ON_UPDATE.has(key(def));
}

/** Whether a PUT without a resourceVersion overwrites the stored object of this resource. */
export function allowsUnconditionalUpdate(def: Pick<ResourceDefinition, 'group' | 'plural'>): boolean {
  return !CONDITIONAL_UPDATE_ONLY.has(key(def));
}
