/**
 * A strict TypeScript consumer (`skipLibCheck: false`) of every published entry except the `testing`
 * ones (they need vitest): `.ci/check-packs.sh` installs the packed tarballs and the peer SDKs with npm
 * next to this file and compiles it. Each entry is used, so that its declarations (and the vendor SDK
 * types they reach: `@kubernetes/client-node` imports `ws`) are checked.
 */

import * as certIssuer from '@zonekeeper/cert-issuer';
import * as core from '@zonekeeper/core';
import * as deployer from '@zonekeeper/externaldns-deployer';
import type { KubernetesClusterOptions } from '@zonekeeper/externaldns-deployer/kubernetes';
import { createKubernetesCluster } from '@zonekeeper/externaldns-deployer/kubernetes';
import * as gcPolicy from '@zonekeeper/gc-policy';
import * as iamScoper from '@zonekeeper/iam-scoper';
import * as eks from '@zonekeeper/iam-scoper/eks';
import * as iam from '@zonekeeper/iam-scoper/iam';
import * as kubeFake from '@zonekeeper/kube-apiserver-fake';
import * as testkit from '@zonekeeper/testkit';
import * as faultProxy from '@zonekeeper/testkit/fault-proxy';
import * as fakeKubeApiserver from '@zonekeeper/testkit/kube-apiserver';
import * as moto from '@zonekeeper/testkit/moto';
import * as oidc from '@zonekeeper/testkit/oidc-issuer';
import * as powerdns from '@zonekeeper/testkit/powerdns';
import * as vaultFake from '@zonekeeper/testkit/vault';
import * as vaultKeys from '@zonekeeper/vault-keys';
import * as vault from '@zonekeeper/vault-keys/vault';
import * as zoneManager from '@zonekeeper/zone-manager';
import * as powerdnsProvider from '@zonekeeper/zone-manager/powerdns';
import * as route53 from '@zonekeeper/zone-manager/route53';
import * as zonekeeper from 'zonekeeper';

const options: KubernetesClusterOptions = { name: 'prod-1', kubeconfigYaml: '' };
export const cluster: typeof createKubernetesCluster = createKubernetesCluster;
export const entries: readonly object[] = [
  options,
  certIssuer,
  core,
  deployer,
  gcPolicy,
  iamScoper,
  eks,
  iam,
  kubeFake,
  testkit,
  fakeKubeApiserver,
  moto,
  faultProxy,
  oidc,
  powerdns,
  vaultFake,
  vaultKeys,
  vault,
  zoneManager,
  powerdnsProvider,
  route53,
  zonekeeper,
];
