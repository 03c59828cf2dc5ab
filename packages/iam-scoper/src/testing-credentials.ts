/**
 * The contract of the identity port's key capability, core's `CredentialIssuer`, as a Vitest suite:
 * the part of the identity port every backend implements. zonekeeper runs it against the memory
 * identity provider, IAM on moto (both through `accessKeyIssuer`) and PowerDNS TSIG keys
 * (zone-manager's `createTsigCredentialIssuer`).
 *
 * ```ts
 * import { credentialIssuerContract } from '@zonekeeper/iam-scoper/testing';
 * credentialIssuerContract({
 *   name: 'my backend',
 *   create: async () => ({ issuer, newPrincipal: async () => createAPrincipal() }),
 * });
 * ```
 *
 * @packageDocumentation
 */

import { type CredentialIssuer, isZonekeeperError } from '@zonekeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The shapes of a backend's ids and secrets. @public */
export interface CredentialIssuerContractCapabilities {
  /** What a key id looks like (IAM: `AKIA` and 16 characters; TSIG: a DNS name). */
  readonly keyId: RegExp;
  /** What a secret looks like (IAM: 40 characters; TSIG: base64). */
  readonly secret: RegExp;
  /** A well-formed principal that does not exist. */
  readonly missingPrincipal: string;
}

/** Options of {@link credentialIssuerContract}. @public */
export interface CredentialIssuerContractOptions {
  /** Suite name, e.g. `'powerdns (tsig)'`. */
  readonly name: string;
  /**
   * Creates the issuer under test (once per suite) and a way to make a fresh principal (an IAM user, a
   * zone); `cleanup` runs after the suite.
   */
  create(): Promise<{
    readonly issuer: CredentialIssuer;
    newPrincipal(): Promise<string>;
    cleanup?(): Promise<void>;
  }>;
  readonly capabilities: CredentialIssuerContractCapabilities;
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
 * Registers the credential-issuer contract suite.
 * @public
 */
export function credentialIssuerContract(options: CredentialIssuerContractOptions): void {
  const caps = options.capabilities;
  describe(`CredentialIssuer contract: ${options.name}`, () => {
    let issuer: CredentialIssuer;
    let newPrincipal: () => Promise<string>;
    let cleanup: (() => Promise<void>) | undefined;
    const made: { principal: string; keyId: string }[] = [];
    const create = async (principal: string) => {
      const k = await issuer.createKey(principal);
      made.push({ principal, keyId: k.keyId });
      return k;
    };

    beforeAll(async () => {
      const m = await options.create();
      issuer = m.issuer;
      newPrincipal = m.newPrincipal;
      cleanup = m.cleanup;
    });
    afterAll(async () => {
      for (const k of made) await issuer.deleteKey(k.principal, k.keyId).catch(() => undefined);
      await cleanup?.();
    });

    it('has a kind and a key limit', () => {
      expect(issuer.kind.length).toBeGreaterThan(0);
      expect(issuer.keysPerPrincipal).toBeGreaterThanOrEqual(2);
    });

    it('answers NOT_FOUND for a principal that does not exist', async () => {
      expect(await codeOf(issuer.listKeys(caps.missingPrincipal))).toBe('NOT_FOUND');
      expect(await codeOf(issuer.createKey(caps.missingPrincipal))).toBe('NOT_FOUND');
    });

    it('issues keys up to the limit, distinct, listed without secrets; CONFLICT beyond; a freed place is reused', async () => {
      const p = await newPrincipal();
      expect(await issuer.listKeys(p)).toEqual([]);
      const keys = [];
      for (let i = 0; i < issuer.keysPerPrincipal; i++) keys.push(await create(p));
      for (const k of keys) {
        expect(k.principal).toBe(p);
        expect(k.keyId).toMatch(caps.keyId);
        expect(k.secret).toMatch(caps.secret);
      }
      expect(new Set(keys.map((k) => k.keyId)).size).toBe(keys.length);
      expect(new Set(keys.map((k) => k.secret)).size).toBe(keys.length);
      const listed = await issuer.listKeys(p);
      expect(listed).toEqual(keys.map((k) => k.keyId).sort());
      let refusal: unknown;
      try {
        await issuer.createKey(p);
      } catch (error) {
        refusal = error;
      }
      expect(isZonekeeperError(refusal) && refusal.code).toBe('CONFLICT');
      const text = JSON.stringify([listed, String((refusal as Error).message)]);
      for (const k of keys) expect(text).not.toContain(k.secret);
      expect((await issuer.listKeys(p)).length).toBe(keys.length);
      const [first] = keys;
      if (!first) throw new Error('no key');
      await issuer.deleteKey(p, first.keyId);
      const again = await create(p);
      expect(again.secret).not.toBe(first.secret);
      expect((await issuer.listKeys(p)).length).toBe(keys.length);
    });

    it("deletes only the principal's own keys: another principal's, a missing or a deleted key is NOT_FOUND", async () => {
      const a = await newPrincipal();
      const b = await newPrincipal();
      const key = await create(a);
      const other = await create(b);
      expect(await codeOf(issuer.deleteKey(b, key.keyId))).toBe('NOT_FOUND');
      expect(await issuer.listKeys(a)).toEqual([key.keyId]);
      await issuer.deleteKey(a, key.keyId);
      expect(await codeOf(issuer.deleteKey(a, key.keyId))).toBe('NOT_FOUND');
      expect(await issuer.listKeys(a)).toEqual([]);
      expect(await issuer.listKeys(b)).toEqual([other.keyId]);
    });

    it('re-throws the abort reason without creating a key', async () => {
      const p = await newPrincipal();
      const c = new AbortController();
      c.abort();
      await expect(issuer.createKey(p, { signal: c.signal })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(issuer.listKeys(p, { signal: c.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(await issuer.listKeys(p)).toEqual([]);
    });
  });
}
