// Public API of tslm's tokenizers: Hugging Face-compatible tokenizer.json loading, encoding and
// decoding (id- and offset-identical to Python `tokenizers`), plus the building blocks.

export { Tokenizer, StreamDecoder, gpt2FromFiles, gpt2Json, bertFromVocab, bertJson } from "./tokenizer.js";
export type { Input, EncodeOptions, BatchEncodeOptions, DecodeOptions, TokenizerConfig, TruncationSettings, PaddingSettings } from "./tokenizer.js";
export type { Encoding, TruncationOptions, TruncationStrategy, Side } from "./encoding.js";
export { NormalizedString, PreTokenizedString, OffsetConverter, codePointToCodeUnitOffsets } from "./normalized.js";
export type { Offsets, Token, SplitBehavior } from "./normalized.js";
export { AddedVocabulary, addedToken } from "./added_vocabulary.js";
export type { AddedToken } from "./added_vocabulary.js";
export { normalizerFromJSON, NORMALIZER_TYPES, BertNormalizer } from "./normalizers.js";
export type { Normalizer } from "./normalizers.js";
export { preTokenizerFromJSON, PRE_TOKENIZER_TYPES, ByteLevel, Metaspace, BYTE_TO_CHAR, CHAR_TO_BYTE, GPT2_PATTERN } from "./pre_tokenizers.js";
export type { PreTokenizer } from "./pre_tokenizers.js";
export { postProcessorFromJSON, POST_PROCESSOR_TYPES, TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevelProcessor } from "./post_processors.js";
export type { PostProcessor } from "./post_processors.js";
export { decoderFromJSON, DECODER_TYPES, ByteLevelDecoder } from "./decoders.js";
export type { Decoder } from "./decoders.js";
export { BPE, WordPiece, Unigram, WordLevel, modelFromJSON, MODEL_TYPES, readMerges, readVocab } from "./models/index.js";
export type { Model } from "./models/index.js";
export { PairTable } from "./models/bpe.js";
export type { BPEOptions } from "./models/bpe.js";
export type { WordPieceOptions } from "./models/wordpiece.js";
export type { UnigramOptions } from "./models/unigram.js";
export type { WordLevelOptions } from "./models/wordlevel.js";
export { TokenizerJsonError } from "./json.js";
export { translateRegex, compileRegex } from "./regex.js";
