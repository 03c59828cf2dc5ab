/**
 * What the real-AWS example needs before it may call anything, checked from the environment and the
 * file system only — no network call, no AWS SDK, no Vault or Kubernetes client is touched here.
 */

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** One requirement and whether it is met. */
export interface Requirement {
  readonly name: string;
  readonly met: boolean;
  /** What to set when it is not met. */
  readonly hint: string;
}

/** Where to look (injectable for tests). */
export interface RequirementProbe {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home?: string;
  readonly exists?: (path: string) => boolean;
}

const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

/** Checks every requirement; the example runs only when all are met. */
export function checkRequirements(probe: RequirementProbe): readonly Requirement[] {
  const { env } = probe;
  const home = probe.home ?? homedir();
  const exists = probe.exists ?? existsSync;
  const awsFiles = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
  ];
  const aws =
    (set(env.AWS_ACCESS_KEY_ID) && set(env.AWS_SECRET_ACCESS_KEY)) ||
    set(env.AWS_PROFILE) ||
    set(env.AWS_WEB_IDENTITY_TOKEN_FILE) ||
    set(env.AWS_CONTAINER_CREDENTIALS_FULL_URI) ||
    set(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) ||
    awsFiles.some(exists);
  const kubeconfigs = set(env.KUBECONFIG) ? (env.KUBECONFIG as string).split(delimiter).filter(Boolean) : [];
  const kube =
    kubeconfigs.length > 0
      ? kubeconfigs.some(exists)
      : exists(join(home, '.kube', 'config')) ||
        (set(env.KUBERNETES_SERVICE_HOST) && exists('/var/run/secrets/kubernetes.io/serviceaccount/token'));
  return [
    {
      name: 'ZONEKEEPER_REAL_AWS=1',
      met: env.ZONEKEEPER_REAL_AWS === '1',
      hint: 'set ZONEKEEPER_REAL_AWS=1 to confirm: this creates real, billed resources (a hosted zone, an IAM user, an access key) and changes a cluster',
    },
    {
      name: 'ZONEKEEPER_BASE_DOMAIN',
      met: set(env.ZONEKEEPER_BASE_DOMAIN),
      hint: 'the parent domain, e.g. dev.example.com; its public hosted zone must already exist in the account',
    },
    {
      name: 'AWS credentials',
      met: aws,
      hint: 'the AWS SDK default chain: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity (IRSA), container credentials, or ~/.aws/credentials; permissions in docs/configuration.md',
    },
    {
      name: 'VAULT_ADDR',
      met: set(env.VAULT_ADDR),
      hint: 'the Vault address, e.g. https://vault.example.com:8200 (KV v2 mounted at "secret", or set ZONEKEEPER_VAULT_MOUNT)',
    },
    {
      name: 'VAULT_TOKEN',
      met: set(env.VAULT_TOKEN),
      hint: 'a Vault token with the policy in docs/configuration.md',
    },
    {
      name: 'a kubeconfig',
      met: kube,
      hint: 'KUBECONFIG or ~/.kube/config; its current context is the cluster ExternalDNS is installed in (RBAC in docs/configuration.md)',
    },
  ];
}
