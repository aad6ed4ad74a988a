// The browser's quote check is the server's: the cases of crates/quote-rules/cases.json,
// which the Rust tests run too, through the WebAssembly build (scripts/build-wasm.sh).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadQuoteRules, type QuoteError } from './rules';

interface Case {
  text: string;
  error: QuoteError | null;
  why: string;
}

// Paths, not URLs: the jsdom environment replaces the global URL.
const here = dirname(fileURLToPath(import.meta.url));
const cases = (
  JSON.parse(readFileSync(join(here, '../../../crates/quote-rules/cases.json'), 'utf8')) as {
    cases: Case[];
  }
).cases;
const wasm = readFileSync(join(here, 'quote_rules.wasm'));

describe('quote rules (the server code as WebAssembly)', () => {
  it('answers every shared case as the server does', async () => {
    const check = await loadQuoteRules(wasm);
    expect(cases.length).toBeGreaterThan(20);
    for (const { text, error, why } of cases) {
      expect(check(text), `${JSON.stringify(text)}: ${why}`).toBe(error);
    }
  });

  it('refuses exactly the control, format and separator characters of the Unicode database', async () => {
    // The Cf table in crates/quote-rules is generated from Node's \p{Cf}
    // (make-format-table.mjs); this fails when a newer Unicode adds one: regenerate it.
    const check = await loadQuoteRules(wasm);
    const invisible = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
    const disagree: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCodePoint(code);
      const refused = check(`a${c}b`) === 'quote_invalid_characters';
      if (refused !== invisible.test(c)) disagree.push(code.toString(16));
    }
    expect(disagree).toEqual([]);
  }, 120_000); // 1.1 million calls: a few seconds, more on a busy machine

  it('survives many calls and long input without leaking its memory', async () => {
    const check = await loadQuoteRules(wasm);
    const long = 'あ'.repeat(200_000);
    for (let i = 0; i < 200; i++) expect(check(long)).toBe('quote_too_long');
    expect(check('まだ大丈夫')).toBeNull();
  });
});
