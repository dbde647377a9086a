// The fakes every phase needs: the Messages API and ntfy on 127.0.0.1, started in
// the bench process, and the .env that points a relay root at them.
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../src/demo/fake-api.js';
import { answerBatch } from '../src/demo/fake-api-batch.js';
import { startFakeNtfy, type FakeNtfy } from '../src/demo/ntfy/fake-ntfy.js';

export interface Fakes {
  api: FakeApi;
  ntfy: FakeNtfy;
  /** For ROOT/.env (and openRelay's envOverrides). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const TAG_RE = /#t(\d+)#/;

/** A short reply that names the turn, like chat-Claude acknowledging a status update. */
export function quickResponder(): NonNullable<FakeApiOptions['respond']> {
  return (req) => {
    if (req.lastUserText.startsWith('[relay]')) {
      return {
        text: 'Summary: the sessions reported progress on their tasks; every update was reviewed and acknowledged; no decision is pending.',
      };
    }
    const one = (text: string) => {
      const m = TAG_RE.exec(text);
      return `Reviewed update ${m ? m[1] : ''}. Carry on with the next step and report back when the tests pass.`;
    };
    // A batched call (the relay's default when several sessions wait): one section per session.
    return { text: answerBatch(req.lastUserText, (p) => one(p.text)) ?? one(req.lastUserText) };
  };
}

export async function startFakes(opts: FakeApiOptions = {}): Promise<Fakes> {
  const api = await startFakeApi({ respond: quickResponder(), ...opts });
  // The fake keeps every request body; a long run does not need them.
  api.onRequest(() => void api.requests.splice(0));
  const ntfy = await startFakeNtfy();
  const env = {
    ANTHROPIC_API_KEY: 'bench-not-a-real-key',
    ANTHROPIC_BASE_URL: api.url,
    NTFY_SERVER: ntfy.url,
    NTFY_TOPIC: `relay-bench-${process.pid}`,
  };
  return {
    api,
    ntfy,
    env,
    async close() {
      await api.close();
      await ntfy.close();
    },
  };
}
