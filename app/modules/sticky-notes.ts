import { stickyNoteCommands } from '../../commands/sticky-notes/index.js';
import { stickyNoteProjections } from '../../projections/sticky-notes/index.js';
import { stickyNoteQueries } from '../../read-api/sticky-notes/index.js';
import { defineModule } from '../module.js';

/**
 * Sticky notes: created with a title and a body, edited while active, archived for good; read one,
 * list them by status.
 *
 * This module is the template `npm run new-aggregate` copies (scripts/new-aggregate/), renamed
 * and given the fields and commands asked for: real code, compiled, linted and tested with the
 * rest. It is not in the app's list of modules (app/modules.ts), so the app does not serve it; its
 * tests start it in apps of their own. It is self-contained: its folders (domain/, commands/,
 * projections/ and read-api/ sticky-notes/, and this file) import the engines and nothing of the
 * example modules, so it stays when the example goes.
 */
export const stickyNotes = defineModule({
  name: 'sticky-notes',
  commandRoutes: stickyNoteCommands,
  projections: stickyNoteProjections,
  queryRoutes: stickyNoteQueries,
  openApiTags: [
    { name: 'sticky-notes: commands', description: 'Create a sticky note, edit it, archive it' },
    {
      name: 'sticky-notes: queries',
      description: 'Sticky notes, from their read model (send x-min-position to read your write)',
    },
  ],
});
