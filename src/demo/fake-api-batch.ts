/**
 * The fake's side of a batched call (the relay's form: src/engine/journals/batch-form.ts,
 * read here from the wire as chat-Claude would): the sessions' messages of a batch, and
 * an answer built from one reply each. `shape` makes the answers the relay must survive:
 * one session's section left out, markers that do not follow the form, a [NEEDS-JC]
 * section for one session.
 */

export interface BatchPart {
  route: string;
  code: string;
  /** The session's labelled message. */
  text: string;
}

export interface BatchShape {
  /** Leave this session's section out. */
  omit?: string;
  /** Answer this session (or these) with a question for the operator. */
  needsJc?: string | string[];
  /** Drop the markers' code: not in the form. */
  malformed?: boolean;
}

const FROM = /^<<<from (\S+) ([0-9a-f]+)>>>$/;

/** The parts of a batched message, or null for any other message. */
export function batchParts(text: string): BatchPart[] | null {
  const parts: BatchPart[] = [];
  for (const line of text.split('\n')) {
    const m = FROM.exec(line);
    if (m) parts.push({ route: m[1], code: m[2], text: '' });
    else if (parts.length) {
      const p = parts[parts.length - 1];
      p.text = p.text ? `${p.text}\n${line}` : line;
    }
  }
  for (const p of parts) p.text = p.text.trim();
  return parts.length ? parts : null;
}

/** The answer to a batched message, one section per part (as `shape` bends it); null when `text` is not one. */
export function answerBatch(text: string, reply: (part: BatchPart) => string, shape: BatchShape = {}): string | null {
  const parts = batchParts(text);
  if (!parts) return null;
  return parts
    .filter((p) => p.route !== shape.omit)
    .map((p) => {
      const body = ([] as Array<string | undefined>).concat(shape.needsJc).includes(p.route)
        ? `[NEEDS-JC] May ${p.route} go ahead?`
        : reply(p);
      return `<<<reply ${p.route}${shape.malformed ? '' : ` ${p.code}`}>>>\n${body}`;
    })
    .join('\n\n');
}
