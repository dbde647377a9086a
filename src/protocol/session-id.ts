/** What a session id may be: safe as a folder name under dispatch/ and in a label. */
export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
