import { describe, expect, it } from 'vitest';
import { exitCodeOf, failureOf, failureText } from '../src/cli/exit-codes.js';
import { UsageError } from '../src/cli/args.js';
import { ConfigError, MissingKeyError } from '../src/config/errors.js';
import { ConfinementError, InputError } from '../src/fs/confine.js';
import { RootFault, SessionFault } from '../src/fs/faults.js';
import { LockHeldError } from '../src/fs/lock.js';
import { NotARootError } from '../src/commands/require-root.js';

/**
 * The one error table, as both ends use it: the CLI maps an error, the TUI's engine thread
 * posts {kind, message} (structured-cloned) and its main thread maps that.
 */

const clone = <T>(v: T): T => structuredClone(v);

describe('the error table', () => {
  it('maps each kind to its exit code and its line, the same from an error and from its posted copy', () => {
    const cases: Array<[Error, number, RegExp]> = [
      [new UsageError('unknown option --x', 'send'), 2, /^relay-tui: unknown option --x\n {2}see relay-tui send --help\n$/],
      [new NotARootError({ dir: '/x', source: '--root' }, 'no state/'), 2, /^relay-tui: not a relay root: \/x \(from --root\): no state\//],
      [new InputError('bad session id'), 2, /^relay-tui: bad session id\n$/],
      [new ConfinementError('/r/state', 'symlink', 'directory'), 1, /^relay-tui: \/r\/state: is a symlink.*refused\n$/],
      [new RootFault('/r/state', 'disk full'), 1, /^relay-tui: disk full\n$/],
      [new SessionFault('s1', '/r/dispatch/s1', 'input.txt is a FIFO'), 1, /^relay-tui: input.txt is a FIFO\n$/],
      [new LockHeldError('/r/relay.lock', { pid: 4242, started_at: 'then' }), 3, /stop it first \(kill 4242\), or use another --root\n$/],
      [new ConfigError('/r/config.yaml', 'model', 'unknown'), 4, /^relay-tui: config error: \/r\/config.yaml: model: unknown\n$/],
      [new MissingKeyError('/r/.env'), 4, /^relay-tui: ANTHROPIC_API_KEY is not set\./],
    ];
    for (const [err, code, text] of cases) {
      const f = failureOf(err);
      expect(exitCodeOf(f), err.constructor.name).toBe(code);
      expect(failureText(f)).toMatch(text);
      const posted = clone(f);
      expect(exitCodeOf(posted)).toBe(code);
      expect(failureText(posted)).toBe(failureText(f));
    }
  });

  it('an error without a kind is a bug: exit 1 with its stack; a kind the table does not know is 1', () => {
    const f = failureOf(new TypeError('x is undefined'));
    expect(f.kind).toBe('internal');
    expect(exitCodeOf(f)).toBe(1);
    expect(f.message).toMatch(/^TypeError: x is undefined\n\s+at /);
    expect(exitCodeOf(clone({ kind: 'from-a-newer-thread' as never, message: 'm' }))).toBe(1);
    // Something thrown that is not an Error, even with a kind-like field, is not trusted.
    expect(failureOf({ kind: 'lock-held', message: 'fake' }).kind).toBe('internal');
  });
});
