// Diagnostics: the seed's metrics live. The core is polled twice a second while this screen is
// open; the fast-changing numbers (event-loop delay, ring fill, live counts) are written straight
// into the DOM through refs, and only the counter tables go through the store (and only when a
// counter changed). The charts and the stall list come from the core's history (one sample a
// second for the last hour), so they show the past as soon as the screen opens; "Save report"
// writes the same charts as a self-contained HTML page.
import { type JSX, useEffect, useRef, useState } from 'react';
import type { DiagnosticsSnapshot } from '../../src-shared/contract.js';
import type { DiagnosticsHistoryView, HistorySample, StallRecord } from '../../src-shared/diagnostics-contract.js';
import { loopStats, renderHistoryCharts, renderReportHtml, renderStallTable } from '../../src-shared/diagnostics-report.js';
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

const HISTORY_POLL_MS = 2000;
const CHART_WINDOW_MS = 10 * 60 * 1000;

export function DiagnosticsView(): JSX.Element {
  const refs = useRef<Record<string, HTMLElement | null>>({});
  const ringBar = useRef<HTMLDivElement>(null);
  const ringMin = useRef<HTMLDivElement>(null);
  const ringText = useRef<HTMLSpanElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);
  const history = useRef<{ samples: HistorySample[]; stalls: StallRecord[]; stallCount: number; startedAt: number }>({ samples: [], stalls: [], stallCount: 0, startedAt: 0 });
  const [historyView, setHistoryView] = useState<{ charts: string; stalls: string; count: number; span: string; first: number; samples: number } | null>(null);
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

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const poll = async (): Promise<void> => {
      const h = history.current;
      const since = h.samples.at(-1)?.at;
      try {
        const v: DiagnosticsHistoryView = await api().diagnostics.history(since !== undefined ? { sinceMs: since + 1 } : {});
        if (stopped) return;
        h.samples = [...h.samples, ...v.samples].slice(-3600);
        h.stalls = v.stalls.length > 0 || since === undefined ? mergeStalls(h.stalls, v.stalls) : h.stalls;
        h.stallCount = v.stallCount;
        h.startedAt = v.startedAt;
        const shown = h.samples.filter((s) => s.at >= Date.now() - CHART_WINDOW_MS);
        setHistoryView({
          charts: renderHistoryCharts(shown, { loopP99Limit: 5, loopMaxLimit: 50 }),
          stalls: renderStallTable(h.stalls.slice(-50)),
          count: h.stallCount,
          span: shown.length > 0 ? `${Math.round((shown.at(-1)!.at - shown[0]!.at) / 1000) + 1} s` : '–',
          first: shown[0]?.at ?? 0,
          samples: shown.length,
        });
      } catch (err) {
        if (errorRef.current) errorRef.current.textContent = describeError(err);
      }
      if (!stopped) timer = setTimeout(() => void poll(), HISTORY_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, []);

  const saveReport = (): void => {
    const h = history.current;
    const loop = loopStats(h.samples);
    const html = renderReportHtml({
      title: 'StellaTune diagnostics',
      subtitle: info ? `${info.shell} shell, v${info.version}, ${info.platform}` : '',
      generatedAt: Date.now(),
      sections: [
        {
          id: 'session',
          title: 'This session',
          description: `The core's history since ${new Date(h.startedAt).toLocaleString()} (one sample a second, the last hour).`,
          from: h.samples[0]?.at ?? Date.now(),
          to: h.samples.at(-1)?.at ?? Date.now(),
          thresholds: [],
          figures: [
            ['main-loop block p50 / p99 / max', `${loop.p50} / ${loop.p99} / ${loop.max} ms`],
            ['underruns', String(h.samples.reduce((n, s) => n + s.underruns, 0))],
            ['stalls over 50 ms', String(h.stallCount)],
          ],
          samples: h.samples,
          stalls: h.stalls,
          stallCount: h.stallCount,
        },
      ],
    });
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `stellatune-diagnostics-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.html`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

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
        <button className="btn" onClick={saveReport} data-testid="diag-save-report" disabled={!historyView}>
          Save report
        </button>
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

      <div className="card">
        <h2>
          History <span className="muted small">(last {historyView?.span ?? '–'}, one sample a second)</span>
        </h2>
        {/* Our own SVG markup (escaped text, presentation attributes only), the same as the saved report's. */}
        <div
          className="diag-history"
          data-testid="diag-history"
          data-first-sample={historyView?.first ?? 0}
          data-samples={historyView?.samples ?? 0}
          dangerouslySetInnerHTML={{ __html: historyView?.charts ?? '' }} />
      </div>

      <div className="grid-2">
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
        <div className="card">
          <h2>
            Stalls over 50 ms <span data-testid="diag-stall-count">{historyView?.count ?? '–'}</span>
          </h2>
          <div className="table-wrap diag-stalls" data-testid="diag-stalls" dangerouslySetInnerHTML={{ __html: historyView?.stalls ?? '' }} />
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

function mergeStalls(kept: StallRecord[], fresh: StallRecord[]): StallRecord[] {
  // A stall's profile arrives a few seconds after the stall: a fresh copy replaces the kept one.
  const byKey = new Map(kept.map((s) => [`${s.at}/${s.durationMs}`, s]));
  for (const s of fresh) byKey.set(`${s.at}/${s.durationMs}`, s);
  return [...byKey.values()].sort((a, b) => a.at - b.at).slice(-500);
}
