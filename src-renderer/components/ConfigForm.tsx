// A config form generated from a capability's JSON Schema (the subset plugins use: strings, enums,
// numbers, integers, booleans, nested objects, arrays of those and arrays of objects as tables);
// anything else is edited as JSON: a node whose meaning depends on keywords a form cannot show
// (oneOf, $ref, if/then, tuples, …) gets a JSON editor of its own, and a schema whose top level
// uses them is edited as JSON as a whole. The core validates with the full schema either way.
// The plugin remains the judge: apply shows the plan's outcome (hot-applied, recreated, rejected).
// Secret fields (`format: password`, `writeOnly`) never come from the core: a stored one shows as
// "stored (unchanged)" and is left out of what apply sends (the core keeps it); typing replaces it,
// Clear sends "" to remove it.
import { type JSX, useEffect, useMemo, useState } from 'react';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  title?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  writeOnly?: boolean;
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

/** Keywords that change what a node accepts in ways the generated controls cannot express. */
const BEYOND_FORM = ['oneOf', 'anyOf', 'allOf', 'not', '$ref', '$dynamicRef', 'if', 'then', 'else', 'dependentSchemas', 'dependentRequired', 'patternProperties', 'prefixItems', 'propertyNames', 'unevaluatedProperties', 'contains'];

/** Whether the controls below can edit values of this node faithfully. */
export function formable(schema: unknown): boolean {
  if (!isObj(schema)) return false;
  if (BEYOND_FORM.some((k) => k in schema)) return false;
  const s = schema as JsonSchema & Record<string, unknown>;
  if (Array.isArray(s.items)) return false; // draft-07 tuple
  if (isObj(s.additionalProperties)) return false;
  return true;
}

function isSecret(schema: JsonSchema): boolean {
  return schema.format === 'password' || schema.writeOnly === true;
}

/** The top-level fields `schema` marks as secret. */
export function secretKeys(schema: unknown): string[] {
  if (!isObj(schema) || !isObj((schema as JsonSchema).properties)) return [];
  return Object.entries((schema as JsonSchema).properties!).filter(([, p]) => isObj(p) && isSecret(p)).map(([k]) => k);
}

/** The defaults, without their secret fields: "Defaults" resets the settings, and a stored
 * password stays stored (Clear removes it). */
export function defaultsKeepingSecrets(defaults: unknown, schema: unknown): Record<string, unknown> {
  const out = isObj(defaults) ? { ...defaults } : {};
  for (const k of secretKeys(schema)) delete out[k];
  return out;
}

export function supportsForm(schema: unknown): boolean {
  return formable(schema) && isObj((schema as JsonSchema).properties);
}

/** "delay_ms" -> "Delay ms" (a schema's title wins). */
function labelOf(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function withKey(obj: Record<string, unknown>, key: string, v: unknown): Record<string, unknown> {
  const next = { ...obj };
  if (v === undefined) delete next[key];
  else next[key] = v;
  return next;
}

/** A new array item: the defaults its schema declares. */
function newItem(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (typeOf(schema) === 'object' && schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(schema.properties)) if (sub.default !== undefined) out[k] = structuredClone(sub.default);
    return out;
  }
  return typeOf(schema) === 'number' || typeOf(schema) === 'integer' ? 0 : typeOf(schema) === 'boolean' ? false : '';
}

interface ControlProps {
  id: string;
  label: string;
  schema: JsonSchema;
  value: unknown;
  onChange: (v: unknown) => void;
  /** Inside a table cell: no slider. */
  compact?: boolean;
  /** A secret field whose value the core keeps (and never sends). */
  stored?: boolean;
}

