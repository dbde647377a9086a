import type { FakeReply, FakeRequest } from './fake-api-types.js';

/**
 * What the demo's simulated sessions say and how the simulated chat-Claude answers:
 * plausible enough that the panes, costs and pauses look like a real day.
 */

export const DEMO_SESSIONS = [
  { id: 'api-refactor', description: 'API refactor: split the monolith router' },
  { id: 'billing-tests', description: 'billing: raise test coverage' },
  { id: 'docs-site', description: 'docs: migrate the site generator' },
];

const UPDATES: Record<string, string[]> = {
  'api-refactor': [
    'Split routes/users.ts into handlers/ and validators/. 214 tests pass. Next: orders routes. Proceed?',
    'Orders routes moved. One integration test flaky (timeout at 5s on CI only). Retry policy or investigate?',
    'Finished extracting middleware. Bundle size down 12%. Awaiting review of the error-handling change.',
    'The auth middleware reads the session twice; fixing it changes the public hook signature. NEEDS-JC-PLEASE: is a breaking change OK?',
  ],
  'billing-tests': [
    'Coverage for invoices/ is now 81% (was 54%). Added property tests for proration. All green.',
    'Found a rounding bug in proration for leap years (off by one cent). Fix is ready; it changes 3 snapshots.',
    'Refunds module: 12 new tests, two pending a decision on partial refunds. Continue with credits module?',
    'The payment sandbox needs a new API key to test webhooks. NEEDS-JC-PLEASE: can you provide one?',
  ],
  'docs-site': [
    'Migrated 40 of 118 pages to the new generator. Internal links rewritten, 3 broken anchors fixed.',
    'Search index builds in 4.1 s (was 19 s). Sidebar order now comes from front matter.',
    'All pages migrated. Redirect map covers old URLs. Ready for a link check run and review.',
  ],
};

const REPLIES = [
  'Good progress. Proceed with the next step; keep commits small and run the full suite before each push.',
  'Looks right. Add a regression test for the case you found, then continue.',
  "Investigate before retrying: capture the failing run's timings and compare with a local run. Report back.",
  'Approved. Open the PR with a summary of behaviour changes and the numbers you measured.',
  'Hold off on the wider change; finish the current module first and list the follow-ups in the PR.',
];

const counters = new Map<string, number>();

export function nextUpdate(session: string): string {
  const list = UPDATES[session] ?? UPDATES['api-refactor'];
  const n = counters.get(session) ?? 0;
  counters.set(session, n + 1);
  return list[n % list.length];
}

export function demoResponder(req: FakeRequest): FakeReply {
  const text = req.lastUserText;
  const session = /^\[([^\]\s]+)/.exec(text)?.[1] ?? 'session';
  // Streaming at a human pace, so the in-flight marker and the growing reply are visible.
  const pace = { delayMs: 600 + Math.floor(Math.random() * 900), chunkDelayMs: 25 };
  if (/summar/i.test(text)) {
    return {
      text: 'Summary of the conversation so far: three sessions (API refactor, billing tests, docs migration) are progressing; decisions so far were approved; open questions are listed per session.',
      ...pace,
    };
  }
  if (text.includes('NEEDS-JC-PLEASE')) {
    return {
      text: `[NEEDS-JC] ${session} asks for a decision I should not make alone: ${text.split('\n').slice(1).join(' ').replace('NEEDS-JC-PLEASE:', '').trim()} What do you want to do?`,
      ...pace,
    };
  }
  if (session === 'operator') {
    return { text: 'Understood. I will pass that on with the specifics the session needs to act on it.', ...pace };
  }
  const reply = REPLIES[Math.floor(Math.random() * REPLIES.length)];
  return { text: `${session}: ${reply}`, ...pace };
}
