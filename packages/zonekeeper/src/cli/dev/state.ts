/**
 * The local backend's state: where it lives, the state file (`dev.json`), the files `dev up` writes next
 * to it, and the shell lines that point a shell at it. Pure apart from the file helpers at the end.
 *
 * @internal
 * @packageDocumentation
 */

import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { invalidInput, validateClusterId } from '@zonekeeper/core';
import type { CliEnv } from '../settings.js';

/** What a local backend process is. */
export type DevProcessKind = 'moto' | 'vault' | 'kubernetes' | 'dns';

/** One process `dev up` started. */
export interface DevProcess {
  /** `moto`, `vault`, `dns`, or the cluster id of a Kubernetes API fake. */
  readonly name: string;
  readonly kind: DevProcessKind;
  readonly pid: number;
  /** Base URL on 127.0.0.1 (`dns://127.0.0.1:<port>` for the DNS server); absent while starting. */
  readonly endpoint?: string;
  /** Its stdout and stderr. */
  readonly log: string;
  /** Arguments its command line must contain to be this process (a pid can be reused once it is gone). */
  readonly argvIncludes: readonly string[];
  /** PEM CA certificate of an HTTPS server (the Kubernetes API fakes). */
  readonly ca?: string;
}

/** The state file `dev.json`: everything `dev status`, `dev env` and `dev down` need. */
export interface DevState {
  readonly version: 1;
  /** False while `dev up` is starting the processes (or if it was killed before it finished). */
  readonly ready: boolean;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  readonly baseDomain: string;
  /** The parent zone created in moto (once ready). */
  readonly parentZoneId?: string;
  readonly region: string;
  readonly clusters: readonly string[];
  /** The ExternalDNS binary each cluster runs (`dev up --external-dns`); absent: none runs. */
  readonly externalDns?: string;
  readonly processes: readonly DevProcess[];
  /** The Vault fake's root token (a secret: never printed; the state file is mode 0600). */
  readonly vaultToken?: string;
}

/** The files of a local backend directory. */
export interface DevPaths {
  readonly dir: string;
  readonly state: string;
  readonly lock: string;
  readonly kubeconfig: string;
  readonly inventory: string;
  readonly vaultToken: string;
  /** Where each fake writes its address once it listens. */
  readonly run: string;
  readonly logs: string;
}

/** The test credentials moto accepts (it does not check them). */
export const DEV_AWS_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** The base domain of a local backend started without `--base-domain` or `ZONEKEEPER_BASE_DOMAIN`. */
export const DEV_DEFAULT_BASE_DOMAIN = 'example.com';

/** The clusters of a local backend started without `--clusters`. */
export const DEV_DEFAULT_CLUSTERS: readonly string[] = ['dev-1'];

/** The pinned moto the local backend is tested with, as a pip requirement. */
export const MOTO_REQUIREMENT = 'moto[server]==5.2.1';

/** The command named in every "moto is missing" error. */
export const MOTO_INSTALL_HINT = `python3 -m pip install '${MOTO_REQUIREMENT}'`;

/**
 * The directory of the local backend: `--dir`, else `ZONEKEEPER_DEV_DIR`, else
 * `$XDG_STATE_HOME/zonekeeper/dev`, else `~/.local/state/zonekeeper/dev`.
 */
export function devDirectory(flag: string | undefined, env: CliEnv, cwd: string): string {
  const given = flag?.trim() || env.ZONEKEEPER_DEV_DIR?.trim();
  if (given) return resolve(cwd, given);
  const xdg = env.XDG_STATE_HOME?.trim();
  const base = xdg ? resolve(cwd, xdg) : join(env.HOME?.trim() || homedir(), '.local', 'state');
  return join(base, 'zonekeeper', 'dev');
}

/** The files of the local backend in `dir`. */
export function devPaths(dir: string): DevPaths {
  return {
    dir,
    state: join(dir, 'dev.json'),
    lock: join(dir, 'lock'),
    kubeconfig: join(dir, 'kubeconfig'),
    inventory: join(dir, 'inventory.json'),
    vaultToken: join(dir, 'vault-token'),
    run: join(dir, 'run'),
    logs: join(dir, 'logs'),
  };
}

/** Parses `--clusters dev-1,dev-2`: one or more distinct cluster ids. */
export function parseClusterList(value: string | undefined): readonly string[] {
  if (value === undefined) return DEV_DEFAULT_CLUSTERS;
  const ids = value.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((id) => id === ''))
    throw invalidInput(
      `--clusters ${JSON.stringify(value)} must be a comma-separated list of cluster ids, e.g. "dev-1,dev-2".`,
    );
  const valid = ids.map((id) => validateClusterId(id));
  const seen = new Set<string>();
  for (const id of valid) {
    if (seen.has(id)) throw invalidInput(`--clusters names cluster ${id} twice.`);
    seen.add(id);
  }
  if (valid.length > 8)
    throw invalidInput(`--clusters names ${valid.length} clusters; at most 8 are started.`);
  return valid;
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Variables that would send part of the traffic elsewhere (or change its scope) if a shell kept them. */
export const DEV_UNSET_VARIABLES = [
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_ROUTE_53',
  'AWS_ENDPOINT_URL_IAM',
  'VAULT_NAMESPACE',
  'ZONEKEEPER_SECRET_PREFIX',
] as const;

/** The variables `dev env` exports. */
export const DEV_EXPORTED_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'KUBECONFIG',
  'ZONEKEEPER_BASE_DOMAIN',
  'ZONEKEEPER_DEV_DNS_PORT',
  'ZONEKEEPER_DEV_DIR',
] as const;

