/**
 * CloudFormation intrinsics rendered as what they point to, for people reading a review:
 *
 *   { Ref: 'Queue' }                                   -> <Queue>
 *   { 'Fn::GetAtt': ['Queue', 'Arn'] }                 -> <Queue>.Arn
 *   { 'Fn::GetStackOutput': { StackName: 'platform-production-messaging',
 *       OutputName: 'PublishOutputFnGetAttKafkaCluster21A1BE89ArnDDB38E7D' } }
 *                                                      -> <platform-production-messaging>.KafkaCluster.Arn
 *   Fn::Join / Fn::Sub                                 -> the joined string, references inline
 *   Fn::Select of a literal list, Fn::Split of a literal -> evaluated
 *   Fn::Select(i, Fn::Split(d, <ref>))                 -> <ref>.split("d")[i]; consecutive parts joined
 *                                                         by their own delimiter become one range [1..2]
 *
 * Anything else is written as a call (`If(IsProd, a, b)`, `Base64(...)`): never as escaped JSON.
 * cloudformation-diff's own renderer stringifies every intrinsic but Ref/GetAtt/Join as JSON, and
 * re-escapes it at each level of nesting: a cross-stack ARN became 1,400 characters of backslashes.
 * Not reversible, and not meant to be: the comparison itself always runs on the raw templates.
 */

interface SplitPart {
  /** The rendered value being split. */
  readonly source: string;
  readonly delimiter: string;
  readonly first: number;
  readonly last: number;
}

/** One rendered value: its text, whether it is a plain literal, and (for Select of Split) which part. */
interface Piece {
  readonly text: string;
  readonly literal: boolean;
  readonly part?: SplitPart;
}

const literal = (text: string): Piece => ({ text, literal: true });
const ref = (text: string): Piece => ({ text, literal: false });

function intrinsicOf(value: unknown): { fn: string; args: unknown } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || (keys[0] !== 'Ref' && !keys[0].startsWith('Fn::'))) return undefined;
  return { fn: keys[0], args: (value as Record<string, unknown>)[keys[0]] };
}

export const isNoValue = (value: unknown) => {
  const intrinsic = intrinsicOf(value);
  return intrinsic?.fn === 'Ref' && intrinsic.args === 'AWS::NoValue';
};

/**
 * The output names CDK generates for cross-stack references (`ExportsOutput...` for exports,
 * `PublishOutput...` for cross-region references): Ref or FnGetAtt, the logical id (with its
 * 8-hex-digit hash), the attribute, and a hash of the whole. Decoded to `Logical.Attr`; anything
 * else is returned as it is.
 */
export function outputTarget(outputName: string): string {
  const m = /^(?:ExportsOutput|PublishOutput)(Ref|FnGetAtt)(.+)[0-9A-F]{8}$/.exec(outputName);
  if (!m) return outputName;
  const [, kind, inner] = m;
  if (kind === 'Ref') return /^(.+?)[0-9A-F]{8}$/.exec(inner)?.[1] ?? inner;
  // The logical id's hash is followed by the attribute name (a capitalized word) or nothing.
  const att = /^(.+?)[0-9A-F]{8}([A-Z][a-z0-9].*)$/.exec(inner);
  return att ? `${att[1]}.${att[2]}` : inner;
}

/** `<stack>.Logical.Attr` from a CDK export name `stack:ExportsOutput...`, else `<import name>`. */
function importTarget(name: string): string {
  const m = /^([^:]+):((?:ExportsOutput|PublishOutput).+)$/.exec(name);
  return m ? `<${m[1]}>.${outputTarget(m[2])}` : `<import ${name}>`;
}

const partText = (p: SplitPart) =>
  `${p.source}.split(${JSON.stringify(p.delimiter)})[${p.first}${p.last > p.first ? `..${p.last}` : ''}]`;

const partPiece = (part: SplitPart): Piece => ({ text: partText(part), literal: false, part });

const sameSource = (a: SplitPart, b: SplitPart) => a.source === b.source && a.delimiter === b.delimiter && b.first === a.last + 1;

/** Joins pieces; consecutive parts of one split, joined by that split's delimiter, become a range. */
function joinPieces(pieces: readonly Piece[], separator: string): Piece {
  const out: Piece[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const previous = out[out.length - 1];
    const piece = pieces[i];
    // Join(d, [..., part k, part k+1, ...]) with d the split's delimiter.
    if (previous?.part && piece.part && separator === previous.part.delimiter && sameSource(previous.part, piece.part)) {
      out[out.length - 1] = partPiece({ ...previous.part, last: piece.part.last });
      continue;
    }
    // Join('', [..., part k, 'd', part k+1, ...]).
    const next = pieces[i + 1];
    if (separator === '' && previous?.part && piece.literal && piece.text === previous.part.delimiter && next?.part && sameSource(previous.part, next.part)) {
      out[out.length - 1] = partPiece({ ...previous.part, last: next.part.last });
      i++;
      continue;
    }
    out.push(piece);
  }
  if (out.length === 1) return out[0];
  return { text: out.map((p) => p.text).join(separator), literal: out.every((p) => p.literal) };
}

