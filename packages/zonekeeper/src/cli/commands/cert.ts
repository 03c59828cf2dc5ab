/**
 * `zonekeeper cert …`: server certificates from an organisation's CA, through the facade (an
 * organisation that does not exist is refused, and nothing is written).
 *
 * @internal
 * @packageDocumentation
 */

import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AcmeSettings, KeyAlgorithm } from '@zonekeeper/cert-issuer';
import {
  invalidInput,
  isZonekeeperError,
  normalizeHostname,
  organizationZoneName,
  validateDnsLabel,
  validateOrganizationName,
  ZonekeeperError,
} from '@zonekeeper/core';
import { defaultSecretPrefix } from '../../context.js';
import {
  buildFacade,
  type CommandContext,
  type CommandGroup,
  type CommandOutcome,
  commandFlag,
  commandString,
  signalOf,
} from '../command.js';
import { checkWithinZone, defaultCertificateName, parsePositiveInteger } from '../settings.js';
import { certificateIssueView, renderCertificateIssue } from '../views.js';
import { singleAccountOnly } from './fleet.js';

/** Choices shown in the help without loading the libraries; a unit test keeps them equal to theirs. */
export const certificateChoices = {
  keyAlgorithms: ['ECDSA_P256', 'RSA_2048'],
  defaultKeyAlgorithm: 'ECDSA_P256',
  leafValidityDays: 90,
} as const;

async function checkOutDir(dir: string): Promise<void> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw invalidInput(`--out ${dir} exists and is not a directory.`);
  } catch (error) {
    if (isZonekeeperError(error)) throw error;
    if ((error as { code?: unknown }).code !== 'ENOENT')
      throw invalidInput(`--out ${dir} cannot be used (${String((error as { code?: unknown }).code)}).`);
  }
}

