// scaffold:note This module is the template `npm run new-aggregate` copies (scripts/new-aggregate/),
// scaffold:note renamed and given the fields and commands asked for: real code, compiled, linted and
// scaffold:note tested with the rest. It is not in the app's list of modules (app/modules.ts), so the
// scaffold:note app does not serve it; its tests start it in apps of their own. It is self-contained:
// scaffold:note its folders (domain/, commands/, projections/ and read-api/ sticky-notes/, and this
// scaffold:note file) import the engines and nothing of the example modules, so it stays when the
// scaffold:note example goes. Its lines marked `// scaffold:` show the scaffolder where the fields
// scaffold:note and commands go; copies leave them out.
import { stickyNoteCommands } from '../../commands/sticky-notes/index.js';
import { stickyNoteProjections } from '../../projections/sticky-notes/index.js';
import { stickyNoteQueries } from '../../read-api/sticky-notes/index.js';
import { defineModule } from '../module.js';

/**
 * Sticky notes: created with their fields, edited while active, archived for good; read one, list
 * them by status.
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
