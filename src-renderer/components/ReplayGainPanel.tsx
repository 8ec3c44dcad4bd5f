// ReplayGain on the Output screen: the mode (off, track, album, auto), the preamp for tagged
// files, the gain of untagged files and clipping prevention. Every change is applied at once (the
// player re-marks the tracks already decoded, so it is heard within the device buffer) and saved
// with the player's other settings; the line below says what the playing track gets.
import { type JSX, useEffect, useRef, useState } from 'react';
import { DEFAULT_REPLAY_GAIN, replayGainLabel, type ReplayGainMode, type ReplayGainSettings } from '../../src-shared/replay-gain.js';
import { describeError } from '../../src-shared/rpc-error.js';
import { api } from '../store/api.js';
import { useStore } from '../store/index.js';

const MODES: { mode: ReplayGainMode; label: string; help: string }[] = [
  { mode: 'off', label: 'Off', help: 'Every file plays as it is.' },
  { mode: 'track', label: 'Track', help: 'Each track at its own loudness: even volume in a mixed queue.' },
  { mode: 'album', label: 'Album', help: 'Each album at its loudness: quiet tracks of an album stay quiet.' },
  { mode: 'auto', label: 'Auto', help: 'Album gain while an album plays in order, track gain otherwise.' },
];

const db = (v: number): string => `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)} dB`;

export function ReplayGainPanel(): JSX.Element {
  const applied = useStore((s) => s.status?.replayGain ?? null);
  const hasTrack = useStore((s) => s.status?.current != null && s.status.state !== 'stopped');
  const notify = useStore((s) => s.notify);
  const [rg, setRg] = useState<ReplayGainSettings | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    let live = true;
    api()
      .replayGain.get()
      .then((s) => live && setRg(s))
      .catch((err: unknown) => {
        if (live) setRg(DEFAULT_REPLAY_GAIN);
        notify('error', `ReplayGain: ${describeError(err)}`);
      });
    return () => {
      live = false;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [notify]);

  if (!rg) return <div className="card"><h2>ReplayGain</h2></div>;

  // Sliders send at most every 80 ms while dragging; the rest at once.
  const push = (next: ReplayGainSettings, throttled = false): void => {
    setRg(next);
    if (timer.current) clearTimeout(timer.current);
    const send = (): void => void api().replayGain.set({ settings: next }).catch((err: unknown) => notify('error', `ReplayGain: ${describeError(err)}`));
    if (throttled) timer.current = setTimeout(send, 80);
    else send();
  };
  const off = rg.mode === 'off';

  return (
    <div className="card replay-gain" data-testid="replay-gain">
      <h2>ReplayGain</h2>
      <div className="rg-modes" role="radiogroup" aria-label="ReplayGain mode">
        {MODES.map((m) => (
          <label key={m.mode} className={`rg-mode ${rg.mode === m.mode ? 'is-on' : ''}`}>
            <input type="radio" name="rg-mode" value={m.mode} checked={rg.mode === m.mode} onChange={() => push({ ...rg, mode: m.mode })} />
            {m.label}
          </label>
        ))}
      </div>
      <p className="muted small rg-help">{MODES.find((m) => m.mode === rg.mode)?.help}</p>
      <div className="form-row">
        <label className="form-label" htmlFor="rg-preamp">
          Preamp<span className="form-help">added to tagged gains</span>
        </label>
        <div className="num-field">
          <input id="rg-preamp" className="range" type="range" min={-15} max={15} step={0.5} value={rg.preampDb} disabled={off} onChange={(e) => push({ ...rg, preampDb: Number(e.currentTarget.value) }, true)} />
          <span className="rg-value" data-testid="rg-preamp-value">{db(rg.preampDb)}</span>
        </div>
      </div>
      <div className="form-row">
        <label className="form-label" htmlFor="rg-untagged">
          Untagged files<span className="form-help">files without ReplayGain tags</span>
        </label>
        <div className="num-field">
          <input id="rg-untagged" className="range" type="range" min={-15} max={15} step={0.5} value={rg.untaggedDb} disabled={off} onChange={(e) => push({ ...rg, untaggedDb: Number(e.currentTarget.value) }, true)} />
          <span className="rg-value">{db(rg.untaggedDb)}</span>
        </div>
      </div>
      <label className="switch-label">
        <span className="switch">
          <input type="checkbox" checked={rg.preventClipping} disabled={off} onChange={(e) => push({ ...rg, preventClipping: e.currentTarget.checked })} data-testid="rg-clipping" />
          <span className="switch-track" />
        </span>
        <span>Prevent clipping (keeps peak × gain at or below full scale)</span>
      </label>
      <p className="muted small rg-now" data-testid="rg-now">
        {hasTrack && applied ? (applied.source === 'off' ? 'Now playing without ReplayGain.' : `Now playing at ${replayGainLabel(applied).replace(/^RG /, '')}.`) : 'Nothing is playing.'}
      </p>
    </div>
  );
}
