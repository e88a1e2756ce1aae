// Tokenizer::from_gguf: reads tokenizer.ggml.* into a VocabSpec with strict type checks
// (formats.md §1.6 item 13), then builds the tokenizer from it.
#include <string>

#include "bonsai/gguf.h"
#include "bonsai/tokenizer.h"

namespace bonsai {
namespace {

using gguf::ValueType;

[[noreturn]] void fail(const gguf::GgufFile& f, const std::string& what) {
    throw Error(f.path() + ": invalid tokenizer metadata: " + what);
}

bool is_integer(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
        case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
            return true;
        default:
            return false;
    }
}

// The array under `key`, or nullptr when absent; throws when the key holds something else.
const gguf::ArrayView* array_of(const gguf::GgufFile& f, const char* key) {
    const gguf::KeyValue* kv = f.find(key);
    if (!kv) return nullptr;
    if (kv->type != ValueType::ARRAY) {
        fail(f, std::string(key) + " must be an array, not " + gguf::value_type_name(kv->type));
    }
    return &kv->arr;
}

std::vector<std::string> string_array(const gguf::GgufFile& f, const gguf::ArrayView& a, const char* key) {
    if (a.elem_type() != ValueType::STRING) {
        fail(f, std::string(key) + " must be an array of strings, not of " + gguf::value_type_name(a.elem_type()));
    }
    std::vector<std::string> out;
    out.reserve(a.size());  // the reader checked the count against the file size
    for (uint64_t i = 0; i < a.size(); ++i) out.emplace_back(a.string_at(i));
    return out;
}

std::optional<std::string> string_key(const gguf::GgufFile& f, const char* key) {
    const gguf::KeyValue* kv = f.find(key);
    if (!kv) return std::nullopt;
    if (kv->type != ValueType::STRING) {
        fail(f, std::string(key) + " must be a string, not " + gguf::value_type_name(kv->type));
    }
    return std::string(kv->str);
}

std::optional<int64_t> id_key(const gguf::GgufFile& f, const char* key) {
    const gguf::KeyValue* kv = f.find(key);
    if (!kv) return std::nullopt;
    if (!is_integer(kv->type)) fail(f, std::string(key) + " must be an integer, not " + gguf::value_type_name(kv->type));
    if (kv->type == ValueType::U64 && kv->u > static_cast<uint64_t>(INT64_MAX)) return INT64_MAX;
    return kv->type == ValueType::U64 ? static_cast<int64_t>(kv->u) : kv->i;
}

std::optional<bool> bool_key(const gguf::GgufFile& f, const char* key) {
    const gguf::KeyValue* kv = f.find(key);
    if (!kv) return std::nullopt;
    if (kv->type != ValueType::BOOL) fail(f, std::string(key) + " must be a bool, not " + gguf::value_type_name(kv->type));
    return kv->u != 0;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::GgufFile& f) {
    VocabSpec spec;
    const std::optional<std::string> model = string_key(f, "tokenizer.ggml.model");
    if (!model) fail(f, "tokenizer.ggml.model is missing (the file has no tokenizer)");
    spec.model = *model;
    spec.pre = string_key(f, "tokenizer.ggml.pre");

    const gguf::ArrayView* tokens = array_of(f, "tokenizer.ggml.tokens");
    if (!tokens) fail(f, "tokenizer.ggml.tokens is missing");
    spec.tokens = string_array(f, *tokens, "tokenizer.ggml.tokens");
    const uint64_t n = tokens->size();

    if (const gguf::ArrayView* scores = array_of(f, "tokenizer.ggml.scores")) {
        const bool is_f32 = scores->elem_type() == ValueType::F32, is_i32 = scores->elem_type() == ValueType::I32;
        if (!is_f32 && !is_i32) {
            fail(f, std::string("tokenizer.ggml.scores must be an array of float32, not of ") +
                        gguf::value_type_name(scores->elem_type()));
        }
        if (scores->size() < n) {
            fail(f, "tokenizer.ggml.scores has " + std::to_string(scores->size()) + " entries but tokenizer.ggml.tokens has " +
                        std::to_string(n));
        }
        spec.scores.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            spec.scores.push_back(is_f32 ? static_cast<float>(scores->float_at(i)) : static_cast<float>(scores->int_at(i)));
        }
    }
    if (const gguf::ArrayView* types = array_of(f, "tokenizer.ggml.token_type")) {
        if (!is_integer(types->elem_type())) {
            fail(f, std::string("tokenizer.ggml.token_type must be an array of int32, not of ") +
                        gguf::value_type_name(types->elem_type()));
        }
        if (types->size() < n) {
            fail(f, "tokenizer.ggml.token_type has " + std::to_string(types->size()) +
                        " entries but tokenizer.ggml.tokens has " + std::to_string(n));
        }
        spec.types.reserve(n);
        for (uint64_t i = 0; i < n; ++i) {
            const int64_t t = types->int_at(i);
            spec.types.push_back(t >= 0 && t <= 6 ? static_cast<int32_t>(t) : 0);
        }
    }
    if (const gguf::ArrayView* merges = array_of(f, "tokenizer.ggml.merges")) {
        spec.merges = string_array(f, *merges, "tokenizer.ggml.merges");
    } else if (spec.model == "gpt2") {
        fail(f, "tokenizer.ggml.merges is missing (required for a 'gpt2' tokenizer)");
    }

    spec.bos_id = id_key(f, "tokenizer.ggml.bos_token_id");
    spec.eos_id = id_key(f, "tokenizer.ggml.eos_token_id");
    spec.eot_id = id_key(f, "tokenizer.ggml.eot_token_id");
    spec.eom_id = id_key(f, "tokenizer.ggml.eom_token_id");
    spec.unk_id = id_key(f, "tokenizer.ggml.unknown_token_id");
    spec.sep_id = id_key(f, "tokenizer.ggml.seperator_token_id");
    spec.pad_id = id_key(f, "tokenizer.ggml.padding_token_id");
    spec.mask_id = id_key(f, "tokenizer.ggml.mask_token_id");
    spec.fim_pad_id = id_key(f, "tokenizer.ggml.fim_pad_token_id");
    spec.fim_rep_id = id_key(f, "tokenizer.ggml.fim_rep_token_id");
    spec.fim_sep_id = id_key(f, "tokenizer.ggml.fim_sep_token_id");
    spec.add_bos = bool_key(f, "tokenizer.ggml.add_bos_token");
    spec.add_eos = bool_key(f, "tokenizer.ggml.add_eos_token");
    spec.add_space_prefix = bool_key(f, "tokenizer.ggml.add_space_prefix");
    try {
        return from_spec(std::move(spec));
    } catch (const Error& e) {
        throw Error(f.path() + ": " + e.what());
    }
}

}  // namespace bonsai
