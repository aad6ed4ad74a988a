// The quote rules of the speech bubble, checked as the person types: the server's own code
// (crates/quote-rules) compiled to WebAssembly by scripts/build-wasm.sh, so the browser and
// the API can never disagree about a quote. The module has no imports and a C ABI:
// `alloc(len)` gives a buffer in its memory for the UTF-8 text, `check(ptr, len)` answers
// 0 (accepted) or the number of the refusal, and frees the buffer.
//
// Content-Security-Policy: compiling WebAssembly needs 'wasm-unsafe-eval' in script-src.
import wasmUrl from './quote_rules.wasm?url';

/** The API's codes for a refused quote (a 400 from POST /uploads carries the same). */
export type QuoteError =
  | 'quote_empty'
  | 'quote_too_long'
  | 'quote_invalid_characters'
  | 'quote_unsupported_characters';

/** By the module's numbering (QuoteError in crates/quote-rules/src/lib.rs), from 1. */
const REFUSALS: readonly QuoteError[] = [
  'quote_empty',
  'quote_too_long',
  'quote_invalid_characters',
  'quote_unsupported_characters',
];

interface QuoteRulesModule {
  memory: WebAssembly.Memory;
  alloc(len: number): number;
  check(ptr: number, len: number): number;
}

let loaded: Promise<(text: string) => QuoteError | null> | undefined;

/**
 * The quote check: `null` when the server would accept `text`, else its error code.
 * Loaded once (about 14 KB gzipped) and shared; `module` (the wasm bytes) is for tests,
 * which have no server to fetch it from.
 */
export function loadQuoteRules(module?: BufferSource): Promise<(text: string) => QuoteError | null> {
  if (module !== undefined) return instantiate(module);
  // eslint-disable-next-line no-restricted-globals -- a static file of the app, not the API
  loaded ??= fetch(wasmUrl)
    .then((response) => {
      if (!response.ok) throw new Error(`quote rules: ${response.status} for ${wasmUrl}`);
      return response.arrayBuffer();
    })
    .then(instantiate)
    .catch((error: unknown) => {
      loaded = undefined; // a later call tries again
      throw error;
    });
  return loaded;
}

async function instantiate(bytes: BufferSource): Promise<(text: string) => QuoteError | null> {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const rules = instance.exports as unknown as QuoteRulesModule;
  const encoder = new TextEncoder();
  return (text: string) => {
    const utf8 = encoder.encode(text);
    const ptr = rules.alloc(utf8.length);
    // A view made after alloc: growing the memory detaches earlier ones.
    new Uint8Array(rules.memory.buffer, ptr, utf8.length).set(utf8);
    const answer = rules.check(ptr, utf8.length);
    return answer === 0 ? null : (REFUSALS[answer - 1] ?? 'quote_invalid_characters');
  };
}
