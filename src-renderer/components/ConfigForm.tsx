// A config form generated from a capability's JSON Schema (the subset plugins use: objects of
// strings, enums, numbers, integers, booleans and number arrays); anything else is edited as JSON.
// The plugin remains the judge: apply shows the plan's outcome (hot-applied, recreated, rejected).
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

export function supportsForm(schema: unknown): boolean {
  return isObj(schema) && isObj((schema as JsonSchema).properties);
}

function Field({ name, schema, value, onChange }: { name: string; schema: JsonSchema; value: unknown; onChange: (v: unknown) => void }): JSX.Element {
  const label = schema.title ?? name.replace(/_/g, ' ');
  const id = `cf-${name}`;
  const type = typeOf(schema);
  let control: JSX.Element;
  if (schema.enum) {
    control = (
      <select id={id} className="input select" value={String(value ?? schema.default ?? '')} onChange={(e) => onChange(schema.enum!.find((x) => String(x) === e.currentTarget.value))}>
        {schema.enum.map((opt) => (
          <option key={String(opt)} value={String(opt)}>
            {String(opt)}
          </option>
        ))}
      </select>
    );
  } else if (type === 'boolean') {
    control = (
      <label className="switch">
        <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} />
        <span className="switch-track" />
      </label>
    );
  } else if (type === 'number' || type === 'integer') {
    const step = type === 'integer' ? 1 : 0.1;
    const ranged = schema.minimum !== undefined && schema.maximum !== undefined && schema.maximum - schema.minimum <= 1000;
    control = (
      <span className="num-field">
        {ranged ? (
          <input type="range" className="range" aria-label={`${label} slider`} min={schema.minimum} max={schema.maximum} step={step} value={Number(value ?? schema.default ?? 0)} onChange={(e) => onChange(Number(e.currentTarget.value))} />
        ) : null}
        <input
          id={id}
          type="number"
          className="input num"
          min={schema.minimum}
          max={schema.maximum}
          step={step}
          value={value === undefined || value === null ? '' : String(value)}
          placeholder={schema.default !== undefined ? String(schema.default) : ''}
          onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
        />
      </span>
    );
  } else if (type === 'array' && schema.items && ['number', 'integer'].includes(typeOf(schema.items) ?? '')) {
    const arr = Array.isArray(value) ? (value as number[]) : Array.isArray(schema.default) ? (schema.default as number[]) : [];
    control = (
      <span className="num-array">
        {arr.map((v, i) => (
          <input key={i} type="number" className="input num small" aria-label={`${label} ${i + 1}`} value={v} step={typeOf(schema.items!) === 'integer' ? 1 : 0.1} onChange={(e) => onChange(arr.map((x, j) => (j === i ? Number(e.currentTarget.value) : x)))} />
        ))}
      </span>
    );
  } else if (type === 'string' || type === undefined) {
    const secret = schema.format === 'password' || schema.writeOnly === true;
    control = (
      <input
        id={id}
        className="input"
        type={secret ? 'password' : schema.format === 'uri' ? 'url' : 'text'}
        autoComplete={secret ? 'new-password' : 'off'}
        // JSON Schema patterns search; HTML patterns must match the whole value.
        pattern={schema.pattern ? `[\\s\\S]*(?:${schema.pattern})[\\s\\S]*` : undefined}
        value={typeof value === 'string' ? value : ''}
        placeholder={typeof schema.default === 'string' ? schema.default : ''}
        onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
      />
    );
  } else {
    control = <JsonField value={value} onChange={onChange} />;
  }
  return (
    <div className="form-row">
      <label htmlFor={id} className="form-label">
        {label}
        {schema.description ? <span className="form-help">{schema.description}</span> : null}
      </label>
      <div className="form-control">{control}</div>
    </div>
  );
}

function JsonField({ value, onChange }: { value: unknown; onChange: (v: unknown) => void }): JSX.Element {
  const [text, setText] = useState(() => JSON.stringify(value ?? null, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <textarea
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
  busy?: boolean;
  onApply: (config: Record<string, unknown>) => void;
}): JSX.Element {
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
          <Field key={name} name={name} schema={sub} value={draft[name]} onChange={(v) => setDraft((d) => {
            const next = { ...d };
            if (v === undefined) delete next[name];
            else next[name] = v;
            return next;
          })} />
        ))
      )}
      <div className="form-actions">
        {supportsForm(props.schema) ? (
          <button type="button" className="link" onClick={() => { setAsJson(!asJson); setJsonKey((k) => k + 1); }}>
            {asJson ? 'Edit as form' : 'Edit as JSON'}
          </button>
        ) : null}
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => { setDraft(isObj(props.defaultConfig) ? props.defaultConfig : {}); setJsonKey((k) => k + 1); }}>
          Defaults
        </button>
        <button type="submit" className="btn btn-primary" disabled={props.busy} data-testid="config-apply">
          Apply{dirty ? '' : ' again'}
        </button>
      </div>
    </form>
  );
}
