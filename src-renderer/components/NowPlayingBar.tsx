// The now-playing bar: transport, seek bar with time, volume, repeat/shuffle, the track's format
// and a badge when the bytes come from a plugin stream. The position is written to the DOM from
// the position feed (refs), never through React state.
import { type JSX, useEffect, useRef } from 'react';
import { formatChannels, formatRate, formatTime } from '../lib/format.js';
import { trackByline, trackTooltip } from '../lib/track.js';
import { useStore } from '../store/index.js';
import { replayGainLabel } from '../../src-shared/replay-gain.js';
import { position } from '../store/position.js';
import { Cover } from './Cover.js';
import { Icon } from './Icons.js';

function SeekBar(): JSX.Element {
  const input = useRef<HTMLInputElement>(null);
  const fill = useRef<HTMLDivElement>(null);
  const elapsed = useRef<HTMLSpanElement>(null);
  const total = useRef<HTMLSpanElement>(null);
  const dragging = useRef(false);
  const seek = useStore((s) => s.seek);
  const hasTrack = useStore((s) => s.status?.current != null);

  useEffect(() => {
    // What was last written, so that a call that changes nothing a listener can see writes nothing
    // (a DOM write is a redraw of the window).
    const shown = { px: -1, max: '', text: '', total: '' };
    const put = (el: HTMLElement | null, key: 'text' | 'total', text: string): void => {
      if (el && shown[key] !== text) el.textContent = shown[key] = text;
    };
    return position.subscribe(
      (ms, dur) => {
        if (dragging.current) return;
        const width = fill.current?.parentElement?.clientWidth ?? 0;
        const frac = dur ? Math.min(1, ms / dur) : 0;
        const px = Math.round(frac * width);
        // The range input's value moves with the bar; its text with the label (a second).
        const text = formatTime(ms);
        if (input.current) {
          const max = String(dur ?? 0);
          if (shown.max !== max) input.current.max = shown.max = max;
          if (px !== shown.px || text !== shown.text) {
            input.current.value = String(Math.round(ms));
            input.current.setAttribute('aria-valuetext', `${text} of ${formatTime(dur)}`);
          }
        }
        if (fill.current && px !== shown.px) fill.current.style.transform = `scaleX(${width ? px / width : frac})`;
        shown.px = px;
        put(elapsed.current, 'text', text);
        put(total.current, 'total', formatTime(dur));
      },
      // One pixel of the bar, or the label's second, whichever comes first.
      () => {
        const dur = position.duration();
        const width = fill.current?.parentElement?.clientWidth ?? 0;
        return dur && width ? Math.min(1000, dur / width) : 1000;
      },
    );
  }, []);

  return (
    <div className="seek">
      <span className="time" ref={elapsed} data-testid="position-time">
        0:00
      </span>
      <div className="seek-track">
        <div className="seek-fill" ref={fill} />
        <input
          ref={input}
          type="range"
          min={0}
          step={100}
          aria-label="Seek"
          data-testid="seek"
          disabled={!hasTrack}
          onPointerDown={() => (dragging.current = true)}
          onInput={(e) => {
            const v = Number(e.currentTarget.value);
            const dur = position.duration();
            if (elapsed.current) elapsed.current.textContent = formatTime(v);
            if (fill.current && dur) fill.current.style.transform = `scaleX(${v / dur})`;
          }}
          onChange={(e) => {
            dragging.current = false;
            void seek(Number(e.currentTarget.value));
          }}
          onPointerUp={() => (dragging.current = false)}
        />
      </div>
      <span className="time" ref={total} data-testid="duration-time">
        –:––
      </span>
    </div>
  );
}

function Volume(): JSX.Element {
  const volume = useStore((s) => s.status?.volume ?? 1);
  const setVolume = useStore((s) => s.setVolume);
  const toggleMute = useStore((s) => s.toggleMute);
  return (
    <div className="volume">
      <button className="icon-btn" aria-label={volume === 0 ? 'Unmute' : 'Mute'} data-testid="mute" onClick={() => void toggleMute()}>
        {volume === 0 ? Icon.mute() : Icon.volume()}
      </button>
      <input
        type="range"
        min={0}
        max={1}
        step={0.01}
        value={volume}
        aria-label="Volume"
        className="range"
        onChange={(e) => void setVolume(Number(e.currentTarget.value))}
      />
    </div>
  );
}

