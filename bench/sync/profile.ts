/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the CPU went: self time by area of the
 * code (an npm package, a folder of the repository, Node's internals, garbage collection) and by
 * function, within a time window (the sync run) when one is given.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** CPU milliseconds sampled in the window (idle excluded). */
  busyMs: number;
  idleMs: number;
  areas: { area: string; ms: number; share: number }[];
  functions: { fn: string; ms: number; share: number }[];
}

/** Which part of the system a frame belongs to. */
export function areaOf(url: string, functionName: string, root: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1];
  const rel = path.relative(root, file);
  if (rel.startsWith('..')) return 'other';
  const parts = rel.split(path.sep);
  return parts.length > 2 ? parts.slice(0, 2).join('/') : parts[0];
}

export async function summariseProfile(file: string, root: string, window?: { fromUs: number; toUs: number }, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    // The time until the next sample is the time this sample stands for.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') { idle += us; continue; }
    busy += us;
    const area = areaOf(url, functionName, root);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url ? `${areaOf(url, functionName, root) === 'other' ? url : path.basename(url)}:${lineNumber + 1}` : '';
    const fn = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    areas: rank(areas).map(([area, us]) => ({ area, ms: Math.round(us / 1000), share: us / busy })),
    functions: rank(fns).map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: us / busy })),
  };
}
