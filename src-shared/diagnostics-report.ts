// The diagnostics report: one self-contained HTML page (no script, no external resource, charts as
// inline SVG drawn here) built from history samples and stall records. The Diagnostics screen shows
// the same charts and its "Save report" writes this page; the QA suite (`npm run qa`) writes one
// section per scenario with its thresholds. Pure string building: no DOM, no Node.
import type { HistorySample, OpsDelta, StallRecord } from './diagnostics-contract.js';

export type { HistorySample, OpsDelta, StallRecord };

/** Upper edges (ms) of the main-loop block buckets a history sample counts; one more bucket
 * holds what is above the last edge. */
export const DELAY_BUCKET_EDGES_MS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10, 12.5, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000] as const;
export type DelayBucketEdges = readonly number[];

export interface LoopWindowStats {
  /** Pooled over the window's samples; p50/p99 are bucket upper edges (capped at max). */
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/** Main-loop block time over a window of history samples. */
export function loopStats(samples: readonly HistorySample[]): LoopWindowStats {
  const n = DELAY_BUCKET_EDGES_MS.length + 1;
  const pooled = new Array<number>(n).fill(0);
  let max = 0;
  let count = 0;
  for (const s of samples) {
    max = Math.max(max, s.loop.max);
    count += s.loop.count;
    s.loop.buckets.forEach((c, i) => (pooled[Math.min(i, n - 1)]! += c));
  }
  const pct = (q: number): number => {
    if (count === 0) return 0;
    let cum = 0;
    for (let i = 0; i < n; i++) {
      cum += pooled[i]!;
      if (cum >= q * count) return Math.min(max, DELAY_BUCKET_EDGES_MS[i] ?? max);
    }
    return max;
  };
  return { p50: pct(0.5), p99: pct(0.99), max, count };
}

export interface ReportThreshold {
  name: string;
  /** The limit as read ("≤ 5 ms", "0"). */
  limit: string;
  value: string;
  pass: boolean;
}

export interface ReportSection {
  id: string;
  title: string;
  description?: string;
  from: number;
  to: number;
  thresholds: ReportThreshold[];
  /** Figures shown beside the thresholds (label -> value). */
  figures?: [string, string][];
  samples: HistorySample[];
  stalls: StallRecord[];
  /** Stalls in the window (the list may keep fewer). */
  stallCount: number;
  notes?: string[];
}

export interface DiagnosticsReport {
  title: string;
  subtitle?: string;
  generatedAt: number;
  sections: ReportSection[];
}

export function sectionPassed(s: ReportSection): boolean {
  return s.thresholds.every((t) => t.pass);
}

// ---- charts ---------------------------------------------------------------------------------------

const PALETTE = ['#7c5cff', '#2bb673', '#f5a623', '#e5484d', '#3b9eff', '#d66efd', '#12a594', '#ff8b3e', '#8e8c99', '#ffd60a'];

export interface ChartSeries {
  name: string;
  points: [number, number | null][];
  color?: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  series: ChartSeries[];
  /** Draw bars (one per sample) instead of lines. */
  bars?: boolean;
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines (thresholds). */
  marks?: { value: number; label: string }[];
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3).replace(/0+$/, '').replace(/\.$/, ''));
const clock = (t: number): string => new Date(t).toISOString().slice(11, 19);

/** One chart as an SVG element (presentation attributes only: no style attribute, which a strict
 * CSP would refuse). */
