// A small runtime schema for the IPC contract: each schema checks an unknown value and carries its
// TypeScript type, so one declaration gives both the static type and the validation at the
// process boundary. Objects are strict (unknown keys are an error) unless declared open, because a
// call that does not match the contract must be refused before it reaches a service.

export interface SchemaIssue {
  /** Where in the value, e.g. "params.tracks[2].title". */
  path: string;
  message: string;
}

export interface CheckContext {
  /** At most MAX_ISSUES; the rest are only counted (`more`). */
  issues: SchemaIssue[];
  /** Unknown object keys: an issue (arguments), or dropped (results, so additions on the
   * serving side do not break older callers). */
  unknownKeys: 'reject' | 'strip';
}

export interface Schema<T> {
  /** Human-readable type, used in issue messages. */
  readonly label: string;
  readonly optional: boolean;
  /** Checks `value`; appends issues (never throws). Returns the value to use on success. */
  check(value: unknown, path: string, ctx: CheckContext): T;
  /** Phantom: the static type. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
export type InferShape<S extends Shape> = Simplify<
  { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export class SchemaError extends Error {
  constructor(readonly issues: SchemaIssue[]) {
    super(issues.map((i) => `${i.path || 'value'}: ${i.message}`).join('; '));
    this.name = 'SchemaError';
  }
}

/** Validates and returns the value, or throws a SchemaError listing every issue. */
export function parse<T>(schema: Schema<T>, value: unknown, opts: { path?: string; unknownKeys?: 'reject' | 'strip' } = {}): T {
  const r = validate(schema, value, opts);
  if (!r.ok) throw new SchemaError(r.issues);
  return r.value;
}

/** A reply lists this many issues at most, then how many more there were: a call with 400k bad
 * keys must not turn into a 33 MB error. */
export const MAX_ISSUES = 20;

/** Collects issues up to MAX_ISSUES and counts the rest. */
class IssueList extends Array<SchemaIssue> {
  more = 0;

  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  override push(...items: SchemaIssue[]): number {
    for (const item of items) {
      // A path holds caller-chosen keys: keep a 1 MB key name out of the reply.
      if (this.length < MAX_ISSUES) super.push(item.path.length > 256 ? { ...item, path: `${item.path.slice(0, 256)}…` } : item);
      else this.more++;
    }
    return this.length;
  }
}

export function validate<T>(
  schema: Schema<T>,
  value: unknown,
  opts: { path?: string; unknownKeys?: 'reject' | 'strip' } = {},
): { ok: true; value: T } | { ok: false; issues: SchemaIssue[] } {
  const issues = new IssueList();
  const ctx: CheckContext = { issues, unknownKeys: opts.unknownKeys ?? 'reject' };
  const out = schema.check(value, opts.path ?? '', ctx);
  if (issues.length === 0) return { ok: true, value: out };
  const list: SchemaIssue[] = [...issues];
  if (issues.more > 0) list.push({ path: opts.path ?? '', message: `and ${issues.more} more issues` });
  return { ok: false, issues: list };
}

/** Keys that would reach an object's prototype rather than the object (JSON.parse makes them own keys). */
function isPrototypeKey(key: string): boolean {
  return key === '__proto__';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

function make<T>(label: string, check: (value: unknown, path: string, ctx: CheckContext) => T): Schema<T> & { optional: false } {
  return { label, optional: false, check };
}

const MAX_STRING = 1 << 20;

export const s = {
  string(opts: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> & { optional: false } {
    const max = opts.max ?? MAX_STRING;
    return make('string', (v, path, ctx) => {
      if (typeof v !== 'string') ctx.issues.push({ path, message: `expected a string, got ${describe(v)}` });
      else if (v.length < (opts.min ?? 0)) ctx.issues.push({ path, message: `must have at least ${opts.min} characters` });
      else if (v.length > max) ctx.issues.push({ path, message: `must have at most ${max} characters` });
      else if (opts.pattern && !opts.pattern.test(v)) ctx.issues.push({ path, message: `does not match ${opts.pattern}` });
      return v as string;
    });
  },

  number(opts: { min?: number; max?: number; int?: boolean } = {}): Schema<number> & { optional: false } {
    return make(opts.int ? 'integer' : 'number', (v, path, ctx) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) ctx.issues.push({ path, message: `expected a finite number, got ${describe(v)}` });
      else if (opts.int && !Number.isInteger(v)) ctx.issues.push({ path, message: 'expected an integer' });
      else if (opts.min !== undefined && v < opts.min) ctx.issues.push({ path, message: `must be ≥ ${opts.min}` });
      else if (opts.max !== undefined && v > opts.max) ctx.issues.push({ path, message: `must be ≤ ${opts.max}` });
      return v as number;
    });
  },

  int(opts: { min?: number; max?: number } = {}): Schema<number> & { optional: false } {
    return s.number({ ...opts, int: true });
  },

  boolean(): Schema<boolean> & { optional: false } {
    return make('boolean', (v, path, ctx) => {
      if (typeof v !== 'boolean') ctx.issues.push({ path, message: `expected a boolean, got ${describe(v)}` });
      return v as boolean;
    });
  },

  literal<const L extends string | number | boolean | null>(value: L): Schema<L> & { optional: false } {
    return make(JSON.stringify(value), (v, path, ctx) => {
      if (v !== value) ctx.issues.push({ path, message: `expected ${JSON.stringify(value)}` });
      return v as L;
    });
  },

  enum<const L extends readonly string[]>(values: L): Schema<L[number]> & { optional: false } {
    return make(values.join('|'), (v, path, ctx) => {
      if (typeof v !== 'string' || !values.includes(v)) ctx.issues.push({ path, message: `expected one of ${values.join(', ')}` });
      return v as L[number];
    });
  },

  /** No value: a method without parameters or a result. `null` is accepted (JSON has no undefined). */
  void(): Schema<void> & { optional: false } {
    return make('nothing', (v, path, ctx) => {
      if (v !== undefined && v !== null) ctx.issues.push({ path, message: `expected nothing, got ${describe(v)}` });
      return undefined;
    });
  },

  optional<T>(inner: Schema<T>): Schema<T | undefined> & { optional: true } {
    return {
      label: `${inner.label}?`,
      optional: true,
      check: (v, path, ctx) => (v === undefined ? undefined : inner.check(v, path, ctx)),
    };
  },

  nullable<T>(inner: Schema<T>): Schema<T | null> & { optional: false } {
    return make(`${inner.label}|null`, (v, path, ctx) => (v === null ? null : inner.check(v, path, ctx)));
  },

  array<T>(item: Schema<T>, opts: { max?: number } = {}): Schema<T[]> & { optional: false } {
    const max = opts.max ?? 100_000;
    return make(`${item.label}[]`, (v, path, ctx) => {
      if (!Array.isArray(v)) {
        ctx.issues.push({ path, message: `expected an array, got ${describe(v)}` });
        return v as T[];
      }
      if (v.length > max) {
        ctx.issues.push({ path, message: `must have at most ${max} items` });
        return v as T[];
      }
      return v.map((x, i) => item.check(x, `${path}[${i}]`, ctx));
    });
  },

  /** A plain object with exactly these keys (optional ones may be absent). */
  object<S extends Shape>(shape: S, opts: { open?: boolean } = {}): Schema<InferShape<S>> & { optional: false; shape: S } {
    const schema = make('object', (v, path, ctx) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        ctx.issues.push({ path, message: `expected an object, got ${describe(v)}` });
        return v as InferShape<S>;
      }
      const input = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      if (opts.open) {
        for (const [key, x] of Object.entries(input)) {
          if (isPrototypeKey(key)) ctx.issues.push({ path: path ? `${path}.${key}` : key, message: 'is not allowed' });
          else out[key] = x;
        }
      }
      for (const [key, field] of Object.entries(shape)) {
        const sub = path ? `${path}.${key}` : key;
        // Own keys only: `key in input` would see Object.prototype (toString, constructor, …).
        if (!Object.hasOwn(input, key) || input[key] === undefined) {
          if (!field.optional) ctx.issues.push({ path: sub, message: `is required (${field.label})` });
          continue;
        }
        out[key] = field.check(input[key], sub, ctx);
      }
      if (!opts.open && ctx.unknownKeys === 'reject') {
        for (const key of Object.keys(input)) {
          if (!Object.hasOwn(shape, key)) ctx.issues.push({ path: path ? `${path}.${key}` : key, message: 'is not allowed' });
        }
      }
      return out as InferShape<S>;
    });
    return Object.assign(schema, { shape });
  },

  /** A string-keyed map with values of one schema. */
  record<T>(value: Schema<T>): Schema<Record<string, T>> & { optional: false } {
    return make(`record<${value.label}>`, (v, path, ctx) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        ctx.issues.push({ path, message: `expected an object, got ${describe(v)}` });
        return v as Record<string, T>;
      }
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) {
        if (isPrototypeKey(k)) ctx.issues.push({ path: `${path}.${k}`, message: 'is not allowed' });
        else out[k] = value.check(x, `${path}.${k}`, ctx);
      }
      return out;
    });
  },

  /** Any JSON value (plugin documents, configs), bounded in depth and size. */
  json(opts: { maxDepth?: number } = {}): Schema<unknown> & { optional: false } {
    const maxDepth = opts.maxDepth ?? 32;
    const walk = (v: unknown, depth: number, path: string, ctx: CheckContext): void => {
      if (depth > maxDepth) {
        ctx.issues.push({ path, message: `nested deeper than ${maxDepth}` });
        return;
      }
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) ctx.issues.push({ path, message: 'numbers must be finite' });
        return;
      }
      if (Array.isArray(v)) {
        v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`, ctx));
        return;
      }
      if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        for (const [k, x] of Object.entries(v)) {
          // Stored configs are spread and merged later; a __proto__ key there would reach a prototype.
          if (isPrototypeKey(k)) ctx.issues.push({ path: `${path}.${k}`, message: 'is not allowed' });
          else walk(x, depth + 1, `${path}.${k}`, ctx);
        }
        return;
      }
      ctx.issues.push({ path, message: `not a JSON value (${describe(v)})` });
    };
    return make('json', (v, path, ctx) => {
      walk(v, 0, path, ctx);
      return v;
    });
  },

  /** A JSON object (an item, a config): any keys, JSON values. */
  jsonObject(): Schema<Record<string, unknown>> & { optional: false } {
    const any = s.json();
    return make('json object', (v, path, ctx) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) {
        ctx.issues.push({ path, message: `expected an object, got ${describe(v)}` });
        return v as Record<string, unknown>;
      }
      any.check(v, path, ctx);
      return v as Record<string, unknown>;
    });
  },

  /** A union tagged by one string key. */
  tagged<K extends string, const V extends Record<string, Schema<Record<string, unknown>>>>(
    key: K,
    variants: V,
  ): Schema<Infer<V[keyof V]>> & { optional: false } {
    return make(`${key}:${Object.keys(variants).join('|')}`, (v, path, ctx) => {
      const tag = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
      const variant = typeof tag === 'string' ? variants[tag] : undefined;
      if (!variant) {
        ctx.issues.push({ path: path ? `${path}.${key}` : key, message: `expected one of ${Object.keys(variants).join(', ')}` });
        return v as Infer<V[keyof V]>;
      }
      return variant.check(v, path, ctx) as Infer<V[keyof V]>;
    });
  },
};
