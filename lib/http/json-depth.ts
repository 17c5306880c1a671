/**
 * Nesting depth of a JSON text, measured on the text itself: JSON.parse copes with any depth, but
 * JSON.stringify, zod and our own walkers recurse, so a 10 KB body of `[[[[...` nested 5000 deep
 * would overflow the stack after parsing. One pass, no recursion, O(length).
 */

/** Deepest nesting any request body may have; real bodies (contacts, metadata) stay far below. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when the text opens more than `max` objects or arrays inside one another. Brackets inside
 * strings do not count. On malformed text the count is only an estimate, which is fine: such a
 * body is refused either way.
 */
export const jsonDepthExceeds = (text: string, max: number = MAX_JSON_DEPTH): boolean => {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
};
