import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { etagOf, readyView } from './ready-response.js';

/** Ready responses (ready-response.ts): made and checked once, read back only when they are ours. */
const Note = z.object({ id: z.string(), text: z.string(), ownerId: z.string(), revision: z.number().int() });
type Note = z.infer<typeof Note>;
const notes = readyView(Note, { owner: (note) => note.ownerId });
const note: Note = { id: 'n-1', text: 'hello "world"\n', ownerId: 'ada', revision: 3 };

describe('readyView', () => {
  it('serializes a view once, with the ETag of its bytes and its owner beside them', () => {
    const response = notes.ready(note);
    expect(JSON.parse(response.body)).toEqual(note);
    expect(response.etag).toBe(etagOf(response.body));
    expect(response.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(response.owner).toBe('ada');
    expect(notes.ready({ ...note, text: 'other' }).etag).not.toBe(response.etag);
  });

  it('checks a candidate against the schema: extra fields dropped, an invalid one refused', () => {
    const checked = notes.check({ ...note, _id: 'n-1', secret: 'x' });
    expect(checked?.body).toBe(notes.ready(note).body);
    expect(notes.check({ ...note, revision: 'three' })).toBeUndefined();
    expect(notes.entryOf({ id: 'n-1' })).toBeUndefined();
  });

  it('reads back the entry it wrote, bytes, ETag and owner as they were', () => {
    const response = notes.ready(note);
    expect(notes.decode(notes.encode(response))).toEqual(response);
    expect(notes.decode(notes.entryOf(note) as string)).toEqual(response);
    const ownerless = readyView(Note);
    expect(ownerless.decode(ownerless.entryOf(note) as string)?.owner).toBeUndefined();
  });

  it('reads an entry of another shape of the view, or of another version, as absent', () => {
    const entry = notes.encode(notes.ready(note));
    const widened = readyView(Note.extend({ pinned: z.boolean().default(false) }), {
      owner: (n) => n.ownerId,
    });
    expect(widened.decode(entry)).toBeUndefined();
    expect(readyView(Note, { owner: (n) => n.ownerId, version: 2 }).decode(entry)).toBeUndefined();
    // The same schema, built again (another process, the next release): the same stamp.
    expect(readyView(Note.clone(), { owner: (n) => n.ownerId }).decode(entry)).toBeDefined();
  });

  it('reads anything that is not a whole entry of its own as absent', () => {
    const entry = notes.encode(notes.ready(note));
    const newline = entry.indexOf('\n');
    const header = entry.slice(0, newline);
    const body = entry.slice(newline + 1);
    const garbage = [
      '',
      JSON.stringify(note), // the plain JSON document caches held before ready responses
      'nope{',
      entry.slice(0, -1), // cut short
      `${entry} `, // lengthened
      `${header}`, // no body
      `${header.replace(/\[.*\]/, '{"not":"an array"}')}\n${body}`,
      `${header.replace(/\[.*\]/, '[1,2')}\n${body}`,
      `${header.replace(/"\\"[^"]+\\""/, '"\\"bad etag\\r\\nx: y\\""')}\n${body}`,
      `${header.replace('"ada"', '42')}\n${body}`,
      `${header}\n[${body.slice(1, -1)}]`, // same length, not an object
    ];
    for (const text of garbage) expect(notes.decode(text), JSON.stringify(text)).toBeUndefined();
  });
});
