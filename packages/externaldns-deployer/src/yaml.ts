/**
 * Kubernetes objects as a multi-document YAML manifest, for GitOps users. Pure: a string out, no I/O.
 *
 * Committing credentials to Git is a classic leak, so every Secret's `data` and `stringData` values (and
 * a `kubectl.kubernetes.io/last-applied-configuration` annotation, which copies them) are replaced with
 * {@link REDACTED_SECRET_VALUE} unless `{ includeSecrets: true }` is passed, and the document gets a
 * comment saying how to create the Secret instead. The placeholder is deliberately not base64, so an API
 * server rejects a redacted Secret that is applied by mistake instead of overwriting the real one.
 *
 * Keys come out in a fixed order whatever order the objects were built in: `apiVersion`, `kind`,
 * `metadata`, `name`, `namespace` first (where present), everything else alphabetical.
 *
 * @packageDocumentation
 */

import { createRequire } from 'node:module';
import { invalidInput, type KubernetesObject } from '@zonekeeper/core';
import type { Pair } from 'yaml';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
/**
 * `yaml` (CommonJS on Node), required on the first {@link toYaml}: about 190 modules, some 20 ms of
 * the package's (and the facade's) import time when it was imported with it (docs/performance.md §6).
 */
function loadYaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/** Options of {@link toYaml}. @public */
export interface ToYamlOptions {
  /**
   * Write Secret values as they are. Default `false`: they are replaced with
   * {@link REDACTED_SECRET_VALUE}. Only for output that is encrypted (SOPS, Sealed Secrets) or never
   * stored.
   */
  readonly includeSecrets?: boolean;
}

/** What replaces every Secret value in {@link toYaml}'s default output. @public */
export const REDACTED_SECRET_VALUE = '<redacted by zonekeeper: create this Secret from Vault>';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Keys written first, in this order, in every map; the rest follow alphabetically. */
const FIRST_KEYS = ['apiVersion', 'kind', 'metadata', 'name', 'namespace'];

function compareKeys(a: string, b: string): number {
  const rank = (k: string): number => {
    const i = FIRST_KEYS.indexOf(k);
    return i === -1 ? FIRST_KEYS.length : i;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy with keys in the canonical order (and no shared references, so YAML needs no aliases). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(compareKeys)) {
    const child = value[key];
    if (child !== undefined) out[key] = canonical(child);
  }
  return out;
}

function redactValues(values: unknown): unknown {
  if (!isRecord(values)) return values;
  return Object.fromEntries(Object.keys(values).map((key) => [key, REDACTED_SECRET_VALUE]));
}

function isSecret(object: KubernetesObject): boolean {
  return object.kind === 'Secret' && object.apiVersion === 'v1';
}

function redactSecret(object: KubernetesObject): KubernetesObject {
  const { data, stringData, metadata, ...rest } = object;
  const annotations = metadata.annotations;
  const safeMetadata =
    annotations !== undefined && LAST_APPLIED in annotations
      ? { ...metadata, annotations: { ...annotations, [LAST_APPLIED]: REDACTED_SECRET_VALUE } }
      : metadata;
  return {
    ...rest,
    metadata: safeMetadata,
    ...(data === undefined ? {} : { data: redactValues(data) }),
    ...(stringData === undefined ? {} : { stringData: redactValues(stringData) }),
  };
}

function describeObject(object: KubernetesObject): string {
  const ns = object.metadata.namespace;
  return ns === undefined ? object.metadata.name : `${ns}/${object.metadata.name}`;
}

function redactionComment(object: KubernetesObject): string {
  const ns = object.metadata.namespace ?? '<namespace>';
  const keys = [
    ...(isRecord(object.data) ? Object.keys(object.data) : []),
    ...(isRecord(object.stringData) ? Object.keys(object.stringData) : []),
  ];
  const fromFiles = keys.map((k) => `--from-file=${k}=<file>`).join(' ') || '--from-file=<key>=<file>';
  return [
    ` Secret ${describeObject(object)}: values redacted by zonekeeper; never commit credentials to Git.`,
    ' Do not apply this document as is (the placeholder is not valid base64, so the API server rejects it).',
    ' Create the Secret from the credentials stored in Vault instead, e.g.',
    `   kubectl -n ${ns} create secret generic ${object.metadata.name} ${fromFiles}`,
    ' or render with toYaml(objects, { includeSecrets: true }) and encrypt the output (SOPS, Sealed Secrets).',
  ].join('\n');
}

function validateObjects(objects: unknown): readonly KubernetesObject[] {
  if (!Array.isArray(objects)) throw invalidInput('toYaml: expected an array of Kubernetes objects.');
  for (const [i, object] of objects.entries()) {
    const ok =
      isRecord(object) &&
      typeof object.apiVersion === 'string' &&
      typeof object.kind === 'string' &&
      isRecord(object.metadata) &&
      typeof object.metadata.name === 'string';
    if (!ok) {
      throw invalidInput(
        `toYaml: objects[${i}] is not a Kubernetes object (it needs apiVersion, kind and metadata.name).`,
        { index: i },
      );
    }
  }
  return objects as readonly KubernetesObject[];
}

/**
 * Serialises objects as a multi-document YAML manifest (`---` between documents, a newline at the
 * end; `''` for no objects), with a stable key order, no anchors or aliases and no line folding.
 * Secret values are redacted unless `options.includeSecrets` is `true` (see the module notes).
 * Throws `INVALID_INPUT` when an element is not a Kubernetes object.
 * @public
 */
export function toYaml(objects: readonly KubernetesObject[], options: ToYamlOptions = {}): string {
  const valid = validateObjects(objects);
  const includeSecrets = options.includeSecrets ?? false;
  if (typeof includeSecrets !== 'boolean') throw invalidInput('toYaml: includeSecrets must be a boolean.');

  const { Document, isMap, isScalar } = loadYaml();
  return valid
    .map((object) => {
      const secret = isSecret(object);
      const shown = secret && !includeSecrets ? redactSecret(object) : object;
      const doc = new Document(canonical(shown), { aliasDuplicateObjects: false });
      if (secret && !includeSecrets) {
        doc.commentBefore = redactionComment(object);
        if (isMap(doc.contents)) {
          for (const pair of doc.contents.items as Pair<unknown, unknown>[]) {
            const key = isScalar(pair.key) ? pair.key.value : pair.key;
            if ((key === 'data' || key === 'stringData') && isScalar(pair.key)) {
              pair.key.commentBefore = ' Placeholder values: create this Secret from Vault (see above).';
            }
          }
        }
      } else if (secret) {
        doc.commentBefore = ' Contains credentials: encrypt before committing (SOPS, Sealed Secrets).';
      }
      return doc.toString({ lineWidth: 0 });
    })
    .join('---\n');
}
