import { useDeferredValue, useId, useState, type FormEvent } from 'react';
import type { JobInput, JobSubmission, JobSummary } from '../../shared/job.ts';
import { LIMITS } from '../../shared/limits.ts';
import { useApiClient } from './api-context.ts';
import { LazyCodeEditor } from './LazyCodeEditor.tsx';
import { NumberField } from './NumberField.tsx';
import { apiInputOf, type ExampleJob } from '../../examples/catalog.ts';
import { ExampleGallery } from './ExampleGallery.tsx';
import { EXAMPLES_WITH_SOURCE, type ExampleWithSource } from './example-sources.ts';
import { describeInput, formatBytes } from './format.ts';
import { useSourceCheck } from './use-source-check.ts';

type InputKind = 'text' | 'range' | 'job' | 'example';

/** The input choices, in the order shown. */
const INPUT_KINDS: { kind: InputKind; label: string }[] = [
  { kind: 'text', label: 'Text' },
  { kind: 'range', label: 'Range' },
  { kind: 'job', label: "Another job's result" },
  { kind: 'example', label: 'Example input' },
];

/** The example select's value for "my own module". */
const OWN_MODULE = '';

/** The file name pasted text travels under in a `texts` input. */
const PASTED_FILE_NAME = 'pasted.txt';

interface SubmitPanelProps {
  /** The jobs the feed shows, newest first: any but a failed or cancelled one may be the input of the next. */
  jobs: readonly JobSummary[];
  onSubmitted: (jobId: string) => void;
}

/** How an example's input reads, in the hint under the input choice. */
function describeExampleInput(example: ExampleWithSource): string {
  if (example.input.kind !== 'result-of') return describeInput(example.input);
  const { example: upstreamId } = example.input;
  const upstream = EXAMPLES_WITH_SOURCE.find((candidate) => candidate.id === upstreamId);
  return `the result of the ${upstream?.title ?? upstreamId} example, submitted first on its own input (a pipeline of two jobs)`;
}

/** An empty field is NaN rather than Number('')'s 0, so the server reports it missing instead of running on 0. */
const parseNumberField = (text: string): number => (text.trim() === '' ? Number.NaN : Number(text));

