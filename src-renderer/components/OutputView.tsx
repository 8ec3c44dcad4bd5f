// Output: PortAudio host APIs and devices with the buffer size, OutputSink plugin targets,
// ReplayGain and the EQ panel.
import { type JSX, useEffect, useState } from 'react';
import { DEFAULT_BUFFER_FRAMES, type OutputChoice } from '../../src-shared/player-types.js';
import { useStore } from '../store/index.js';
import { EqPanel } from './EqPanel.js';
import { ReplayGainPanel } from './ReplayGainPanel.js';
import { Icon, Spinner } from './Icons.js';

const BUFFERS = [256, 512, 1024, 2048, 4096];

function describeOutput(o: OutputChoice | undefined, devices: { id: number; name: string }[], opened: string | null): string {
  if (!o) return '–';
  if (o.kind === 'plugin') return `${o.pluginId} · ${o.typeId} → ${String(o.target.name ?? o.target.id ?? 'target')}`;
  // The default device plays through a PulseAudio stream of the player's own where a server runs.
  if (opened === 'PulseAudio') return `PulseAudio · ${o.bufferFrames} frames`;
  const dev = o.deviceId === null || o.deviceId < 0 ? 'default device' : (devices.find((d) => d.id === o.deviceId)?.name ?? `device ${o.deviceId}`);
  return `PortAudio · ${o.hostApi ? `${o.hostApi} · ` : ''}${dev} · ${o.bufferFrames} frames`;
}

