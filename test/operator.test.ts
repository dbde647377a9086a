import { describe, expect, it } from 'vitest';
import { parseOperatorInput as parse, SLASH_COMMANDS } from '../src/engine/operator/grammar.js';

describe("SPEC.md's operator table", () => {
  it('@session-1: text dispatches text to that session', () => {
    expect(parse('@session-1: run the tests again')).toEqual({ kind: 'dispatch', session: 'session-1', text: 'run the tests again' });
  });

  it('plain text is an answer (a chat-side turn)', () => {
    expect(parse('Yes, go ahead with the migration.')).toEqual({ kind: 'answer', text: 'Yes, go ahead with the migration.' });
  });

  it('/approve', () => {
    expect(parse('/approve')).toEqual({ kind: 'approve' });
  });

  it('/drop', () => {
    expect(parse('/drop')).toEqual({ kind: 'drop' });
  });

  it('/pause and /resume', () => {
    expect(parse('/pause')).toEqual({ kind: 'pause' });
    expect(parse('/resume')).toEqual({ kind: 'resume' });
  });

  it('/quit', () => {
    expect(parse('/quit')).toEqual({ kind: 'quit' });
  });

  it('every advertised slash command parses to something other than "unknown command"', () => {
    const samples: Record<string, string> = { '/budget': '/budget 5', '/allow': '/allow s1 2' };
    for (const c of SLASH_COMMANDS) {
      const r = parse(samples[c] ?? c);
      expect(r.kind, c).not.toBe('invalid');
    }
  });
});

describe('commands', () => {
  it('are case-insensitive and tolerate surrounding whitespace', () => {
    expect(parse('  /PAUSE  ')).toEqual({ kind: 'pause' });
    expect(parse('/Approve')).toEqual({ kind: 'approve' });
    expect(parse('/resume\n')).toEqual({ kind: 'resume' });
  });

  it('/approve and /drop take an optional code', () => {
    expect(parse('/approve A1B2C3')).toEqual({ kind: 'approve', target: 'A1B2C3' });
    expect(parse('/drop a1b2c3')).toEqual({ kind: 'drop', target: 'a1b2c3' });
    expect(parse('/approve   X9  ')).toEqual({ kind: 'approve', target: 'X9' });
  });

  it('/approve and /drop refuse more than one code', () => {
    const r = parse('/approve A1 B2');
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.message).toMatch(/usage: \/approve \[SESSION\|CODE\]/);
    expect(parse('/drop A1 B2').kind).toBe('invalid');
  });

  it('/resume takes an optional code (like /approve), at most one', () => {
    expect(parse('/resume 7F3A2C')).toEqual({ kind: 'resume', target: '7F3A2C' });
    const r = parse('/resume a b');
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.message).toMatch(/usage: \/resume \[SESSION\|CODE\]/);
  });

  it('/pause and /quit take no arguments', () => {
    for (const c of ['/pause now', '/quit 1']) {
      const r = parse(c);
      expect(r.kind, c).toBe('invalid');
      expect(r.kind === 'invalid' && r.message, c).toMatch(/takes no arguments/);
    }
  });

  it('/budget USD sets a number, with or without a dollar sign', () => {
    expect(parse('/budget 30')).toEqual({ kind: 'budget', usd: 30 });
    expect(parse('/budget $12.50')).toEqual({ kind: 'budget', usd: 12.5 });
    expect(parse('/budget 0')).toEqual({ kind: 'budget', usd: 0 });
  });

  it('/budget refuses a missing, negative, non-numeric or extra argument with a usage line', () => {
    for (const c of ['/budget', '/budget -5', '/budget lots', '/budget 5 6', '/budget Infinity', '/budget $']) {
      const r = parse(c);
      expect(r.kind, c).toBe('invalid');
      expect(r.kind === 'invalid' && r.message, c).toMatch(/usage: \/budget USD/);
    }
  });

  it('/allow SESSION N grants N turns', () => {
    expect(parse('/allow session-1 10')).toEqual({ kind: 'allow', session: 'session-1', turns: 10 });
  });

  it('/allow refuses a bad session, a missing, zero, negative or fractional count', () => {
    for (const c of [
      '/allow',
      '/allow session-1',
      '/allow session-1 0',
      '/allow session-1 -2',
      '/allow session-1 1.5',
      '/allow ../x 3',
      '/allow session-1 many',
    ]) {
      const r = parse(c);
      expect(r.kind, c).toBe('invalid');
      expect(r.kind === 'invalid' && r.message, c).toMatch(/usage: \/allow SESSION N/);
    }
  });

  it('an unknown /word is invalid and lists the commands', () => {
    const r = parse('/foo');
    expect(r.kind).toBe('invalid');
    const msg = r.kind === 'invalid' ? r.message : '';
    expect(msg).toMatch(/unknown command \/foo/);
    for (const c of SLASH_COMMANDS) expect(msg).toContain(c);
    expect(parse('/foo bar baz').kind).toBe('invalid');
  });
});

