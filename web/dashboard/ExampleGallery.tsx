import { useId } from 'react';
import type { ExampleWithSource } from './example-sources.ts';

interface ExampleGalleryProps {
  examples: readonly ExampleWithSource[];
  /** The chosen example's id, or `ownModule` for the user's own. */
  chosen: string;
  ownModule: string;
  onChoose: (id: string) => void;
}

/**
 * The job module to start from, as cards: each example with the sentence that says where
 * it comes from, and a last card for one's own module. Radio buttons underneath, so the
 * arrow keys move between cards and a screen reader hears one group.
 */
export function ExampleGallery({ examples, chosen, ownModule, onChoose }: ExampleGalleryProps) {
  const name = useId();
  const card = (id: string, title: string, text: string) => (
    <label key={id || 'own'} className={chosen === id ? 'example-card chosen' : 'example-card'} data-testid={`example-card-${id || 'own'}`}>
      <input type="radio" name={name} value={id} checked={chosen === id} onChange={() => onChoose(id)} />
      <strong>{title}</strong>
      <span className="hint">{text}</span>
    </label>
  );
  return (
    <fieldset className="field example-gallery" data-testid="example-gallery">
      <legend>Job module: start from an example, or write your own</legend>
      <div className="example-cards">
        {examples.map((example) => card(example.id, example.title, example.origin))}
        {card(ownModule, 'My own module', 'Write map and reduce in the editor below; it is checked as you type.')}
      </div>
    </fieldset>
  );
}
