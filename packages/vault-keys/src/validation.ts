/**
 * Input checks shared by every secret store, so bad input fails before any remote call and no error
 * message ever contains a secret value (only field names).
 *
 * @packageDocumentation
 */

import { invalidInput } from '@zonekeeper/core';

const PATH = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/**
 * Checks a secret path: relative, `/`-separated segments of letters, digits, `.`, `_` and `-`, no empty
 * or `.`/`..` segments. Shared by every store so bad paths fail before any remote call.
 * @public
 */
export function validateSecretPath(path: unknown, what = 'Secret path'): string {
  if (typeof path !== 'string' || path.length === 0)
    throw invalidInput(`${what} must be a non-empty string.`);
  if (!PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..')) {
    throw invalidInput(
      `${what} ${JSON.stringify(path)} is invalid: use "/"-separated segments of letters, digits, ".", "_" and "-", without leading or trailing "/".`,
    );
  }
  return path;
}

/** Checks a list prefix (`''` = the root). @internal */
export function validatePrefix(prefix: string): string {
  return prefix === '' ? '' : validateSecretPath(prefix.replace(/\/$/, ''), 'Secret prefix');
}

/** Checks secret data: an object of string values; errors name the field, never the value. @internal */
export function validateSecretData(data: unknown): Readonly<Record<string, string>> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalidInput('Secret data must be an object of string values.');
  for (const [k, v] of Object.entries(data)) {
    // Name the key, never the value: values are secrets.
    if (typeof v !== 'string') throw invalidInput(`Secret data field ${JSON.stringify(k)} must be a string.`);
  }
  return { ...(data as Record<string, string>) };
}

/** Checks a check-and-set version: an integer ≥ 0. @internal */
export function validateCas(cas: unknown): number {
  if (typeof cas !== 'number' || !Number.isInteger(cas) || cas < 0)
    throw invalidInput('Check-and-set version (cas) must be an integer ≥ 0.');
  return cas;
}

/** Checks the input of `writeMetadata`: secret-free string metadata and `maxVersions` ≥ 0. @internal */
export function validateMetadataInput(metadata: {
  readonly customMetadata?: Readonly<Record<string, string>>;
  readonly maxVersions?: number;
}): { readonly customMetadata?: Readonly<Record<string, string>>; readonly maxVersions?: number } {
  const custom =
    metadata.customMetadata === undefined ? undefined : validateSecretData(metadata.customMetadata);
  if (custom) {
    // Vault's limits on custom metadata (KV v2): at most 64 keys of 1–128 characters, values of 1–512.
    const entries = Object.entries(custom);
    if (entries.length > 64) throw invalidInput('Custom metadata holds at most 64 keys.');
    for (const [k, v] of entries) {
      if (k.length === 0 || k.length > 128)
        throw invalidInput(`Custom metadata key ${JSON.stringify(k.slice(0, 40))} must be 1–128 characters.`);
      if (v.length === 0 || v.length > 512)
        throw invalidInput(`Custom metadata value of ${JSON.stringify(k)} must be 1–512 characters.`);
    }
  }
  if (
    metadata.maxVersions !== undefined &&
    (!Number.isInteger(metadata.maxVersions) || metadata.maxVersions < 0)
  ) {
    throw invalidInput('maxVersions must be an integer ≥ 0 (0 means the default).');
  }
  return {
    ...(custom ? { customMetadata: custom } : {}),
    ...(metadata.maxVersions === undefined ? {} : { maxVersions: metadata.maxVersions }),
  };
}
