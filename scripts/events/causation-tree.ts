import type { RecordedEvent } from '../../infra/event-store/event-store.js';
import { dataLine, headline, metadataLine } from './show-event.js';

export type CausationNode = { event: RecordedEvent; children: CausationNode[] };

/** Events whose cause is not among the traced events, grouped under the id that caused them. */
export type CausationRoot = { causationId: string | undefined; children: CausationNode[] };

/**
 * The events of one correlation as a tree of causes: an event hangs under the event its
 * causationId names (the event a process manager reacted to), and the rest under their cause from
 * outside the trace (the HTTP request's id, for the first command of a request). Children and roots
 * come in log order. A cause is taken only from earlier in the log (a cause precedes its effect),
 * so ids that name a later event, or themselves, cannot make a cycle.
 */
export const causationTree = (events: readonly RecordedEvent[]): CausationRoot[] => {
  const byEventId = new Map<string, CausationNode>();
  const roots = new Map<string | undefined, CausationRoot>();
  const sorted = [...events].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  for (const event of sorted) {
    const node: CausationNode = { event, children: [] };
    const { eventId, causationId } = idsOf(event);
    const cause = causationId === undefined ? undefined : byEventId.get(causationId);
    if (cause) cause.children.push(node);
    else {
      const root = roots.get(causationId) ?? { causationId, children: [] };
      roots.set(causationId, root);
      root.children.push(node);
    }
    if (eventId !== undefined && !byEventId.has(eventId)) byEventId.set(eventId, node);
  }
  return [...roots.values()];
};

const idsOf = (event: RecordedEvent): { eventId?: string; causationId?: string } => {
  const metadata = event.metadata as unknown as Record<string, unknown> | null;
  const id = (key: string) => (typeof metadata?.[key] === 'string' ? (metadata[key] as string) : undefined);
  return { eventId: id('eventId'), causationId: id('causationId') };
};

/** Shown by the tree itself: not repeated on each event. */
const OMITTED = ['correlationId', 'causationId'];

/**
 * The tree for a person: each root's cause on a line of its own (`request <id>` when it is the
 * correlation id itself, as for an HTTP request), then its events drawn with box characters, each
 * with its metadata and data under its headline.
 */
export const renderCausationTree = (roots: readonly CausationRoot[], correlationId: string): string[] => {
  const lines: string[] = [];
  const draw = (node: CausationNode, prefix: string, last: boolean) => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${headline(node.event)}`);
    const below = `${prefix}${last ? '   ' : '│  '}`;
    const detail = `${below}${node.children.length > 0 ? '│' : ' '}  `;
    const metadata = metadataLine(node.event.metadata, OMITTED);
    if (metadata !== undefined) lines.push(`${detail}${metadata}`);
    lines.push(`${detail}${dataLine(node.event.data)}`);
    drawAll(node.children, below);
  };
  const drawAll = (nodes: readonly CausationNode[], prefix: string) => {
    for (const [i, node] of nodes.entries()) draw(node, prefix, i === nodes.length - 1);
  };
  for (const root of roots) {
    lines.push(
      root.causationId === undefined
        ? '(no causation id)'
        : root.causationId === correlationId
          ? `request ${root.causationId}`
          : `caused by ${root.causationId} (not an event of this correlation)`,
    );
    drawAll(root.children, '');
  }
  return lines;
};
