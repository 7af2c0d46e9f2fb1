/**
 * @module pipeline/courtesy
 * "Grazie, ma non ho capito", "thanks but that doesn't answer my question": a courtesy that opens
 * an objection. What the customer means is what follows "ma" / "but"; read whole, the thanks win
 * and the bot answers "you're welcome" to someone it has not helped. The message is understood
 * by that part alone (its stored text is as written).
 */

/** Courtesies that may open a message, one or more ("ok grazie"), then "ma" / "but" and the point. */
const COURTESY_THEN_BUT =
  /^\s*(?:(?:ok(?:ay)?|va bene|perfetto|capito|grazie(?: mille| tante| ancora)?|gentilissim[oaie]|thanks?(?: a lot| so much| again)?|thank you(?: so much| again)?|great|got it|cool|fine)(?:\s+(?:per|for)\s+(?:(?:la|il|le|i|the|your)\s+|l')?\p{L}+|\s+(?:dell'|della\s+|del\s+)\p{L}+)?[\s,!.]*)+(?:ma|però|pero|tuttavia|eppure|but|however|yet)(?=[\s,.!]|$)[\s,.!]*(\S+\s+\S.*)$/iu;

/** The part of the text that says what the customer wants: after "grazie, ma", "thanks but"; else the whole text. */
export function pointOf(text: string): string {
  const m = COURTESY_THEN_BUT.exec(text);
  return m ? m[1]!.trim() : text;
}
