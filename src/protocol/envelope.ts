import { z } from 'zod';
import { evidenceSchema } from './evidence.js';
import { SESSION_ID_RE } from './session-id.js';

/** What a session drops into queue/. Unknown fields are kept (sessions may add metadata). */
export const envelopeSchema = z.looseObject({
  session_id: z.string().regex(SESSION_ID_RE, 'must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (it names a directory under dispatch/)'),
  content: z.string().min(1, 'must be a non-empty string'),
  timestamp: z.string().optional(),
  id: z.string().optional(),
  /** Who wrote it: 'hook' for the Claude Code Stop hook (its turns count toward hooks.max_chain). */
  source: z.string().max(64).optional(),
  /** The machine a remote session reports from (shown per session in status.json). */
  host: z.string().max(255).optional(),
  /** What the turn did (protocol/evidence.ts): bounded, shown to chat-Claude beside the content. */
  evidence: evidenceSchema.optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;