describe('dispatch (@session: text)', () => {
  it('accepts no space after the colon, and space before it', () => {
    expect(parse('@session-1:go')).toEqual({ kind: 'dispatch', session: 'session-1', text: 'go' });
    expect(parse('@session-1 : go')).toEqual({ kind: 'dispatch', session: 'session-1', text: 'go' });
  });

  it('keeps a colon inside the text', () => {
    expect(parse('@s2: note: use port 8080')).toEqual({ kind: 'dispatch', session: 's2', text: 'note: use port 8080' });
  });

  it('@bad id: x is invalid (a space in the id)', () => {
    const r = parse('@bad id: x');
    expect(r.kind).toBe('invalid');
    expect(r.kind === 'invalid' && r.message).toMatch(/@session-id: text/);
  });

  it('an id that is not a valid session id is invalid, naming it', () => {
    for (const id of ['../x', '-rf', 'a.b']) {
      const r = parse(`@${id}: hello`);
      expect(r.kind, id).toBe('invalid');
      expect(r.kind === 'invalid' && r.message, id).toContain(`not a valid session id: ${id}`);
    }
  });

  it('@session-1: with no text is invalid (nothing to send)', () => {
    for (const c of ['@session-1:', '@session-1:   ', '@session-1:\n\n']) {
      const r = parse(c);
      expect(r.kind, JSON.stringify(c)).toBe('invalid');
      expect(r.kind === 'invalid' && r.message).toMatch(/nothing to send to session-1/);
    }
  });

  it('@ without a colon is invalid rather than a silent answer', () => {
    expect(parse('@session-1 hello').kind).toBe('invalid');
    expect(parse('@').kind).toBe('invalid');
  });

  it('keeps multi-line text, trimming only the ends', () => {
    expect(parse('@session-1: line one\n  line two\n\nline four\n')).toEqual({
      kind: 'dispatch',
      session: 'session-1',
      text: 'line one\n  line two\n\nline four',
    });
  });

  it('normalises CRLF to LF', () => {
    expect(parse('@session-1: a\r\nb\r\n')).toEqual({ kind: 'dispatch', session: 'session-1', text: 'a\nb' });
  });
});

describe('answers', () => {
  it('a plain answer that starts with a path is an answer, not a command', () => {
    expect(parse('/usr/bin is broken')).toEqual({ kind: 'answer', text: '/usr/bin is broken' });
    expect(parse('/etc/hosts needs an entry for db')).toEqual({ kind: 'answer', text: '/etc/hosts needs an entry for db' });
    expect(parse('./run.sh fails')).toEqual({ kind: 'answer', text: './run.sh fails' });
  });

  it('but a one-segment path followed by a space reads as an (unknown) command, so it is refused, not sent', () => {
    // Documented behaviour: "/tmp is full" looks like a command word; it is refused with the command list.
    expect(parse('/tmp is full').kind).toBe('invalid');
  });

  it('keeps multi-line answers, CRLF normalised, ends trimmed', () => {
    expect(parse('first line\r\nsecond line\r\n\r\n')).toEqual({ kind: 'answer', text: 'first line\nsecond line' });
    expect(parse('  indented?\n  yes  ')).toEqual({ kind: 'answer', text: 'indented?\n  yes' });
  });

  it('a multi-line input whose first word is a command is the command, and extra lines are arguments', () => {
    expect(parse('/approve\nA1B2')).toEqual({ kind: 'approve', target: 'A1B2' });
    expect(parse('/pause\nbecause').kind).toBe('invalid');
  });

  it('text that merely mentions a command is an answer', () => {
    expect(parse('please /approve it')).toEqual({ kind: 'answer', text: 'please /approve it' });
    expect(parse('email me @ home: later')).toEqual({ kind: 'answer', text: 'email me @ home: later' });
  });

  it('empty or whitespace-only input is invalid', () => {
    for (const c of ['', '   ', '\r\n', '\n\t\n']) {
      const r = parse(c);
      expect(r.kind, JSON.stringify(c)).toBe('invalid');
      expect(r.kind === 'invalid' && r.message).toBe('empty input');
    }
  });
});
