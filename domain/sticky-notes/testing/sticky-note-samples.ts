import type { StickyNoteFields } from '../sticky-note.js';

// scaffold:note The scaffolder writes these for the fields it is given.
// scaffold:samples
/**
 * Field values for the sticky note's tests in every layer: the fields of a new sticky note, an
 * edit that changes one of them, and a value its schema refuses.
 */
export const samples = {
  created: { title: 'Groceries', body: 'milk, eggs' },
  edit: { title: 'Shopping' },
  invalid: { title: '   ' },
} satisfies { created: StickyNoteFields; edit: Partial<StickyNoteFields>; invalid: Record<string, unknown> };
