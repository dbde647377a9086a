/**
 * Secret redaction for the evidence digest. A digest quotes command lines and the last lines
 * of their output, and both carry secrets often (`API_KEY=... ./deploy`, a token echoed by a
 * failing curl); the digest goes to a third party (the Messages API) and into the relay's
 * records, so anything that looks like a secret is replaced before it leaves the hook.
 * It errs on the side of cutting: a redacted PATH costs the reviewer little, a leaked key a lot.
 */

export const REDACTED = '[redacted]';

/** Shapes of provider keys and tokens, anywhere in a line. */
const TOKEN_SHAPES = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g, // Anthropic, OpenAI
  /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/g, // Stripe
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g, // GitHub
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bglpat-[A-Za-z0-9_-]{16,}/g, // GitLab
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, // Slack
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key id
  /\bAIza[0-9A-Za-z_-]{30,}/g, // Google
  /\bnpm_[A-Za-z0-9]{30,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, // a JWT
];

/** user:password@ in a URL. */
const URL_CREDENTIALS = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi;
/** An Authorization header's value. */
const AUTH_SCHEME = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
/** VALUE of an environment-style assignment: NAME=VALUE (upper-case names, as in a shell or a .env). */
const ENV_ASSIGNMENT = /(^|[^A-Za-z0-9_-])([A-Z][A-Z0-9_]*=)("[^"]*"?|'[^']*'?|[^\s;&|)]+)/g;
// Both start only where a run of their characters starts, not at every word boundary inside one:
// from each \b of a run like a-a-a-… they would scan to its end again (quadratic: a 65 KB run
// took 11 s). A match found from inside a run is found from its start too (the class takes the
// prefix). The name around the keyword is bounded (256 either side, far past any real key name):
// unbounded, one long run of api_key api_key… backtracked quadratically (300 KB: 13 s).
/** A secret-named key of any case: api_key: x, "password"="x", client_secret=x. */
const SECRET_KEY =
  /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{0,256}(?:api[_-]?key|secret|token|passw(?:or)?d|passwd|pwd|credentials?)[A-Za-z0-9_.-]{0,256}["']?\s*[=:]\s*)("[^"]*"?|'[^']*'?|[^\s;&|,)}"']+)/gi;
/** A secret-named flag: --token x, --api-key=x, -password x. */
const SECRET_FLAG =
  /(\s--?[A-Za-z0-9_-]{0,256}(?:api[_-]?key|secret|token|passw(?:or)?d|passwd|pwd)[A-Za-z0-9_-]{0,256}(?:=|\s+))("[^"]*"?|'[^']*'?|[^\s;&|]+)/gi;
/** A long run of letters and digits mixed: a key in no known shape. */
const OPAQUE = /(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}={0,2}/g;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface Redactor {
  (text: string): string;
}

/**
 * A redactor that also removes these literal values wherever they appear (the relay's own
 * ANTHROPIC_API_KEY, the session's secret-named environment): values shorter than 8
 * characters are not literal-matched (they would cut ordinary words).
 */
export function createRedactor(known: Iterable<string | undefined> = []): Redactor {
  const literals = [...new Set([...known].filter((v): v is string => typeof v === 'string' && v.trim().length >= 8))].sort(
    (a, b) => b.length - a.length,
  );
  const literal = literals.length ? new RegExp(literals.map(escapeRe).join('|'), 'g') : undefined;
  return (text: string): string => {
    let s = text;
    if (literal) s = s.replace(literal, REDACTED);
    for (const re of TOKEN_SHAPES) s = s.replace(re, REDACTED);
    s = s.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
    s = s.replace(AUTH_SCHEME, `$1 ${REDACTED}`);
    s = s.replace(ENV_ASSIGNMENT, (_m, pre: string, name: string) => `${pre}${name}${REDACTED}`);
    const keep = (m: string, key: string, value: string) => (value.includes(REDACTED) ? m : `${key}${REDACTED}`);
    s = s.replace(SECRET_KEY, keep);
    s = s.replace(SECRET_FLAG, keep);
    s = s.replace(OPAQUE, REDACTED);
    return s;
  };
}

/** The names whose values in an environment are secrets to remove literally. */
const SECRET_ENV_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/** The secret-looking values of one or more environments (process.env, the root's .env). */
export function secretValues(...envs: Array<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const env of envs) for (const [k, v] of Object.entries(env)) if (v && SECRET_ENV_NAME.test(k)) out.push(v);
  return out;
}
