import { useEffect, useState, type RefObject } from 'react';

interface CopyButtonProps {
  /** What goes to the clipboard. */
  text: string;
  /** The button's text, e.g. "Copy link". */
  label: string;
  /** The element showing `text`: selected when the browser refuses to copy, so the user can copy it by hand. */
  selectOnRefusal?: RefObject<HTMLElement | null>;
  testId?: string;
}

/** How long "Copied" stays up, in ms. */
const CONFIRMATION_MS = 3000;

type CopyState = { kind: 'idle' } | { kind: 'copied' } | { kind: 'refused'; why: string };

/**
 * A button that puts `text` on the clipboard and says whether it did. The clipboard
 * API exists only in secure contexts: a dashboard opened over plain http at a network
 * address (how a classroom reaches it) has none, and a browser may also refuse the
 * permission. Either way the user is told, and the text is selected for a manual copy.
 */
export function CopyButton({ text, label, selectOnRefusal, testId }: CopyButtonProps) {
  const [state, setState] = useState<CopyState>({ kind: 'idle' });

  useEffect(() => {
    if (state.kind !== 'copied') return;
    const timer = setTimeout(() => setState({ kind: 'idle' }), CONFIRMATION_MS);
    return () => clearTimeout(timer);
  }, [state]);

  const refuse = (why: string) => {
    const shown = selectOnRefusal?.current;
    if (shown) {
      const range = document.createRange();
      range.selectNodeContents(shown);
      document.getSelection()?.removeAllRanges();
      document.getSelection()?.addRange(range);
    }
    // Browsers' messages end with a full stop of their own (Chromium: "Write permission denied.").
    setState({ kind: 'refused', why: why.replace(/\.$/, '') });
  };

  const copy = () => {
    if (!navigator.clipboard?.writeText) {
      refuse('this page may not use the clipboard (it needs https or localhost)');
      return;
    }
    navigator.clipboard.writeText(text).then(
      () => setState({ kind: 'copied' }),
      (error: unknown) => refuse((error instanceof Error && error.message) || 'the browser refused'),
    );
  };

  return (
    <span className="copy-button">
      <button type="button" onClick={copy} data-testid={testId}>
        {label}
      </button>
      <span role="status" data-testid={testId && `${testId}-status`} className={state.kind === 'refused' ? 'error-text' : 'check-ok'}>
        {state.kind === 'copied' && 'Copied'}
        {state.kind === 'refused' && (
          <>
            Could not copy: {state.why}.{selectOnRefusal ? ' It is selected: copy it with Ctrl+C (⌘C on a Mac).' : ''}
          </>
        )}
      </span>
    </span>
  );
}
