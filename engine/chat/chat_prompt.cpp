#include "bonsai/chat.h"

#include "bonsai/gguf.h"
#include "bonsai/model.h"
#include "bonsai/tokenizer.h"

namespace bonsai {

namespace {

// A marker that cannot occur in real text (a private-use code point pair plus an index), used to find
// where each message's content lands in the rendered prompt.
std::string sentinel(size_t i) { return "\xEE\x80\x80" + std::to_string(i) + "\xEE\x80\x81"; }

std::string render(const Model& model, const std::vector<ChatMessage>& messages, const ChatPromptOptions& options,
                   bool* fallback, std::string* warning) {
    const Tokenizer& tok = *model.tokenizer();
    const auto source = model.file().get_string("tokenizer.chat_template");
    if (source && !source->empty()) {
        ChatRenderRequest req;
        req.messages = messages;
        req.add_generation_prompt = options.add_generation_prompt;
        if (tok.bos_id() >= 0) req.bos_token = tok.token_text(tok.bos_id());
        if (tok.eos_id() >= 0) req.eos_token = tok.token_text(tok.eos_id());
        req.extra = options.extra;
        try {
            return render_chat(*source, req);
        } catch (const std::exception& e) {
            *fallback = true;
            *warning = std::string("the model's chat template could not be rendered (") + e.what() + "); using ChatML instead";
        }
    } else {
        *fallback = true;
        *warning = "the model has no chat template; using ChatML";
    }
    return render_chatml(messages, options.add_generation_prompt);
}

}  // namespace

ChatPrompt build_chat_prompt(const Model& model, const std::vector<ChatMessage>& messages, const ChatPromptOptions& options) {
    const Tokenizer* tok = model.tokenizer();
    if (!tok) throw Error("this model file has no tokenizer, so it cannot chat");
    ChatPrompt out;
    out.text = render(model, messages, options, &out.used_fallback, &out.warning);

    // Render once more with sentinels in place of the contents. When putting the contents back gives
    // exactly the real prompt, the template copied each content verbatim, and we know which bytes are
    // the user's: those are tokenized without special-token recognition.
    std::vector<ChatMessage> marked = messages;
    for (size_t i = 0; i < marked.size(); ++i) marked[i].content = sentinel(i);
    bool fb = false;
    std::string w;
    std::string marked_text;
    try {
        marked_text = out.used_fallback ? render_chatml(marked, options.add_generation_prompt)
                                        : render(model, marked, options, &fb, &w);
    } catch (const std::exception&) {
        fb = true;
    }

    struct Piece {
        std::string text;
        bool user;
    };
    std::vector<Piece> pieces;
    bool segmented = !fb || out.used_fallback;
    if (segmented) {
        std::string rebuilt;
        size_t pos = 0;
        while (pos < marked_text.size()) {
            const size_t start = marked_text.find("\xEE\x80\x80", pos);
            if (start == std::string::npos) {
                pieces.push_back({marked_text.substr(pos), false});
                break;
            }
            const size_t end = marked_text.find("\xEE\x80\x81", start);
            if (end == std::string::npos) {
                segmented = false;
                break;
            }
            const std::string index_text = marked_text.substr(start + 3, end - start - 3);
            size_t idx = 0;
            try {
                idx = std::stoul(index_text);
            } catch (const std::exception&) {
                segmented = false;
                break;
            }
            if (idx >= messages.size()) {
                segmented = false;
                break;
            }
            pieces.push_back({marked_text.substr(pos, start - pos), false});
            pieces.push_back({messages[idx].content, true});
            pos = end + 3;
        }
        if (segmented) {
            for (const Piece& p : pieces) rebuilt += p.text;
            segmented = rebuilt == out.text;
        }
    }

    const bool want_bos = tok->add_bos() && tok->bos_id() >= 0 &&
                          out.text.rfind(tok->token_text(tok->bos_id()), 0) != 0;  // the template may write BOS itself
    if (want_bos) out.tokens.push_back(tok->bos_id());
    if (!segmented) {
        // The template rewrote the contents (e.g. stripped reasoning): tokenize the whole prompt with
        // special tokens recognised, as llama.cpp does for every prompt.
        const auto ids = tok->encode(out.text, false, true);
        out.tokens.insert(out.tokens.end(), ids.begin(), ids.end());
        return out;
    }
    // Special tokens are matched only inside template pieces. Ordinary text between two special tokens
    // (template text and user text alike) is tokenized as one fragment, exactly as llama.cpp splits a
    // prompt at its special tokens, so a prompt without hostile content gets identical ids.
    std::vector<std::pair<std::string, int32_t>> specials;
    for (int32_t id = 0; id < tok->n_vocab(); ++id)
        if (tok->is_control(id) && !tok->token_text(id).empty()) specials.emplace_back(tok->token_text(id), id);
    std::string fragment;
    auto flush = [&] {
        if (fragment.empty()) return;
        const auto ids = tok->encode(fragment, false, false);
        out.tokens.insert(out.tokens.end(), ids.begin(), ids.end());
        fragment.clear();
    };
    for (const Piece& p : pieces) {
        if (p.user) {
            fragment += p.text;
            continue;
        }
        size_t i = 0;
        while (i < p.text.size()) {
            size_t best_len = 0;
            int32_t best_id = -1;
            for (const auto& [text, id] : specials) {
                if (text.size() > best_len && p.text.compare(i, text.size(), text) == 0) {
                    best_len = text.size();
                    best_id = id;
                }
            }
            if (best_id >= 0) {
                flush();
                out.tokens.push_back(best_id);
                i += best_len;
            } else {
                fragment += p.text[i++];
            }
        }
    }
    flush();
    return out;
}

std::vector<std::string> chat_stop_strings(const Model& model, const ChatPrompt& prompt) {
    std::vector<std::string> stops;
    const Tokenizer* tok = model.tokenizer();
    const bool chatml = prompt.used_fallback || prompt.text.find("<|im_start|>") != std::string::npos;
    if (chatml && (!tok || !tok->find_token("<|im_end|>"))) stops.push_back("<|im_end|>");
    return stops;
}

}  // namespace bonsai
