// The audio process as an Electron utilityProcess: the Electron shell hands this spawner to the
// engine, which otherwise forks a plain Node child (src-main/engine/audio-host.ts).
import { utilityProcess } from 'electron';
import type { FromAudio } from '../audio/protocol.js';
import type { AudioSpawner } from '../engine/audio-host.js';

export const utilityAudioProcess: AudioSpawner = (entry, on) => {
  const child = utilityProcess.fork(entry, [], {
    serviceName: 'stellatune-audio',
    stdio: 'ignore',
    env: { ...process.env, UV_THREADPOOL_SIZE: '8' },
  });
  child.on('message', (m: unknown) => on.message(m as FromAudio));
  child.on('exit', (code: number) => on.exit(code));
  return {
    get pid() {
      return child.pid;
    },
    post: (m) => child.postMessage(m),
    kill: () => void child.kill(),
  };
};
