import { useId, useState, type FormEvent } from 'react';

interface TokenFormProps {
  /** True when a token was given and refused, rather than missing. */
  refused: boolean;
  onToken: (token: string) => void;
}

/** Asks once for the coordinator's submit token; the dashboard keeps it for the session. */
export function TokenForm({ refused, onToken }: TokenFormProps) {
  const [value, setValue] = useState('');
  const inputId = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <section className="panel token-panel" aria-labelledby={`${inputId}-heading`}>
      <h2 id={`${inputId}-heading`}>This coordinator needs its submit token</h2>
      <p className="muted">
        Its jobs are private to whoever holds the token it printed when it started (or <code>TABREDUCE_TOKEN</code>). Volunteering
        needs no token.
      </p>
      {refused && (
        <p role="alert" className="error-text">
          That token was refused.
        </p>
      )}
      <form onSubmit={submit} className="token-form">
        <label htmlFor={inputId}>Submit token</label>
        <input id={inputId} type="password" autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} data-testid="token-input" />
        <button type="submit" disabled={!value.trim()}>
          Use token
        </button>
      </form>
    </section>
  );
}
