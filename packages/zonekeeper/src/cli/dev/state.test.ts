/**
 * The pure parts of the local backend's state: the directory, `--clusters`, the state file check and
 * the shell lines — evaluated by a real shell, so quoting is tested, not assumed.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEV_EXPORTED_VARIABLES,
  type DevState,
  devDirectory,
  devPaths,
  exportLines,
  parseClusterList,
  parseState,
  shellQuote,
  unsetLine,
} from './state.js';

const state: DevState = {
  version: 1,
  ready: true,
  startedAt: '2026-12-02T00:00:00.000Z',
  baseDomain: 'example.com',
  parentZoneId: 'Z1',
  region: 'eu-west-1',
  clusters: ['dev-1', 'dev-2'],
  vaultToken: 'hvs.secret-token-value',
  processes: [
    {
      name: 'moto',
      kind: 'moto',
      pid: 100,
      endpoint: 'http://127.0.0.1:5000',
      log: '/l/moto.log',
      argvIncludes: ['moto.server', '5000'],
    },
    {
      name: 'vault',
      kind: 'vault',
      pid: 101,
      endpoint: 'http://127.0.0.1:8200',
      log: '/l/vault.log',
      argvIncludes: ['/r/vault.json'],
    },
    {
      name: 'dns',
      kind: 'dns',
      pid: 102,
      endpoint: 'dns://127.0.0.1:5353',
      log: '/l/dns.log',
      argvIncludes: ['/r/dns.json'],
    },
  ],
};

describe('the local backend state', () => {
  it('directory: --dir, then ZONEKEEPER_DEV_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(devDirectory('x', { ZONEKEEPER_DEV_DIR: '/env' }, '/cwd')).toBe('/cwd/x');
    expect(devDirectory(undefined, { ZONEKEEPER_DEV_DIR: '/env', XDG_STATE_HOME: '/xdg' }, '/cwd')).toBe(
      '/env',
    );
    expect(devDirectory(undefined, { XDG_STATE_HOME: '/xdg', HOME: '/h' }, '/cwd')).toBe(
      '/xdg/zonekeeper/dev',
    );
    expect(devDirectory(undefined, { HOME: '/h' }, '/cwd')).toBe('/h/.local/state/zonekeeper/dev');
  });

  it('--clusters: distinct valid cluster ids, default dev-1', () => {
    expect(parseClusterList(undefined)).toEqual(['dev-1']);
    expect(parseClusterList('dev-1, dev-2')).toEqual(['dev-1', 'dev-2']);
    for (const bad of ['', 'dev-1,', 'Dev_1', 'a,a', Array.from({ length: 9 }, (_, i) => `c${i}`).join(',')])
      expect(() => parseClusterList(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('a state file that is not ours is refused, naming the file', () => {
    expect(parseState(JSON.stringify(state), 'f')).toEqual(state);
    for (const text of [
      '{',
      '{}',
      JSON.stringify({ ...state, version: 2 }),
      JSON.stringify({ ...state, processes: [{ pid: 1 }] }),
    ])
      expect(() => parseState(text, '/x/dev.json')).toThrow(/\/x\/dev\.json/);
  });

  it('the export lines, evaluated by sh, set exactly the backend variables; the token is read from its file', () => {
    const dir = mkdtempSync(join(tmpdir(), "zk dev 'quoted' "));
    try {
      const paths = devPaths(dir);
      writeFileSync(paths.vaultToken, 'hvs.secret-token-value', { mode: 0o600 });
      const lines = exportLines(state, paths);
      expect(lines).not.toContain('hvs.secret-token-value');
      const script = `${lines}\nfor v in ${DEV_EXPORTED_VARIABLES.join(' ')} AWS_PROFILE AWS_ENDPOINT_URL_IAM; do printf '%s=%s\\n' "$v" "$(printenv "$v" || echo '<unset>')"; done`;
      const out = execFileSync('/bin/sh', ['-ec', script], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          AWS_PROFILE: 'prod',
          AWS_ENDPOINT_URL_IAM: 'https://iam.amazonaws.com',
        },
      });
      expect(
        Object.fromEntries(
          out
            .trim()
            .split('\n')
            .map((l) => l.split(/=(.*)/s).slice(0, 2)),
        ),
      ).toEqual({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_TOKEN: 'hvs.secret-token-value',
        KUBECONFIG: join(dir, 'kubeconfig'),
        ZONEKEEPER_BASE_DOMAIN: 'example.com',
        ZONEKEEPER_DEV_DNS_PORT: '5353',
        ZONEKEEPER_DEV_DIR: dir,
        AWS_PROFILE: '<unset>',
        AWS_ENDPOINT_URL_IAM: '<unset>',
      });
      const unset = execFileSync(
        '/bin/sh',
        ['-ec', `${lines}\n${unsetLine()}\nprintenv VAULT_ADDR || echo gone`],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH },
        },
      );
      expect(unset.trim()).toBe('gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shellQuote leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
    expect(shellQuote('$(rm -rf /)')).toBe(`'$(rm -rf /)'`);
  });
});