/** The environment of the local backend, without the Vault token (it is read from its file). */
export function devEnvironment(state: DevState, paths: DevPaths): Readonly<Record<string, string>> {
  const endpoint = (kind: DevProcessKind) => state.processes.find((p) => p.kind === kind)?.endpoint ?? '';
  return {
    AWS_ENDPOINT_URL: endpoint('moto'),
    AWS_ACCESS_KEY_ID: DEV_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEV_AWS_CREDENTIALS.secretAccessKey,
    AWS_REGION: state.region,
    AWS_DEFAULT_REGION: state.region,
    VAULT_ADDR: endpoint('vault'),
    KUBECONFIG: paths.kubeconfig,
    ZONEKEEPER_BASE_DOMAIN: state.baseDomain,
    ZONEKEEPER_DEV_DNS_PORT: /:(\d+)$/.exec(endpoint('dns'))?.[1] ?? '',
    ZONEKEEPER_DEV_DIR: paths.dir,
  };
}

/**
 * The shell lines that point a POSIX shell (sh, bash, zsh) at the local backend, for
 * `eval "$(zonekeeper dev env)"`. The Vault token is read from its file (mode 0600) when the line is
 * evaluated, so it never appears in the output.
 */
export function exportLines(state: DevState, paths: DevPaths): string {
  const env = devEnvironment(state, paths);
  const lines = [
    `# zonekeeper local backend (${paths.state}); undo with: eval "$(zonekeeper dev down)"`,
    `unset ${DEV_UNSET_VARIABLES.join(' ')}`,
  ];
  for (const name of DEV_EXPORTED_VARIABLES) {
    if (name === 'VAULT_TOKEN') lines.push(`export VAULT_TOKEN="$(cat ${shellQuote(paths.vaultToken)})"`);
    else lines.push(`export ${name}=${shellQuote(env[name] ?? '')}`);
  }
  lines.push(`# clusters (kubeconfig contexts): ${state.clusters.join(', ')}`);
  lines.push(`# inventory for gc: --inventory ${shellQuote(paths.inventory)}`);
  return `${lines.join('\n')}\n`;
}

/** The line that removes what {@link exportLines} set, for `eval "$(zonekeeper dev down)"`. */
export function unsetLine(): string {
  return `unset ${DEV_EXPORTED_VARIABLES.join(' ')}\n`;
}

function isProcess(value: unknown): value is DevProcess {
  const p = value as Partial<DevProcess> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.name === 'string' &&
    (p.kind === 'moto' || p.kind === 'vault' || p.kind === 'kubernetes' || p.kind === 'dns') &&
    typeof p.pid === 'number' &&
    Number.isInteger(p.pid) &&
    p.pid > 1 &&
    typeof p.log === 'string' &&
    Array.isArray(p.argvIncludes) &&
    p.argvIncludes.every((a) => typeof a === 'string')
  );
}

/** Checks a parsed state file; throws `INVALID_INPUT` naming the file otherwise. */
export function parseState(text: string, file: string): DevState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput(
      `The local backend state ${file} is not valid JSON; remove it and run 'zonekeeper dev up'.`,
    );
  }
  const s = parsed as Partial<DevState> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    s.version !== 1 ||
    typeof s.baseDomain !== 'string' ||
    typeof s.region !== 'string' ||
    !Array.isArray(s.clusters) ||
    !Array.isArray(s.processes) ||
    !s.processes.every(isProcess)
  )
    throw invalidInput(
      `The local backend state ${file} is not a zonekeeper dev state (version 1); stop its processes by hand and remove it.`,
    );
  return s as DevState;
}

/** Reads the state file; `undefined` when there is none. */
export async function readState(paths: DevPaths): Promise<DevState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.state, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseState(text, paths.state);
}

/** Writes a file atomically (a temporary file renamed over it), mode 0600. */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

/** Writes the state file atomically. */
export async function writeState(paths: DevPaths, state: DevState): Promise<void> {
  await writePrivateFile(paths.state, `${JSON.stringify(state, null, 2)}\n`);
}

/** Creates the directory and its `run/` and `logs/` folders (mode 0700). */
export async function makeDirectories(paths: DevPaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await mkdir(paths.run, { recursive: true, mode: 0o700 });
  await mkdir(paths.logs, { recursive: true, mode: 0o700 });
}

/**
 * Removes every file the local backend wrote (never anything else: the directory may be one the user
 * gave), then the folders if they are empty. The lock is the caller's to release. `keepLogs` keeps the
 * processes' logs (after a failed `dev up`, whose error names them).
 */
export async function removeStateFiles(
  paths: DevPaths,
  state: DevState | undefined,
  options: { readonly keepLogs?: boolean } = {},
): Promise<void> {
  const names = state?.processes.map((p) => p.name) ?? [];
  const clusters = state?.clusters ?? [];
  const files = [
    paths.kubeconfig,
    paths.inventory,
    paths.vaultToken,
    ...names.map((n) => join(paths.run, `${n}.json`)),
    ...(options.keepLogs
      ? []
      : [
          ...(state?.processes.map((p) => p.log) ?? []),
          ...clusters.map((c) => join(paths.logs, `${c}.external-dns.log`)),
        ]),
    paths.state,
  ];
  await Promise.all(files.map((f) => rm(f, { force: true })));
  // What a cluster's ExternalDNS processes mounted (their credentials files), if one was killed.
  await Promise.all(clusters.map((c) => rm(join(paths.run, `${c}.pods`), { recursive: true, force: true })));
  for (const folder of [paths.run, paths.logs]) await rmdir(folder).catch(() => {});
}
