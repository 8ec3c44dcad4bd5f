// Checks a plugin config against the capability's JSON Schema before it reaches the plugin.
//
// Plugins declare a schema per capability (plugin.h); the UI generates its form from it. The host
// validates the subset of JSON Schema that config forms use — type, properties, required, enum,
// const, minimum/maximum, minLength/maxLength, pattern, items, minItems/maxItems,
// additionalProperties — so a malformed config gets a precise error without a plugin call.
// Keywords outside the subset are ignored (the plugin's own plan_update is the final word).

type Schema = Record<string, unknown>;

export interface SchemaIssue {
  path: string;
  message: string;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeOf(value);
  return actual === expected || (expected === 'number' && actual === 'integer');
}

function check(schema: unknown, value: unknown, path: string, issues: SchemaIssue[]): void {
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Schema;
  const at = path || '(config)';
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeMatches(t, value))) {
      issues.push({ path: at, message: `must be ${types.join(' or ')}, not ${typeOf(value)}` });
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    issues.push({ path: at, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(value)) {
    issues.push({ path: at, message: `must be ${JSON.stringify(s.const)}` });
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) issues.push({ path: at, message: `must be ≥ ${s.minimum}` });
    if (typeof s.maximum === 'number' && value > s.maximum) issues.push({ path: at, message: `must be ≤ ${s.maximum}` });
  }
  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && value.length < s.minLength) issues.push({ path: at, message: `must have at least ${s.minLength} characters` });
    if (typeof s.maxLength === 'number' && value.length > s.maxLength) issues.push({ path: at, message: `must have at most ${s.maxLength} characters` });
    if (typeof s.pattern === 'string') {
      let re: RegExp | null = null;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        // An invalid pattern in a plugin's schema is the plugin's bug; do not block on it.
      }
      if (re && !re.test(value)) issues.push({ path: at, message: `must match ${s.pattern}` });
    }
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) issues.push({ path: at, message: `must have at least ${s.minItems} items` });
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) issues.push({ path: at, message: `must have at most ${s.maxItems} items` });
    if (s.items) value.forEach((item, i) => check(s.items, item, `${path}[${i}]`, issues));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (typeof s.properties === 'object' && s.properties ? s.properties : {}) as Record<string, unknown>;
    if (Array.isArray(s.required)) {
      for (const key of s.required as string[]) {
        if (!(key in obj)) issues.push({ path: path ? `${path}.${key}` : key, message: 'is required' });
      }
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub = path ? `${path}.${key}` : key;
      if (key in props) check(props[key], v, sub, issues);
      else if (s.additionalProperties === false) issues.push({ path: sub, message: 'is not a known setting' });
      else if (typeof s.additionalProperties === 'object') check(s.additionalProperties, v, sub, issues);
    }
  }
}

/** Validates `value` against `schema`; returns the problems found (empty when valid). */
export function validateConfig(schema: unknown, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  check(schema, value, '', issues);
  return issues;
}
