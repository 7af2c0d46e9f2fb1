/** Types for `snowball-stemmers` (the package ships none). */
declare module 'snowball-stemmers' {
  /** A Snowball stemmer for one language. */
  export interface Stemmer {
    stem(word: string): string;
  }
  /** Creates the stemmer of an algorithm such as `italian` or `english`. */
  export function newStemmer(algorithm: string): Stemmer;
  /** Names of the algorithms available. */
  export function algorithms(): string[];
  const snowball: { newStemmer: typeof newStemmer; algorithms: typeof algorithms };
  export default snowball;
}
