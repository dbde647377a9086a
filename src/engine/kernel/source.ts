/**
 * Who acted: where operator input came from (the prompt line, state/jc_input.txt,
 * `relay-tui say`, a phone reply, a Claude Code hook), or the relay itself. The lowest
 * room holds it because the audit log, the inbox and the events all record it.
 */

export type OperatorSource = 'tui' | 'file' | 'cli' | 'ntfy' | 'hook';

/** An operator source, or the relay acting on its own (a pause, a retry, start and stop). */
export type Actor = OperatorSource | 'relay';
