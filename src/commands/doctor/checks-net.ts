import type { RelayEnv } from '../../config/env.js';
import { bad, ok, warn, type Finding } from './checks-local.js';

const DEFAULT_BASE = 'https://api.anthropic.com';

/** The cause under an SDK or fetch error, in words: refused, DNS, TLS, timeout. */
export function describeCause(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    // Whatever sits in the chain (Error, undici's cause, a plain object): only these fields are read.
    const {
      code: c,
      errno,
      cause,
      name,
      message,
    } = e as { code?: unknown; errno?: unknown; cause?: unknown; name?: unknown; message?: unknown };
    const code = c ?? errno;
    if (typeof code === 'string') {
      if (code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `DNS lookup failed (${code})`;
      if (code === 'ECONNRESET') return 'connection reset';
      if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timed out';
      if (/CERT|SSL|TLS/.test(code)) return `TLS failed (${code})`;
      if (code !== 'ERR_INVALID_URL' || !cause) return code;
    }
    if (name === 'TimeoutError' || name === 'AbortError' || (typeof message === 'string' && /timed? ?out/i.test(message)))
      return 'no answer in time';
    e = cause;
  }
  return (err as Error)?.message ?? String(err);
}

/**
 * The key and the model in one free call: POST /v1/messages/count_tokens bills nothing,
 * answers 401 for a bad key and 404 not_found_error for a model id the API does not know.
 */
export async function checkApi(env: RelayEnv, model: string | undefined, timeoutMs: number, envFile: string): Promise<Finding[]> {
  const base = (env.ANTHROPIC_BASE_URL ?? DEFAULT_BASE).replace(/\/+$/, '');
  const where = env.ANTHROPIC_BASE_URL ? `${base} (ANTHROPIC_BASE_URL)` : base;
  if (!env.ANTHROPIC_API_KEY)
    return [
      bad('ANTHROPIC_API_KEY is not set', `put ANTHROPIC_API_KEY=sk-ant-... in ${envFile} (or export it); relay-tui --demo needs none`),
    ];
  const modelId = model ?? 'claude-opus-4-7';
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const client = new Anthropic({ apiKey: env.ANTHROPIC_API_KEY, baseURL: base, maxRetries: 0, timeout: timeoutMs });
  try {
    const r = await client.messages.countTokens({ model: modelId, messages: [{ role: 'user', content: 'relay-tui doctor' }] });
    return [
      ok(`API key accepted by ${where}`),
      ok(`model ${modelId} is known to the API (count_tokens: ${r.input_tokens} tokens, no cost)`),
    ];
  } catch (err) {
    // The SDK's APIError carries the HTTP status and the parsed body ({ error: { message } }); a network error has neither.
    const e = (typeof err === 'object' && err ? err : {}) as { status?: unknown; error?: { error?: { message?: unknown } } };
    const status = typeof e.status === 'number' ? e.status : undefined;
    const bodyMessage = e.error?.error?.message;
    const apiMessage: string = (typeof bodyMessage === 'string' ? bodyMessage : undefined) ?? (err as Error)?.message ?? String(err);
    if (status === 401)
      return [
        bad(
          `API key refused by ${where}: ${apiMessage}`,
          `check ANTHROPIC_API_KEY in ${envFile} (a real environment variable wins over .env)`,
        ),
      ];
    if (status === 403)
      return [bad(`API key not allowed by ${where}: ${apiMessage}`, "check the key's workspace and permissions in the Anthropic console")];
    if (status === 404) {
      const fix = `set model: in config.yaml to a current model id (see https://docs.anthropic.com/en/docs/about-claude/models)`;
      return [ok(`API key accepted by ${where}`), bad(`model ${modelId} is not known to the API (${apiMessage})`, fix)];
    }
    if (status === 429 || status === 529 || (status !== undefined && status >= 500)) {
      return [warn(`${where} answered ${status}: ${apiMessage}; the key and model were not checked`, 'try again in a minute')];
    }
    if (status !== undefined) return [bad(`${where} answered ${status}: ${apiMessage}`)];
    return [
      bad(
        `cannot reach the Messages API at ${where}: ${describeCause(err)}`,
        env.ANTHROPIC_BASE_URL ? 'check ANTHROPIC_BASE_URL (unset it for the real API)' : 'check the network, a proxy, or the firewall',
      ),
    ];
  }
}

/** A topic is a password: anyone who knows it reads the pings. relay-tui generates 22+ characters. */
const MIN_TOPIC_LENGTH = 16;

export async function checkNtfy(env: RelayEnv, timeoutMs: number, envFile: string): Promise<Finding[]> {
  const server = (env.NTFY_SERVER ?? 'https://ntfy.sh').replace(/\/+$/, '');
  const out: Finding[] = [];
  const topic = env.NTFY_TOPIC;
  if (!topic) out.push(warn('NTFY_TOPIC is not set', `the relay generates one in ${envFile} on start; then: relay-tui topic`));
  else if (topic.length < MIN_TOPIC_LENGTH)
    out.push(
      warn(
        `NTFY_TOPIC is only ${topic.length} characters: easy to guess, and anyone who does reads your pings`,
        `remove NTFY_TOPIC from ${envFile}; the relay generates a long one on start`,
      ),
    );
  else out.push(ok(`NTFY_TOPIC is ${topic.length} characters`));

  const headers: Record<string, string> = env.NTFY_TOKEN ? { Authorization: `Bearer ${env.NTFY_TOKEN}` } : {};
  try {
    const health = await fetch(`${server}/v1/health`, { signal: AbortSignal.timeout(timeoutMs), headers });
    await health.body?.cancel();
    if (!topic) {
      out.push(ok(`ntfy server ${server} reachable (HTTP ${health.status})`));
      return out;
    }
    // Reading the topic with poll and since=none returns at once, delivers nothing, and proves the token can read it.
    const read = await fetch(`${server}/${encodeURIComponent(topic)}/json?poll=1&since=none`, {
      signal: AbortSignal.timeout(timeoutMs),
      headers,
    });
    await read.body?.cancel();
    if (read.status === 401 || read.status === 403)
      out.push(
        bad(
          `ntfy server ${server} refuses the topic (HTTP ${read.status})`,
          env.NTFY_TOKEN ? `check NTFY_TOKEN in ${envFile}` : `this server needs a token: NTFY_TOKEN=tk_... in ${envFile}`,
        ),
      );
    else if (!read.ok) out.push(warn(`ntfy server ${server} answered HTTP ${read.status} for the topic`, 'check NTFY_SERVER'));
    else out.push(ok(`ntfy server ${server} reachable, the topic readable`));
  } catch (err) {
    out.push(
      bad(
        `ntfy server ${server} unreachable: ${describeCause(err)}; pings will not arrive`,
        env.NTFY_SERVER ? 'check NTFY_SERVER' : 'check the network (the relay works without ntfy, but will not ping you)',
      ),
    );
  }
  return out;
}
