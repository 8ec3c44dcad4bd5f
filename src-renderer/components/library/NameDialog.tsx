// Asking for a name (a new playlist, a rename, the queue saved as a playlist) or a yes to a
// destructive step (delete a playlist, remove a folder) in the app's own dialog instead of
// window.prompt / window.confirm: it looks like the rest of the player, Enter confirms, Escape
// cancels, and a blank name cannot be confirmed. One host is mounted; `askName` and `askConfirm`
// open it.
import { type JSX, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import { Modal } from '../Modal.js';

export interface NameAsk {
  title: string;
  label: string;
  initial: string;
  /** The confirm button's text, e.g. "Create" or "Rename". */
  confirm: string;
}

export interface ConfirmAsk {
  title: string;
  message: string;
  /** The confirm button's text, e.g. "Delete". */
  confirm: string;
}

type Pending = (NameAsk & { kind: 'name'; resolve(name: string | null): void }) | (ConfirmAsk & { kind: 'confirm'; resolve(yes: boolean): void });

const cancel = (p: Pending | null): void => (p?.kind === 'name' ? p.resolve(null) : p?.resolve(false));

let pending: Pending | null = null;
const listeners = new Set<() => void>();
const publish = (p: Pending | null): void => {
  pending = p;
  for (const l of listeners) l();
};

/** Opens the name dialog; resolves with the trimmed name, or null when cancelled. */
export function askName(ask: NameAsk): Promise<string | null> {
  // A second ask replaces the first, which counts as cancelled.
  cancel(pending);
  return new Promise((resolve) => publish({ ...ask, kind: 'name', resolve }));
}

/** Opens the dialog as a question; resolves true when confirmed. */
export function askConfirm(ask: ConfirmAsk): Promise<boolean> {
  cancel(pending);
  return new Promise((resolve) => publish({ ...ask, kind: 'confirm', resolve }));
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
  useEffect(() => () => cancel(pending), []);
  if (!ask) return null;
  return ask.kind === 'name' ? <NameForm key={`${ask.title}\u0000${ask.initial}`} ask={ask} /> : <ConfirmForm key={`${ask.title}\u0000${ask.message}`} ask={ask} />;
}

/** Closes the dialog of `ask` with its answer (once: an ask replaced by a newer one is settled). */
function answer<P extends Pending>(ask: P, value: Parameters<P['resolve']>[0]): void {
  if (pending !== ask) return;
  publish(null);
  (ask.resolve as (v: typeof value) => void)(value);
}

function ConfirmForm({ ask }: { ask: Extract<Pending, { kind: 'confirm' }> }): JSX.Element {
  const titleId = useId();
  const finish = (yes: boolean): void => answer(ask, yes);
  return (
    <Modal titleId={titleId} title={ask.title} testId="confirm-dialog" onClose={() => finish(false)}>
      <form
        className="name-form"
        onSubmit={(e) => {
          e.preventDefault();
          finish(true);
        }}
      >
        <p className="confirm-message">{ask.message}</p>
        <footer className="modal-foot">
          <button type="button" className="btn" onClick={() => finish(false)} data-testid="confirm-cancel">
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" autoFocus data-testid="confirm-ok">
            {ask.confirm}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

function NameForm({ ask }: { ask: Extract<Pending, { kind: 'name' }> }): JSX.Element {
  const [name, setName] = useState(ask.initial);
  const input = useRef<HTMLInputElement>(null);
  const titleId = useId();
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const finish = (value: string | null): void => answer(ask, value);
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
