/**
 * Checks the Kubernetes requests a process made against RBAC rules, the way the API server's RBAC
 * authorizer would for resource requests (non-resource URLs such as `/api`, `/apis`, `/version` are
 * open to every authenticated user through `system:discovery`). The Kubernetes fake serves one
 * all-powerful token, so this is how the scenarios prove the rendered ClusterRole is enough.
 */

import type { KubernetesRequestRecord } from '@zonekeeper/kube-apiserver-fake';

/** An RBAC rule (the shape of a ClusterRole's `rules[]`). */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** The API group, resource (with subresource) and verb of a resource request; undefined for others. */
export function resourceAttributes(
  request: Pick<KubernetesRequestRecord, 'path' | 'verb'>,
): { group: string; resource: string; verb: string } | undefined {
  const parts = request.path.split('/').filter((p) => p !== '');
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const resource = rest[0];
  if (resource === undefined || request.verb === undefined) return undefined;
  const sub = rest[2];
  return { group, resource: sub === undefined ? resource : `${resource}/${sub}`, verb: request.verb };
}

/** Whether `rules` allow the request (non-resource requests are allowed). */
export function rbacAllows(
  rules: readonly Rule[],
  request: Pick<KubernetesRequestRecord, 'path' | 'verb'>,
): boolean {
  const a = resourceAttributes(request);
  if (a === undefined) return true;
  return rules.some(
    (r) =>
      (r.apiGroups.includes(a.group) || r.apiGroups.includes('*')) &&
      (r.resources.includes(a.resource) || r.resources.includes('*')) &&
      (r.verbs.includes(a.verb) || r.verbs.includes('*')),
  );
}
