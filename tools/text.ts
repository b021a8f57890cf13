// Text helpers for command-line messages and reports.

/** Returns "1 input tensor" or "2 input tensors": the count and the noun in singular or plural. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

// C0 and C1 control characters and DEL, the Unicode line and paragraph separators, and the
// bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to
// U+2069), which reorder the text displayed after them.
const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Replaces control characters with escapes such as \x1b and \u202e. Text taken from a model
 * file (tensor names, descriptions) then cannot move the cursor, change colors, break lines
 * or reverse the text when printed to a terminal. Other characters, backslashes included,
 * are kept.
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (character) => {
    const code = character.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// Characters that JSON.stringify leaves raw but a terminal acts on: DEL, the C1 controls
// and the characters above 0xff that CONTROL_CHARACTERS lists.
const JSON_RAW_CONTROL_CHARACTERS = /[\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Returns JSON.stringify(value, null, 2) with the control characters that it leaves raw
 * written as \uXXXX escapes, so the text is the same JSON value and safe to print.
 */
export function stringifyJsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    JSON_RAW_CONTROL_CHARACTERS,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
