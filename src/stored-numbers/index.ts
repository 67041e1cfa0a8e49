export { createNumberMasking, NUMBERS_MASKED, type MaskingSummary, type MaskStoredNumbers, type StoredText, type StoredTextSource } from './mask-stored-numbers.js';
export { createStoredTextRepository, type StoredTextTable } from './stored-text-repository.js';
