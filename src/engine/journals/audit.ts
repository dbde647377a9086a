import { JsonlAppender } from '../../fs/atomic.js';
import type { Actor } from '../kernel/source.js';

/** Every operator action and every pause and resume, with time, source and text. */
export interface AuditEntry {
  at: string;
  source: Actor;
  action: string;
  text?: string;
  detail?: string;
  input_id?: string;
}

export class AuditLog {
  private appender: JsonlAppender;
  constructor(readonly file: string) {
    this.appender = new JsonlAppender(file);
  }
  write(entry: AuditEntry): void {
    this.appender.append(entry);
  }
  close(): void {
    this.appender.close();
  }
}