export function renderChart(c: ChartSpec, width = 560, height = 180): string {
  const padL = 46;
  const padR = 10;
  const padT = 22;
  const padB = 34;
  const w = width - padL - padR;
  const h = height - padT - padB;
  const all = c.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter((v): v is number => v !== null);
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const yMin = c.yMin ?? 0;
  const yMax = c.yMax ?? (Math.max(yMin + 1e-9, ...ys, ...(c.marks ?? []).map((m) => m.value)) * 1.1 || 1);
  const sx = (x: number): number => padL + (x1 === x0 ? w / 2 : ((x - x0) / (x1 - x0)) * w);
  const sy = (y: number): number => padT + h - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * h;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${esc(c.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(c.title)}">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" rx="6" fill="#15151c" stroke="#2c2c38"/>`);
  out.push(`<text x="${padL}" y="15" fill="#e8e8f0" font-size="12" font-family="system-ui,sans-serif" font-weight="600">${esc(c.title)} <tspan fill="#9a9aab" font-weight="400">(${esc(c.unit)})</tspan></text>`);
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    const y = sy(v);
    out.push(`<line x1="${padL}" x2="${padL + w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#2c2c38" stroke-width="1"/>`);
    out.push(`<text x="${padL - 4}" y="${(y + 3).toFixed(1)}" fill="#9a9aab" font-size="9" text-anchor="end" font-family="system-ui,sans-serif">${esc(fmt(v))}</text>`);
  }
  if (xs.length) {
    const ticks: [number, string][] = [[x0, 'start'], [(x0 + x1) / 2, 'middle'], [x1, 'end']];
    for (const [t, anchor] of x1 > x0 ? ticks : ticks.slice(0, 1)) {
      out.push(`<text x="${(x1 > x0 ? sx(t) : padL).toFixed(1)}" y="${height - 20}" fill="#9a9aab" font-size="9" text-anchor="${x1 > x0 ? anchor : 'start'}" font-family="system-ui,sans-serif">${clock(t)}</text>`);
    }
  } else {
    out.push(`<text x="${padL + w / 2}" y="${padT + h / 2}" fill="#9a9aab" font-size="11" text-anchor="middle" font-family="system-ui,sans-serif">no samples</text>`);
  }
  for (const m of c.marks ?? []) {
    if (m.value > yMax) continue;
    const y = sy(m.value).toFixed(1);
    out.push(`<line x1="${padL}" x2="${padL + w}" y1="${y}" y2="${y}" stroke="#e5484d" stroke-width="1" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${padL + w - 2}" y="${Number(y) - 3}" fill="#e5484d" font-size="9" text-anchor="end" font-family="system-ui,sans-serif">${esc(m.label)}</text>`);
  }
  c.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    if (c.bars) {
      // Series side by side within a sample's slot, at most 10 px wide each, inside the plot.
      const n = Math.max(1, s.points.length);
      const slot = w / n;
      const bw = Math.max(1, Math.min(10, slot / c.series.length - 1));
      for (const [x, y] of s.points) {
        if (y === null || y <= yMin) continue;
        const top = sy(y);
        const left = Math.min(padL + w - bw, Math.max(padL, sx(x) - (bw * c.series.length) / 2 + i * bw));
        out.push(`<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(padT + h - top).toFixed(1)}" fill="${color}"/>`);
      }
      return;
    }
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`;
      pen = true;
    }
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6" stroke-linejoin="round"/>`);
  });
  // legend
  let lx = padL;
  c.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    if (lx > width - 60) return;
    out.push(`<rect x="${lx}" y="${height - 11}" width="8" height="8" fill="${color}"/>`);
    out.push(`<text x="${lx + 11}" y="${height - 4}" fill="#c8c8d4" font-size="9" font-family="system-ui,sans-serif">${esc(s.name)}</text>`);
    lx += 18 + Math.min(160, s.name.length * 5.2);
  });
  out.push('</svg>');
  return out.join('');
}

const OUTCOMES: (keyof Omit<OpsDelta, 'pluginId'>)[] = ['completed', 'failed', 'timeout', 'cancelled', 'busy', 'rejected'];
const OUTCOME_COLORS: Record<string, string> = { completed: '#2bb673', failed: '#f5a623', timeout: '#e5484d', cancelled: '#3b9eff', busy: '#d66efd', rejected: '#8e8c99' };

