import { randomBytes } from 'node:crypto';

/**
 * The text form of a batched call (issue 24, item 3): one user message carrying one
 * envelope from each waiting session, and chat-Claude's answer in one section per
 * session. Both sides are marked by whole lines that carry a code drawn for this call,
 * so a session cannot forge another's marker: its envelope was written before the code
 * existed. The conversation renders recorded batch turns back through these same
 * functions, so the history it sends is the text chat-Claude saw.
 */

export interface BatchSection {
  route: string;
  /** The labelled user message, as a one-envelope turn would send it. */
  user: string;
}

/** 8 hex digits: unguessable by a session, short enough to copy exactly. */
export function batchCode(): string {
  return randomBytes(4).toString('hex');
}

const fromLine = (route: string, code: string) => `<<<from ${route} ${code}>>>`;
export const replyLine = (route: string, code: string) => `<<<reply ${route} ${code}>>>`;

export function batchMessage(sections: BatchSection[], code: string): string {
  const routes = sections.map((s) => s.route).join(', ');
  // Not '[relay] ': that prefix marks the relay's own requests (a summary) to whoever reads the wire.
  // The form is explained here, where it is used, not in the system prompt: a batch is opt-in, and
  // the prompt's size decides whether it is cached at all (the model's minimum).
  const head =
    `[relay: ${sections.length} sessions waiting (${routes})] One message from each follows, each after its line ${fromLine('SESSION', code)}. ` +
    `Answer every session in its own section: a line ${replyLine('SESSION', code)} exactly as shown (that session's id, this code), ` +
    `then your reply to that session alone. One section per session, nothing before the first; each section is delivered only ` +
    `to its session, so never address one session inside another's section. [NEEDS-JC] goes at the start of the section that needs the operator.`;
  return [head, ...sections.map((s) => `${fromLine(s.route, code)}\n${s.user}`)].join('\n\n');
}

export function batchAnswer(replies: Array<{ route: string; reply: string }>, code: string): string {
  return replies.map((r) => `${replyLine(r.route, code)}\n${r.reply}`).join('\n\n');
}

export type ParsedBatch =
  | { ok: true; replies: Map<string, string> }
  /** Not in the form at all: every session falls back to a one-envelope turn. */
  | { ok: false; problem: string };

const MARKER = /^<<<reply (\S+) ([0-9a-f]+)>>>[ \t]*$/;

/**
 * The sections of an answer, by session. Strict where a mistake could misroute: text
 * before the first marker, a marker with another code or for a session not in the
 * call, or a stray marker-like line, and the whole answer is refused. Per session: a
 * section missing, empty or given twice, or the last one cut by max_tokens, and that
 * session alone is left out (it falls back).
 */
export function parseBatchAnswer(text: string, routes: string[], code: string, truncated: boolean): ParsedBatch {
  const lines = text.split('\n');
  const sections: Array<{ route: string; body: string[] }> = [];
  for (const line of lines) {
    const m = MARKER.exec(line);
    if (!m && line.trimStart().startsWith('<<<reply ')) return { ok: false, problem: `a malformed marker line: ${line.slice(0, 80)}` };
    if (m) {
      if (m[2] !== code) return { ok: false, problem: `a marker with code ${m[2]}, not this call's ${code}` };
      if (!routes.includes(m[1])) return { ok: false, problem: `a section for ${m[1]}, which was not in this call` };
      sections.push({ route: m[1], body: [] });
      continue;
    }
    if (!sections.length) {
      if (line.trim()) return { ok: false, problem: 'text before the first section' };
      continue;
    }
    sections[sections.length - 1].body.push(line);
  }
  if (!sections.length) return { ok: false, problem: 'no section markers' };
  const count = new Map<string, number>();
  for (const s of sections) count.set(s.route, (count.get(s.route) ?? 0) + 1);
  const replies = new Map<string, string>();
  sections.forEach((s, i) => {
    if (count.get(s.route) !== 1) return;
    if (truncated && i === sections.length - 1) return;
    const body = s.body.join('\n').trim();
    if (body) replies.set(s.route, body);
  });
  return { ok: true, replies };
}
