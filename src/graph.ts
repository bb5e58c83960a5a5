import type { DependencyStatusRow, DependencyStatusWord } from './dependency-status.js';
import type { DependencyReport, Resolution } from './resolver.js';

/**
 * The dependency graph as a picture (the reference's "Dependency graph visualization"):
 * Graphviz DOT, Mermaid, and SVG laid out in process by Graphviz compiled to WebAssembly.
 * Nodes are `name\nversion`, edges go dependent -> dependency (labelled with the range
 * when there is one), the root is highlighted and, given statuses, nodes are coloured.
 */

export type GraphFormat = 'dot' | 'mermaid' | 'svg';

export interface GraphOptions {
  /** Status per dependency name (`dependencyStatuses()` rows, or a name -> word record). */
  statuses?: readonly Pick<DependencyStatusRow, 'name' | 'status'>[] | Readonly<Record<string, DependencyStatusWord>>;
}

interface Style {
  fill: string;
  stroke: string;
}

/** Installed green, not installed grey, missing / wrong version red, the root blue. */
export const STATUS_COLOURS: Readonly<Record<DependencyStatusWord | 'root', Style>> = {
  root: { fill: '#bbdefb', stroke: '#1565c0' },
  ok: { fill: '#ffffff', stroke: '#424242' },
  installed: { fill: '#c8e6c9', stroke: '#2e7d32' },
  'not-installed': { fill: '#eeeeee', stroke: '#9e9e9e' },
  missing: { fill: '#ffcdd2', stroke: '#c62828' },
  'wrong-version': { fill: '#ffcdd2', stroke: '#c62828' },
};

interface GraphNode {
  /** DOT node id: the name; `cluster:<name>` for a root that is not a taskserv (a taskserv may share its name). */
  id: string;
  name: string;
  /** Second label line: the version, or why there is none. */
  detail: string;
  style: DependencyStatusWord | 'root' | undefined;
}

interface GraphEdge {
  from: number;
  to: number;
  range: string;
}

/** Nodes in a stable order (root, then by name) and edges sorted by (from, to). */
function layout(resolution: Resolution | DependencyReport, options: GraphOptions): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const statuses = statusMap(options.statuses);
  const root = resolution.root;
  const rootId = root.type === 'Taskserv' ? root.name : `${root.type.toLowerCase()}:${root.name}`;
  const nodes: GraphNode[] = [{ id: rootId, name: root.name, detail: root.version, style: 'root' }];
  for (const p of resolution.packages) nodes.push({ id: p.name, name: p.name, detail: p.version, style: statuses.get(p.name) });
  const problems = 'problems' in resolution ? resolution.problems : [];
  for (const p of [...problems].sort((a, b) => compare(a.name, b.name))) {
    if (p.name === root.name && root.type === 'Taskserv') continue; // already drawn as the root
    const fallback: DependencyStatusWord = p.kind === 'missing' ? 'missing' : 'wrong-version';
    nodes.push({ id: p.name, name: p.name, detail: p.kind === 'missing' ? '(missing)' : '(no version fits)', style: statuses.get(p.name) ?? fallback });
  }
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (i === 0 && root.type !== 'Taskserv') return; // a cluster is not a taskserv a dependency can name
    index.set(n.name, i);
  });
  // Edges from the dependency lists; the label is the range the dependent declared, if any.
  const ranges = new Map<string, string[]>();
  const constraints = [...resolution.packages, ...problems].flatMap((p) => p.constraints.map((c) => ({ to: p.name, ...c })));
  for (const c of constraints) {
    if (c.range === '*') continue;
    const key = `${c.required_by}>${c.to}`;
    if (!ranges.has(key)) ranges.set(key, []);
    if (!ranges.get(key)!.includes(c.range)) ranges.get(key)!.push(c.range);
  }
  const edges: GraphEdge[] = [];
  const from = [{ at: 0, name: root.name, version: root.version, dependencies: root.dependencies }];
  for (const p of resolution.packages) from.push({ at: index.get(p.name)!, ...p });
  for (const f of from) {
    for (const dep of f.dependencies) {
      const to = index.get(dep);
      if (to !== undefined) edges.push({ from: f.at, to, range: (ranges.get(`${f.name}@${f.version}>${dep}`) ?? ['*']).join(', ') });
    }
  }
  edges.sort((a, b) => a.from - b.from || a.to - b.to || compare(a.range, b.range));
  return { nodes, edges };
}

