// POST /v1/messages/count_tokens as the real API answers it: free, no billing, the
// prompt's input_tokens; an unknown model is a 404 not_found_error naming it.
// `relay-tui doctor` uses it to check a key and a model id without spending.
import { BUILTIN_PRICES } from '../pricing/prices.js';
import { promptTokens } from './fake-api-prompt.js';

export type CountReply = { ok: true; body: string } | { ok: false; status: number; errorType: string; message: string };

/** Model ids the fake serves: every id in the built-in price table, bare or dated (-YYYYMMDD), plus `extra`. */
export function fakeKnowsModel(model: string, extra: readonly string[] = []): boolean {
  if (extra.includes(model)) return true;
  const bare = model.replace(/-\d{8}$/, '');
  return Object.prototype.hasOwnProperty.call(BUILTIN_PRICES, bare) || extra.includes(bare);
}

/** The body has passed validateBody(body, false) already; authentication is checked before this. */
export function countTokensReply(body: { model: string }, extraModels?: readonly string[]): CountReply {
  if (!fakeKnowsModel(body.model, extraModels))
    return { ok: false, status: 404, errorType: 'not_found_error', message: `model: ${body.model}` };
  return { ok: true, body: JSON.stringify({ input_tokens: promptTokens(body) }) };
}
