/**
 * Enumerated container fields the real API server validates (422 `Unsupported value`), with the
 * supported values of Kubernetes 1.32's validation (pkg/apis/core/validation).
 * @internal
 */

import type { FieldError } from './errors.js';
import { isObject, type Json } from './json.js';

const CONTAINER_ENUMS: readonly [string, readonly string[]][] = [
  ['imagePullPolicy', ['Always', 'IfNotPresent', 'Never']],
  ['terminationMessagePolicy', ['File', 'FallbackToLogsOnError']],
];

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** The enum errors of one container at `field` (e.g. `spec.template.spec.containers[0]`). */
export function containerEnumErrors(container: Json | undefined, field: string): FieldError[] {
  if (!isObject(container)) return [];
  const errs: FieldError[] = [];
  for (const [key, supported] of CONTAINER_ENUMS) {
    const value = container[key];
    if (typeof value === 'string' && !supported.includes(value))
      errs.push({ type: 'FieldValueNotSupported', field: `${field}.${key}`, value, supported });
  }
  const ports = Array.isArray(container.ports) ? container.ports : [];
  ports.forEach((p, i) => {
    const protocol = isObject(p) ? p.protocol : undefined;
    if (typeof protocol === 'string' && !PROTOCOLS.includes(protocol))
      errs.push({
        type: 'FieldValueNotSupported',
        field: `${field}.ports[${i}].protocol`,
        value: protocol,
        supported: PROTOCOLS,
      });
  });
  return errs;
}
