import { describe, expect, it } from 'vitest';
import { dependencyStatuses } from '../../src/dependency-status.js';
import { dotString, mermaidText, renderGraph, STATUS_COLOURS, toDot, toMermaid, toSvg } from '../../src/graph.js';
import { MemorySource, inspectDependencies, resolveDependencies } from '../../src/resolver.js';

const source = new MemorySource([
  { type: 'cluster', name: 'web', version: '1.0.0', dependencies: ['nginx', 'app@>=2.0.0 <3.0.0'] },
  { name: 'app', version: '2.1.0', dependencies: ['nginx@^1.24.0'] },
  { name: 'app', version: '3.0.0' },
  { name: 'nginx', version: '1.25.0' },
  { name: 'web', version: '0.1.0' }, // a taskserv that shares the cluster's name
]);
const root = { type: 'cluster', name: 'web' };

const DOT_HEAD = [
  'digraph "web@1.0.0" {',
  '  rankdir=TB;',
  '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#424242", fontname="Helvetica"];',
  '  edge [color="#616161", fontname="Helvetica", fontsize=10];',
];

describe('dependency graph', () => {
  it('DOT: nodes "name\\nversion", edges dependent -> dependency labelled with their range, the root highlighted', async () => {
    const resolution = await resolveDependencies(source, root);
    expect(toDot(resolution)).toBe(
      [
        ...DOT_HEAD,
        '  "cluster:web" [label="web\\n1.0.0", fillcolor="#bbdefb", color="#1565c0", penwidth=2];',
        '  "app" [label="app\\n2.1.0"];',
        '  "nginx" [label="nginx\\n1.25.0"];',
        '  "cluster:web" -> "app" [label=">=2.0.0 <3.0.0"];',
        '  "cluster:web" -> "nginx";',
        '  "app" -> "nginx" [label="^1.24.0"];',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('Mermaid: graph TD with escaped labels and status classes', async () => {
    const resolution = await resolveDependencies(source, root);
    expect(toMermaid(resolution)).toBe(
      [
        'graph TD',
        '  n0["web<br/>1.0.0"]',
        '  n1["app<br/>2.1.0"]',
        '  n2["nginx<br/>1.25.0"]',
        '  n0 -->|"#gt;=2.0.0 #lt;3.0.0"| n1',
        '  n0 --> n2',
        '  n1 -->|"^1.24.0"| n2',
        '  classDef root fill:#bbdefb,stroke:#1565c0,stroke-width:2px',
        '  class n0 root',
        '',
      ].join('\n'),
    );
    const coloured = toMermaid(resolution, { statuses: { app: 'not-installed', nginx: 'installed' } });
    expect(coloured.split('\n').slice(7)).toEqual([
      '  classDef root fill:#bbdefb,stroke:#1565c0,stroke-width:2px',
      '  classDef notInstalled fill:#eeeeee,stroke:#9e9e9e',
      '  classDef installed fill:#c8e6c9,stroke:#2e7d32',
      '  class n0 root',
      '  class n1 notInstalled',
      '  class n2 installed',
      '',
    ]);
  });

  it('a failed resolution is drawn too: the missing and unsatisfiable dependencies in red', async () => {
    const broken = new MemorySource([
      { name: 'kubernetes', version: '1.28.0', dependencies: ['etcd@>=3.5 <4', 'ghost'] },
      { name: 'etcd', version: '3.4.27' },
    ]);
    const report = await inspectDependencies(broken, { type: 'taskserv', name: 'kubernetes' });
    expect(toDot(report)).toBe(
      [
        'digraph "kubernetes@1.28.0" {',
        ...DOT_HEAD.slice(1),
        '  "kubernetes" [label="kubernetes\\n1.28.0", fillcolor="#bbdefb", color="#1565c0", penwidth=2];',
        '  "etcd" [label="etcd\\n(no version fits)", fillcolor="#ffcdd2", color="#c62828"];',
        '  "ghost" [label="ghost\\n(missing)", fillcolor="#ffcdd2", color="#c62828"];',
        '  "kubernetes" -> "etcd" [label=">=3.5 <4"];',
        '  "kubernetes" -> "ghost";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('escapes labels for DOT and Mermaid', () => {
    expect(dotString('a "quoted" \\ back\nslash')).toBe('"a \\"quoted\\" \\\\ back\\nslash"');
    expect(mermaidText('>=1.0.0 <2.0.0 || "x" #1 a|b & c')).toBe('#gt;=1.0.0 #lt;2.0.0 #124;#124; #quot;x#quot; #35;1 a#124;b #amp; c');
  });

  it('SVG rendered in process by Graphviz: every node, coloured by status', async () => {
    const resolution = await resolveDependencies(source, root);
    const rows = dependencyStatuses(resolution, source, [
      { name: 'nginx', version: '1.25.0', content_hash: '0'.repeat(64), workflow_id: null, run_id: null, files: [], installed_at: '2026-01-01T00:00:00Z', verified_at: null },
    ]);
    expect(rows.map((r) => `${r.name}:${r.status}`)).toEqual(['app:not-installed', 'nginx:installed']);
    const svg = await toSvg(resolution, { statuses: rows });
    expect(svg).toContain('<svg');
    for (const text of ['>web</text>', '>1.0.0</text>', '>app</text>', '>2.1.0</text>', '>nginx</text>', '>1.25.0</text>', '&gt;=2.0.0 &lt;3.0.0']) {
      expect(svg).toContain(text);
    }
    for (const colour of [STATUS_COLOURS.root.fill, STATUS_COLOURS.installed.fill, STATUS_COLOURS['not-installed'].fill]) {
      expect(svg).toContain(`fill="${colour}"`);
    }
    expect(await renderGraph(resolution, 'svg', { statuses: rows })).toBe(svg);

    const broken = await inspectDependencies(new MemorySource([{ name: 'a', version: '1.0.0', dependencies: ['ghost'] }]), { type: 'taskserv', name: 'a' });
    const red = await renderGraph(broken, 'svg');
    expect(red).toContain('>ghost</text>');
    expect(red).toContain(`fill="${STATUS_COLOURS.missing.fill}"`);
  });
});
