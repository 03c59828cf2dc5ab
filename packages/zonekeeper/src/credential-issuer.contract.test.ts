/**
 * The identity port's key capability (core's `CredentialIssuer`, decision 36) against every backend:
 * the memory identity provider and IAM on moto through iam-scoper's `accessKeyIssuer`, and PowerDNS
 * TSIG keys through zone-manager's `createTsigCredentialIssuer` on a real `pdns_server`. One suite,
 * iam-scoper's `credentialIssuerContract`. (The user and policy capabilities are IAM's alone: their
 * contract, `identityProviderContract`, runs on memory and moto in iam-scoper.)
 */

import { accessKeyIssuer, createMemoryIdentityProvider, type IdentityProvider } from '@zonekeeper/iam-scoper';
import { createIamIdentityProvider } from '@zonekeeper/iam-scoper/iam';
import { credentialIssuerContract } from '@zonekeeper/iam-scoper/testing';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import {
  createPowerDnsAdmin,
  createPowerDnsHttpApi,
  createPowerDnsProvider,
  createTsigCredentialIssuer,
} from '@zonekeeper/zone-manager/powerdns';

const IAM = {
  keyId: /^AKIA[A-Z0-9]{16}$/,
  secret: /^[A-Za-z0-9/+]{40}$/,
  missingPrincipal: 'zkc-no-such-user',
};

function iamPrincipals(identity: IdentityProvider) {
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  const users: string[] = [];
  return {
    async newPrincipal() {
      const userName = `zkc-${run}-${++n}`;
      await identity.createUser({ userName, path: `/zk-contract-${run}/`, tags: {} });
      users.push(userName);
      return userName;
    },
    async cleanup() {
      for (const u of users) {
        for (const k of await identity.listAccessKeys(u)) await identity.deleteAccessKey(u, k.accessKeyId);
        await identity.deleteUser(u);
      }
    },
  };
}

credentialIssuerContract({
  name: 'memory (IAM-shaped)',
  capabilities: IAM,
  async create() {
    const identity = createMemoryIdentityProvider();
    return { issuer: accessKeyIssuer(identity), ...iamPrincipals(identity) };
  },
});

credentialIssuerContract({
  name: 'IAM (moto)',
  capabilities: IAM,
  async create() {
    const moto: MotoServer = await startMoto();
    const identity = createIamIdentityProvider({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const principals = iamPrincipals(identity);
    return {
      issuer: accessKeyIssuer(identity),
      newPrincipal: principals.newPrincipal,
      async cleanup() {
        await principals.cleanup();
        await moto.stop();
      },
    };
  },
});

credentialIssuerContract({
  name: 'PowerDNS TSIG keys (pdns_server)',
  capabilities: {
    keyId: /^zonekeeper-update(-b)?\.[a-z0-9.-]+$/,
    secret: /^[A-Za-z0-9+/]{43}=$/,
    missingPrincipal: 'no-such-zone.contract.test',
  },
  async create() {
    const pdns: PowerDnsServer = await startPowerDns();
    const api = createPowerDnsHttpApi({ apiUrl: pdns.apiUrl, apiKey: pdns.apiKey });
    const dns = createPowerDnsProvider({ api, nameServers: ['ns1.pdns.test'] });
    const admin = createPowerDnsAdmin(api);
    // Keys that are not a zone's own: another tenant's, an operator's. The suite never touches them.
    const foreign = await admin.createTsigKey({ name: 'ops-admin.contract.test' });
    let n = 0;
    return {
      issuer: createTsigCredentialIssuer(admin),
      async newPrincipal() {
        const name = `org${++n}.contract.test`;
        await dns.createZone({ name, callerReference: name });
        return name;
      },
      async cleanup() {
        const still = await admin.getTsigKey(foreign.name);
        await pdns.stop();
        if (still?.secret !== foreign.secret) throw new Error('the suite touched a foreign TSIG key');
      },
    };
  },
});
