import { useId, useState, type ChangeEvent } from 'react';

export interface WorkerCountFieldProps {
  /** The worker count in effect. */
  value: number;
  /** Highest count offered: the device's logical cores. */
  max: number;
  /** Called with every valid count (a whole number from 1 to `max`) as the user types. */
  onChange(count: number): void;
}

/** The labelled number input that sets how many Web Workers this tab would run: its share of the cores may be fewer (core-share.ts). */
export function WorkerCountField({ value, max, onChange }: WorkerCountFieldProps) {
  // The text is kept apart from the number so a half-typed value ("" or "1" on the way
  // to "12") can sit in the box without being applied.
  const [text, setText] = useState(String(value));
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const count = Number(text);
  const valid = text.trim() !== '' && Number.isInteger(count) && count >= 1 && count <= max;

  const handleChange = (event: ChangeEvent<HTMLInputElement>) => {
    const next = event.target.value;
    setText(next);
    const parsed = Number(next);
    if (next.trim() !== '' && Number.isInteger(parsed) && parsed >= 1 && parsed <= max && parsed !== value) onChange(parsed);
  };

  return (
    <div className="worker-count">
      <label htmlFor={inputId}>Workers</label>
      <input
        id={inputId}
        data-testid="worker-count"
        type="number"
        inputMode="numeric"
        min={1}
        max={max}
        step={1}
        value={text}
        onChange={handleChange}
        aria-describedby={valid ? hintId : `${hintId} ${errorId}`}
        aria-invalid={!valid}
      />
      <p id={hintId} className="hint">
        Each worker is a background thread running one task at a time. This device has {max} logical{' '}
        {max === 1 ? 'core' : 'cores'}, shared with this browser’s other volunteer tabs: together they run at most{' '}
        {max} workers. Changes apply at once.
      </p>
      {!valid && (
        <p id={errorId} className="error-text" role="alert">
          Enter a whole number from 1 to {max}. Still using {value}.
        </p>
      )}
    </div>
  );
}