/** The charts of a window of history samples. */
export function historyCharts(samples: readonly HistorySample[], opts: { loopP99Limit?: number; loopMaxLimit?: number } = {}): ChartSpec[] {
  const pts = (get: (s: HistorySample) => number | null): [number, number | null][] => samples.map((s) => [s.at, get(s)]);
  const plugins = [...new Set(samples.flatMap((s) => s.ops.map((o) => o.pluginId)))].sort();
  const calls = (o: OpsDelta): number => OUTCOMES.reduce((n, k) => n + o[k], 0);
  const marks = [
    ...(opts.loopP99Limit !== undefined ? [{ value: opts.loopP99Limit, label: `p99 limit ${opts.loopP99Limit} ms` }] : []),
    ...(opts.loopMaxLimit !== undefined ? [{ value: opts.loopMaxLimit, label: `max limit ${opts.loopMaxLimit} ms` }] : []),
  ];
  return [
    {
      id: 'event-loop',
      title: 'Main-loop block per second',
      unit: 'ms',
      series: [
        { name: 'p50', points: pts((s) => s.loop.p50), color: '#2bb673' },
        { name: 'p99', points: pts((s) => s.loop.p99), color: '#7c5cff' },
        { name: 'max', points: pts((s) => s.loop.max), color: '#f5a623' },
      ],
      marks,
    },
    {
      id: 'calls-per-plugin',
      title: 'Plugin calls per second, by plugin',
      unit: 'calls/s',
      series: plugins.map((p) => ({ name: p.replace(/^dev\.stellatune\./, ''), points: pts((s) => s.ops.filter((o) => o.pluginId === p).reduce((n, o) => n + calls(o), 0)) })),
    },
    {
      id: 'outcomes',
      title: 'Plugin call outcomes per second',
      unit: 'calls/s',
      series: OUTCOMES.map((k) => ({ name: k, color: OUTCOME_COLORS[k], points: pts((s) => s.ops.reduce((n, o) => n + o[k], 0)) })),
    },
    {
      id: 'underruns',
      title: 'Underruns and stalls per second',
      unit: 'count',
      bars: true,
      yMax: Math.max(1, ...samples.map((s) => Math.max(s.underruns, s.stalls))),
      series: [
        { name: 'underruns', points: pts((s) => s.underruns), color: '#e5484d' },
        { name: 'stalls > 50 ms', points: pts((s) => s.stalls), color: '#f5a623' },
      ],
    },
    {
      id: 'ring-fill',
      title: 'Audio ring fill',
      unit: '%',
      yMin: 0,
      yMax: 100,
      series: [
        { name: 'fill', points: pts((s) => (s.ringFill === null ? null : s.ringFill * 100)), color: '#3b9eff' },
        { name: 'min in second', points: pts((s) => (s.ringFillMin === null ? null : s.ringFillMin * 100)), color: '#12a594' },
      ],
    },
    {
      id: 'live',
      title: 'Pending ops, open streams, instances, generations',
      unit: 'count',
      series: [
        { name: 'pending ops', points: pts((s) => s.pendingOps) },
        { name: 'open streams', points: pts((s) => s.openStreams) },
        { name: 'instances', points: pts((s) => s.liveInstances) },
        { name: 'generations', points: pts((s) => s.loadedGenerations) },
      ],
    },
  ];
}

/** The chart grid (an HTML fragment) for a window of samples. */
export function renderHistoryCharts(samples: readonly HistorySample[], opts: { loopP99Limit?: number; loopMaxLimit?: number } = {}): string {
  return `<div class="report-charts">${historyCharts(samples, opts).map((c) => renderChart(c)).join('')}</div>`;
}