export function NowPlayingBar(): JSX.Element {
  const status = useStore((s) => s.status);
  const togglePlay = useStore((s) => s.togglePlay);
  const next = useStore((s) => s.next);
  const previous = useStore((s) => s.previous);
  const cycleRepeat = useStore((s) => s.cycleRepeat);
  const toggleShuffle = useStore((s) => s.toggleShuffle);
  const track = status?.current ?? null;
  const fmt = status?.format ?? null;
  const playing = status?.state === 'playing';
  const loading = status?.state === 'loading';

  return (
    <footer className="now-playing" aria-label="Now playing" data-testid="now-playing" data-state={status?.state ?? 'stopped'}>
      <div className="np-track">
        <Cover track={track} size={56} className={`np-art ${playing ? 'is-playing' : ''}`} />
        <div className="np-meta">
          <div className="np-title" data-testid="np-title" title={track?.title}>
            {track?.title ?? 'Nothing playing'}
          </div>
          <div className="np-sub" data-testid="np-sub" title={track ? trackTooltip(track) : undefined}>
            {track ? trackByline(track) : 'Add music to the queue to start'}
          </div>
          <div className="np-badges">
            {fmt ? (
              <span className="badge" data-testid="format-badge" title={`${fmt.codec.toUpperCase()} · ${formatRate(fmt.sampleRate)} · ${formatChannels(fmt.channels)}${fmt.bitsPerSample ? ` · ${fmt.bitsPerSample}-bit` : ''} · ${fmt.decoder}`}>
                {fmt.codec.toUpperCase()} · {formatRate(fmt.sampleRate)} · {formatChannels(fmt.channels)}
                {fmt.bitsPerSample ? ` · ${fmt.bitsPerSample}-bit` : ''}
              </span>
            ) : null}
            {fmt?.streamPlugin || track?.source.kind === 'plugin' ? (
              <span className="badge badge-accent" data-testid="stream-badge" title="Streamed by a plugin">
                {Icon.plug({ size: 12 })} {fmt?.streamPlugin ?? (track?.source.kind === 'plugin' ? track.source.pluginId : '')}
              </span>
            ) : null}
            {status?.replayGain && status.replayGain.source !== 'off' && fmt ? (
              <span className="badge" data-testid="rg-badge" title={status.replayGain.limited ? 'ReplayGain, limited by the peak so it does not clip' : 'ReplayGain'}>
                {replayGainLabel(status.replayGain)}
              </span>
            ) : null}
            {loading ? <span className="badge state-loading">loading…</span> : null}
          </div>
        </div>
      </div>

      <div className="np-center">
        <div className="np-controls">
          <button className={`icon-btn ${status?.shuffle ? 'is-on' : ''}`} aria-label="Shuffle" aria-pressed={status?.shuffle ?? false} onClick={() => void toggleShuffle()}>
            {Icon.shuffle({ size: 18 })}
          </button>
          <button className="icon-btn" aria-label="Previous" onClick={() => void previous()}>
            {Icon.prev()}
          </button>
          <button className={`play-btn ${loading ? 'is-loading' : ''}`} aria-label={playing ? 'Pause' : 'Play'} data-testid="play-pause" onClick={() => void togglePlay()}>
            {playing ? Icon.pause({ size: 22 }) : Icon.play({ size: 22 })}
          </button>
          <button className="icon-btn" aria-label="Next" onClick={() => void next()}>
            {Icon.next()}
          </button>
          <button
            className={`icon-btn repeat ${status && status.repeat !== 'off' ? 'is-on' : ''}`}
            aria-label={`Repeat: ${status?.repeat ?? 'off'}`}
            onClick={() => void cycleRepeat()}
          >
            {Icon.repeat({ size: 18 })}
            {status?.repeat === 'one' ? <span className="repeat-one">1</span> : null}
          </button>
        </div>
        <SeekBar />
      </div>

      <div className="np-right">
        <Volume />
      </div>
    </footer>
  );
}
