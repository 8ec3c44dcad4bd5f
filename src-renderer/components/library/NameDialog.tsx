// Asking for a name (a new playlist, a rename, the queue saved as a playlist) in the app's own
// dialog instead of window.prompt: it looks like the rest of the player, Enter confirms, Escape
// cancels, and a blank name cannot be confirmed. One host is mounted; `askName` opens it.
import { type JSX, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import { Modal } from '../Modal.js';

export interface NameAsk {
  title: string;
  label: string;
  initial: string;
  /** The confirm button's text, e.g. "Create" or "Rename". */
  confirm: string;
}

interface Pending extends NameAsk {
  resolve(name: string | null): void;
}

let pending: Pending | null = null;
const listeners = new Set<() => void>();
const publish = (p: Pending | null): void => {
  pending = p;
  for (const l of listeners) l();
};

/** Opens the name dialog; resolves with the trimmed name, or null when cancelled. */
export function askName(ask: NameAsk): Promise<string | null> {
  // A second ask replaces the first, which counts as cancelled.
  pending?.resolve(null);
  return new Promise((resolve) => publish({ ...ask, resolve }));
}

export function NameDialogHost(): JSX.Element | null {
  const ask = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => pending,
  );
  // The host going away (the view closed) cancels an open ask.
  useEffect(() => () => pending?.resolve(null), []);
  return ask ? <NameForm key={`${ask.title}\u0000${ask.initial}`} ask={ask} /> : null;
}

function NameForm({ ask }: { ask: Pending }): JSX.Element {
  const [name, setName] = useState(ask.initial);
  const input = useRef<HTMLInputElement>(null);
  const titleId = useId();
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const finish = (value: string | null): void => {
    if (pending !== ask) return;
    publish(null);
    ask.resolve(value);
  };
  const trimmed = name.trim();
  return (
    <Modal titleId={titleId} title={ask.title} testId="name-dialog" onClose={() => finish(null)}>
      <form
        className="name-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (trimmed) finish(trimmed);
        }}
      >
        <label className="name-field">
          <span className="muted small">{ask.label}</span>
          <input ref={input} className="input" value={name} onChange={(e) => setName(e.target.value)} data-testid="name-input" spellCheck={false} />
        </label>
        <footer className="modal-foot">
          <button type="button" className="btn" onClick={() => finish(null)} data-testid="name-cancel">
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!trimmed} data-testid="name-confirm">
            {ask.confirm}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
