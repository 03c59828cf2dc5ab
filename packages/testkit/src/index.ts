/**
 * `@zonekeeper/testkit`: the most faithful test servers we can run on 127.0.0.1 without Docker —
 * moto (Route 53, IAM, STS) with its lifecycle, an AWS fault-injection proxy, a real kube-apiserver's
 * lifecycle, and a wire-level fake of the HashiCorp Vault API. Each is also on its own subpath
 * (`@zonekeeper/testkit/moto`, `/fault-proxy`, `/kube-apiserver`, `/vault`). The Kubernetes API fake is its own package, `@zonekeeper/kube-apiserver-fake`.
 *
 * @packageDocumentation
 */

export {
  type AwsErrorPreset,
  type AwsErrorSpec,
  type AwsProtocol,
  type AwsRequestIdentity,
  type AwsRequestLike,
  awsErrorPresets,
  type FaultAction,
  type FaultProxy,
  type FaultProxyLogEntry,
  type FaultProxyLogFilter,
  type FaultProxyOptions,
  type FaultRule,
  identifyAwsRequest,
  route53OperationNames,
  startFaultProxy,
} from './fault-proxy/index.js';
export {
  type KubeApiServer,
  type KubeApiServerOptions,
  kubeApiServerBinary,
  kubeApiServerBuildHint,
  startKubeApiServer,
} from './kube-apiserver/index.js';
export {
  createMotoGlobalSetup,
  isProcessRunning,
  type ListMotoProcessesOptions,
  listMotoProcesses,
  type MotoGlobalSetup,
  type MotoGlobalSetupOptions,
  type MotoGlobalSetupProject,
  type MotoOptions,
  type MotoProcessInfo,
  type MotoServer,
  motoInstallHint,
  resetMoto,
  startMoto,
} from './moto/index.js';
export {
  startVaultFake,
  type VaultCapability,
  type VaultFake,
  type VaultFakeFailOptions,
  type VaultFakeKvV1Secret,
  type VaultFakeKvV2Secret,
  type VaultFakeKvVersion,
  type VaultFakeOptions,
  type VaultFakeRequest,
  type VaultFakeSecret,
  type VaultFakeTokenOptions,
  type VaultPolicyRules,
} from './vault/index.js';
