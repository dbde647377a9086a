import { SESSION_ID_RE } from '../../protocol/session-id.js';

/**
 * The operator's grammar (SPEC.md "Operator input"), shared by the prompt line,
 * state/jc_input.txt, `relay-tui say` and replies from the phone. Parsing is pure;
 * what each command does in the relay's current state is in commands.ts.
 */

export type OperatorCommand =
  | { kind: 'dispatch'; session: string; text: string }
  | { kind: 'answer'; text: string }
  /** `target`: a session id or a phone ping's one-time code; none: the one candidate (commands.ts). */
  | { kind: 'approve'; target?: string }
  | { kind: 'drop'; target?: string }
  | { kind: 'pause' }
  | { kind: 'resume'; target?: string }
  | { kind: 'quit' }
  | { kind: 'budget'; usd: number }
  | { kind: 'allow'; session: string; turns: number }
  | { kind: 'invalid'; message: string };

export const SLASH_COMMANDS = ['/approve', '/drop', '/pause', '/resume', '/quit', '/budget', '/allow'] as const;

const DISPATCH_RE = /^@([^\s:]+)\s*:\s?([\s\S]*)$/;

export function parseOperatorInput(raw: string): OperatorCommand {
  const input = raw.replace(/\r\n/g, '\n').trim();
  if (!input) return { kind: 'invalid', message: 'empty input' };

  if (input.startsWith('@')) {
    const m = DISPATCH_RE.exec(input);
    if (!m) return { kind: 'invalid', message: 'expected @session-id: text' };
    const [, session, text] = m;
    if (!SESSION_ID_RE.test(session)) return { kind: 'invalid', message: `not a valid session id: ${session}` };
    if (!text.trim()) return { kind: 'invalid', message: `nothing to send to ${session}` };
    return { kind: 'dispatch', session, text: text.trim() };
  }

  // A lone slash word is a command; "/usr/bin is broken" is an answer that happens to start with a slash.
  if (input.startsWith('/') && /^\/[a-z]+(\s|$)/i.test(input)) {
    const [word, ...args] = input.split(/\s+/);
    const cmd = word.toLowerCase();
    switch (cmd) {
      case '/approve':
      case '/drop':
      case '/resume': {
        const kind = cmd.slice(1) as 'approve' | 'drop' | 'resume';
        if (args.length > 1) return { kind: 'invalid', message: `usage: ${cmd} [SESSION|CODE] (one target at most)` };
        return args[0] ? { kind, target: args[0] } : { kind };
      }
      case '/pause':
      case '/quit':
        if (args.length) return { kind: 'invalid', message: `${cmd} takes no arguments` };
        return { kind: cmd.slice(1) as 'pause' | 'quit' };
      case '/budget': {
        // Number('') is 0: a bare "/budget $" must not set today's budget to nothing.
        const amount = args[0]?.replace(/^\$/, '') ?? '';
        const usd = amount === '' ? NaN : Number(amount);
        if (args.length !== 1 || !Number.isFinite(usd) || usd < 0)
          return { kind: 'invalid', message: "usage: /budget USD (today's budget, e.g. /budget 30)" };
        return { kind: 'budget', usd };
      }
      case '/allow': {
        const [session, n] = args;
        const turns = Number(n ?? NaN);
        if (!session || !SESSION_ID_RE.test(session) || !Number.isInteger(turns) || turns <= 0) {
          return { kind: 'invalid', message: 'usage: /allow SESSION N (N more automatic turns, e.g. /allow session-1 10)' };
        }
        return { kind: 'allow', session, turns };
      }
      default:
        return { kind: 'invalid', message: `unknown command ${word}; commands: ${SLASH_COMMANDS.join(' ')}` };
    }
  }
  return { kind: 'answer', text: input };
}