export function OutputView(): JSX.Element {
  const info = useStore((s) => s.outputInfo);
  const current = useStore((s) => s.status?.output);
  const refresh = useStore((s) => s.refreshOutput);
  const loadTargets = useStore((s) => s.loadSinkTargets);
  const setOutput = useStore((s) => s.setOutput);
  const [hostApi, setHostApi] = useState<string>('');
  const [deviceId, setDeviceId] = useState<number | null>(null);
  const [buffer, setBuffer] = useState<number>(DEFAULT_BUFFER_FRAMES);
  const [bitPerfect, setBitPerfect] = useState(false);
  const shell = useStore((s) => s.info?.shell);
  const keepPlaying = useStore((s) => s.keepPlayingInBackground);
  const setKeepPlaying = useStore((s) => s.setKeepPlayingInBackground);
  const resumePlayback = useStore((s) => s.resumePlayback);
  const setResumePlayback = useStore((s) => s.setResumePlayback);

  useEffect(() => void refresh(), [refresh]);
  useEffect(() => {
    if (current?.kind === 'portaudio') {
      setDeviceId(current.deviceId);
      setBuffer(current.bufferFrames);
      setBitPerfect(current.bitPerfect === true);
      if (current.hostApi) setHostApi(current.hostApi);
    }
  }, [current]);

  const apis = info.hostApis.length > 0 ? info.hostApis : [...new Set(info.devices.map((d) => d.hostApi))];
  const api = hostApi || apis[0] || '';
  const devices = info.devices.filter((d) => !api || d.hostApi === api);

  return (
    <section className="screen" aria-labelledby="output-title">
      <header className="screen-head">
        <div>
          <h1 id="output-title">Output</h1>
          <p className="muted" data-testid="current-output">Now: {describeOutput(current, info.devices, info.opened)}</p>
        </div>
        <button className="btn" onClick={() => void refresh()}>
          {Icon.reload({ size: 14 })} Rescan
        </button>
      </header>

      <div className="grid-2">
        <div className="card">
          <h2>Audio device</h2>
          {info.loading ? (
            <Spinner />
          ) : info.error ? (
            <div className="error-box">{info.error}</div>
          ) : (
            <>
              <div className="form-row">
                <label className="form-label" htmlFor="host-api">Host API</label>
                <select id="host-api" className="input select" value={api} onChange={(e) => setHostApi(e.currentTarget.value)}>
                  {apis.map((a) => <option key={a}>{a}</option>)}
                </select>
              </div>
              <ul className="device-list" data-testid="device-list">
                <li>
                  <label className="radio-row">
                    <input type="radio" name="device" checked={deviceId === null} onChange={() => setDeviceId(null)} />
                    <span>System default</span>
                  </label>
                </li>
                {devices.map((d) => (
                  <li key={d.id}>
                    <label className="radio-row">
                      <input type="radio" name="device" checked={deviceId === d.id} onChange={() => setDeviceId(d.id)} />
                      <span>{d.name}</span>
                      <span className="muted small">{d.maxOutputChannels} ch · {Math.round(d.defaultSampleRate)} Hz{d.isDefault ? ' · default' : ''}</span>
                    </label>
                  </li>
                ))}
              </ul>
              <div className="form-row">
                <label className="form-label" htmlFor="buffer">Buffer size</label>
                <select id="buffer" className="input select" value={buffer} onChange={(e) => setBuffer(Number(e.currentTarget.value))}>
                  {BUFFERS.map((b) => <option key={b} value={b}>{b} frames</option>)}
                </select>
              </div>
              <div className="form-row">
                <label className="form-label" htmlFor="bit-perfect">Bit-perfect</label>
                <input id="bit-perfect" type="checkbox" checked={bitPerfect} onChange={(e) => setBitPerfect(e.currentTarget.checked)} />
              </div>
              <p className="muted small">{bitPerfect ? "The device reopens at each file's rate." : "Every file is resampled to the device's rate (libsoxr, very high quality)."}</p>
              <button className="btn btn-primary" onClick={() => void setOutput({ kind: 'portaudio', deviceId, ...(api ? { hostApi: api } : {}), bufferFrames: buffer, ...(bitPerfect ? { bitPerfect: true } : {}) })}>
                Use this device
              </button>
            </>
          )}
        </div>

        <div className="card">
          <h2>Output plugins</h2>
          {info.sinks.length === 0 ? <p className="muted">No OutputSink plugins loaded.</p> : null}
          {info.sinks.map((sink) => {
            const key = `${sink.pluginId}/${sink.typeId}`;
            const targets = info.targets[key];
            return (
              <div key={key} className="sink">
                <div className="cap-row">
                  <span className="cap-name">{sink.displayName}</span>
                  {sink.pluginName && sink.pluginName !== sink.displayName ? <span className="muted small">{sink.pluginName}</span> : null}
                  <span className="spacer" />
                  <button className="btn small" onClick={() => void loadTargets(sink.pluginId, sink.typeId)}>List targets</button>
                </div>
                {targets ? (
                  targets.length === 0 ? <p className="muted small">No targets.</p> : (
                    <ul className="device-list">
                      {targets.map((t, i) => (
                        <li key={i} className="radio-row">
                          <span>{String(t.name ?? t.id ?? `target ${i + 1}`)}</span>
                          {t.default ? <span className="muted small">default</span> : null}
                          <span className="spacer" />
                          <button className="btn small" onClick={() => void setOutput({ kind: 'plugin', pluginId: sink.pluginId, typeId: sink.typeId, target: t })}>Use</button>
                        </li>
                      ))}
                    </ul>
                  )
                ) : null}
              </div>
            );
          })}
        </div>
      </div>

      <ReplayGainPanel />

      <EqPanel />

      <div className="card">
        <h2>On start</h2>
        <label className="switch-label">
          <span className="switch">
            <input type="checkbox" checked={resumePlayback} onChange={(e) => void setResumePlayback(e.currentTarget.checked)} data-testid="resume-playback" />
            <span className="switch-track" />
          </span>
          <span>Resume playback on start</span>
        </label>
        <p className="muted small">The queue, track and position always come back; with this on, a track that was playing when the player quit plays on.</p>
      </div>

      {shell === 'browser' ? (
        <div className="card">
          <h2>When the window closes</h2>
          <label className="switch-label">
            <span className="switch">
              <input type="checkbox" checked={keepPlaying} onChange={(e) => void setKeepPlaying(e.currentTarget.checked)} data-testid="keep-playing" />
              <span className="switch-track" />
            </span>
            <span>Keep playing in the background</span>
          </label>
          <p className="muted small">Otherwise closing the player’s window stops the player. Open its address again to come back.</p>
        </div>
      ) : null}
    </section>
  );
}
