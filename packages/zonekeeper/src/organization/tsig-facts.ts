/**
 * The PowerDNS backend's identity facts of one organisation, for `describeOrganization` and
 * `auditFleet`: its TSIG key on the server and in the store, compared by fingerprint (zone-manager's
 * `tsigSecretFingerprint`), and the zone's update metadata. Reads only; the secrets are dropped here,
 * and only the fingerprints leave (the pure audit plan compares them; results carry booleans).
 *
 * @internal
 * @packageDocumentation
 */

import type { CallOptions } from '@zonekeeper/core';
import {
  gatherOrganizationTsig,
  tsigKeyNamesForZone,
  tsigSecretFingerprint,
} from '@zonekeeper/zone-manager/powerdns';
import type { TsigFacts, TsigKeyFingerprint } from '../audit/plan.js';
import type { PowerDnsContext } from '../context.js';

const strip = (k: { name: string; algorithm: string; fingerprint: string }): TsigKeyFingerprint => ({
  name: k.name,
  algorithm: k.algorithm,
  fingerprint: k.fingerprint,
});

/**
 * Reads the organisation's TSIG facts: zone-manager's gather when the zone exists; otherwise the server
 * key and the stored key alone (a key without a zone is a finding too). Reads only.
 * @internal
 */
export async function gatherTsigFacts(
  pdns: PowerDnsContext,
  names: { readonly organization: string; readonly zoneName: string },
  call: CallOptions,
): Promise<TsigFacts> {
  const state = await gatherOrganizationTsig(
    { admin: pdns.admin, store: pdns.store },
    { organization: names.organization, zoneName: names.zoneName },
    call,
  );
  // The key in use: the stored key's name when it is one of the organisation's two (a rotation
  // alternates them), else the first.
  const names2 = tsigKeyNamesForZone(names.zoneName);
  const inUse = (stored: string | undefined) =>
    stored !== undefined && (names2 as readonly string[]).includes(stored) ? stored : names2[0];
  if (state.zoneExists)
    return {
      keyName: inUse(state.storedKey?.name),
      zoneExists: true,
      ...(state.serverKey ? { serverKey: strip(state.serverKey) } : {}),
      ...(state.storedKey
        ? {
            storedKey: {
              ...strip(state.storedKey),
              version: state.storedKey.version,
              ...(state.storedKey.previousName ? { previousName: state.storedKey.previousName } : {}),
            },
          }
        : {}),
      ...(state.otherServerKey ? { otherServerKey: strip(state.otherServerKey) } : {}),
      updateKeys: state.updateKeys,
      updateSources: state.updateSources,
      transferKeys: state.transferKeys ?? [],
    };
  const stored = await pdns.store.read(names.organization, call);
  const keyName = inUse(stored?.name);
  const server = await pdns.admin.getTsigKey(keyName, call);
  const of = (k: { name: string; algorithm: string; secret: string }) => ({
    name: k.name,
    algorithm: k.algorithm,
    fingerprint: tsigSecretFingerprint(k.secret),
  });
  return {
    keyName,
    zoneExists: false,
    ...(server ? { serverKey: of(server) } : {}),
    ...(stored ? { storedKey: { ...of(stored), version: stored.version } } : {}),
    updateKeys: [],
    updateSources: [],
    transferKeys: [],
  };
}

/** Whether the server's key is the stored one: same name, algorithm and secret (by fingerprint). Pure. @internal */
export function serverKeyMatchesStored(facts: TsigFacts): boolean {
  const { serverKey: s, storedKey: k } = facts;
  return (
    s !== undefined &&
    k !== undefined &&
    s.name === k.name &&
    s.algorithm === k.algorithm &&
    s.fingerprint === k.fingerprint
  );
}

/** Whether the zone's `TSIG-ALLOW-DNSUPDATE` is exactly the organisation's key. Pure. @internal */
export function updateKeysExact(facts: TsigFacts): boolean {
  return facts.updateKeys.length === 1 && facts.updateKeys[0] === facts.keyName;
}
