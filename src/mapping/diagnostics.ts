/** Load-time findings about a mapping file, each pinned to the YAML node it is about. */
import type { LineCounter, Node as YamlNode } from 'yaml';

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
