/**
 * The process form of a rendered ExternalDNS Deployment: what to execute, with which environment and
 * which mounted files, to run the same ExternalDNS outside a pod — on a laptop against the local
 * backend (`zonekeeper dev up --external-dns`), or in the end-to-end tests. Pure: the Secrets are
 * passed in, nothing is read.
 *
 * Only what a process can represent faithfully is accepted: one container, literal environment
 * values or `secretKeyRef`s (read from the Secret, as the kubelet does), Secret volumes, and projected
 * service-account token volumes (signed by the `tokenOf` the caller gives: the cluster's OIDC issuer). Anything else (a second container, `valueFrom` env, other volume kinds)
 * is refused rather than approximated.
 *
 * @packageDocumentation
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidInput, type KubernetesObject } from '@zonekeeper/core';

/** How to run a Deployment's only container as a process. @public */
export interface ExternalDnsProcessForm {
  /** The container's `args`, unchanged. */
  readonly args: readonly string[];
  /** The container's environment (literal values, and `secretKeyRef`s resolved). */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute path inside the container → the mounted file's content (from the Secret volumes). */
  readonly files: Readonly<Record<string, string>>;
}

interface Container {
  readonly args?: readonly string[];
  readonly env?: readonly {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
  }[];
  readonly volumeMounts?: readonly { readonly name: string; readonly mountPath: string }[];
}

interface Volume {
  readonly name: string;
  readonly secret?: {
    readonly secretName: string;
    readonly items?: readonly { readonly key: string; readonly path: string }[];
  };
  readonly projected?: {
    readonly sources?: readonly {
      readonly serviceAccountToken?: {
        readonly audience?: string;
        readonly expirationSeconds?: number;
        readonly path: string;
      };
    }[];
  };
}

/** What a projected service-account token is requested for (the kubelet's TokenRequest). @public */
export interface ServiceAccountTokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The volume's audience (required: the API server's default audience is not modelled). */
  readonly audience: string;
  readonly expirationSeconds: number;
}

/**
 * The process form of `deployment`'s only container. `secretOf(name)` returns the Secret (as stored:
 * base64 `data`) of a volume, or `undefined` when it does not exist.
 *
 * @throws ZonekeeperError `INVALID_INPUT` for anything a process cannot represent (see the module
 * notes), or a Secret volume whose Secret or key is missing.
 * @public
 */
export function externalDnsProcessOf(
  deployment: KubernetesObject,
  secretOf: (name: string) => KubernetesObject | undefined,
  tokenOf?: (request: ServiceAccountTokenRequest) => string,
): ExternalDnsProcessForm {
  const where = `Deployment ${deployment.metadata.namespace ?? ''}/${deployment.metadata.name}`;
  const spec = (
    deployment as {
      spec?: {
        template?: { spec?: { containers?: Container[]; volumes?: Volume[]; serviceAccountName?: string } };
      };
    }
  ).spec?.template?.spec;
  const containers = spec?.containers ?? [];
  const container = containers[0];
  if (containers.length !== 1 || container === undefined)
    throw invalidInput(`${where}: expected one container, found ${containers.length}.`);
  const dataOf = (name: string) =>
    ((secretOf(name) as { data?: Record<string, string> } | undefined)?.data ?? undefined) as
      | Record<string, string>
      | undefined;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value === undefined && ref !== undefined && Object.keys(e.valueFrom ?? {}).length === 1) {
      // As the kubelet does: the value read from the Secret when the container starts.
      const data = dataOf(ref.name);
      if (data === undefined)
        throw invalidInput(`${where}: the Secret ${ref.name} of env ${e.name} does not exist.`);
      const value = data[ref.key];
      if (value === undefined)
        throw invalidInput(`${where}: the Secret ${ref.name} has no key ${ref.key} (env ${e.name}).`);
      env[e.name] = Buffer.from(value, 'base64').toString('utf8');
      continue;
    }
    if (e.value === undefined)
      throw invalidInput(
        `${where}: env ${e.name} is neither a literal value nor a secretKeyRef; a process cannot resolve it.`,
      );
    env[e.name] = e.value;
  }
  const files: Record<string, string> = {};
  for (const mount of container.volumeMounts ?? []) {
    const volume = (spec?.volumes ?? []).find((v) => v.name === mount.name);
    if (volume?.projected !== undefined) {
      // Projected service-account tokens: what the kubelet asks the API server's TokenRequest for.
      for (const source of volume.projected.sources ?? []) {
        const request = source.serviceAccountToken;
        if (request === undefined)
          throw invalidInput(
            `${where}: volume ${mount.name} projects something other than a service-account token.`,
          );
        if (tokenOf === undefined)
          throw invalidInput(
            `${where}: volume ${mount.name} is a projected token, and no token issuer was given.`,
          );
        if (request.audience === undefined)
          throw invalidInput(`${where}: the token of volume ${mount.name} has no audience.`);
        files[`${mount.mountPath.replace(/\/$/, '')}/${request.path}`] = tokenOf({
          namespace: deployment.metadata.namespace ?? 'default',
          serviceAccount: spec?.serviceAccountName ?? 'default',
          audience: request.audience,
          expirationSeconds: request.expirationSeconds ?? 3600,
        });
      }
      continue;
    }
    if (volume?.secret === undefined)
      throw invalidInput(`${where}: volume ${mount.name} is neither a Secret nor a projected token volume.`);
    const secret = secretOf(volume.secret.secretName);
    if (secret === undefined)
      throw invalidInput(
        `${where}: the Secret ${volume.secret.secretName} of volume ${mount.name} does not exist.`,
      );
    const data = ((secret as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
    const items = volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      const value = data[item.key];
      if (value === undefined)
        throw invalidInput(`${where}: the Secret ${volume.secret.secretName} has no key ${item.key}.`);
      files[`${mount.mountPath.replace(/\/$/, '')}/${item.path}`] = Buffer.from(value, 'base64').toString(
        'utf8',
      );
    }
  }
  return { args: [...(container.args ?? [])], env, files };
}

/**
 * Mounts a process form under `root`, as a pod's volumes are mounted under `/`: each file written at
 * `<root><path>` (folders 0700, files 0400), and the environment returned with every value that names
 * a mounted file or a file beside one rebased onto `root` (`AWS_SHARED_CREDENTIALS_FILE=/etc/…` becomes
 * `<root>/etc/…`).
 * @public
 */
export async function mountExternalDnsProcessForm(
  form: ExternalDnsProcessForm,
  root: string,
): Promise<Readonly<Record<string, string>>> {
  for (const [path, content] of Object.entries(form.files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, content, { mode: 0o400 });
  }
  const mounted = Object.keys(form.files);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(form.env))
    env[name] = mounted.some((p) => value === p || value.startsWith(`${dirname(p)}/`))
      ? join(root, value)
      : value;
  return env;
}
