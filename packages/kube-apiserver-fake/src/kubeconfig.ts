/**
 * Kubeconfig documents pointing at the fake: the kubectl file format (object and YAML) and the option
 * shape `KubeConfig.loadFromOptions` of `@kubernetes/client-node` takes.
 * @internal
 */

import { stringify } from 'yaml';

/** Options of `kubeconfig()`. @public */
export interface KubeconfigOptions {
  /** Context, cluster and user name. Default `zonekeeper-fake`. */
  readonly name?: string;
  /** Default namespace of the context. Default: none (kubectl then uses `default`). */
  readonly namespace?: string;
  /** Bearer token to put in the file. Default: the fake's token (pass another to test 401s). */
  readonly token?: string;
}

/** A kubeconfig file as kubectl reads it. @public */
export interface KubeconfigDocument {
  readonly apiVersion: 'v1';
  readonly kind: 'Config';
  readonly clusters: readonly {
    readonly name: string;
    readonly cluster: { readonly server: string; readonly 'certificate-authority-data'?: string };
  }[];
  readonly users: readonly { readonly name: string; readonly user: { readonly token: string } }[];
  readonly contexts: readonly {
    readonly name: string;
    readonly context: { readonly cluster: string; readonly user: string; readonly namespace?: string };
  }[];
  readonly 'current-context': string;
  readonly preferences: Readonly<Record<string, never>>;
}

/** The argument of `KubeConfig.loadFromOptions()` in `@kubernetes/client-node` 1.x. @public */
export interface ClientNodeKubeconfigOptions {
  readonly clusters: readonly {
    readonly name: string;
    readonly server: string;
    readonly skipTLSVerify: boolean;
    /** Base64 of the PEM CA certificate (HTTPS servers). */
    readonly caData?: string;
  }[];
  readonly users: readonly { readonly name: string; readonly token: string }[];
  readonly contexts: readonly {
    readonly name: string;
    readonly cluster: string;
    readonly user: string;
    readonly namespace?: string;
  }[];
  readonly currentContext: string;
}

/** The result of `kubeconfig()`. @public */
export interface Kubeconfig {
  /** The kubeconfig as an object (kubectl's file format). */
  readonly object: KubeconfigDocument;
  /** The same document as YAML (what `writeKubeconfig` writes; `KubeConfig.loadFromString` reads it). */
  readonly yaml: string;
  /** For `new KubeConfig().loadFromOptions(...)`. */
  readonly options: ClientNodeKubeconfigOptions;
}

/** Builds the kubeconfig of a server (`caPem` for HTTPS servers). */
export function buildKubeconfig(
  endpoint: string,
  token: string,
  caPem: string | undefined,
  options: KubeconfigOptions = {},
): Kubeconfig {
  const name = options.name ?? 'zonekeeper-fake';
  const caData = caPem === undefined ? undefined : Buffer.from(caPem, 'utf8').toString('base64');
  const t = options.token ?? token;
  const context =
    options.namespace === undefined
      ? { cluster: name, user: name }
      : { cluster: name, user: name, namespace: options.namespace };
  const object: KubeconfigDocument = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: caData ? { server: endpoint, 'certificate-authority-data': caData } : { server: endpoint },
      },
    ],
    users: [{ name, user: { token: t } }],
    contexts: [{ name, context }],
    'current-context': name,
    preferences: {},
  };
  return {
    object,
    yaml: stringify(object),
    options: {
      clusters: [{ name, server: endpoint, skipTLSVerify: false, ...(caData ? { caData } : {}) }],
      users: [{ name, token: t }],
      contexts: [{ name, ...context }],
      currentContext: name,
    },
  };
}
