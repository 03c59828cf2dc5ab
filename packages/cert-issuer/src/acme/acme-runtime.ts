/**
 * Loads `acme-client` on first use, once for the package, so that importing `@zonekeeper/cert-issuer`
 * (and the facade, which imports it) does not load acme-client and its axios: a user who never orders
 * an ACME certificate never pays for them (docs/performance.md §6).
 *
 * @internal
 */

type AcmeClientModule = typeof import('acme-client');

let loading: Promise<AcmeClientModule> | undefined;

/** `acme-client`, imported on the first call; every later call returns the same module. @internal */
export function loadAcmeClient(): Promise<AcmeClientModule> {
  loading ??= import('acme-client');
  return loading;
}
