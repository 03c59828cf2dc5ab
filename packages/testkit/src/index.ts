/**
 * `@zonekeeper/testkit`: the most faithful test servers we can run on 127.0.0.1 without Docker —
 * moto (Route 53, IAM, STS) with its lifecycle, an AWS fault-injection proxy, a real kube-apiserver's
 * lifecycle, a wire-level fake of the HashiCorp Vault API, a test OIDC issuer, a real PowerDNS server
 * with `dig` / `nsupdate` helpers, and Pebble (an ACME test server). Each is also on its own subpath
 * (`@zonekeeper/testkit/moto`, `/fault-proxy`, `/kube-apiserver`, `/vault`, `/oidc-issuer`, `/powerdns`,
 * `/pebble`). The Kubernetes API fake is its own package, `@zonekeeper/kube-apiserver-fake`.
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
  type ServiceAccountTokenClaims,
  type SignOptions,
  startTestOidcIssuer,
  type TestOidcIssuer,
  type TestOidcIssuerOptions,
} from './oidc-issuer/index.js';
export {
  type ListPebbleProcessesOptions,
  listPebbleProcesses,
  PEBBLE_VERSION,
  type PebbleCertificateStatus,
  type PebbleDnsServer,
  type PebbleOptions,
  type PebbleProcessInfo,
  type PebbleServer,
  pebbleInstallHint,
  startPebble,
} from './pebble/index.js';
export {
  type DigAnswer,
  type DigOptions,
  type DigRecord,
  type DnsServerAddress,
  dig,
  dnsUtilsInstallHint,
  type ListPowerDnsProcessesOptions,
  listPowerDnsProcesses,
  type NsupdateKey,
  type NsupdateOptions,
  type NsupdateResult,
  nsupdate,
  POWERDNS_SQLITE_SCHEMA_PATHS,
  type PowerDnsOptions,
  type PowerDnsProcessInfo,
  type PowerDnsServer,
  type PowerDnsUpdateOptions,
  powerDnsInstallHint,
  startPowerDns,
} from './powerdns/index.js';
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
