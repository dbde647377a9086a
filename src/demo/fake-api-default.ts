// The fake's built-in supervisor voice, used by --demo when nothing is scripted.
// Deterministic (depends only on the request stream) so demo runs and
// benchmarks are reproducible.
import { allUserTexts, lastUserText } from './fake-api-wire.js';
import { answerBatch } from './fake-api-batch.js';

const LABEL_AT_LINE_START = /^\s*\[([^\]\n]{1,64})\]/m;

function sessionLabel(text: string): string | undefined {
  return LABEL_AT_LINE_START.exec(text)?.[1]?.trim() || undefined;
}

export function createDefaultResponder(): (body: any) => string {
  const seen = new Map<string, number>();
  const respond = (body: any): string => {
    const text = lastUserText(body);
    // Several sessions in one message: one section each, in the relay's form.
    const batch = answerBatch(text, (p) => one(body, p.text, sessionLabel(p.text)));
    return batch ?? one(body, text, sessionLabel(text));
  };
  const one = (body: any, text: string, label: string | undefined): string => {
    // Checked before NEEDS-JC: a summary request may quote a transcript that contains the marker.
    if (/summar/i.test(text)) {
      const labels = new Set<string>();
      for (const t of allUserTexts(body)) {
        for (const m of t.matchAll(/^\s*\[([^\]\n]{1,64})\]/gm)) labels.add(m[1].trim());
      }
      const who = labels.size > 0 ? [...labels].join(', ') : 'the sessions';
      const count = Array.isArray(body?.messages) ? body.messages.length : 0;
      return (
        `Summary of the conversation so far: ${count} messages exchanged with ${who}. ` +
        'Each update was reviewed and acknowledged, the work is progressing step by step, ' +
        'and no decisions are pending.'
      );
    }

    if (text.includes('NEEDS-JC-PLEASE')) {
      const who = label ?? 'this session';
      return `[NEEDS-JC] Should ${who} go ahead with the proposed change, or wait for your review?`;
    }

    const key = label ?? '';
    const k = (seen.get(key) ?? 0) + 1;
    seen.set(key, k);
    const whose = label ? `${label}'s` : 'the';
    return `Reviewed ${whose} update (#${k}). Carry on with the next step.`;
  };
  return respond;
}
