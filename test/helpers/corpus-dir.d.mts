/** A path in the corpus; throws, saying where it looked, when the corpus is not there. */
export declare const corpusPath: (...parts: string[]) => string
