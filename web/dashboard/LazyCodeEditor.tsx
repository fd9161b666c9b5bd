/**
 * The code editor, loaded after the page's first paint. CodeMirror is about 480 kB of
 * the dashboard's JavaScript (measured from the build's source map: the dashboard chunk
 * was 669 kB with it, and Vite warned); the jobs list, the live feed and the job view
 * need none of it, so it comes as a chunk of its own. Until it arrives the module's text
 * is shown as it will be edited, in the same frame, so the page does not jump.
 */
import { lazy, Suspense } from 'react';
import type { CodeEditorProps } from './CodeEditor.tsx';

const CodeEditor = lazy(() =>
  import('./CodeEditor.tsx').then(
    (module) => ({ default: module.CodeEditor }),
    // A chunk that fails to load (the coordinator restarted on a new build, the network
    // dropped) must not take the form down: a plain text area still edits the module.
    () => ({ default: PlainEditor }),
  ),
);

export function LazyCodeEditor(props: CodeEditorProps) {
  return (
    <Suspense
      fallback={
        <div className="code-editor code-editor-loading" aria-busy="true">
          <pre>{props.value}</pre>
        </div>
      }
    >
      <CodeEditor {...props} />
    </Suspense>
  );
}

function PlainEditor({ value, onChange, labelledBy, describedBy, testId }: CodeEditorProps) {
  return (
    <textarea
      className="code-editor code-editor-plain"
      value={value}
      onChange={(event) => onChange(event.target.value)}
      spellCheck={false}
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      data-testid={testId}
    />
  );
}
