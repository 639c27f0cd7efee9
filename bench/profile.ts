/**
 * Reads a V8 CPU profile written by `node --cpu-prof` (the .cpuprofile JSON: a call tree of nodes,
 * one node id per sample and the microseconds between samples; format of the Chrome DevTools
 * protocol, https://chromedevtools.github.io/devtools-protocol/tot/Profiler/#type-Profile) and
 * ranks functions and code areas by self time within the timed window of a scenario.
 */
import { readFileSync } from 'node:fs';
import { BUILD_DIR, ROOT } from './server';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row of a ranking: self time and its share of the window's samples. */
export interface HotSpot {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
  /** For functions: the calling functions that account for most of this self time. */
  callers?: string[];
}

/** What a profile says about one window. */
export interface ProfileSummary {
  /** Milliseconds sampled inside the window (all threads' JS time plus idle/GC pseudo-frames). */
  windowMs: number;
  /** False when the window could not be placed on the profile's clock (then all samples count). */
  windowed: boolean;
  functions: HotSpot[];
  areas: HotSpot[];
}

/** A compiled frame's URL as the TypeScript source it came from (lines are looked up by name). */
function sourceUrl(url: string): string {
  const build = `${BUILD_DIR}/`;
  const at = url.indexOf(build);
  if (at < 0) return url;
  return `${url.slice(0, at)}${ROOT}/${url.slice(at + build.length).replace(/\.js$/, '.ts')}`;
}

/** The code area a frame belongs to: a package, a src/ folder, Node internals or a V8 pseudo-frame. */
export function areaOf(frame: CallFrame): string {
  const url = sourceUrl(frame.url);
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/(src|bench|scripts)\/([^/]+)\//.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
}

const sourceCache = new Map<string, string[]>();

/**
 * File and line of a frame. Code loaded through tsx is transformed, so V8's line numbers do not
 * match the TypeScript source; for src/ files the line of the function's definition is looked up.
 */
function location(frame: CallFrame): string {
  if (!frame.url) return '';
  const path = sourceUrl(frame.url).replace(/^file:\/\//, '');
  const rel = path.replace(`${ROOT}/`, '');
  if (!rel.endsWith('.ts')) return `${rel}:${frame.lineNumber + 1}`;
  if (!frame.functionName) return rel;
  let lines = sourceCache.get(path);
  if (!lines) {
    try {
      lines = readFileSync(path, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sourceCache.set(path, lines);
  }
  const name = frame.functionName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const def = new RegExp(`(function\\*?\\s+${name}\\b|\\b${name}\\s*[:=]\\s*(async\\s*)?(\\(|function)|^\\s*(async\\s+|private\\s+|public\\s+|static\\s+)*${name}\\s*[(<])`);
  const i = lines.findIndex((l) => def.test(l));
  return i >= 0 ? `${rel}:${i + 1}` : rel;
}

/**
 * Self time per function and per area for samples taken between `fromUs` and `toUs` (microseconds
 * on the monotonic clock, which V8's profile timestamps and process.hrtime share on Linux).
 */
export function summariseProfile(file: string, fromUs: number, toUs: number, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const callers = new Map<string, Map<string, number>>();
  const windowed = fromUs >= profile.startTime && toUs <= profile.endTime + 1_000_000 && fromUs < toUs;
  const fn = new Map<string, HotSpot>();
  const area = new Map<string, HotSpot>();
  let t = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (windowed && (t < fromUs || t > toUs)) continue;
    // A sample stands for the time until the next one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byId.get(profile.samples[i]!)!.callFrame;
    totalUs += us;
    const key = `${frame.functionName}@${location(frame)}`;
    const parent = parentOf.get(profile.samples[i]!)?.callFrame;
    if (parent) {
      const m = callers.get(key) ?? new Map<string, number>();
      const p = `${parent.functionName || '(anonymous)'} ${location(parent)}`;
      m.set(p, (m.get(p) ?? 0) + us);
      callers.set(key, m);
    }
    const f = fn.get(key) ?? { name: frame.functionName || '(anonymous)', where: location(frame), selfMs: 0, percent: 0 };
    f.selfMs += us / 1000;
    fn.set(key, f);
    const a = areaOf(frame);
    const s = area.get(a) ?? { name: a, where: '', selfMs: 0, percent: 0 };
    s.selfMs += us / 1000;
    area.set(a, s);
  }
  const rank = (m: Map<string, HotSpot>, withCallers: boolean): HotSpot[] =>
    [...m.entries()]
      .map(([key, h]) => {
        const c = withCallers ? [...(callers.get(key) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]).slice(0, 2) : [];
        const callerList = c.map(([name, us]) => `${name} (${((100 * us) / 1000 / (h.selfMs || 1)).toFixed(0)} %)`);
        return { ...h, percent: totalUs ? (100 * h.selfMs * 1000) / totalUs : 0, ...(callerList.length ? { callers: callerList } : {}) };
      })
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top);
  return { windowMs: totalUs / 1000, windowed, functions: rank(fn, true), areas: rank(area, false) };
}

/** Markdown tables of a summary. */
export function renderProfile(title: string, s: ProfileSummary, throughput: string): string {
  const row = (h: HotSpot) => `| ${h.name} | ${h.where ? `\`${h.where}\`` : ''} | ${h.selfMs.toFixed(0)} | ${h.percent.toFixed(1)} % |`;
  const fnRow = (h: HotSpot) => `${row(h)} ${(h.callers ?? []).map((c) => `\`${c}\``).join('<br>')} |`;
  return [
    `### ${title}`,
    '',
    `${throughput}; ${(s.windowMs / 1000).toFixed(1)} s of samples ${s.windowed ? 'inside the timed window' : '(whole process: the window could not be placed on the profile clock)'}.`,
    '',
    'Self time by area:',
    '',
    '| area | | self ms | share |',
    '|---|---|---:|---:|',
    ...s.areas.map(row),
    '',
    'Top functions by self time:',
    '',
    '| function | where | self ms | share | main callers (share of its self time) |',
    '|---|---|---:|---:|---|',
    ...s.functions.map(fnRow),
    '',
  ].join('\n');
}