/** A table of stall records (an HTML fragment). */
export function renderStallTable(stalls: readonly StallRecord[]): string {
  if (stalls.length === 0) return '<p class="report-muted">No stall over the threshold.</p>';
  const rows = [...stalls]
    .sort((a, b) => b.at - a.at)
    .map((s) => {
      const sections = s.sections.map((x) => `${esc(x.label)} ${fmt(x.ms)} ms`).join('<br>');
      const profile = s.profile ? s.profile.map((p) => `${esc(p.frame)} ${fmt(p.ms)} ms`).join('<br>') : '<span class="report-muted">no profile running</span>';
      const sched = s.cpuMs === null || s.waitMs === null ? '–' : `${fmt(s.cpuMs)} / ${fmt(s.waitMs)}${s.waitMs > s.durationMs / 2 ? ' <span class="report-muted">(machine busy)</span>' : ''}`;
      return `<tr><td>${clock(s.at)}</td><td class="num">${fmt(s.durationMs)}</td><td class="num">${sched}</td><td>${esc(s.callback)}</td><td>${esc(s.context ?? '–')}</td><td>${sections || '–'}</td><td>${profile}</td></tr>`;
    })
    .join('');
  return `<table class="report-table" data-testid="stall-table"><thead><tr><th>time</th><th>ms</th><th>on CPU / waiting for a CPU (ms)</th><th>callback</th><th>dispatch</th><th>sections</th><th>on the CPU (profile)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const REPORT_CSS = `
body{margin:0;background:#0e0e13;color:#e8e8f0;font:14px/1.45 system-ui,sans-serif}
a{color:#a996ff}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}h3{font-size:14px;margin:16px 0 6px;color:#c8c8d4}
.report-muted{color:#9a9aab}
.report-charts{display:flex;flex-wrap:wrap;gap:10px}
.report-table{border-collapse:collapse;width:100%;font-size:12px;margin:6px 0}
.report-table th,.report-table td{border-bottom:1px solid #2c2c38;padding:4px 8px;text-align:left;vertical-align:top}
.report-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#2bb673;font-weight:600}.fail{color:#e5484d;font-weight:600}
.badge{display:inline-block;border-radius:4px;padding:1px 8px;font-size:12px;font-weight:600;margin-left:8px;vertical-align:middle}
.badge.pass{background:#12351f;color:#2bb673}.badge.fail{background:#3d1416;color:#ff6b6f}
section.scenario{border-top:1px solid #2c2c38;margin-top:18px}
.summary td:first-child{font-weight:600}
`;

/** The whole report page. */
export function renderReportHtml(r: DiagnosticsReport): string {
  const summary = r.sections
    .map((s) => {
      const ok = sectionPassed(s);
      const failed = s.thresholds.filter((t) => !t.pass).map((t) => esc(t.name));
      return `<tr><td><a href="#${esc(s.id)}">${esc(s.title)}</a></td><td class="${s.thresholds.length === 0 ? '' : ok ? 'pass' : 'fail'}">${s.thresholds.length === 0 ? '–' : ok ? 'pass' : 'fail'}</td><td>${failed.join(', ') || '–'}</td><td class="num">${s.stallCount}</td><td>${Math.round((s.to - s.from) / 1000)} s</td></tr>`;
    })
    .join('');
  const sections = r.sections
    .map((s) => {
      const ok = sectionPassed(s);
      const thresholds = s.thresholds.length
        ? `<table class="report-table thresholds"><thead><tr><th>threshold</th><th>limit</th><th>measured</th><th>result</th></tr></thead><tbody>${s.thresholds
            .map((t) => `<tr><td>${esc(t.name)}</td><td>${esc(t.limit)}</td><td>${esc(t.value)}</td><td class="${t.pass ? 'pass' : 'fail'}">${t.pass ? 'pass' : 'FAIL'}</td></tr>`)
            .join('')}</tbody></table>`
        : '';
      const figures = s.figures?.length
        ? `<table class="report-table figures"><tbody>${s.figures.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`
        : '';
      const notes = s.notes?.length ? `<ul>${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
      return `<section class="scenario" id="${esc(s.id)}" data-section="${esc(s.id)}"><h2>${esc(s.title)}${s.thresholds.length ? `<span class="badge ${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span>` : ''}</h2>${
        s.description ? `<p class="report-muted">${esc(s.description)}</p>` : ''
      }<p class="report-muted">${new Date(s.from).toISOString()} – ${new Date(s.to).toISOString()}</p>${thresholds}${figures}${notes}<h3>Over time</h3>${renderHistoryCharts(s.samples, { loopP99Limit: 5, loopMaxLimit: 50 })}<h3>Stalls over 50 ms (${s.stallCount})</h3>${renderStallTable(s.stalls)}</section>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(r.title)}</title><style>${REPORT_CSS}</style></head><body><main><h1>${esc(r.title)}</h1><p class="report-muted">${esc(r.subtitle ?? '')} · generated ${new Date(r.generatedAt).toISOString()}</p>${
    r.sections.length > 1 || r.sections.some((s) => s.thresholds.length)
      ? `<table class="report-table summary"><thead><tr><th>section</th><th>result</th><th>failed thresholds</th><th>stalls</th><th>length</th></tr></thead><tbody>${summary}</tbody></table>`
      : ''
  }${sections}</main></body></html>`;
}
