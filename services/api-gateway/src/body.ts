/**
 * Request bodies: UTF-8 JSON only, read within a time budget. A charset other than UTF-8 is 415,
 * bytes that are not UTF-8 and strings with lone surrogates are 400 naming the body (never
 * replaced by U+FFFD and stored), a body that does not arrive in time is 408 and one shorter than
 * its Content-Length is 400: the client's fault, answered as such, not a gateway timeout.
 */
import type { IncomingMessage } from 'node:http';
import { ProblemError, problem } from './problem';

/** WHATWG Encoding labels of UTF-8 that clients send in practice. */
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/** The charset parameter of a Content-Type, lower-cased and unquoted; undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return undefined;
}

const bodyProblem = (status: number, message: string) => new ProblemError(
  problem(status, `body: ${message}`, { errors: [{ field: 'body', message }] }),
  // The rest of the body may still be on the wire: the connection cannot be reused.
  { Connection: 'close' },
);

/** Reads the whole body: 413 past `limit` bytes, 408 when it has not ended by `deadline`. */
function readBody(stream: IncomingMessage, limit: number, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(bodyProblem(413, `is larger than the limit of ${limit} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = () => finish(bodyProblem(400, 'ended before Content-Length bytes arrived'));
    const onClose = () => finish(bodyProblem(400, 'ended before Content-Length bytes arrived'));
    const timer = setTimeout(() => finish(bodyProblem(408, 'did not arrive in time (fewer bytes than Content-Length, or too slowly)')), Math.max(0, deadline - Date.now()));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.resume();
  });
}

/** The path of the first string (or key) holding a lone surrogate, or undefined. */
export function loneSurrogateAt(value: unknown, path: string[] = []): string | undefined {
  // With the u flag a lone surrogate is a code point of category Cs; a proper pair is not.
  const lone = /\p{Cs}/u;
  if (typeof value === 'string') return lone.test(value) ? (path.join('.') || 'body') : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = loneSurrogateAt(value[i], [...path, String(i)]);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (lone.test(key)) return [...path, key].join('.');
      const found = loneSurrogateAt(inner, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

export interface JsonBodyOptions {
  readonly limit: number;
  /** Epoch milliseconds by which the whole body must have arrived. */
  readonly deadline: number;
  /** Fastify's JSON parser (prototype-poisoning safe), as getDefaultJsonParser gives it. */
  readonly parse: (text: string) => Promise<unknown>;
}

/** Reads, decodes and parses an application/json body (see the file comment). */
export async function readJsonBody(request: IncomingMessage, options: JsonBodyOptions): Promise<unknown> {
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && !UTF8_LABELS.has(charset)) {
    throw new ProblemError(problem(415, `Content-Type charset ${JSON.stringify(charset)} is not accepted: bodies are UTF-8 JSON (application/json or application/json; charset=utf-8)`), { Connection: 'close' });
  }
  const declared = request.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > options.limit) throw bodyProblem(413, `is larger than the limit of ${options.limit} bytes`);
  const bytes = await readBody(request, options.limit, options.deadline);
  if (length !== undefined && bytes.length !== length) throw bodyProblem(400, 'is shorter than its Content-Length');
  if (bytes.length === 0) throw bodyProblem(400, 'is empty; send a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bodyProblem(400, 'is not valid UTF-8');
  }
  const value = await options.parse(text);
  const at = loneSurrogateAt(value);
  if (at) throw bodyProblem(400, `holds a lone surrogate (not a Unicode character) at ${at}`);
  return value;
}
