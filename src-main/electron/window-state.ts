// Remembers the main window's bounds and maximised state between launches, and ignores saved
// bounds that no longer fit on any display (a monitor was unplugged).
import fs from 'node:fs';
import path from 'node:path';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const DEFAULT: WindowState = { width: 1200, height: 800, maximized: false };
export const MIN_SIZE = { width: 800, height: 600 };

export function loadWindowState(file: string, displays: Rect[]): WindowState {
  let saved: Partial<WindowState> = {};
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<WindowState>;
  } catch {
    return { ...DEFAULT };
  }
  const width = Math.max(MIN_SIZE.width, Number(saved.width) || DEFAULT.width);
  const height = Math.max(MIN_SIZE.height, Number(saved.height) || DEFAULT.height);
  const state: WindowState = { width, height, maximized: saved.maximized === true };
  if (typeof saved.x === 'number' && typeof saved.y === 'number') {
    const { x, y } = saved;
    // Keep the position only if the title bar area is visible on some display.
    const visible = displays.some((d) => x + 100 > d.x && x < d.x + d.width - 100 && y >= d.y && y < d.y + d.height - 50);
    if (visible) Object.assign(state, { x, y });
  }
  return state;
}

export function saveWindowState(file: string, state: WindowState): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // The pid marks whose it is: start-up removes the temp files of cores that are gone.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state));
    fs.renameSync(tmp, file);
  } catch {
    // Losing the window position is not worth an error.
  }
}
