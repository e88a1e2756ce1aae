// bonsai-cli template [MODEL] --messages F.json [--template-file T.jinja] [--no-generation-prompt]
//                    [--var NAME=JSON ...]
// Renders a chat template like Hugging Face's apply_chat_template and prints the prompt to stdout
// with no added newline.
//   MODEL            a GGUF file: its tokenizer.chat_template, and bos_token / eos_token taken from
//                    tokenizer.ggml.bos_token_id / eos_token_id -> tokenizer.ggml.tokens
//   --template-file  render this template instead (MODEL then only supplies the tokens, if given)
//   --messages F     a JSON list of {"role", "content"} or an object with a "messages" list
//   --var NAME=JSON  set any variable (e.g. --var enable_thinking=false, --var bos_token='"<s>"');
//                    overrides the defaults (messages, tools=None, documents=None, add_generation_prompt)
// A template that raises (raise_exception or an error) prints the message on stderr and exits 1.
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bonsai/chat_template.h"
#include "bonsai/gguf.h"
#include "command.h"

namespace {

using bonsai::cli::UsageError;
using nlohmann::ordered_json;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw bonsai::Error("cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw bonsai::Error("cannot read '" + path + "'");
    return ss.str();
}

// The token text for the id stored under `id_key`, if the model has both.
std::optional<std::string> token_text(const bonsai::gguf::GgufFile& f, const char* id_key) {
    auto id = f.get_int(id_key);
    const auto* tokens = f.get_array("tokenizer.ggml.tokens");
    if (!id || !tokens || *id < 0 || static_cast<uint64_t>(*id) >= tokens->size()) return std::nullopt;
    return std::string(tokens->string_at(static_cast<uint64_t>(*id)));
}

int run_template(bonsai::cli::Args& args) {
    auto messages_path = args.value({"--messages"});
    auto template_path = args.value({"--template-file"});
    bool no_gen = args.flag({"--no-generation-prompt"});
    auto var_specs = args.values({"--var"});
    auto pos = args.positionals();
    if (pos.size() > 1) throw UsageError("expected at most one MODEL");
    if (!messages_path) throw UsageError("--messages is required");
    if (pos.empty() && !template_path) throw UsageError("give a MODEL or --template-file");

    ordered_json vars = ordered_json::object();
    ordered_json msgs;
    try {
        msgs = ordered_json::parse(read_text(*messages_path));
    } catch (const nlohmann::json::exception& e) {
        throw bonsai::Error("'" + *messages_path + "' is not valid JSON: " + e.what());
    }
    if (msgs.is_object() && msgs.contains("messages")) msgs = msgs["messages"];
    if (!msgs.is_array()) throw bonsai::Error("'" + *messages_path + "' must hold a list of messages or {\"messages\": [...]}");
    vars["messages"] = msgs;
    vars["tools"] = nullptr;
    vars["documents"] = nullptr;
    vars["add_generation_prompt"] = !no_gen;

    std::string source;
    if (!pos.empty()) {
        auto model = bonsai::gguf::GgufFile::open(pos[0]);
        if (auto bos = token_text(*model, "tokenizer.ggml.bos_token_id")) vars["bos_token"] = *bos;
        if (auto eos = token_text(*model, "tokenizer.ggml.eos_token_id")) vars["eos_token"] = *eos;
        if (!template_path) {
            auto t = model->get_string("tokenizer.chat_template");
            if (!t) throw bonsai::Error("'" + pos[0] + "' has no tokenizer.chat_template (use --template-file)");
            source = *t;
        }
    }
    if (template_path) source = read_text(*template_path);

    for (const auto& spec : var_specs) {
        size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0) throw UsageError("--var expects NAME=JSON, got '" + spec + "'");
        try {
            vars[spec.substr(0, eq)] = ordered_json::parse(spec.substr(eq + 1));
        } catch (const nlohmann::json::exception&) {
            throw UsageError("--var " + spec.substr(0, eq) + ": value is not JSON (quote strings: '\"text\"')");
        }
    }

    std::string prompt = bonsai::ChatTemplate::parse(source).render(vars);
    std::cout.write(prompt.data(), static_cast<std::streamsize>(prompt.size()));
    std::cout.flush();
    return 0;
}

const bonsai::cli::Registration reg{
    "template",
    "[MODEL] --messages F.json [--template-file T.jinja] [--no-generation-prompt] [--var NAME=JSON ...]  render a chat template",
    run_template};

}  // namespace
