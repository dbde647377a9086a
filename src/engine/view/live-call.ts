import type { Status } from '../../protocol/status.js';

/**
 * The call in flight, as the views show it: the turn runner writes it while a call is
 * out, the snapshot reads it, the fault handler notes the last error in it.
 */
export class LiveCall {
  inflight: Status['inflight'] = null;
  streamText = '';
  retry: Status['retry'] = null;
  lastError: string | null = null;
  /** When the last successful turn call started (0: none, or a summary since): what the projection may assume cached. */
  lastCallAt = 0;
}
