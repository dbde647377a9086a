/**
 * The marker by which chat-Claude asks the operator (SPEC "The loop", step 4): a reply
 * with it near its start is held until the operator answers (approval needs_jc). The
 * relay, its views and the session-side hooks read it from here.
 */

export const NEEDS_JC = '[NEEDS-JC]';

/** Only the reply's start counts: a reply that quotes the marker further down is not a question. */
const WITHIN = 200;

export function asksOperator(reply: string): boolean {
  return reply.slice(0, WITHIN).includes(NEEDS_JC);
}