/** The input for one schema node (recursive for objects and arrays). */
function Control({ id, label, schema, value, onChange, compact, stored }: ControlProps): JSX.Element {
  if (!formable(schema)) return <JsonField id={id} value={value} onChange={onChange} />;
  const type = typeOf(schema);
  if (schema.enum) {
    return (
      <select id={id} aria-label={compact ? label : undefined} className="input select" value={String(value ?? schema.default ?? '')} onChange={(e) => onChange(schema.enum!.find((x) => String(x) === e.currentTarget.value))}>
        {schema.enum.map((opt) => (
          <option key={String(opt)} value={String(opt)}>
            {String(opt)}
          </option>
        ))}
      </select>
    );
  }
  if (type === 'boolean') {
    return (
      <label className="switch">
        <input id={id} aria-label={compact ? label : undefined} type="checkbox" checked={value === true || (value === undefined && schema.default === true)} onChange={(e) => onChange(e.currentTarget.checked)} />
        <span className="switch-track" />
      </label>
    );
  }
  if (type === 'number' || type === 'integer') {
    // 'any': a default such as 1.41 must not read as invalid against a 0.1 grid.
    const step = type === 'integer' ? 1 : 'any';
    const ranged = !compact && schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum - schema.minimum <= 1000;
    return (
      <span className="num-field">
        {ranged ? (
          <input type="range" className="range" aria-label={`${label} slider`} min={schema.minimum} max={schema.maximum} step={step} value={Number(value ?? schema.default ?? 0)} onChange={(e) => onChange(Number(e.currentTarget.value))} />
        ) : null}
        <input
          id={id}
          aria-label={compact ? label : undefined}
          type="number"
          className={`input num ${compact ? 'small' : ''}`}
          min={schema.minimum}
          max={schema.maximum}
          step={step}
          value={value === undefined || value === null ? '' : String(value)}
          placeholder={schema.default !== undefined ? String(schema.default) : ''}
          onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
        />
      </span>
    );
  }
  if (type === 'object' && schema.properties) {
    const obj = isObj(value) ? value : isObj(schema.default) ? schema.default : {};
    return (
      <div className="sub-form">
        {Object.entries(schema.properties).map(([k, sub]) => (
          <Field key={k} name={k} path={`${id}-${k}`} schema={sub} value={obj[k]} onChange={(v) => onChange(withKey(obj, k, v))} />
        ))}
      </div>
    );
  }
  if (type === 'array' && schema.items) {
    const items = schema.items;
    const arr: unknown[] = Array.isArray(value) ? value : Array.isArray(schema.default) ? schema.default : [];
    const canAdd = schema.maxItems === undefined || arr.length < schema.maxItems;
    const canRemove = arr.length > (schema.minItems ?? 0);
    const setAt = (i: number, v: unknown): void => onChange(arr.map((x, j) => (j === i ? v : x)));
    const remove = (i: number): void => onChange(arr.filter((_, j) => j !== i));
    const add = <button type="button" className="btn small" disabled={!canAdd} onClick={() => onChange([...arr, newItem(items)])}>Add</button>;
    if (typeOf(items) === 'object' && items.properties) {
      const cols = Object.entries(items.properties);
      return (
        <div className="obj-array">
          <div className="table-wrap">
            <table className="table compact">
              <thead>
                <tr>
                  <th>#</th>
                  {cols.map(([k, sub]) => (
                    <th key={k}>{sub.title ?? labelOf(k)}</th>
                  ))}
                  <th />
                </tr>
              </thead>
              <tbody>
                {arr.map((item, i) => {
                  const row = isObj(item) ? item : {};
                  return (
                    <tr key={i}>
                      <td className="muted">{i + 1}</td>
                      {cols.map(([k, sub]) => (
                        <td key={k}>
                          <Control id={`${id}-${i}-${k}`} label={`${label} ${i + 1} ${sub.title ?? k}`} schema={sub} value={row[k]} onChange={(v) => setAt(i, withKey(row, k, v))} compact />
                        </td>
                      ))}
                      <td>
                        <button type="button" className="icon-btn small" aria-label={`Remove ${label} ${i + 1}`} disabled={!canRemove} onClick={() => remove(i)}>
                          ×
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {add}
        </div>
      );
    }
    return (
      <span className="num-array">
        {arr.map((v, i) => (
          <Control key={i} id={`${id}-${i}`} label={`${label} ${i + 1}`} schema={items} value={v} onChange={(x) => setAt(i, x)} compact />
        ))}
        {add}
      </span>
    );
  }
  if (type === 'string' || type === undefined) {
    const secret = isSecret(schema);
    const input = (
      <input
        id={id}
        aria-label={compact ? label : undefined}
        className="input"
        type={secret ? 'password' : schema.format === 'uri' ? 'url' : 'text'}
        autoComplete={secret ? 'new-password' : 'off'}
        // JSON Schema patterns search; HTML patterns must match the whole value.
        pattern={schema.pattern ? `[\\s\\S]*(?:${schema.pattern})[\\s\\S]*` : undefined}
        value={typeof value === 'string' ? value : ''}
        placeholder={secret && stored ? (value === '' ? 'cleared on apply' : 'stored (unchanged)') : typeof schema.default === 'string' ? schema.default : ''}
        data-secret={secret ? (stored ? (value === undefined ? 'stored' : value === '' ? 'clearing' : 'replacing') : 'none') : undefined}
        onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
      />
    );
    if (!secret || !stored) return input;
    return (
      <span className="secret-field">
        {input}
        <button type="button" className="btn small" disabled={value === ''} onClick={() => onChange('')}>
          Clear
        </button>
      </span>
    );
  }
  return <JsonField id={id} value={value} onChange={onChange} />;
}

function Field({ name, path, schema, value, onChange, stored }: { name: string; path?: string; schema: JsonSchema; value: unknown; onChange: (v: unknown) => void; stored?: boolean }): JSX.Element {
  const label = schema.title ?? labelOf(name);
  const id = `cf-${path ?? name}`;
  const block = typeOf(schema) === 'object' || (typeOf(schema) === 'array' && schema.items !== undefined && typeOf(schema.items) === 'object');
  return (
    <div className={`form-row ${block ? 'is-block' : ''}`}>
      <label htmlFor={id} className="form-label">
        {label}
        {schema.description ? <span className="form-help">{schema.description}</span> : null}
      </label>
      <div className="form-control">
        <Control id={id} label={label} schema={schema} value={value} onChange={onChange} stored={stored} />
      </div>
    </div>
  );
}

function JsonField({ id, value, onChange }: { id?: string; value: unknown; onChange: (v: unknown) => void }): JSX.Element {
  const [text, setText] = useState(() => JSON.stringify(value ?? null, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <textarea
      id={id}
      data-testid="config-json"
      aria-invalid={bad}
      className={`input code ${bad ? 'is-invalid' : ''}`}
      rows={Math.min(12, text.split('\n').length + 1)}
      value={text}
      spellCheck={false}
      onChange={(e) => {
        setText(e.currentTarget.value);
        try {
          onChange(JSON.parse(e.currentTarget.value));
          setBad(false);
        } catch {
          setBad(true);
        }
      }}
    />
  );
}

export function ConfigForm(props: {
  schema: unknown;
  config: unknown;
  defaultConfig: unknown;
  /** Secret fields the core holds a value for (their values never reach the renderer). */
  storedSecrets?: readonly string[];
  busy?: boolean;
  onApply: (config: Record<string, unknown>) => void;
}): JSX.Element {
  const stored = new Set(props.storedSecrets ?? []);
  const initial = useMemo(() => (isObj(props.config) ? props.config : isObj(props.defaultConfig) ? props.defaultConfig : {}), [props.config, props.defaultConfig]);
  const [draft, setDraft] = useState<Record<string, unknown>>(initial);
  const [asJson, setAsJson] = useState(!supportsForm(props.schema));
  const [jsonKey, setJsonKey] = useState(0);
  useEffect(() => setDraft(initial), [initial]);

  const schema = props.schema as JsonSchema;
  const dirty = JSON.stringify(draft) !== JSON.stringify(initial);
  return (
    <form
      className="config-form"
      data-testid="config-form"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply(draft);
      }}
    >
      {asJson ? (
        <JsonField key={jsonKey} value={draft} onChange={(v) => isObj(v) && setDraft(v)} />
      ) : (
        Object.entries(schema.properties ?? {}).map(([name, sub]) => (
          <Field key={name} name={name} schema={sub} value={draft[name]} stored={stored.has(name)} onChange={(v) => setDraft((d) => withKey(d, name, v))} />
        ))
      )}
      <div className="form-actions">
        {supportsForm(props.schema) ? (
          <button type="button" className="link" onClick={() => { setAsJson(!asJson); setJsonKey((k) => k + 1); }}>
            {asJson ? 'Edit as form' : 'Edit as JSON'}
          </button>
        ) : null}
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => { setDraft(defaultsKeepingSecrets(props.defaultConfig, props.schema)); setJsonKey((k) => k + 1); }}>
          Defaults
        </button>
        <button type="submit" className="btn btn-primary" disabled={props.busy} data-testid="config-apply">
          Apply{dirty ? '' : ' again'}
        </button>
      </div>
    </form>
  );
}
