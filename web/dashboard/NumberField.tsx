interface NumberFieldProps {
  id: string;
  label: string;
  testId: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max: number;
  /** 1 for whole numbers (the default); 'any' for fractions. */
  step?: number | 'any';
  placeholder: string;
}

/**
 * An optional number of the submit form. The text is kept as typed and judged by the
 * coordinator on submit, so its message, which names the limit, is the one shown.
 */
export function NumberField({ id, label, testId, value, onChange, min, max, step = 1, placeholder }: NumberFieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        inputMode={step === 'any' ? 'decimal' : 'numeric'}
        placeholder={placeholder}
        data-testid={testId}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
    </div>
  );
}
