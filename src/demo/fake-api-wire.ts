// Request validation and response bodies in the real API's wire shapes.
import { randomBytes } from 'node:crypto';
import { promptBlocks, ttlOrderError } from './fake-api-prompt.js';

const STATUS_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function errorTypeForStatus(status: number): string {
  return STATUS_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// Real ids look like msg_01XFDUDYJgAACzvnptvVoYEL: a prefix, "01", then base62.
export function makeId(prefix: 'msg' | 'req'): string {
  const bytes = randomBytes(22);
  let s = '';
  for (const b of bytes) s += BASE62[b % 62];
  return `${prefix}_01${s}`;
}

export function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkCacheControl(block: any, path: string): string | null {
  if (!('cache_control' in block) || block.cache_control == null) return null;
  const cc = block.cache_control;
  if (!isObject(cc) || cc.type !== 'ephemeral') {
    return `${path}.cache_control.type: Input should be 'ephemeral'`;
  }
  if (cc.ttl !== undefined && cc.ttl !== '5m' && cc.ttl !== '1h') {
    return `${path}.cache_control.ttl: Input should be '5m' or '1h'`;
  }
  if (block.type === 'text' && block.text === '') {
    return `${path}: cache_control cannot be set for empty text blocks`;
  }
  return null;
}

function checkBlocks(blocks: unknown[], path: string): string | null {
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    const p = `${path}.${i}`;
    if (!isObject(b) || typeof b.type !== 'string') return `${p}: Input should be an object with a "type" field`;
    if (b.type === 'text' && typeof b.text !== 'string') return `${p}.text: Field required`;
    const cc = checkCacheControl(b, p);
    if (cc) return cc;
  }
  return null;
}

function countBreakpoints(body: any): number {
  const has = (b: any) => (isObject(b) && b.cache_control != null ? 1 : 0);
  let n = 0;
  if (Array.isArray(body.tools)) for (const t of body.tools) n += has(t);
  if (Array.isArray(body.system)) for (const b of body.system) n += has(b);
  for (const m of body.messages) if (Array.isArray(m.content)) for (const b of m.content) n += has(b);
  return n;
}

/** Returns an invalid_request_error message, or null when the body is acceptable. */
export function validateBody(body: unknown, requireMaxTokens: boolean): string | null {
  if (!isObject(body)) return 'Request body must be a JSON object';
  if (typeof body.model !== 'string' || body.model.length === 0) {
    return body.model === undefined ? 'model: Field required' : 'model: Input should be a valid string';
  }
  if (requireMaxTokens || body.max_tokens !== undefined) {
    if (body.max_tokens === undefined) return 'max_tokens: Field required';
    if (!Number.isInteger(body.max_tokens)) return 'max_tokens: Input should be a valid integer';
    if (body.max_tokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  }
  if (body.messages === undefined) return 'messages: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Input should be a valid list';
  if (body.messages.length === 0) return 'messages: at least one message is required';
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    const p = `messages.${i}`;
    if (!isObject(m)) return `${p}: Input should be an object with "role" and "content"`;
    // Claude Code sends its system reminders as `role: system` entries inside messages, which the API accepts.
    if (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system')
      return `${p}.role: Input should be 'user', 'assistant' or 'system'`;
    if (typeof m.content === 'string') {
      const isFinalAssistant = i === body.messages.length - 1 && m.role === 'assistant';
      if (m.content.length === 0 && !isFinalAssistant) {
        return `${p}: all messages must have non-empty content except for the optional final assistant message`;
      }
    } else if (Array.isArray(m.content)) {
      const err = checkBlocks(m.content, `${p}.content`);
      if (err) return err;
    } else {
      return `${p}.content: Input should be a valid string or a list of content blocks`;
    }
  }
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system)) return 'system: Input should be a valid string or a list of text blocks';
    for (let i = 0; i < body.system.length; i++) {
      const b = body.system[i];
      if (!isObject(b) || b.type !== 'text' || typeof b.text !== 'string') {
        return `system.${i}: Input should be a text block ({"type": "text", "text": ...})`;
      }
    }
    const err = checkBlocks(body.system, 'system');
    if (err) return err;
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream: Input should be a valid boolean';
  const n = countBreakpoints(body);
  if (n > 4) return `A maximum of 4 blocks with cache_control may be provided. Found ${n}.`;
  return ttlOrderError(promptBlocks(body));
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b) => isObject(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => (b as { text: string }).text)
    .join('\n');
}

export function lastUserText(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return textOf(messages[i].content);
  }
  return '';
}

export function systemText(body: any): string {
  return textOf(body?.system);
}

export function allUserTexts(body: any): string[] {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  return messages.filter((m) => m?.role === 'user').map((m) => textOf(m.content));
}
