#pragma once
// Text <-> token ids for GGUF models, reproducing llama.cpp's tokenizers (formats.md §5):
//   - "gpt2" models: byte-level BPE (Qwen2/Qwen3, LLaMA-3, GPT-2, BitNet 2B-4T) with the pre-tokenizers
//     default, gpt-2 (and aliases), qwen2 (and aliases) and llama3/llama-bpe (and aliases);
//   - "llama" models: SentencePiece-style BPE (token scores as merge priority, <0xNN> byte fallback,
//     a space prefixed to the text, spaces written as U+2581).
// Special tokens (CONTROL / UNKNOWN) written in the text are recognised only when the caller asks for it
// (parse_special, used for rendered chat prompts); USER_DEFINED tokens are always recognised, as in
// Hugging Face tokenizers and llama.cpp.
//
// Deliberate differences from llama.cpp (each only matters for input llama.cpp mangles anyway):
//   - Invalid UTF-8 input bytes are kept as bytes (llama.cpp turns them into U+FFFD first), so for
//     byte-level vocabs decode(encode(bytes)) == bytes for ANY byte string.
//   - A BPE symbol missing from the vocab falls back to one token per encoded character (llama.cpp
//     looks up single bytes and silently drops what it cannot find).
//   - Per-token LSTRIP/RSTRIP attributes and "clean up tokenization spaces" are not applied.
//
// All entry points that take untrusted data throw bonsai::Error with a message naming the problem.
// A Tokenizer is immutable after construction; const methods are safe to call from several threads.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bonsai/error.h"

namespace bonsai {

namespace gguf {
class GgufFile;
}

// tokenizer.ggml.token_type values (formats.md §5.1).
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// The tokenizer part of a GGUF's metadata as plain values (what the tokenizer.ggml.* keys hold).
// from_gguf() fills one of these; tests and tools can build one by hand.
struct VocabSpec {
    std::string model;               // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    std::optional<std::string> pre;  // tokenizer.ggml.pre; nullopt when the key is absent (-> "default")
    std::vector<std::string> tokens;  // id -> token text (byte-level encoded for gpt2, U+2581 for spaces in llama)
    std::vector<float> scores;        // empty = all 0; otherwise at least tokens.size() entries (llama: merge priority)
    std::vector<int32_t> types;       // empty = all Normal; otherwise at least tokens.size() TokenType values
    std::vector<std::string> merges;  // gpt2: "A B" merge rules, rank = index (required for gpt2)
    // Special token ids (tokenizer.ggml.*_token_id). nullopt = key absent -> the model's default
    // (gpt2: bos = eos = 11 as in llama.cpp; llama: bos 1, eos 2, unk 0). A present id must be < tokens.size().
    std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
    // Fill-in-the-middle pad / repo / file-separator ids (end generation); absent -> detected by text.
    std::optional<int64_t> fim_pad_id, fim_rep_id, fim_sep_id;
    std::optional<bool> add_bos;           // tokenizer.ggml.add_bos_token (default: llama true, llama3 pre true, else false)
    std::optional<bool> add_eos;           // tokenizer.ggml.add_eos_token (default false)
    std::optional<bool> add_space_prefix;  // tokenizer.ggml.add_space_prefix (llama only; default true)
};

class Tokenizer {
public:
    // Which algorithm the vocabulary uses.
    enum class Model { BytePairByteLevel, SentencePiece };
    // Which pre-tokenizer splits text before byte-level BPE (SentencePiece vocabs report Default, unused).
    enum class PreTokenizer { Default, Gpt2, Qwen2, Llama3 };