/** The elements of a list value when they can be known (a literal list, a Split of a literal). */
function listPieces(value: unknown): Piece[] | undefined {
  if (Array.isArray(value)) return value.filter((v) => !isNoValue(v)).map(piece);
  const intrinsic = intrinsicOf(value);
  if (intrinsic?.fn === 'Fn::Split' && Array.isArray(intrinsic.args)) {
    const [delimiter, source] = intrinsic.args as [unknown, unknown];
    const rendered = piece(source);
    if (typeof delimiter === 'string' && rendered.literal) return rendered.text.split(delimiter).map(literal);
  }
  return undefined;
}

const call = (name: string, args: readonly unknown[]) => ref(`${name}(${args.map(text).join(', ')})`);

function sub(template: string, variables: Record<string, unknown>): Piece {
  let isLiteral = true;
  const text = template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (name in variables) {
      const value = piece(variables[name]);
      isLiteral &&= value.literal;
      return value.text;
    }
    isLiteral = false;
    const dot = name.indexOf('.');
    return dot > 0 && !name.startsWith('AWS::') ? `<${name.slice(0, dot)}>${name.slice(dot)}` : `<${name}>`;
  });
  return { text, literal: isLiteral };
}

function intrinsicPiece(fn: string, args: unknown): Piece {
  const list = Array.isArray(args) ? args : [args];
  switch (fn) {
    case 'Ref': return ref(`<${text(args)}>`);
    case 'Fn::GetAtt': {
      const [id, ...attribute] = typeof args === 'string' ? args.split('.') : list.map(text);
      return ref(`<${id}>${attribute.length ? `.${attribute.join('.')}` : ''}`);
    }
    case 'Fn::GetStackOutput': {
      const { StackName, OutputName } = (args ?? {}) as { StackName?: unknown; OutputName?: unknown };
      return ref(`<${text(StackName)}>.${typeof OutputName === 'string' ? outputTarget(OutputName) : text(OutputName)}`);
    }
    case 'Fn::ImportValue': return ref(typeof args === 'string' ? importTarget(args) : `<import ${text(args)}>`);
    case 'Fn::Join': {
      const [separator, values] = list as [unknown, unknown];
      const pieces = listPieces(values);
      if (typeof separator === 'string' && pieces) return joinPieces(pieces, separator);
      return call('Join', list);
    }
    case 'Fn::Sub': {
      const [template, variables] = list as [unknown, unknown];
      if (typeof template === 'string') return sub(template, (variables && typeof variables === 'object' ? variables : {}) as Record<string, unknown>);
      return call('Sub', list);
    }
    case 'Fn::Select': {
      const [indexValue, values] = list as [unknown, unknown];
      const index = Number(typeof indexValue === 'object' ? NaN : indexValue);
      const pieces = listPieces(values);
      if (Number.isInteger(index) && pieces?.[index]) return pieces[index];
      const split = intrinsicOf(values);
      if (Number.isInteger(index) && split?.fn === 'Fn::Split' && Array.isArray(split.args) && typeof split.args[0] === 'string') {
        return partPiece({ source: text(split.args[1]), delimiter: split.args[0], first: index, last: index });
      }
      if (Number.isInteger(index) && split?.fn === 'Fn::GetAZs') return ref(`<AZ ${index} of ${text(split.args) || '<AWS::Region>'}>`);
      return ref(`${text(values)}[${text(indexValue)}]`);
    }
    case 'Fn::Split': {
      const [delimiter, source] = list as [unknown, unknown];
      const pieces = listPieces({ [fn]: args });
      return pieces ? literal(pieces.map((p) => p.text).join(', ')) : ref(`${text(source)}.split(${JSON.stringify(text(delimiter))})`);
    }
    case 'Fn::FindInMap': return ref(`${text(list[0])}[${list.slice(1).map(text).join('][')}]`);
    case 'Fn::If': return ref(`If(${list.map(text).join(', ')})`);
    case 'Fn::GetAZs': return ref(`<AZs of ${text(args) || '<AWS::Region>'}>`);
    default: return call(fn.replace(/^Fn::/, ''), list);
  }
}

function piece(value: unknown): Piece {
  const intrinsic = intrinsicOf(value);
  if (intrinsic) return isNoValue(value) ? literal('') : intrinsicPiece(intrinsic.fn, intrinsic.args);
  if (typeof value === 'string') return literal(value);
  if (value === undefined) return literal('');
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    // A condition reference inside Fn::And/Or/Not/If.
    if (keys.length === 1 && keys[0] === 'Condition') return ref(`Condition(${text((value as { Condition: unknown }).Condition)})`);
  }
  if (typeof value === 'object' && value !== null) return ref(JSON.stringify(renderIntrinsics(value)));
  return literal(String(value));
}

/** One value as text: an intrinsic as what it points to, a literal as itself. */
export function text(value: unknown): string {
  return piece(value).text;
}

/**
 * A copy of a template fragment with every intrinsic replaced by its text (and `Ref:
 * AWS::NoValue` removed, as CloudFormation does): what the diff tables and the full diff are
 * computed from, so no `Fn::` reaches a person.
 */
export function renderIntrinsics<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => !isNoValue(v)).map(renderIntrinsics) as T;
  if (intrinsicOf(value)) return text(value) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (!isNoValue(v)) out[key] = renderIntrinsics(v);
    return out as T;
  }
  return value;
}
