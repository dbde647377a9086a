import { execFile } from 'node:child_process';

/**
 * What Claude Code says about the account it is signed into, from `claude auth status`
 * (JSON on both pinned versions: loggedIn, authMethod, apiProvider, apiKeySource). It
 * costs no turn and reads no credential of ours: Claude Code answers about its own
 * sign-in, and only these fields are kept.
 */

export interface CcAccount {
  loggedIn: boolean;
  /** 'api_key', 'oauth' (a claude.ai sign-in), 'third_party' (Bedrock, Vertex, Foundry), 'none', or what a newer version says. */
  authMethod: string;
  /** 'firstParty', 'bedrock', 'vertex', 'foundry', … */
  apiProvider: string;
  subscriptionType?: string;
  /** True unless the account pays per token (an API key, or a cloud provider's metered billing): cost is then shown as notional. */
  notional: boolean;
  /** For the TUI header and status: e.g. "subscription (max)", "API key", "bedrock". */
  label: string;
}

export function describeAccount(raw: Record<string, unknown>): CcAccount {
  const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
  const authMethod = str('authMethod') ?? 'unknown';
  const apiProvider = str('apiProvider') ?? 'firstParty';
  const subscriptionType = str('subscriptionType');
  const metered = authMethod === 'api_key' || authMethod === 'third_party';
  const label =
    authMethod === 'api_key'
      ? 'API key'
      : authMethod === 'third_party'
        ? apiProvider
        : authMethod === 'none'
          ? 'not signed in'
          : `subscription${subscriptionType ? ` (${subscriptionType})` : ''}`;
  return {
    loggedIn: raw.loggedIn === true,
    authMethod,
    apiProvider,
    ...(subscriptionType ? { subscriptionType } : {}),
    notional: !metered,
    label,
  };
}

export type AuthStatus = { ok: true; account: CcAccount } | { ok: false; error: string; notFound: boolean };

/** `claude auth status`: exits 1 when signed out, and still prints its JSON then. */
export function authStatus(bin: string, env: NodeJS.ProcessEnv, timeoutMs: number, cwd?: string): Promise<AuthStatus> {
  return new Promise((resolve) => {
    execFile(bin, ['auth', 'status'], { env, cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 }, (err, stdout) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') return resolve({ ok: false, error: `${bin} not found`, notFound: true });
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(stdout));
      } catch {
        const why = err ? (err.killed ? `no answer within ${timeoutMs / 1000} s` : err.message.split('\n')[0]) : 'it printed no JSON';
        return resolve({ ok: false, error: `${bin} auth status: ${why}`, notFound: false });
      }
      if (!parsed || typeof parsed !== 'object')
        return resolve({ ok: false, error: `${bin} auth status printed no object`, notFound: false });
      resolve({ ok: true, account: describeAccount(parsed as Record<string, unknown>) });
    });
  });
}
