// Checks a plugin's config schema, and configs against it, with a real JSON Schema validator.
//
// A capability's schema (plugin.h) is third-party input: the host validates it as a schema first
// (draft 2020-12, or draft-07 when it says `"$schema": "http://json-schema.org/draft-07/schema#"`)
// and then every config against it before the plugin sees one, so `oneOf`, `$ref`, `if`/`then`
// and formats hold as the author wrote them. The checker (tools/plugin-check.ts) uses the same
// functions. Unknown keywords (`x-stellatune-actions`, UI hints) are allowed.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export interface SchemaIssue {
  path: string;
  message: string;
}

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv | Ajv2020) => void;

// verbose: errors carry the failing value (for "must be object, not array").
const options = { allErrors: true, strict: false, validateSchema: true, verbose: true } as const;
const draft2020 = new Ajv2020(options);
const draft07 = new Ajv(options);
addFormats(draft2020);
addFormats(draft07);

const DRAFT_07 = /json-schema\.org\/draft-07\/schema/;

type Compiled = { validate: ValidateFunction } | { error: string };
const cache = new Map<string, Compiled>();

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function compile(schema: unknown): Compiled {
  const key = JSON.stringify(schema) ?? 'undefined';
  const hit = cache.get(key);
  if (hit) return hit;
  let out: Compiled;
  if (typeof schema === 'boolean' || (typeof schema === 'object' && schema !== null && !Array.isArray(schema))) {
    const s = schema as Record<string, unknown> | boolean;
    const ajv = typeof s === 'object' && typeof s.$schema === 'string' && DRAFT_07.test(s.$schema) ? draft07 : draft2020;
    try {
      // Not registered under its $id: two plugins may declare the same one.
      let copy: object | boolean = s;
      if (typeof s === 'object') {
        const { $id: _id, ...rest } = s;
        copy = rest;
      }
      out = { validate: ajv.compile(copy as object) };
    } catch (err) {
      out = { error: (err as Error).message };
    }
  } else {
    out = { error: `a schema must be an object or a boolean, not ${typeOf(schema)}` };
  }
  if (cache.size > 512) cache.clear();
  cache.set(key, out);
  return out;
}

/** Why `schema` is not a usable JSON Schema, or null when it is. */
export function schemaProblem(schema: unknown): string | null {
  const c = compile(schema);
  return 'error' in c ? c.error : null;
}

/** "/bands/0/gain_db" → "bands[0].gain_db". */
function dotted(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function issueOf(e: ErrorObject, root: string): SchemaIssue {
  const base = dotted(e.instancePath);
  const at = (child?: string): string => (child ? (base ? `${base}.${child}` : child) : base || root);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: at(String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: at(String(p.additionalProperty)), message: 'is not a known setting' };
    case 'type':
      return { path: at(), message: `must be ${[p.type].flat().join(' or ')}, not ${typeOf(e.data)}` };
    case 'enum':
      return { path: at(), message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { path: at(), message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'minimum':
      return { path: at(), message: `must be ≥ ${String(p.limit)}` };
    case 'maximum':
      return { path: at(), message: `must be ≤ ${String(p.limit)}` };
    case 'minLength':
      return { path: at(), message: `must have at least ${String(p.limit)} characters` };
    case 'maxLength':
      return { path: at(), message: `must have at most ${String(p.limit)} characters` };
    case 'pattern':
      return { path: at(), message: `must match ${String(p.pattern)}` };
    case 'minItems':
      return { path: at(), message: `must have at least ${String(p.limit)} items` };
    case 'maxItems':
      return { path: at(), message: `must have at most ${String(p.limit)} items` };
    default:
      return { path: at(), message: e.message ?? e.keyword };
  }
}

/**
 * Validates `value` against `schema`; returns the problems found (empty when valid). A schema
 * that is not a valid JSON Schema is itself the one problem (path "(schema)").
 */
export function validateConfig(schema: unknown, value: unknown, root = '(config)'): SchemaIssue[] {
  const c = compile(schema);
  if ('error' in c) return [{ path: '(schema)', message: `the plugin's config schema is invalid: ${c.error}` }];
  if (c.validate(value)) return [];
  // oneOf/anyOf report every branch's errors plus their own; keep them all, but once.
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of c.validate.errors ?? []) {
    const issue = issueOf(e, root);
    const k = `${issue.path}\u0000${issue.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(issue);
  }
  return out;
}
