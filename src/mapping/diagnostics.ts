/**
 * Load-time findings about a YAML file (mapping files, drawdown rule files, the configuration),
 * each pinned to the YAML node it is about.
 */
import { isMap, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml';

export interface Diagnostic {
  /** The file as it was named to the loader. */
  file: string;
  /** 1-based line and column of the offending node. */
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

/** `mappings/salesforce-opportunity.yaml:12:7: error: <reason>` — the shape editors and CI understand. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Where a finding points: a YAML node, or a character offset into the file. */
export type At = YamlNode | number | null | undefined;

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly file: string, private readonly lines: LineCounter) {}

  error(at: At, message: string): void {
    this.add('error', at, message);
  }

  warning(at: At, message: string): void {
    this.add('warning', at, message);
  }

  offsetOf(at: At): number {
    if (typeof at === 'number') return at;
    return at?.range?.[0] ?? 0;
  }

  private add(severity: Diagnostic['severity'], at: At, message: string): void {
    const { line, col } = this.lines.linePos(this.offsetOf(at));
    this.diagnostics.push({ file: this.file, line, col, severity, message });
  }

  get failed(): boolean {
    return hasErrors(this.diagnostics);
  }
}

/** A YAML parser error without the position and excerpt the parser appends (the diagnostic carries the position). */
export function yamlErrorMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

/**
 * The offset of the node a path of keys and indexes (a zod issue's path) leads to in a YAML
 * document: the value there, or its key when `atKey` (an unknown key); the deepest node found
 * when the document stops short of the path (a missing key points at its parent).
 */
export function offsetAtPath(doc: Document, keyPath: readonly PropertyKey[], atKey = false): number {
  let node: unknown = doc.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (const [i, key] of keyPath.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown })?.value === key);
      if (!pair) break;
      offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
      if (atKey && i === keyPath.length - 1) break;
      node = pair.value;
      offset = (node as { range?: [number] } | null)?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      offset = (node as { range?: [number] } | null)?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}

/** "did you mean …?" for a misspelt name, when one candidate is close enough. */
export function suggest(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean \`${best}\`?)` : '';
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
