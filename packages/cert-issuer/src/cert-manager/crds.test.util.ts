/**
 * cert-manager's, approver-policy's and trust-manager's CRDs for tests, taken from their Go module
 * source zips through the Go module proxy into the Go module cache (testkit's `goModuleFiles`), so
 * nothing of theirs is vendored here. A machine without Go or without the proxy fails loudly with the
 * command to run.
 */
import { goModDownloadCommand, goModuleFiles } from '@zonekeeper/testkit/kube-apiserver';
import { APPROVER_POLICY_VERSION, CERT_MANAGER_VERSION } from './render.js';
import { TRUST_MANAGER_VERSION } from './trust-manager.js';

/** The CRD files the tests apply, per module (paths inside the module's source). */
export const CRD_MODULES = [
  {
    module: 'github.com/cert-manager/cert-manager',
    version: CERT_MANAGER_VERSION,
    files: ['deploy/crds/cert-manager.io_issuers.yaml', 'deploy/crds/cert-manager.io_certificates.yaml'],
  },
  {
    module: 'github.com/cert-manager/approver-policy',
    version: APPROVER_POLICY_VERSION,
    files: ['deploy/crds/policy.cert-manager.io_certificaterequestpolicies.yaml'],
  },
  {
    module: 'github.com/cert-manager/trust-manager',
    version: TRUST_MANAGER_VERSION,
    files: ['deploy/crds/trust.cert-manager.io_bundles.yaml'],
  },
] as const;

/** The commands that put the CRDs into the Go module cache (what the error messages name). */
export const CRD_DOWNLOAD_COMMANDS: readonly string[] = CRD_MODULES.map(goModDownloadCommand);

/** The paths of the CRD files, downloading the modules' sources into the Go module cache if needed. */
export function certManagerCrdFiles(): Promise<readonly string[]> {
  return goModuleFiles(CRD_MODULES);
}
