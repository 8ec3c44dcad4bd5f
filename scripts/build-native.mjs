#!/usr/bin/env node
// Builds everything under native-plugins/ (ABI tests, SDK, built-in and fixture plugins, host C
// helpers) with CMake. Run by `npm install` (postinstall) and `npm run build`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'native-plugins');
const build = path.join(source, 'build');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error && r.error.code === 'ENOENT') {
    console.error(`build-native: \`${cmd}\` is not installed: apt-get install cmake build-essential pkg-config (Debian/Ubuntu) or brew install cmake pkg-config (macOS).`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const jobs = String(Math.max(1, Math.min(os.cpus().length, 4)));
run('cmake', ['-S', source, '-B', build, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '--log-level=WARNING']);
run('cmake', ['--build', build, '--parallel', jobs]);
