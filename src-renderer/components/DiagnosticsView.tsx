// Diagnostics: the seed's metrics live. The core is polled twice a second while this screen is
// open; the fast-changing numbers (event-loop delay, ring fill, live counts) are written straight
// into the DOM through refs, and only the counter tables go through the store (and only when a
// counter changed).
import { type JSX, useEffect, useRef } from 'react';
import type { DiagnosticsSnapshot } from '../../src-shared/contract.js';
import { describeError } from '../../src-shared/rpc-error.js';
import { api } from '../store/api.js';
import { useStore } from '../store/index.js';

type Metric = { key: string; label: string; get: (s: DiagnosticsSnapshot) => string; unit?: string };

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

const LIVE: Metric[] = [
  { key: 'loop-p50', label: 'Event loop p50', get: (s) => fmtMs(s.eventLoop.p50), unit: 'ms' },
  { key: 'loop-p99', label: 'Event loop p99', get: (s) => fmtMs(s.eventLoop.p99), unit: 'ms' },
  { key: 'loop-max', label: 'Event loop max', get: (s) => fmtMs(s.eventLoop.max), unit: 'ms' },
  { key: 'pending-ops', label: 'Pending plugin ops', get: (s) => String(s.live.pendingOps) },
  { key: 'open-streams', label: 'Open plugin streams', get: (s) => String(s.live.openStreams) },
  { key: 'generations', label: 'Loaded generations', get: (s) => String(s.live.loadedGenerations) },
  { key: 'instances', label: 'Live instances', get: (s) => String(s.live.liveInstances) },
  { key: 'underruns', label: 'Underruns', get: (s) => (s.engine ? String(s.engine.underruns) : '–') },
  { key: 'device-losses', label: 'Device losses', get: (s) => (s.engine ? String(s.engine.deviceLosses) : '–') },
  { key: 'recovery', label: 'Last recovery', get: (s) => (s.engine?.lastRecoveryMs != null ? fmtMs(s.engine.lastRecoveryMs) : '–'), unit: 'ms' },
  { key: 'block', label: 'Block latency p50/p99', get: (s) => (s.engine ? `${fmtMs(s.engine.blockLatencyP50)} / ${fmtMs(s.engine.blockLatencyP99)}` : '–'), unit: 'ms' },
  { key: 'restarts', label: 'Audio process restarts', get: (s) => (s.engine ? String(s.engine.audioProcessRestarts) : '–') },
];

const HISTORY = 120;

