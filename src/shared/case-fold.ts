/**
 * How names typed by people (queues, agents) are compared: Unicode NFC, then lower case by Swedish
 * rules (Å/å, Ä/ä, Ö/ö), so that `Socialtjänst` and `socialtjänst` are one queue. The recordings list's
 * filter and the retention policy's rules use this one function.
 */
export const foldCase = (v: string): string => v.normalize('NFC').toLocaleLowerCase('sv-SE');
