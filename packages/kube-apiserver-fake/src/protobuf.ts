/**
 * Request bodies in `application/vnd.kubernetes.protobuf`, for the kinds kubectl's typed commands
 * create (`kubectl create namespace|configmap|secret|serviceaccount`): the `k8s\0` envelope holding a
 * `runtime.Unknown` (type meta + raw bytes), then the object in the field numbers of k8s.io/api's
 * `generated.proto`. The decoded object continues through the JSON path (answers are JSON, which
 * kubectl accepts: it sends `Accept: application/vnd.kubernetes.protobuf,application/json`). Other
 * kinds' protobuf bodies get 415.
 * @internal
 */

import type { Json, JsonObject } from './json.js';

/** The content type. */
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** A body that is not valid protobuf, or of a kind the fake cannot decode. */
export class ProtobufError extends Error {}

interface Field {
  readonly no: number;
  readonly wire: number;
  readonly value: bigint | Buffer;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new ProtobufError('truncated field');
      out.push({ no, wire, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (f: Field): Buffer => (Buffer.isBuffer(f.value) ? f.value : Buffer.alloc(0));
const text = (f: Field): string => bytesOf(f).toString('utf8');

function stringMap(entries: Field[], base64 = false): JsonObject {
  const out: JsonObject = {};
  for (const e of entries) {
    const kv = fields(bytesOf(e));
    const k = kv.find((f) => f.no === 1);
    const v = kv.find((f) => f.no === 2);
    const value = v ? bytesOf(v) : Buffer.alloc(0);
    out[k ? text(k) : ''] = base64 ? value.toString('base64') : value.toString('utf8');
  }
  return out;
}

function objectMeta(buf: Buffer): JsonObject {
  const fs = fields(buf);
  const meta: JsonObject = {};
  const one = (no: number, key: string) => {
    const f = fs.find((x) => x.no === no);
    if (f) meta[key] = text(f);
  };
  one(1, 'name');
  one(2, 'generateName');
  one(3, 'namespace');
  one(6, 'resourceVersion');
  const labels = fs.filter((f) => f.no === 11);
  if (labels.length > 0) meta.labels = stringMap(labels);
  const annotations = fs.filter((f) => f.no === 12);
  if (annotations.length > 0) meta.annotations = stringMap(annotations);
  const owners = fs.filter((f) => f.no === 13);
  if (owners.length > 0) {
    meta.ownerReferences = owners.map((o) => {
      const r = fields(bytesOf(o));
      const ref: JsonObject = {};
      for (const [no, key] of [
        [5, 'apiVersion'],
        [1, 'kind'],
        [3, 'name'],
        [4, 'uid'],
      ] as const) {
        const f = r.find((x) => x.no === no);
        if (f) ref[key] = text(f);
      }
      for (const [no, key] of [
        [6, 'controller'],
        [7, 'blockOwnerDeletion'],
      ] as const) {
        const f = r.find((x) => x.no === no);
        if (f) ref[key] = f.value === 1n;
      }
      return ref;
    });
  }
  const finalizers = fs.filter((f) => f.no === 14);
  if (finalizers.length > 0) meta.finalizers = finalizers.map(text);
  return meta;
}

type Decoder = (fs: Field[]) => JsonObject;

const bool = (fs: Field[], no: number): Json | undefined => {
  const f = fs.find((x) => x.no === no);
  return f ? f.value === 1n : undefined;
};

const decoders: Readonly<Record<string, Decoder>> = {
  'v1/Namespace': (fs) => {
    const spec = fs.find((f) => f.no === 2);
    const finalizers = spec ? fields(bytesOf(spec)).filter((f) => f.no === 1) : [];
    return finalizers.length > 0 ? { spec: { finalizers: finalizers.map(text) } } : {};
  },
  'v1/ConfigMap': (fs) => {
    const o: JsonObject = {};
    const data = fs.filter((f) => f.no === 2);
    if (data.length > 0) o.data = stringMap(data);
    const binary = fs.filter((f) => f.no === 3);
    if (binary.length > 0) o.binaryData = stringMap(binary, true);
    const immutable = bool(fs, 4);
    if (immutable !== undefined) o.immutable = immutable;
    return o;
  },
  'v1/Secret': (fs) => {
    const o: JsonObject = {};
    const data = fs.filter((f) => f.no === 2);
    if (data.length > 0) o.data = stringMap(data, true);
    const type = fs.find((f) => f.no === 3);
    if (type) o.type = text(type);
    const stringData = fs.filter((f) => f.no === 4);
    if (stringData.length > 0) o.stringData = stringMap(stringData);
    const immutable = bool(fs, 5);
    if (immutable !== undefined) o.immutable = immutable;
    return o;
  },
  'v1/ServiceAccount': (fs) => {
    const o: JsonObject = {};
    const pulls = fs.filter((f) => f.no === 3);
    if (pulls.length > 0)
      o.imagePullSecrets = pulls.map((p) => {
        const name = fields(bytesOf(p)).find((f) => f.no === 1);
        return name ? { name: text(name) } : {};
      });
    const automount = bool(fs, 4);
    if (automount !== undefined) o.automountServiceAccountToken = automount;
    return o;
  },
};

/** Whether the fake decodes protobuf bodies of this `apiVersion/kind`. */
export function decodesProtobuf(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in decoders;
}

/**
 * Decodes a protobuf request body into the JSON object it encodes.
 * @throws ProtobufError for a malformed body or a kind without a decoder.
 */
export function decodeProtobufObject(body: Buffer): JsonObject {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\u0000')
    throw new ProtobufError(
      'provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]',
    );
  const unknown = fields(body.subarray(4));
  const typeMeta = unknown.find((f) => f.no === 1);
  const tm = typeMeta ? fields(bytesOf(typeMeta)) : [];
  const apiVersionField = tm.find((f) => f.no === 1);
  const kindField = tm.find((f) => f.no === 2);
  const apiVersion = apiVersionField ? text(apiVersionField) : '';
  const kind = kindField ? text(kindField) : '';
  const decoder = decoders[`${apiVersion}/${kind}`];
  if (!decoder) throw new ProtobufError(`no protobuf decoder for ${apiVersion} ${kind}`);
  const raw = unknown.find((f) => f.no === 2);
  const object = raw ? fields(bytesOf(raw)) : [];
  const metadata = object.find((f) => f.no === 1);
  return {
    apiVersion,
    kind,
    metadata: metadata ? objectMeta(bytesOf(metadata)) : {},
    ...decoder(object),
  };
}
