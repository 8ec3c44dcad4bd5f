// Renderer entry: connect to the core through the shell's transport, bind the store, render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App.js';
import { connect } from './ipc/index.js';
import { bindStore, position, refreshAll, useStore } from './store/index.js';
import type { Theme } from './store/slices.js';
import './styles.css';

const saved = localStorage.getItem('stellatune.theme');
const theme: Theme = saved === 'light' || saved === 'dark' ? saved : matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
useStore.getState().setTheme(theme);
document.documentElement.dataset.theme = theme;

const root = createRoot(document.getElementById('root')!);
const conn = connect();
if ('error' in conn) {
  root.render(
    <div className="fatal">
      <h1>StellaTune</h1>
      <p>{conn.error}</p>
    </div>,
  );
} else {
  conn.transport.onState?.((state) => {
    const was = useStore.getState().connection;
    useStore.getState().setConnection(state);
    // Without the core nothing plays: the clock stops where it was.
    if (state !== 'open') position.update(position.current(), position.duration(), false);
    // After a reconnect, pick up whatever changed meanwhile.
    if (state === 'open' && was === 'closed') void refreshAll();
  });
  void bindStore(conn.client);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
