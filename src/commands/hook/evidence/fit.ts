import { renderEvidence, type Evidence, type EvidenceCommand } from '../../../protocol/evidence.js';

/**
 * Fitting an evidence digest to hooks.evidence_max_bytes: what goes first when a turn did more
 * than the bound holds, and the one note that says what went.
 */

const oneLine = (s: string, n: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/** Bytes of what it costs: the larger of its JSON (in the envelope) and its rendering (in the prompt). */
export function evidenceBytes(e: Evidence): number {
  return Math.max(Buffer.byteLength(JSON.stringify(e), 'utf8'), Buffer.byteLength(renderEvidence(e), 'utf8'));
}

/**
 * Cuts the digest to `maxBytes`, least telling first: passing commands' and then failing
 * commands' tails shortened, the diff stat down to its summary, passing commands, files,
 * failing commands and tools dropped oldest first (the last test run kept to the end), free
 * text cut at its end; one note says what went.
 */
export function fitEvidence(e: Evidence, maxBytes: number): Evidence {
  if (evidenceBytes(e) <= maxBytes) return e;
  let cur: Evidence = structuredClone(e);
  let left = { commands: 0, files: 0, tools: 0, diff: 0, tail: 0, text: 0 };
  const note = () => {
    const parts = [
      left.files && `${left.files} file(s)`,
      left.commands && `${left.commands} command(s)`,
      left.tools && `${left.tools} tool outcome(s)`,
      left.diff && `${left.diff} diff-stat line(s)`,
      left.tail && `${left.tail} output line(s)`,
      left.text && `${left.text} characters of text`,
    ].filter(Boolean);
    return `cut to hooks.evidence_max_bytes (${maxBytes}): left out ${parts.join(', ')}`;
  };
  const withNote = (): Evidence => ({ ...cur, notes: [...(e.notes ?? []), note()] });
  const fits = () => evidenceBytes(withNote()) <= maxBytes;
  const lastTest = () => (cur.commands ?? []).findLastIndex((c) => !!c.tests);
  const steps: Array<() => boolean> = [
    // Shorten the longest tail by a line.
    () => {
      const c = (cur.commands ?? []).filter((x) => (x.tail?.length ?? 0) > 2).sort((a, b) => b.tail!.length - a.tail!.length)[0];
      if (!c) return false;
      c.tail!.shift();
      left.tail++;
      return true;
    },
    () => {
      if (!cur.diff_stat || cur.diff_stat.length <= 1) return false;
      cur.diff_stat.shift();
      left.diff++;
      return true;
    },
    () => drop((c) => c.exit === 0 && !c.tests),
    () => {
      if (!cur.files?.length) return false;
      cur.files.shift();
      left.files++;
      return true;
    },
    () => {
      const c = (cur.commands ?? []).find((x) => x.tail?.length);
      if (!c) return false;
      left.tail += c.tail!.length;
      delete c.tail;
      return true;
    },
    () => drop((_c, i) => i !== lastTest()),
    () => {
      if (!cur.tools?.length) return false;
      cur.tools.shift();
      left.tools++;
      return true;
    },
    () => {
      if (!cur.diff_stat?.length) return false;
      left.diff += cur.diff_stat.length;
      delete cur.diff_stat;
      return true;
    },
    () => drop(() => true),
    () => {
      if (!cur.text) return false;
      // The ellipsis of an earlier cut is not text: cut what is left of the text, or the text
      // shrank by nothing once it was short (x…, cut by one, plus an ellipsis: x… forever).
      const base = left.text ? cur.text.slice(0, -1) : cur.text;
      const cut = Math.max(1, Math.ceil(base.length / 8));
      if (base.length <= cut) {
        left.text += base.length;
        delete cur.text;
        return true;
      }
      cur.text = `${base.slice(0, base.length - cut)}…`;
      left.text += cut;
      return true;
    },
  ];
  function drop(which: (c: EvidenceCommand, i: number) => boolean): boolean {
    const cs = cur.commands ?? [];
    const i = cs.findIndex(which);
    if (i < 0) return false;
    cs.splice(i, 1);
    left.commands++;
    return true;
  }
  // A kind of cut is taken as many times as needed, and no more. The two that can run
  // thousands of times (output lines, diff-stat lines: 500 commands of 40 lines) are found
  // by galloping and bisecting from saved states, not one cut and one full measure at a
  // time (quadratic: 8 s); they never empty the digest, so the size falls with each cut.
  // The others go one at a time: the last of a kind can make the rendering longer (an
  // empty digest says so in a line), and they are few.
  const save = () => ({ cur: structuredClone(cur), left: { ...left } });
  const restore = (x: ReturnType<typeof save>) => {
    cur = structuredClone(x.cur);
    left = { ...x.left };
  };
  const times = (step: () => boolean, n: number) => {
    let did = 0;
    while (did < n && step()) did++;
    return did;
  };
  function cutUntilFits(step: () => boolean, bulk: boolean): boolean {
    if (!bulk) {
      while (!fits() && step());
      return fits();
    }
    for (let n = 1; !fits(); n *= 2) {
      const before = save();
      const did = times(step, n);
      if (!fits()) {
        if (did < n) return false; // this kind of cut is used up
        continue;
      }
      // It fits after `did` cuts from `before`: the fewest that do.
      let lo = 1;
      let hi = did;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        restore(before);
        times(step, mid);
        if (fits()) hi = mid;
        else lo = mid + 1;
      }
      restore(before);
      times(step, hi);
    }
    return true;
  }
  for (const [i, step] of steps.entries()) if (cutUntilFits(step, i < 2)) return withNote();
  // Nothing left to cut but the notes themselves (a tiny limit): the note alone.
  return { from: e.from, notes: [oneLine(note(), Math.max(40, maxBytes - 120))] };
}
