import { certificateDefaults, KEY_ALGORITHMS } from '@zonekeeper/cert-issuer';
import { ErrorCodes, ZonekeeperError } from '@zonekeeper/core';
import { EXTERNAL_DNS_POLICIES } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import { ExitCodes, exitCodeOf, exitCodeOfCode, worstExitCode } from './exit-codes.js';
import { maskText, Output, redact, renderTable } from './output.js';
import { helpChoices } from './program.js';
import {
  defaultCertificateName,
  parseCertSpec,
  parseContextMapping,
  parseInstant,
  resolveSettings,
} from './settings.js';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('exit codes', () => {
  it('map every error code to the documented exit code', () => {
    const expected: Record<string, number> = {
      INVALID_INPUT: 2,
      NOT_OWNED: 3,
      PERMISSION_DENIED: 3,
      CONFLICT: 3,
      NOT_FOUND: 3,
      ALREADY_EXISTS: 3,
      THROTTLED: 4,
      UNAVAILABLE: 4,
      TIMEOUT: 4,
      PENDING: 4,
      INTERNAL: 1,
    };
    expect(Object.keys(expected).sort()).toEqual(Object.values(ErrorCodes).sort());
    for (const code of Object.values(ErrorCodes)) {
      expect(exitCodeOfCode(code)).toBe(expected[code]);
      expect(exitCodeOf(new ZonekeeperError(code, 'x'))).toBe(expected[code]);
    }
  });

  it('aborts are 130, unknown errors 1', () => {
    expect(exitCodeOf(new DOMException('stop', 'AbortError'))).toBe(130);
    expect(exitCodeOf(new ZonekeeperError('UNAVAILABLE', 'x'), true)).toBe(130);
    expect(exitCodeOf(new TypeError('boom'))).toBe(1);
    expect(worstExitCode([0, 3, 4])).toBe(4);
    expect(worstExitCode([])).toBe(ExitCodes.OK);
  });
});

describe('masking', () => {
  it('masks access key ids to their last 4 characters wherever they appear', () => {
    expect(maskText(`created access key ${KEY_ID} to replace ASIAY34FZKBOKMUTVV7A.`)).toBe(
      'created access key ********MPLE to replace ********VV7A.',
    );
  });

  it('redact drops secret fields, masks key ids, turns dates and errors into JSON data', () => {
    const doc = redact({
      accessKeyId: KEY_ID,
      deletedAccessKeyIds: [KEY_ID],
      secretAccessKey: SECRET,
      nested: { privateKeyPem: '-----BEGIN PRIVATE KEY-----', data: { 'tls.key': 'x' }, when: new Date(0) },
      error: new ZonekeeperError('NOT_OWNED', `zone of ${KEY_ID}`, { details: { secret: SECRET } }),
      message: `key ${KEY_ID}`,
    });
    const text = JSON.stringify(doc);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(KEY_ID);
    expect(text).not.toContain('PRIVATE KEY');
    expect(doc).toEqual({
      accessKeyId: '********MPLE',
      deletedAccessKeyIds: ['********MPLE'],
      nested: { when: '1970-01-01T00:00:00.000Z' },
      error: { code: 'NOT_OWNED', message: 'zone of ********MPLE' },
      message: 'key ********MPLE',
    });
  });

  it('tables are plain text (no colour codes) and masked', () => {
    const t = renderTable(['Key'], [[KEY_ID], [undefined]]);
    expect(t).toContain('********MPLE');
    expect(t).not.toContain(KEY_ID);
    expect(t).not.toContain('\u001b[');
  });

  it('in --json mode stdout gets exactly one document and no table', () => {
    let stdout = '';
    let stderr = '';
    const out = new Output({
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      json: true,
      quiet: false,
    });
    out.print('a table');
    out.payload('-----BEGIN CERTIFICATE-----');
    out.progress('working');
    out.document({ ok: true });
    out.document({ ok: false });
    expect(JSON.parse(stdout)).toEqual({ ok: true });
    expect(stderr).toBe('working\n');
  });

  it('a stream (gc run --watch): one JSON line per event, then the document on one line; YAML documents after ---; nothing in table mode', () => {
    const capture = (format: 'json' | 'yaml' | 'table') => {
      let stdout = '';
      const out = new Output({
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: () => {} },
        format,
        quiet: false,
      });
      out.event({ pass: 1, key: KEY_ID });
      out.event({ pass: 2 });
      out.document({ ok: true, nested: { a: [1, 2] } });
      out.event({ pass: 3 }); // after the final document: ignored
      return stdout;
    };
    const lines = capture('json').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual([
      { pass: 1, key: expect.not.stringContaining(KEY_ID.slice(0, 8)) },
      { pass: 2 },
      { ok: true, nested: { a: [1, 2] } },
    ]);
    expect(capture('yaml')).toMatch(/^---\npass: 1\n[\s\S]*---\npass: 2\n---\nok: true\n/);
    expect(capture('yaml')).not.toContain('pass: 3');
    expect(capture('table')).toBe('');
  });
});

