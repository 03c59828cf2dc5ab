/**
 * The little DER this package needs: an encoder for the certificates it builds (a template of fixed
 * parts with the variable fields filled in) and a reader that walks a certificate to the fields it
 * takes from a CA (its subject as encoded, its extensions). Not a general ASN.1 library: only the
 * universal and context tags X.509 certificates use, definite lengths, no BER.
 *
 * @internal
 */

/** A DER tag-length-value. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let header: Uint8Array;
  if (n < 0x80) header = Uint8Array.of(tag, n);
  else if (n < 0x100) header = Uint8Array.of(tag, 0x81, n);
  else if (n < 0x10000) header = Uint8Array.of(tag, 0x82, n >> 8, n & 0xff);
  else header = Uint8Array.of(tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

/** The concatenation of `parts`. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SEQUENCE of `parts`. */
export const sequence = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, concat(parts));
/** SET of `parts` (already in DER order). */
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, concat(parts));
/** OCTET STRING. */
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
/** BIT STRING with no unused bits. */
export const bitString = (bytes: Uint8Array): Uint8Array => tlv(0x03, concat([Uint8Array.of(0), bytes]));
/** BOOLEAN TRUE. */
export const TRUE: Uint8Array = Uint8Array.of(0x01, 0x01, 0xff);
/** A context-specific constructed tag `[n]` (EXPLICIT, or IMPLICIT of a constructed type). */
export const context = (n: number, ...parts: Uint8Array[]): Uint8Array => tlv(0xa0 | n, concat(parts));

const utf8 = new TextEncoder();

/** UTF8String. */
export const utf8String = (text: string): Uint8Array => tlv(0x0c, utf8.encode(text));

/** A non-negative INTEGER from its big-endian magnitude (a 0x00 sign byte added when needed). */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = magnitude.subarray(start);
  return tlv(0x02, (bytes[0] as number) & 0x80 ? concat([Uint8Array.of(0), bytes]) : bytes);
}

/** A small INTEGER (0–127). */
export const smallInteger = (n: number): Uint8Array => Uint8Array.of(0x02, 0x01, n);

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const body: number[] = [40 * (arcs[0] as number) + (arcs[1] as number)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    body.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(body));
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** An X.509 Time: UTCTime for 1950–2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds. */
export function time(ms: number): Uint8Array {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
  return year < 2050
    ? tlv(0x17, utf8.encode(`${pad(year % 100, 2)}${rest}`))
    : tlv(0x18, utf8.encode(`${pad(year, 4)}${rest}`));
}

/** An Extension: `SEQUENCE { extnID, critical (only when TRUE), extnValue OCTET STRING }`. */
export function extension(id: Uint8Array, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(id, TRUE, octetString(value)) : sequence(id, octetString(value));
}

// ---------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------

/** One element found by {@link readElement}: its tag and where its header, content and end are. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the element at `offset` of `der`; throws on anything malformed or out of bounds. */
export function readElement(der: Uint8Array, offset: number, limit: number = der.length): DerElement {
  if (offset + 2 > limit) throw new Error('DER: truncated element');
  const tag = der[offset] as number;
  let length = der[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || contentStart + count > limit) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('DER: element overruns its container');
  return { tag, start: offset, contentStart, end };
}

/** The elements directly inside `parent`. */
export function children(der: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const e = readElement(der, at, parent.end);
    out.push(e);
    at = e.end;
  }
  return out;
}

/** The dotted form of an OBJECT IDENTIFIER element. */
export function readOid(der: Uint8Array, e: DerElement): string {
  const bytes = der.subarray(e.contentStart, e.end);
  const first = bytes[0] as number;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] as number;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

/** What a CA certificate contributes to the certificates it signs, read from its DER. */
export interface CertificateFields {
  /** The subject Name, exactly as encoded (the issuer of what it signs). */
  readonly subject: Uint8Array;
  /** The SubjectPublicKeyInfo, as encoded. */
  readonly subjectPublicKeyInfo: Uint8Array;
  /** The extensions by OID: criticality and the extnValue contents. */
  readonly extensions: ReadonlyMap<string, { readonly critical: boolean; readonly value: Uint8Array }>;
}

/** Walks a certificate's TBSCertificate to its subject, SPKI and extensions. */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const certificate = readElement(der, 0);
  const [tbsElement] = children(der, certificate);
  if (certificate.tag !== 0x30 || tbsElement?.tag !== 0x30) throw new Error('DER: not a certificate');
  const tbs = children(der, tbsElement);
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0; // [0] version is optional (v1)
  const subject = tbs[offset + 4];
  const spki = tbs[offset + 5];
  if (subject?.tag !== 0x30 || spki?.tag !== 0x30) throw new Error('DER: bad TBSCertificate');
  const extensions = new Map<string, { critical: boolean; value: Uint8Array }>();
  const wrapper = tbs.slice(offset + 6).find((e) => e.tag === 0xa3);
  if (wrapper) {
    const [list] = children(der, wrapper);
    for (const ext of list ? children(der, list) : []) {
      const parts = children(der, ext);
      const id = parts[0];
      const critical = parts.length === 3 && der[(parts[1] as DerElement).contentStart] !== 0;
      const value = parts[parts.length - 1];
      if (id?.tag !== 0x06 || value?.tag !== 0x04) throw new Error('DER: bad extension');
      extensions.set(readOid(der, id), { critical, value: der.subarray(value.contentStart, value.end) });
    }
  }
  return {
    subject: der.subarray(subject.start, subject.end),
    subjectPublicKeyInfo: der.subarray(spki.start, spki.end),
    extensions,
  };
}

/** The contents of the subjectPublicKey BIT STRING of a SubjectPublicKeyInfo (without the unused-bits byte). */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = readElement(spki, 0);
  const [, key] = children(spki, outer);
  if (key?.tag !== 0x03) throw new Error('DER: bad SubjectPublicKeyInfo');
  return spki.subarray(key.contentStart + 1, key.end);
}