    // Reads tokenizer.ggml.* from a GGUF. Throws bonsai::Error for missing or malformed tokenizer
    // metadata (formats.md §1.6 item 13): no tokens array, arrays of the wrong element type, scores or
    // token_type shorter than tokens, special ids out of range, duplicate token texts, missing merges for
    // gpt2, unknown tokenizer model or pre-tokenizer name.
    static std::unique_ptr<Tokenizer> from_gguf(const gguf::GgufFile& file);
    // Same checks and result from plain values.
    static std::unique_ptr<Tokenizer> from_spec(VocabSpec spec);

    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Text (any bytes; normally UTF-8; at most 4 GiB - 1, else bonsai::Error) -> ids.
    //   add_special:   prepend BOS when add_bos(), append EOS when add_eos() (as llama_tokenize does).
    //   parse_special: recognise CONTROL/UNKNOWN token texts in `text` (e.g. "<|im_end|>") as those tokens;
    //                  when false they are tokenized as ordinary text. USER_DEFINED tokens always match.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // The bytes a token stands for: byte-level text mapped back to bytes (gpt2), U+2581 -> space (llama),
    // <0xNN> byte tokens -> that byte; CONTROL/UNKNOWN/USER_DEFINED tokens -> their text unchanged.
    // A piece may be an incomplete UTF-8 sequence. Throws bonsai::Error when id is out of range.
    std::string token_piece(int32_t id) const;

    // Concatenated pieces of `ids` (raw bytes, possibly not valid UTF-8 if the ids split a character).
    // CONTROL and UNKNOWN tokens produce nothing unless render_special is true. No space is stripped:
    // for llama (SentencePiece) vocabs the space prefix encode() added is still there.
    // Throws bonsai::Error for an out-of-range id.
    std::string decode(const std::vector<int32_t>& ids, bool render_special = false) const;

    int32_t n_vocab() const;           // number of tokens
    Model model() const;               // algorithm
    PreTokenizer pre_tokenizer() const;  // BPE pre-tokenizer kind
    int32_t bos_id() const;            // beginning-of-sequence id, -1 if none
    int32_t eos_id() const;            // end-of-sequence id, -1 if none
    int32_t eot_id() const;            // end-of-turn id (key or detected by text, e.g. <|im_end|>), -1 if none
    int32_t pad_id() const;            // padding id, -1 if none
    int32_t unk_id() const;            // unknown-token id, -1 if none
    bool add_bos() const;              // encode(..., add_special=true) prepends BOS
    bool add_eos() const;              // encode(..., add_special=true) appends EOS
    // End-of-generation: eos, eot, eom, every token whose text is a known end marker (<|im_end|>,
    // <|endoftext|>, <|eot_id|>, ...) and the FIM pad/repo/file-separator tokens (formats.md §5.2).
    bool is_eog(int32_t id) const;
    // CONTROL type (after llama.cpp's override that makes end-marker / FIM tokens CONTROL).
    bool is_control(int32_t id) const;
    // The token's type after those overrides; throws bonsai::Error when id is out of range.
    TokenType token_type(int32_t id) const;
    // The id whose text is exactly `text` (texts as stored, i.e. byte-level encoded for gpt2).
    std::optional<int32_t> find_token(std::string_view text) const;
    // The token's stored text; throws bonsai::Error when id is out of range.
    const std::string& token_text(int32_t id) const;

    struct Impl;  // the state behind the tokenizer (engine/tokenizer/tokenizer_impl.h)

private:
    friend class StreamingDetokenizer;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Turns a stream of generated ids into text that is always valid UTF-8: bytes of a character split
// across tokens are held back until the character is complete; bytes that can never form valid UTF-8
// become U+FFFD (one per maximal ill-formed subsequence, as the Unicode standard recommends).
// The concatenation of every push() and the final flush() equals sanitize_utf8(tokenizer.decode(ids,
// render_special)), and equals decode() itself whenever that is valid UTF-8.
// Keeps a reference to the tokenizer, which must outlive it.
class StreamingDetokenizer {
public:
    explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool render_special = false);
    // Appends one token; returns the text that became complete (possibly empty).
    // Throws bonsai::Error for an out-of-range id.
    std::string push(int32_t id);
    // Ends the stream: returns the held-back bytes (incomplete at the end, so as U+FFFD) and resets.
    std::string flush();

private:
    const Tokenizer& tok_;
    bool render_special_;
    std::string pending_;  // bytes not yet emitted (an incomplete UTF-8 sequence, at most 3 bytes)
};

// Replaces every maximal ill-formed UTF-8 subsequence of `bytes` by U+FFFD (EF BF BD); valid input
// is returned unchanged.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace bonsai
