// A modal dialog: a backdrop (a click on it closes), a header with the title and a close button,
// Escape closes. The body and footer are the children.
import type { JSX, ReactNode } from 'react';
import { Icon } from './Icons.js';

export function Modal(props: {
  titleId: string;
  title: ReactNode;
  testId: string;
  onClose: () => void;
  /** False where the owner already closes on Escape (a window-wide key handler). */
  escapeCloses?: boolean;
  /** Focus the close button when the dialog opens. */
  focusClose?: boolean;
  /** data-* attributes for the dialog element. */
  data?: Record<`data-${string}`, string>;
  children: ReactNode;
}): JSX.Element {
  const { onClose } = props;
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={props.titleId}
        data-testid={props.testId}
        {...props.data}
        onKeyDown={props.escapeCloses === false ? undefined : (e) => e.key === 'Escape' && onClose()}
      >
        <header className="modal-head">
          <h2 id={props.titleId}>{props.title}</h2>
          <button className="icon-btn" aria-label="Close" onClick={onClose} autoFocus={props.focusClose}>
            {Icon.x()}
          </button>
        </header>
        {props.children}
      </div>
    </div>
  );
}