export function DiagnosticsView(): JSX.Element {
  const refs = useRef<Record<string, HTMLElement | null>>({});
  const ringBar = useRef<HTMLDivElement>(null);
  const ringMin = useRef<HTMLDivElement>(null);
  const ringText = useRef<HTMLSpanElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const history = useRef<number[]>([]);
  const diag = useStore((s) => s.diagnostics);
  const applyDiagnostics = useStore((s) => s.applyDiagnostics);
  const info = useStore((s) => s.info);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async (): Promise<void> => {
      try {
        const snap = await api().diagnostics.snapshot();
        if (stopped) return;
        for (const m of LIVE) {
          const el = refs.current[m.key];
          if (el) el.textContent = m.get(snap);
        }
        const e = snap.engine;
        const fill = e ? e.ringFill : 0;
        if (ringBar.current) ringBar.current.style.transform = `scaleX(${fill})`;
        if (ringMin.current) ringMin.current.style.left = `${(e ? e.ringFillMin : 0) * 100}%`;
        if (ringText.current) ringText.current.textContent = e ? `${Math.round(fill * 100)}% of ${e.ringCapacityFrames} frames (min ${Math.round(e.ringFillMin * 100)}%)` : 'engine not running';
        history.current = [...history.current.slice(-(HISTORY - 1)), snap.eventLoop.p99];
        draw(canvas.current, history.current);
        if (errorRef.current) errorRef.current.textContent = '';
        applyDiagnostics(snap);
      } catch (err) {
        if (errorRef.current) errorRef.current.textContent = describeError(err);
      }
      if (!stopped) timer = setTimeout(() => void tick(), 500);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [applyDiagnostics]);

  return (
    <section className="screen" aria-labelledby="diag-title">
      <header className="screen-head">
        <div>
          <h1 id="diag-title">Diagnostics</h1>
          <p className="muted">
            Live from the core · {info ? `${info.shell} shell, v${info.version}` : ''}
            {info?.engineUnavailable ? ` · audio engine: ${info.engineUnavailable}` : ''}
          </p>
        </div>
      </header>
      <div className="error-text" ref={errorRef} />
      <div className="metrics" data-testid="diag-metrics">
        {LIVE.map((m) => (
          <div className="metric" key={m.key}>
            <span className="metric-label">{m.label}</span>
            <span className="metric-value">
              <span ref={(el) => void (refs.current[m.key] = el)} data-testid={`diag-${m.key}`}>
                –
              </span>
              {m.unit ? <small> {m.unit}</small> : null}
            </span>
          </div>
        ))}
      </div>

      <div className="grid-2">
        <div className="card">
          <h2>Event-loop delay p99 (last minute)</h2>
          <canvas ref={canvas} className="sparkline" width={480} height={90} aria-label="Event loop p99 history" />
        </div>
        <div className="card">
          <h2>Audio ring</h2>
          <div className="ring">
            <div className="ring-fill" ref={ringBar} />
            <div className="ring-min" ref={ringMin} />
          </div>
          <span className="muted small" ref={ringText} data-testid="diag-ring">
            –
          </span>
          {diag ? (
            <p className="muted small">
              Plugins: {diag.plugins.loaded} loaded, {diag.plugins.disabled} disabled, {diag.plugins.failed} failed, {diag.plugins.generations} generations mapped
            </p>
          ) : null}
        </div>
      </div>

      <div className="card">
        <h2>Plugin control calls</h2>
        {!diag || diag.ops.length === 0 ? (
          <p className="muted">No plugin calls yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="diag-ops">
              <thead>
                <tr>
                  <th>Plugin</th>
                  <th>Op</th>
                  <th>Completed</th>
                  <th>Failed</th>
                  <th>Timeout</th>
                  <th>Cancelled</th>
                  <th>Busy</th>
                  <th>Rejected</th>
                </tr>
              </thead>
              <tbody>
                {diag.ops.map((o) => (
                  <tr key={`${o.pluginId}/${o.op}`}>
                    <td className="mono">{o.pluginId}</td>
                    <td className="mono">{o.op}</td>
                    <td>{o.completed}</td>
                    <td className={o.failed ? 'warn' : ''}>{o.failed}</td>
                    <td className={o.timeout ? 'warn' : ''}>{o.timeout}</td>
                    <td>{o.cancelled}</td>
                    <td className={o.busy ? 'warn' : ''}>{o.busy}</td>
                    <td>{o.rejected}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

function draw(c: HTMLCanvasElement | null, values: number[]): void {
  const ctx = c?.getContext('2d');
  if (!c || !ctx) return;
  const styles = getComputedStyle(c);
  const accent = styles.getPropertyValue('--accent').trim() || '#7c5cff';
  const grid = styles.getPropertyValue('--border').trim() || '#333';
  const w = c.width;
  const h = c.height;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(5, ...values) * 1.2;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  for (const frac of [0.25, 0.5, 0.75]) {
    ctx.beginPath();
    ctx.moveTo(0, h * frac);
    ctx.lineTo(w, h * frac);
    ctx.stroke();
  }
  ctx.strokeStyle = accent;
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / (HISTORY - 1)) * w;
    const y = h - (v / max) * h;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = styles.getPropertyValue('--muted').trim() || '#888';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(`${max.toFixed(0)} ms`, 4, 12);
}
