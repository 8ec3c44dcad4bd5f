// The equalizer panel for the DSP plugin (the built-in `eq10`, or any DSP whose config has
// bands/preamp/bypass): vertical gain sliders per band, preamp and bypass. Changes are applied
// while dragging (throttled); the engine hot-applies them on the decode thread.
import { type JSX, useEffect, useMemo, useRef, useState } from 'react';
import { capabilityLabel } from '../lib/format.js';
import { useStore } from '../store/index.js';

interface Band {
  freq_hz: number;
  gain_db: number;
  q?: number;
  type?: string;
}
interface EqConfig {
  bypass: boolean;
  preamp_db: number;
  bands: Band[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asEq(config: unknown): EqConfig | null {
  if (!isObj(config) || !Array.isArray(config.bands)) return null;
  const bands = config.bands.filter(isObj).map((b) => ({ ...b, freq_hz: Number(b.freq_hz ?? 0), gain_db: Number(b.gain_db ?? 0) })) as Band[];
  return { bypass: config.bypass === true, preamp_db: Number(config.preamp_db ?? 0), bands };
}

const freqLabel = (f: number): string => (f >= 1000 ? `${f % 1000 === 0 ? f / 1000 : (f / 1000).toFixed(1)}k` : String(Math.round(f)));

const PRESETS: Record<string, number[]> = {
  Flat: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  'Bass boost': [6, 5, 4, 2, 0, 0, 0, 0, 0, 0],
  Vocal: [-2, -1, 0, 2, 4, 4, 3, 1, 0, -1],
  Treble: [0, 0, 0, 0, 0, 1, 2, 4, 5, 6],
};

export function EqPanel(): JSX.Element {
  const dsps = useStore((s) => s.dsps);
  const applyDsp = useStore((s) => s.applyDsp);
  const eqCap = useMemo(() => dsps.find((d) => d.typeId === 'eq10') ?? dsps.find((d) => asEq(d.config) !== null) ?? null, [dsps]);
  const [eq, setEq] = useState<EqConfig | null>(null);
  const [status, setStatus] = useState<string>('');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  // Taken from the store when the panel mounts or the EQ plugin changes, not on every store update
  // (that would pull a slider back while it is being dragged).
  const eqKey = eqCap ? `${eqCap.pluginId}/${eqCap.typeId}` : null;
  useEffect(() => setEq(eqCap ? asEq(eqCap.config) : null), [eqKey]);

  if (!eqCap || !eq) {
    return (
      <div className="card">
        <h2>Equalizer</h2>
        <p className="muted">No equalizer plugin is loaded. Enable the EQ plugin on the Plugins screen.</p>
      </div>
    );
  }

  const push = (next: EqConfig, immediate = false): void => {
    setEq(next);
    if (timer.current) clearTimeout(timer.current);
    const send = async (): Promise<void> => {
      const r = await applyDsp(eqCap.pluginId, eqCap.typeId, next as unknown as Record<string, unknown>);
      setStatus(r ? (r.outcome === 'rejected' ? `Rejected: ${r.reason ?? ''}` : r.outcome === 'hot_applied' ? 'Applied live' : r.outcome === 'recreated' ? 'Applied (recreated)' : 'Saved') : 'Not applied');
    };
    if (immediate) void send();
    else timer.current = setTimeout(() => void send(), 120);
  };

  return (
    <div className={`card eq ${eq.bypass ? 'is-bypassed' : ''}`} data-testid="eq-panel">
      <header className="eq-head">
        <h2>Equalizer</h2>
        <span className="muted small">{capabilityLabel(eqCap)}</span>
        <span className="spacer" />
        <select className="input select small" aria-label="Preset" defaultValue="" onChange={(e) => {
          const gains = PRESETS[e.currentTarget.value];
          if (gains) push({ ...eq, bands: eq.bands.map((b, i) => ({ ...b, gain_db: gains[i] ?? 0 })) }, true);
        }}>
          <option value="" disabled>Presets</option>
          {Object.keys(PRESETS).map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
        <label className="switch-label">
          <span>Bypass</span>
          <span className="switch">
            <input type="checkbox" checked={eq.bypass} onChange={(e) => push({ ...eq, bypass: e.currentTarget.checked }, true)} data-testid="eq-bypass" />
            <span className="switch-track" />
          </span>
        </label>
      </header>
      <div className="eq-bands">
        <div className="eq-band preamp">
          <output className="eq-value">{eq.preamp_db > 0 ? '+' : ''}{eq.preamp_db.toFixed(1)}</output>
          <input type="range" className="vslider" min={-24} max={24} step={0.5} value={eq.preamp_db} aria-label="Preamp dB" data-testid="eq-preamp" onChange={(e) => push({ ...eq, preamp_db: Number(e.currentTarget.value) })} />
          <span className="eq-freq">Pre</span>
        </div>
        <div className="eq-divider" />
        {eq.bands.map((b, i) => (
          <div className="eq-band" key={i}>
            <output className="eq-value" data-testid={`eq-value-${i}`}>{b.gain_db > 0 ? '+' : ''}{b.gain_db.toFixed(1)}</output>
            <input
              type="range"
              className="vslider"
              min={-24}
              max={24}
              step={0.5}
              value={b.gain_db}
              aria-label={`${freqLabel(b.freq_hz)}Hz gain dB`}
              data-testid={`eq-band-${i}`}
              onChange={(e) => push({ ...eq, bands: eq.bands.map((x, j) => (j === i ? { ...x, gain_db: Number(e.currentTarget.value) } : x)) })}
            />
            <span className="eq-freq">{freqLabel(b.freq_hz)}</span>
          </div>
        ))}
      </div>
      <div className="muted small" role="status" data-testid="eq-status">{status}</div>
    </div>
  );
}
