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
  const cur: Evidence = structuredClone(e);
  const left = { commands: 0, files: 0, tools: 0, diff: 0, tail: 0, text: 0 };
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
      const cut = Math.max(1, Math.ceil(cur.text.length / 8));
      cur.text = `${cur.text.slice(0, cur.text.length - cut)}…`;
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
  for (const step of steps) {
    while (!fits() && step());
    if (fits()) return withNote();
  }
  // Nothing left to cut but the notes themselves (a tiny limit): the note alone.
  return { from: e.from, notes: [oneLine(note(), Math.max(40, maxBytes - 120))] };
}