describe('settings', () => {
  const base = { ZONEKEEPER_BASE_DOMAIN: 'example.com' };

  it('reads the environment, flags win', () => {
    const s = resolveSettings(
      { region: 'eu-west-1', context: ['prod-1=arn:aws:eks:eu-west-1:1:cluster/prod-1'] },
      {
        ...base,
        AWS_REGION: 'us-west-2',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000/',
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET,
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 'hvs.x',
        KUBECONFIG: '/a/one:/a/two',
      },
      '/cwd',
    );
    expect(s.baseDomain).toBe('example.com');
    expect(s.aws).toMatchObject({
      region: 'eu-west-1',
      route53Endpoint: 'http://127.0.0.1:5000',
      iamEndpoint: 'http://127.0.0.1:5000',
      credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    });
    expect(s.vault).toMatchObject({ endpoint: 'http://127.0.0.1:8200', token: 'hvs.x' });
    expect(s.kube.files).toEqual(['/a/one', '/a/two']);
    expect(s.kube.contexts.get('prod-1')).toBe('arn:aws:eks:eu-west-1:1:cluster/prod-1');
    expect(s.identityScope).toBeUndefined(); // the facade's default applies
  });

  it.each([
    [{}, {}, /base domain is required/],
    [{ baseDomain: 'com' }, {}, /at least two labels/],
    [{ awsEndpoint: 'not a url' }, base, /not a URL/],
    [{ requestsPerSecond: '0' }, base, /positive number/],
    [{ identityScope: 'team' }, base, /--identity-scope/],
    [{ context: ['prod-1'] }, base, /<cluster>=<context>/],
    [{ parentZoneId: 'no such id!' }, base, /hosted zone id/],
    [{ vaultMount: '../x' }, base, /mount path/],
  ])('refuses bad input %j with INVALID_INPUT', (raw, env, message) => {
    try {
      resolveSettings(raw, env, '/');
      expect.unreachable();
    } catch (error) {
      expect((error as ZonekeeperError).code).toBe('INVALID_INPUT');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('parses --now strictly (UTC or an explicit offset)', () => {
    expect(parseInstant('2025-03-01').toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(parseInstant('2025-03-01T12:30:00+02:00').toISOString()).toBe('2025-03-01T10:30:00.000Z');
    for (const bad of ['2025-03-01T12:00', 'tomorrow', '2025-13-01', '1709251200'])
      expect(() => parseInstant(bad)).toThrow(/ISO 8601/);
  });

  it('parses --cert and --context, and derives certificate names', () => {
    expect(
      parseCertSpec('web:default:WWW.acme.example.com,*.api.acme.example.com', 'acme.example.com'),
    ).toEqual({
      name: 'web',
      namespace: 'default',
      dnsNames: ['www.acme.example.com', '*.api.acme.example.com'],
    });
    expect(() => parseCertSpec('web:default:www.other.example.com', 'acme.example.com')).toThrow(
      /not within the organisation's zone/,
    );
    expect(() => parseCertSpec('web:www.acme.example.com', 'acme.example.com')).toThrow(/<name>:<namespace>/);
    expect(parseContextMapping('prod-1=kind-prod')).toEqual(['prod-1', 'kind-prod']);
    expect(defaultCertificateName('www.acme.example.com', 'acme.example.com')).toBe('www');
    expect(defaultCertificateName('*.api.acme.example.com', 'acme.example.com')).toBe('wildcard-api');
    expect(defaultCertificateName('acme.example.com', 'acme.example.com')).toBe('apex');
  });
});

describe('help text', () => {
  it('lists the same choices and defaults as the libraries', () => {
    expect([...helpChoices.policies]).toEqual([...EXTERNAL_DNS_POLICIES]);
    expect([...helpChoices.keyAlgorithms]).toEqual([...KEY_ALGORITHMS]);
    expect(helpChoices.defaultKeyAlgorithm).toBe(certificateDefaults.keyAlgorithm);
    expect(helpChoices.leafValidityDays).toBe(certificateDefaults.leafValidityDays);
  });
});
