import { javascript } from '@codemirror/lang-javascript';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'react';

/** Where the module is wrong, as the static check found it (1-based line and column). */
export interface SourceProblem {
  message: string;
  line?: number;
  column?: number;
}

export interface CodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** Marked at its line in the gutter and the text; undefined when the module checks out. */
  problem: SourceProblem | undefined;
  labelledBy: string;
  describedBy: string;
  testId: string;
}

/**
 * The page's colours for the editor, so it sits in the panel in both colour schemes.
 * The editor grows with its text and wraps long lines: no inner scrolling region, which
 * a keyboard user could not reach.
 */
const frame = EditorView.theme({
  '&': { border: '1px solid var(--border)', borderRadius: 'var(--radius)', fontSize: '0.875rem', backgroundColor: 'var(--bg)', color: 'var(--text)' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '2px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', minHeight: '14rem' },
  '.cm-gutters': { backgroundColor: 'var(--panel)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'transparent' },
  '.cm-cursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--syntax-selection)' },
});

/** Token colours from theme.css (--syntax-*), chosen for contrast on both backgrounds. */
const highlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.controlKeyword, tags.definitionKeyword, tags.moduleKeyword, tags.operatorKeyword], color: 'var(--syntax-keyword)' },
  { tag: [tags.string, tags.regexp, tags.special(tags.string)], color: 'var(--syntax-string)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--syntax-number)' },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--syntax-comment)', fontStyle: 'italic' },
  { tag: [tags.function(tags.variableName), tags.function(tags.definition(tags.variableName)), tags.definition(tags.variableName)], color: 'var(--syntax-definition)' },
  { tag: [tags.propertyName, tags.variableName], color: 'var(--text)' },
]);

/**
 * A JavaScript editor (CodeMirror 6: syntax highlighting, bracket matching, undo,
 * search), keyboard-only friendly: Tab leaves the editor rather than indenting. The
 * module's static check is shown at its line as a lint mark.
 */
export function CodeEditor({ value, onChange, problem, labelledBy, describedBy, testId }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          javascript(),
          lintGutter(),
          frame,
          syntaxHighlighting(highlight),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-labelledby': labelledBy, 'aria-describedby': describedBy, 'data-testid': testId }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // Created once; later values arrive through the effect below.
  }, []);

  // A value set from outside (an example picked) replaces the text.
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const { doc } = editor.state;
    const diagnostics = [];
    if (problem) {
      const line = doc.line(Math.min(Math.max(problem.line ?? 1, 1), doc.lines));
      const from = Math.min(line.from + Math.max((problem.column ?? 1) - 1, 0), line.to);
      diagnostics.push({ from, to: Math.max(from, Math.min(line.to, from + 1)), severity: 'error' as const, message: problem.message });
    }
    editor.dispatch(setDiagnostics(editor.state, diagnostics));
  }, [problem, value]);

  return <div ref={host} className="code-editor" />;
}