/** Writes `content` to `file` through a temporary file in the same directory, with `mode`. */
async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
    await chmod(file, mode);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * The ACME settings of `cert issue --acme`: `--acme-directory` (or `ZONEKEEPER_ACME_DIRECTORY`), the
 * explicit `--agree-tos`, `--acme-contact` (or `ZONEKEEPER_ACME_CONTACT`) and `--acme-ca-file` (PEM
 * trusted for the CA's HTTPS, e.g. a private or test CA). Checked again by `createZonekeeper`.
 */
async function acmeSettings(ctx: CommandContext): Promise<AcmeSettings> {
  const directoryUrl = commandString(ctx, 'acmeDirectory') ?? ctx.env.ZONEKEEPER_ACME_DIRECTORY;
  if (directoryUrl === undefined || directoryUrl.trim() === '')
    throw invalidInput(
      'cert issue --acme needs the ACME directory: pass --acme-directory <url> or set ZONEKEEPER_ACME_DIRECTORY (e.g. https://acme-v02.api.letsencrypt.org/directory).',
    );
  if (!commandFlag(ctx, 'agreeTos'))
    throw invalidInput(
      "cert issue --acme needs --agree-tos: you agree to the ACME CA's terms of service (zonekeeper never agrees for you).",
    );
  const contact = commandString(ctx, 'acmeContact') ?? ctx.env.ZONEKEEPER_ACME_CONTACT;
  const caFile = commandString(ctx, 'acmeCaFile');
  let caCertificates: string | undefined;
  if (caFile !== undefined) {
    try {
      caCertificates = await readFile(resolve(ctx.cwd, caFile), 'utf8');
    } catch (error) {
      throw invalidInput(
        `--acme-ca-file ${caFile} cannot be read (${String((error as { code?: unknown }).code)}).`,
      );
    }
    if (!caCertificates.includes('-----BEGIN CERTIFICATE-----'))
      throw invalidInput(`--acme-ca-file ${caFile} holds no PEM certificate.`);
  }
  return {
    directoryUrl: directoryUrl.trim(),
    termsOfServiceAgreed: true,
    ...(contact === undefined || contact.trim() === ''
      ? {}
      : { contact: [contact.startsWith('mailto:') ? contact.trim() : `mailto:${contact.trim()}`] }),
    ...(caCertificates === undefined ? {} : { caCertificates }),
  };
}

async function issueCertificate(ctx: CommandContext, namesInput: readonly string[]): Promise<CommandOutcome> {
  const { certificateDefaults, KEY_ALGORITHMS } = await import('@zonekeeper/cert-issuer');
  const { readCertificate } = await import('@zonekeeper/vault-keys');
  const organization = validateOrganizationName(commandString(ctx, 'org'));
  const zoneName = organizationZoneName(organization, ctx.settings.baseDomain);
  if (namesInput.length === 0) throw invalidInput('cert issue needs at least one DNS name.');
  const dnsNames = [...new Set(namesInput.map((n) => normalizeHostname(n)))];
  checkWithinZone(dnsNames, zoneName, 'cert issue');
  const nameFlag = commandString(ctx, 'name');
  const name =
    nameFlag === undefined
      ? defaultCertificateName(dnsNames[0] as string, zoneName)
      : validateDnsLabel(nameFlag, 'Certificate name');
  const days = commandString(ctx, 'validityDays');
  const validityDays =
    days === undefined
      ? undefined
      : parsePositiveInteger(days, '--validity-days', certificateDefaults.maxLeafValidityDays);
  const algorithm = commandString(ctx, 'keyAlgorithm');
  if (algorithm !== undefined && !(KEY_ALGORITHMS as readonly string[]).includes(algorithm))
    throw invalidInput(
      `--key-algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}.`,
    );
  const acme = commandFlag(ctx, 'acme') ? await acmeSettings(ctx) : undefined;
  if (acme !== undefined && (days !== undefined || algorithm !== undefined))
    throw invalidInput(
      'cert issue --acme takes neither --validity-days nor --key-algorithm: the ACME CA decides the validity.',
    );
  const outDir = commandString(ctx, 'out');
  const outPath = outDir === undefined ? undefined : resolve(ctx.cwd, outDir);
  if (outPath !== undefined) await checkOutDir(outPath);
  const dryRun = commandFlag(ctx, 'dryRun');

  const zk = await buildFacade(ctx, undefined, acme);
  ctx.out.progress(
    `zonekeeper cert issue: ${name} for ${organization} (${dnsNames.join(', ')})${acme ? ` from ${acme.directoryUrl}` : ''}${dryRun ? ' (dry run)' : ''}…`,
  );
  const result = await zk.issueCertificate(
    organization,
    {
      name,
      dnsNames,
      ...(validityDays === undefined ? {} : { validityDays }),
      ...(algorithm === undefined ? {} : { keyAlgorithm: algorithm as KeyAlgorithm }),
      ...(acme === undefined ? {} : { acme: true }),
    },
    { dryRun, ...signalOf(ctx) },
  );
  const view = certificateIssueView(result);
  if (dryRun) return { view, text: renderCertificateIssue(view, undefined) };

  const stored = await readCertificate(zk.ports.secrets, organization, name, {
    prefix: ctx.settings.secretPrefix ?? defaultSecretPrefix(ctx.settings.baseDomain),
    owner: ctx.settings.baseDomain,
    ...signalOf(ctx),
  });
  if (!stored)
    throw new ZonekeeperError(
      'NOT_FOUND',
      `Certificate ${name} of ${organization} is not in the secret store after issuing (deleted concurrently?); run again.`,
      { retry: 'transient' },
    );
  if (outPath !== undefined) {
    // Paths only: the key's file name is fine to show, its content never is.
    const files = {
      'tls.crt': join(outPath, 'tls.crt'),
      'tls.key': join(outPath, 'tls.key'),
      'ca.crt': join(outPath, 'ca.crt'),
    };
    await mkdir(outPath, { recursive: true, mode: 0o700 });
    await writeFileAtomic(files['tls.crt'], stored.chainPem, 0o644);
    await writeFileAtomic(files['tls.key'], stored.privateKeyPem, 0o600);
    await writeFileAtomic(files['ca.crt'], stored.caPem, 0o644);
    ctx.out.progress(
      `zonekeeper cert issue: wrote ${files['tls.crt']}, ${files['tls.key']} (mode 0600), ${files['ca.crt']}.`,
    );
    return { view: { ...view, files }, text: renderCertificateIssue(view, files) };
  }
  return {
    view: { ...view, certificatePem: stored.certificatePem, chainPem: stored.chainPem, caPem: stored.caPem },
    text: renderCertificateIssue(view, undefined),
    payload: stored.chainPem,
  };
}

/** Registers `cert issue`. */
export const registerCertCommands: CommandGroup = (program, execute) => {
  program
    .command('cert')
    .description('TLS certificates from the organisation CA')
    .command('issue')
    .description(
      'issue (or renew when due) a server certificate into Vault, from the organisation CA or (--acme) an ACME CA; print it, or write tls.crt, tls.key and ca.crt with --out',
    )
    .argument('<names...>', "DNS names (within the organisation's zone; wildcards as *.<name>)")
    .requiredOption('--org <org>', 'organisation name')
    .option('--name <name>', 'certificate name in the store (default: derived from the first DNS name)')
    .option('--out <dir>', 'write tls.crt (chain), tls.key (mode 0600) and ca.crt into this directory')
    .option(
      '--validity-days <days>',
      `lifetime of a new certificate (default ${certificateChoices.leafValidityDays})`,
    )
    .option(
      '--key-algorithm <algorithm>',
      `${certificateChoices.keyAlgorithms.join(' or ')} (default ${certificateChoices.defaultKeyAlgorithm})`,
    )
    .option(
      '--acme',
      "order a publicly trusted certificate from an ACME CA by DNS-01 in the organisation's zone",
    )
    .option('--acme-directory <url>', 'with --acme: the ACME directory URL (or ZONEKEEPER_ACME_DIRECTORY)')
    .option('--agree-tos', "with --acme: agree to the ACME CA's terms of service (required)")
    .option('--acme-contact <email>', 'with --acme: the account contact (or ZONEKEEPER_ACME_CONTACT)')
    .option(
      '--acme-ca-file <pem>',
      "with --acme: PEM certificates to trust for the ACME CA's HTTPS (a private CA)",
    )
    .option('--dry-run', 'print the plan, issue nothing, write nothing')
    .action(
      execute('cert issue', async (ctx, names: string[]) => {
        singleAccountOnly(ctx, 'cert issue');
        return issueCertificate(ctx, names);
      }),
    );
};