/** Graphviz DOT. Labels are DOT quoted strings (`"` and `\` escaped); `\n` is the line break. */
export function toDot(resolution: Resolution | DependencyReport, options: GraphOptions = {}): string {
  const { nodes, edges } = layout(resolution, options);
  const lines = [
    `digraph ${dotString(`${resolution.root.name}@${resolution.root.version}`)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#424242", fontname="Helvetica"];',
    '  edge [color="#616161", fontname="Helvetica", fontsize=10];',
  ];
  for (const n of nodes) {
    const attrs = [`label=${dotString(`${n.name}\n${n.detail}`)}`];
    if (n.style) {
      const { fill, stroke } = STATUS_COLOURS[n.style];
      attrs.push(`fillcolor="${fill}"`, `color="${stroke}"`);
      if (n.style === 'root') attrs.push('penwidth=2');
    }
    lines.push(`  ${dotString(n.id)} [${attrs.join(', ')}];`);
  }
  for (const e of edges) {
    const label = e.range === '*' ? '' : ` [label=${dotString(e.range)}]`;
    lines.push(`  ${dotString(nodes[e.from]!.id)} -> ${dotString(nodes[e.to]!.id)}${label};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid `graph TD`. Ids are `n0, n1, ...`; labels quoted with Mermaid entity codes (`#lt;`, `#quot;`). */
export function toMermaid(resolution: Resolution | DependencyReport, options: GraphOptions = {}): string {
  const { nodes, edges } = layout(resolution, options);
  const lines = ['graph TD'];
  nodes.forEach((n, i) => lines.push(`  n${i}["${mermaidText(n.name)}<br/>${mermaidText(n.detail)}"]`));
  for (const e of edges) {
    const label = e.range === '*' ? '' : `|"${mermaidText(e.range)}"|`;
    lines.push(`  n${e.from} -->${label} n${e.to}`);
  }
  const used = [...new Set(nodes.map((n) => n.style).filter((s): s is NonNullable<typeof s> => s !== undefined))];
  for (const style of used) {
    const { fill, stroke } = STATUS_COLOURS[style];
    lines.push(`  classDef ${className(style)} fill:${fill},stroke:${stroke}${style === 'root' ? ',stroke-width:2px' : ''}`);
  }
  for (const style of used) {
    const ids = nodes.flatMap((n, i) => (n.style === style ? [`n${i}`] : []));
    lines.push(`  class ${ids.join(',')} ${className(style)}`);
  }
  return `${lines.join('\n')}\n`;
}

type GraphvizModule = typeof import('@hpcc-js/wasm-graphviz');
let graphviz: Promise<Awaited<ReturnType<GraphvizModule['Graphviz']['load']>>> | undefined;

/** SVG laid out by Graphviz (`dot`) in this process; the WebAssembly module loads once. */
export async function toSvg(resolution: Resolution | DependencyReport, options: GraphOptions = {}): Promise<string> {
  graphviz ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  const gv = await graphviz.catch((err: unknown) => {
    graphviz = undefined;
    throw err;
  });
  return gv.dot(toDot(resolution, options), 'svg');
}

export async function renderGraph(resolution: Resolution | DependencyReport, format: GraphFormat, options: GraphOptions = {}): Promise<string> {
  switch (format) {
    case 'dot':
      return toDot(resolution, options);
    case 'mermaid':
      return toMermaid(resolution, options);
    case 'svg':
      return toSvg(resolution, options);
  }
}

/** A DOT quoted string: backslash and double quote escaped, a newline as DOT's centred `\n`. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

/** Text inside a Mermaid quoted label: `#` first, then the characters Mermaid or HTML would read. */
export function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/\|/g, '#124;')
    .replace(/\r?\n/g, '<br/>');
}

function className(style: DependencyStatusWord | 'root'): string {
  return style === 'wrong-version' ? 'wrongVersion' : style === 'not-installed' ? 'notInstalled' : style;
}

function statusMap(statuses: GraphOptions['statuses']): Map<string, DependencyStatusWord> {
  if (!statuses) return new Map();
  if (Array.isArray(statuses)) return new Map((statuses as readonly Pick<DependencyStatusRow, 'name' | 'status'>[]).map((r) => [r.name, r.status]));
  return new Map(Object.entries(statuses as Readonly<Record<string, DependencyStatusWord>>));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
