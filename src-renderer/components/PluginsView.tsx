// Every discovered plugin library: status (loaded, disabled, failed with the reason), capabilities,
// enable/disable/reload, and per capability a config form with the apply outcome.
import { type JSX, memo, useState } from 'react';
import type { CapabilityView, PluginView } from '../../src-shared/contract.js';
import { capKey } from '../store/slices.js';
import { useStore } from '../store/index.js';
import { ConfigForm } from './ConfigForm.js';
import { Icon } from './Icons.js';

const KIND_LABEL: Record<CapabilityView['kind'], string> = {
  decoder: 'Decoder',
  dsp: 'Effect',
  source: 'Source',
  lyrics: 'Lyrics',
  output: 'Output',
};

function Outcome({ k }: { k: string }): JSX.Element | null {
  const o = useStore((s) => s.applyOutcome[k]);
  if (!o) return null;
  const text =
    o.outcome === 'hot_applied' ? 'Applied live' : o.outcome === 'recreated' ? 'Applied (instance recreated)' : o.outcome === 'stored' ? 'Saved; used by the next instance' : o.outcome === 'rejected' ? `Rejected: ${o.reason ?? ''}` : `Failed: ${o.reason ?? ''}`;
  const bad = o.outcome === 'rejected' || o.outcome === 'error';
  return (
    <div className={`outcome ${bad ? 'is-bad' : 'is-good'}`} role="status" data-testid="config-outcome" data-outcome={o.outcome}>
      {text}
    </div>
  );
}

/** "14:03" in the listener's clock. */
function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** The call a crash happened in, as authors name it ("list_items", not "begin_list_items"). */
function callName(step: string | null): string {
  return step ? step.replace(/^begin_/, '') : 'plugin code';
}

// A card renders again only when its plugin's view changed (the store keeps unchanged views).
const PluginCard = memo(function PluginCard({ p }: { p: PluginView }): JSX.Element {
  const busy = useStore((s) => (p.pluginId ? s.pluginBusy[p.pluginId] : false));
  const setEnabled = useStore((s) => s.setPluginEnabled);
  const reload = useStore((s) => s.reloadPlugin);
  const enableAnyway = useStore((s) => s.enableAnyway);
  const applyConfig = useStore((s) => s.applyConfig);
  const [open, setOpen] = useState<string | null>(null);
  const name = p.metadata?.name ?? p.path.split(/[\\/]/).pop();
  const id = p.pluginId;

  return (
    <article className={`card plugin-card status-${p.status}`} data-testid="plugin-card" data-plugin-id={id ?? ''} data-status={p.status}>
      <header className="plugin-head">
        <div className="plugin-title">
          <h2>{name}</h2>
          <span className={`status-pill ${p.status}`} data-testid="plugin-status">
            {p.status}
          </span>
          <span className="muted small">
            {p.metadata ? `v${p.metadata.version}` : ''} · {p.origin}
            {p.leaseId !== null ? ` · generation ${p.leaseId}` : ''}
            {p.retiredGenerations > 0 ? ` · ${p.retiredGenerations} retired still in use` : ''}
          </span>
        </div>
        {p.status === 'quarantined' ? (
          <div className="head-actions">
            <button className="btn" onClick={() => void enableAnyway(p.path)} data-testid="plugin-enable-anyway">
              Enable anyway
            </button>
          </div>
        ) : id ? (
          <div className="head-actions">
            {p.status === 'disabled' ? (
              <button className="btn" disabled={busy} onClick={() => void setEnabled(id, true)} data-testid="plugin-enable">
                Enable
              </button>
            ) : (
              <button className="btn" disabled={busy || p.status === 'removed'} onClick={() => void setEnabled(id, false)} data-testid="plugin-disable">
                Disable
              </button>
            )}
            <button className="btn" disabled={busy || p.status === 'disabled'} onClick={() => void reload(id)} data-testid="plugin-reload">
              {Icon.reload({ size: 14 })} Reload
            </button>
          </div>
        ) : null}
      </header>
      <p className="muted small mono" title={p.path}>
        {id ?? 'unknown id'} — {p.path}
      </p>
      {p.metadata?.description ? <p>{p.metadata.description}</p> : null}
      {p.quarantine ? (
        <div className="error-box" data-testid="plugin-quarantine">
          Crashed the player at {clock(p.quarantine.atMs)} ({p.quarantine.signal} in {callName(p.quarantine.step)}) — disabled.
          <span className="muted small"> On {p.quarantine.thread} of the {p.quarantine.process} process; a new build of the library is tried again.</span>
        </div>
      ) : p.error && p.status === 'loaded' ? (
        <div className="error-box" data-testid="plugin-error">
          New build refused (<strong>{p.error.code}</strong> {p.error.message}); version {p.metadata?.version ?? '?'} still serving.
        </div>
      ) : p.error ? (
        <div className="error-box" data-testid="plugin-error">
          <strong>{p.error.code}</strong>: {p.error.message}
        </div>
      ) : null}
      {p.capabilities.length > 0 ? (
        <ul className="caps">
          {p.capabilities.map((c) => {
            const k = capKey(id ?? '', c.kind, c.typeId);
            const expanded = open === k;
            return (
              <li key={k} className="cap">
                <div className="cap-row">
                  <span className={`kind kind-${c.kind}`}>{KIND_LABEL[c.kind]}</span>
                  <span className="cap-name">{c.displayName}</span>
                  <span className="muted small mono">{c.typeId}</span>
                  {c.extensions.length > 0 ? <span className="muted small">{c.extensions.map((e) => `.${e.ext}`).join(' ')}</span> : null}
                  <span className="spacer" />
                  {id && p.status === 'loaded' ? (
                    <button className="btn small" aria-expanded={expanded} onClick={() => setOpen(expanded ? null : k)} data-testid="config-toggle">
                      {Icon.sliders({ size: 14 })} Configure
                    </button>
                  ) : null}
                </div>
                {expanded && id ? (
                  <div className="cap-config">
                    <ConfigForm schema={c.configSchema} config={c.config} defaultConfig={c.defaultConfig} storedSecrets={c.storedSecrets} onApply={(cfg) => void applyConfig(id, c.kind, c.typeId, cfg)} />
                    <Outcome k={k} />
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
    </article>
  );
});

const STATUS_ORDER: Record<PluginView['status'], number> = { loaded: 0, disabled: 1, quarantined: 2, failed: 3, removed: 4 };

export function PluginsView(): JSX.Element {
  const all = useStore((s) => s.plugins);
  const plugins = [...all].sort(
    (a, b) =>
      Number(a.origin !== 'builtin') - Number(b.origin !== 'builtin') ||
      STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
      (a.metadata?.name ?? a.path).localeCompare(b.metadata?.name ?? b.path),
  );
  const info = useStore((s) => s.info);
  const loaded = all.filter((p) => p.status === 'loaded').length;
  return (
    <section className="screen" aria-labelledby="plugins-title">
      <header className="screen-head">
        <div>
          <h1 id="plugins-title">Plugins</h1>
          <p className="muted">
            {loaded} of {all.length} loaded{info ? ` · drop libraries into ${info.pluginFolder}` : ''}
          </p>
        </div>
      </header>
      {plugins.length === 0 ? (
        <div className="empty">
          <div className="empty-icon">{Icon.plug({ size: 40 })}</div>
          <h2>No plugins found</h2>
          <p className="muted">Build the native plugins (npm run build) or drop a library into the plugin folder.</p>
        </div>
      ) : (
        <div className="card-list">
          {plugins.map((p) => (
            <PluginCard key={p.path} p={p} />
          ))}
        </div>
      )}
    </section>
  );
}
