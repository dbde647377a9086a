import { InputError } from '../fs/confine.js';

/**
 * The session-id rule, in one place for every edge (envelopes, send/recv, the hooks,
 * operator input, dispatch): an id names a directory under dispatch/ and appears in
 * labels, so no `..`, no `/`. No zod here: the hooks that run on every prompt use it.
 */
export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID_RE.test(id);
}

/** The checker: the id itself, or an InputError that names it and the rule. */
export function checkSessionId(id: unknown): string {
  if (!isSessionId(id)) {
    throw new InputError(
      `not a valid session id: ${JSON.stringify(id)} (letters, digits, _ and -, starting with a letter or digit, at most 64)`,
    );
  }
  return id;
}
