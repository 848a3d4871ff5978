/**
 * npx tsx scripts/cpu-profile-summary.ts <file.cpuprofile> [top] — where a V8 CPU profile (node
 * --cpu-prof) spent its time: self time by package or project folder, time with callees by the
 * places on the stack, and the top functions by self time, as shares of the samples that were not
 * idle. Used to say where a request's time goes
 * (bench:read's BENCH_CPU_PROF writes such a profile).
 */
import { readFileSync } from 'node:fs';
import { formatTable } from './bench-table.js';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx scripts/cpu-profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

/** node_modules/<package>, a project folder (read-api, infra…), node: internals, or V8's own. */
const placeOf = ({ url, functionName }: Node['callFrame']) => {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packaged?.[1]) return packaged[1];
  const own = /\/(app|commands|domain|infra|projections|read-api|scripts)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]?.split('/')[0]}` : url;
};

const places = new Map<string, number>();
const functions = new Map<string, number>();
/** Time with the place anywhere on the stack: what it costs with everything it calls. */
const inclusive = new Map<string, number>();
let busy = 0;
let total = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  total += us;
  if (node.callFrame.functionName === '(idle)') continue;
  busy += us;
  const place = placeOf(node.callFrame);
  places.set(place, (places.get(place) ?? 0) + us);
  const name = `${node.callFrame.functionName || '(anonymous)'} ${place}:${node.callFrame.lineNumber + 1}`;
  functions.set(name, (functions.get(name) ?? 0) + us);
  const onStack = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at)?.callFrame;
    if (frame && frame.functionName !== '(root)') onStack.add(placeOf(frame));
  }
  for (const place of onStack) inclusive.set(place, (inclusive.get(place) ?? 0) + us);
}

const share = (us: number) => `${((us / busy) * 100).toFixed(1)} %`;
const rows = (entries: Map<string, number>, n: number) =>
  [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => [name, (us / 1000).toFixed(0), share(us)]);

console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)} %)\n`,
);
console.log(`${formatTable(['self time by place', 'ms', 'of busy'], rows(places, top))}\n`);
console.log(
  `${formatTable(['time with callees, by place on the stack', 'ms', 'of busy'], rows(inclusive, top))}\n`,
);
console.log(`${formatTable(['self time by function', 'ms', 'of busy'], rows(functions, top))}\n`);
