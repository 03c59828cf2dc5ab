/**
 * The ExternalDNS rules of upstream.ts. That they are ExternalDNS's rules, not only ours, is checked
 * against the real binary by the end-to-end scenarios (e2e/, which compute their expectations with
 * these functions).
 */

import type { KubernetesObject } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { renderExternalDns } from './objects.js';
import type { ExternalDnsOptions } from './options.js';
import {
  DEFAULT_EXTERNAL_DNS_IMAGE,
  DEFAULT_TXT_PREFIX,
  deployedTxtPrefix,
  EXTERNAL_DNS_IMAGE_REPOSITORY,
  EXTERNAL_DNS_VERSION,
  isScopeSafeTxtPrefix,
  ownershipRecordName,
} from './upstream.js';

describe('ownershipRecordName (the TXT registry of ExternalDNS v0.22)', () => {
  it.each([
    // name, type, prefix → TXT name
    ['web.acme.example.com', 'A', undefined, 'a-web.acme.example.com'],
    ['web.acme.example.com', 'AAAA', '', 'aaaa-web.acme.example.com'],
    ['web.acme.example.com', 'CNAME', 'extdns.', 'extdns.cname-web.acme.example.com'],
    ['web.acme.example.com', 'A', '%{record_type}-', 'a-web.acme.example.com'],
    ['web.acme.example.com', 'A', DEFAULT_TXT_PREFIX, '_extdns-a.web.acme.example.com'],
    ['acme.example.com', 'A', DEFAULT_TXT_PREFIX, '_extdns-a.acme.example.com'],
    ['acme.example.com', 'A', undefined, 'a-acme.example.com'],
    ['acme.example.com', 'A', 'extdns.', 'extdns.a-acme.example.com'],
    ['*.apps.acme.example.com', 'AAAA', DEFAULT_TXT_PREFIX, '_extdns-aaaa.*.apps.acme.example.com'],
    ['Web.Acme.Example.com.', 'A', DEFAULT_TXT_PREFIX, '_extdns-a.web.acme.example.com'],
  ])('%s %s with prefix %j → %s', (name, type, prefix, txt) => {
    expect(ownershipRecordName(name, type, prefix)).toBe(txt);
  });
});

describe('isScopeSafeTxtPrefix', () => {
  it('holds only for a prefix with %{record_type} that ends with a dot', () => {
    expect(isScopeSafeTxtPrefix(DEFAULT_TXT_PREFIX)).toBe(true);
    expect(isScopeSafeTxtPrefix('%{record_type}.')).toBe(true);
    expect(isScopeSafeTxtPrefix('extdns-%{record_type}.')).toBe(true);
    for (const unsafe of [undefined, '', 'extdns.', '%{record_type}-', 'x'])
      expect(isScopeSafeTxtPrefix(unsafe)).toBe(false);
  });

  it('means: every TXT name is the record name or below it (apex included)', () => {
    for (const prefix of [DEFAULT_TXT_PREFIX, '%{record_type}.', 'zk-%{record_type}.']) {
      for (const name of ['acme.example.com', 'c1.acme.example.com', 'a.b.c1.acme.example.com']) {
        for (const type of ['A', 'AAAA', 'CNAME']) {
          expect(ownershipRecordName(name, type, prefix).endsWith(`.${name}`)).toBe(true);
        }
      }
    }
  });
});

describe('the pinned image', () => {
  it('is the repository at the pinned version', () => {
    expect(DEFAULT_EXTERNAL_DNS_IMAGE).toBe(`${EXTERNAL_DNS_IMAGE_REPOSITORY}:${EXTERNAL_DNS_VERSION}`);
    expect(EXTERNAL_DNS_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
  });
});

describe('deployedTxtPrefix', () => {
  const options: ExternalDnsOptions = {
    clusterId: 'c1',
    organization: 'acme',
    zoneName: 'acme.example.com',
    zoneId: 'Z0123456789ABCDEFGHIJ',
    credentials: { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'secret' },
  };
  const deploymentOf = (o: ExternalDnsOptions): KubernetesObject =>
    renderExternalDns(o).find((x) => x.kind === 'Deployment') as KubernetesObject;
  const withArgs = (args: readonly string[]): KubernetesObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'external-dns', namespace: 'external-dns' },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'sidecar', args: ['--x'] },
            { name: 'e', args },
          ],
        },
      },
    },
  });

  it('reads back what the renderer wrote, for the default, a custom and no prefix', () => {
    expect(deployedTxtPrefix(deploymentOf(options))).toBe(DEFAULT_TXT_PREFIX);
    expect(deployedTxtPrefix(deploymentOf({ ...options, txtPrefix: 'own-%{record_type}.' }))).toBe(
      'own-%{record_type}.',
    );
    expect(deployedTxtPrefix(deploymentOf({ ...options, txtPrefix: '' }))).toBe('');
  });

  it('reads the two-argument form, and finds the ExternalDNS container among others', () => {
    expect(deployedTxtPrefix(withArgs(['--txt-owner-id=c1', '--txt-prefix', 'p.']))).toBe('p.');
    expect(deployedTxtPrefix(withArgs(['--txt-owner-id', 'c1']))).toBe('');
  });

  it('is undefined for a Deployment without an ExternalDNS TXT registry', () => {
    expect(deployedTxtPrefix(withArgs(['--provider=aws']))).toBeUndefined();
    expect(
      deployedTxtPrefix({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }),
    ).toBeUndefined();
  });
});
