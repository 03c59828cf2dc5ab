/**
 * `@zonekeeper/testkit/oidc-issuer`: a test OIDC issuer (discovery document and JWKS on 127.0.0.1,
 * RS256 service-account tokens), for web-identity tests against moto's STS.
 *
 * @packageDocumentation
 */

export {
  type ServiceAccountTokenClaims,
  type SignOptions,
  startTestOidcIssuer,
  type TestOidcIssuer,
  type TestOidcIssuerOptions,
} from './issuer.js';