/** The form that submits a job: a module (an example's or your own), its input, a name. */
export function SubmitPanel({ jobs, onSubmitted }: SubmitPanelProps) {
  const api = useApiClient();
  const ids = useId();
  const firstExample = EXAMPLES_WITH_SOURCE[0];
  const [exampleId, setExampleId] = useState(firstExample?.id ?? OWN_MODULE);
  const [source, setSource] = useState(firstExample?.source ?? '');
  const [name, setName] = useState(firstExample?.title ?? '');
  const [inputKind, setInputKind] = useState<InputKind>(firstExample ? 'example' : 'text');
  const [pastedText, setPastedText] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [rangeFrom, setRangeFrom] = useState('0');
  const [rangeTo, setRangeTo] = useState('100');
  const [inputJobId, setInputJobId] = useState('');
  const [reducers, setReducers] = useState('');
  const [splitKiB, setSplitKiB] = useState('');
  const [replication, setReplication] = useState('');
  const [spotCheckPercent, setSpotCheckPercent] = useState('');
  const [submitter, setSubmitter] = useState('');
  /** Files are being dragged over the input section. */
  const [dropping, setDropping] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string | undefined>(undefined);

  const example = EXAMPLES_WITH_SOURCE.find((candidate) => candidate.id === exampleId);
  // Parsing a large module on every keystroke would make typing lag: check the deferred text.
  const checkedSource = useDeferredValue(source);
  const check = useSourceCheck(checkedSource);
  const checkIsCurrent = checkedSource === source;
  const canSubmit = check !== undefined && check.ok && checkIsCurrent && !submitting;

  const chooseExample = (id: string) => {
    setExampleId(id);
    const chosen = EXAMPLES_WITH_SOURCE.find((candidate) => candidate.id === id);
    if (chosen) {
      setSource(chosen.source);
      setName(chosen.title);
      setInputKind('example');
    } else if (inputKind === 'example') {
      setInputKind('text');
    }
  };

  const inputJobs = jobs.filter((job) => job.state !== 'failed' && job.state !== 'cancelled');

  /** Submits a pipeline's first step (apiInputOf), answering its id. */
  const submitUpstream = async (upstream: ExampleJob, input: JobInput): Promise<string> => {
    const withSource = EXAMPLES_WITH_SOURCE.find((candidate) => candidate.id === upstream.id);
    if (!withSource) throw new Error(`the example ${upstream.id}, whose result this one reads, is missing`);
    return (await api.submitJob({ name: upstream.title, source: withSource.source, input })).id;
  };

  const buildInput = async (): Promise<JobInput> => {
    switch (inputKind) {
      case 'example':
        if (!example) throw new Error('choose an example to use its input');
        return apiInputOf(example.input, submitUpstream);
      case 'job':
        if (inputJobId === '') throw new Error("choose the job whose result is this job's input");
        return { kind: 'job', id: inputJobId };
      case 'range':
        return { kind: 'range', from: parseNumberField(rangeFrom), to: parseNumberField(rangeTo) };
      case 'text': {
        const pasted = pastedText === '' ? [] : [{ name: PASTED_FILE_NAME, text: pastedText }];
        if (files.length === 0) return { kind: 'texts', files: pasted };
        // Chosen files go up raw (POST /api/files), as the CLI sends them: a JSON body is
        // kept small on purpose (TABREDUCE_MAX_BODY_BYTES), and a file may be gigabytes.
        // Pasted text goes with them as one more file, since an input is of one kind.
        const blobs = [...pasted.map(({ name, text }) => ({ name, blob: new Blob([text], { type: 'text/plain' }) })), ...files.map((file) => ({ name: file.name, blob: file }))];
        const uploaded = await Promise.all(blobs.map(({ name, blob }) => api.uploadFile(name, blob)));
        return { kind: 'files', files: uploaded.map((file) => ({ fileId: file.id })) };
      }
      default: {
        const unreachable: never = inputKind;
        return unreachable;
      }
    }
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!canSubmit) return;
    setSubmitting(true);
    setSubmitError(undefined);
    try {
      // Everything but the module's shape is left to the coordinator to judge, so its
      // message (which names the limit or field) is the one the user sees.
      const submission: JobSubmission = {
        name,
        source,
        input: await buildInput(),
        ...(reducers.trim() === '' ? {} : { reducers: parseNumberField(reducers) }),
        ...(splitKiB.trim() === '' ? {} : { splitBytes: parseNumberField(splitKiB) * 1024 }),
        ...(replication.trim() === '' ? {} : { replication: parseNumberField(replication) }),
        ...(spotCheckPercent.trim() === '' ? {} : { spotCheck: parseNumberField(spotCheckPercent) / 100 }),
        ...(submitter.trim() === '' ? {} : { submitter: submitter.trim() }),
      };
      const { id } = await api.submitJob(submission);
      onSubmitted(id);
    } catch (error) {
      setSubmitError((error as Error).message);
    } finally {
      setSubmitting(false);
    }
  };

  const sourceCheckId = `${ids}-source-check`;
  return (
    <section className="panel" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Submit a job</h2>
      <form className="submit-form" onSubmit={(event) => void submit(event)} noValidate>
        <ExampleGallery examples={EXAMPLES_WITH_SOURCE} chosen={exampleId} ownModule={OWN_MODULE} onChoose={chooseExample} />

        <div className="field">
          <label id={`${ids}-source-label`}>Module source</label>
          <LazyCodeEditor
            value={source}
            onChange={setSource}
            problem={check === undefined || check.ok ? undefined : check}
            labelledBy={`${ids}-source-label`}
            describedBy={sourceCheckId}
            testId="source-editor"
          />
          <p id={sourceCheckId} className={check === undefined ? 'hint' : check.ok ? 'hint check-ok' : 'hint error-text'} data-testid="source-check">
            {check === undefined
              ? 'Checking the module…'
              : check.ok
                ? `Exports ${check.exports.join(', ')}${check.hasCombine ? '' : '; no combine, so map output is not pre-aggregated'}`
                : `${check.line === undefined ? '' : `Line ${check.line}${check.column === undefined ? '' : `, column ${check.column}`}: `}${check.message}`}
          </p>
        </div>

        <fieldset
          className={dropping ? 'field drop-target dropping' : 'field drop-target'}
          data-testid="input-drop"
          onDragOver={(event) => {
            if (!event.dataTransfer.types.includes('Files')) return;
            event.preventDefault();
            setDropping(true);
          }}
          onDragLeave={() => setDropping(false)}
          onDrop={(event) => {
            event.preventDefault();
            setDropping(false);
            const dropped = [...event.dataTransfer.files];
            if (dropped.length === 0) return;
            setInputKind('text');
            setFiles((current) => [...current, ...dropped]);
          }}
        >
          <legend>Input</legend>
          <p className="hint">Drop text files anywhere here, paste text, give a range, or take another job's result.</p>
          <div className="radio-row">
            {INPUT_KINDS.map(({ kind, label }) => (
              <label key={kind}>
                <input
                  type="radio"
                  name={`${ids}-input-kind`}
                  value={kind}
                  data-testid={`input-kind-${kind}`}
                  checked={inputKind === kind}
                  disabled={kind === 'example' && !example}
                  onChange={() => setInputKind(kind)}
                />
                {label}
              </label>
            ))}
          </div>

          {inputKind === 'text' && (
            <>
              <div className="field">
                <label htmlFor={`${ids}-text`}>Text (sent as {PASTED_FILE_NAME})</label>
                <textarea
                  id={`${ids}-text`}
                  data-testid="input-text"
                  rows={5}
                  value={pastedText}
                  onChange={(event) => setPastedText(event.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor={`${ids}-files`}>Text files (each one becomes an input file)</label>
                <input
                  id={`${ids}-files`}
                  type="file"
                  multiple
                  data-testid="input-files"
                  onChange={(event) => setFiles([...(event.target.files ?? [])])}
                />
                {files.length > 0 && (
                  <ul className="hint file-list">
                    {files.map((file, index) => (
                      // Two files may share a name (picked from different folders).
                      <li key={`${index}-${file.name}`}>
                        {file.name} ({formatBytes(file.size)})
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </>
          )}

          {inputKind === 'range' && (
            <div className="field-row">
              <div className="field">
                <label htmlFor={`${ids}-from`}>From (included)</label>
                <input
                  id={`${ids}-from`}
                  type="number"
                  step={1}
                  inputMode="numeric"
                  data-testid="range-from"
                  value={rangeFrom}
                  onChange={(event) => setRangeFrom(event.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor={`${ids}-to`}>To (excluded)</label>
                <input
                  id={`${ids}-to`}
                  type="number"
                  step={1}
                  inputMode="numeric"
                  data-testid="range-to"
                  value={rangeTo}
                  onChange={(event) => setRangeTo(event.target.value)}
                />
              </div>
            </div>
          )}

          {inputKind === 'job' && (
            <div className="field">
              <label htmlFor={`${ids}-input-job`}>Job whose result is the input (its [key, value] pairs as records; it waits for a running one)</label>
              <select id={`${ids}-input-job`} data-testid="input-job" value={inputJobId} onChange={(event) => setInputJobId(event.target.value)}>
                <option value="">Choose a job</option>
                {inputJobs.map((job) => (
                  <option key={job.id} value={job.id}>
                    {job.name} ({job.id}, {job.state})
                  </option>
                ))}
              </select>
            </div>
          )}

          {inputKind === 'example' && example && <p className="hint">The example's input: {describeExampleInput(example)}.</p>}
        </fieldset>

        <div className="field-row">
          <div className="field grow">
            <label htmlFor={`${ids}-name`}>Job name</label>
            <input
              id={`${ids}-name`}
              type="text"
              data-testid="job-name"
              maxLength={LIMITS.nameChars}
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          </div>
          <NumberField id={`${ids}-reducers`} label="Reducers (optional)" testId="reducers" value={reducers} onChange={setReducers} min={1} max={LIMITS.reducers} placeholder="automatic" />
          <NumberField
            id={`${ids}-split`}
            label="Split size in KiB (text input)"
            testId="split-kib"
            value={splitKiB}
            onChange={setSplitKiB}
            min={LIMITS.minSplitBytes / 1024}
            max={LIMITS.maxSplitBytes / 1024}
            placeholder="1024"
          />
          <NumberField
            id={`${ids}-replication`}
            label="Replication: volunteers that must agree"
            testId="replication"
            value={replication}
            onChange={setReplication}
            min={1}
            max={16}
            placeholder="coordinator's default"
          />
          <NumberField
            id={`${ids}-spot-check`}
            label="Spot check: % of tasks run twice"
            testId="spot-check"
            value={spotCheckPercent}
            onChange={setSpotCheckPercent}
            min={0}
            max={100}
            step="any"
            placeholder="0"
          />
          <div className="field">
            <label htmlFor={`${ids}-submitter`}>Shown to volunteers as (optional)</label>
            <input
              id={`${ids}-submitter`}
              type="text"
              maxLength={LIMITS.nameChars}
              placeholder="e.g. your name or project"
              data-testid="submitter"
              value={submitter}
              onChange={(event) => setSubmitter(event.target.value)}
            />
          </div>
        </div>

        <div className="submit-row">
          <button type="submit" className="primary" data-testid="submit-job" disabled={!canSubmit}>
            {submitting ? 'Submitting…' : 'Submit job'}
          </button>
          {check !== undefined && !check.ok && <span className="hint">Fix the module to submit.</span>}
        </div>
        {submitError && (
          <p role="alert" className="error-text submit-error" data-testid="submit-error">
            {submitError}
          </p>
        )}
      </form>
    </section>
  );
}
