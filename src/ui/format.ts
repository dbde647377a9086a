/** Small pure formatters shared by the panes. Every figure the operator reads goes through here. */

import { groupDigits } from '../text.js';

export function money(usd: number | null | undefined): string {
  if (usd == null || !Number.isFinite(usd)) return '—';
  const a = Math.abs(usd);
  if (a === 0) return '$0.00';
  if (a >= 1000) return `$${groupDigits(usd)}`;
  if (a >= 1) return `$${usd.toFixed(2)}`;
  if (a >= 0.01) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(4)}`;
}

export function tokens(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n < 1000) return String(Math.round(n));
  if (n < 10_000) return `${(n / 1000).toFixed(1)}k`;
  if (n < 1_000_000) return `${Math.round(n / 1000)}k`;
  if (n < 10_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${(n / 1_000_000_000).toFixed(2)}G`;
}

export function count(n: number): string {
  return groupDigits(n);
}

/** 7s, 2m14s, 1h02m, 3d04h. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Compact age for table cells: 7s, 14m, 3h, 2d. */
export function age(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '—';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function since(iso: string | null | undefined, now: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? Math.max(0, now - t) : 0;
}

export function pct(share: number): string {
  if (!Number.isFinite(share)) return '—';
  return `${Math.round(share * 100)}%`;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** The ntfy topic is a long random name: the start is enough to recognise it. */
export function shortTopic(topic: string | null | undefined, max = 14): string {
  if (!topic) return 'off';
  return topic.length > max ? `${topic.slice(0, max - 1)}…` : topic;
}

const REASONS: Record<string, string> = {
  needs_jc: 'NEEDS-JC',
  approval: 'awaiting approval',
  operator: 'by you',
  error: 'API error',
  budget_day: 'daily budget',
  budget_session: 'session budget',
  turn_cost: 'turn cost limit',
  auto_turns: 'automatic-turn limit',
  rate: 'turn rate limit',
  loop: 'loop detected',
  usage_limit: 'usage limit',
};

export function reasonLabel(reason: string | null | undefined): string {
  if (!reason) return 'paused';
  return REASONS[reason] ?? reason;
}
