// Renders every fixture combination (21 templates x 12 conversations x flags) and compares the result
// byte for byte with the output of Python jinja2 3.1 under Hugging Face's settings
// (fixtures/templates/expected/*.txt). Also checks the combinations the reference renderer refused.
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "bonsai/chat_template.h"
#include "template_test_util.h"

using nlohmann::ordered_json;
using bonsai::test::fixtures;
using bonsai::test::read_file;

namespace {

ordered_json manifest() { return ordered_json::parse(read_file(fixtures("templates/manifest.json"))); }

// The exact variables the reference renderer passed for one manifest entry.
ordered_json variables_for(const ordered_json& entry, bool empty_tools_override) {
    ordered_json c = ordered_json::parse(read_file(fixtures("templates/" + entry["case_file"].get<std::string>())));
    ordered_json vars = ordered_json::object();
    vars["messages"] = c["messages"];
    vars["tools"] = empty_tools_override ? ordered_json::array() : entry["tools"];
    vars["documents"] = nullptr;
    vars["add_generation_prompt"] = entry["add_generation_prompt"];
    if (!entry["bos_token"].is_null()) vars["bos_token"] = entry["bos_token"];
    if (!entry["eos_token"].is_null()) vars["eos_token"] = entry["eos_token"];
    if (!entry["enable_thinking"].is_null()) vars["enable_thinking"] = entry["enable_thinking"];
    return vars;
}

const ordered_json* find_entry(const ordered_json& m, const std::string& tmpl, const std::string& cas) {
    for (const auto& e : m["entries"])
        if (e["template"] == tmpl && e["case"] == cas) return &e;
    return nullptr;
}

}  // namespace

class TestTemplateFixtures : public QObject {
    Q_OBJECT

private slots:
    void manifest_is_complete() {
        ordered_json m = manifest();
        QCOMPARE(m["entries"].size(), size_t{636});
        QCOMPARE(m["templates"].size(), size_t{21});
    }

    void fixture_render_data() {
        QTest::addColumn<int>("index");
        ordered_json m = manifest();
        for (size_t i = 0; i < m["entries"].size(); ++i) {
            const auto& e = m["entries"][i];
            std::string name = e["template"].get<std::string>() + "__" + e["case"].get<std::string>() + "__" +
                               e["flags"].get<std::string>();
            QTest::newRow(name.c_str()) << static_cast<int>(i);
        }
    }

    // One fixture: parse the template, render with exactly the manifest's variables, compare bytes.
    void fixture_render() {
        QFETCH(int, index);
        static const ordered_json m = manifest();
        const auto& e = m["entries"][static_cast<size_t>(index)];
        std::string source = read_file(fixtures("templates/" + e["template_file"].get<std::string>()));
        std::string expected = read_file(fixtures("templates/" + e["expected_file"].get<std::string>()));
        QCOMPARE(expected.size(), e["expected_bytes"].get<size_t>());
        std::string got;
        try {
            got = bonsai::ChatTemplate::parse(source).render(variables_for(e, false), bonsai::test::fixture_options());
        } catch (const std::exception& ex) {
            QFAIL(ex.what());
        }
        std::string diff = bonsai::test::first_difference(got, expected);
        if (!diff.empty()) QFAIL(diff.c_str());
    }

    // Gemma 2 rejects a system message: both tools=None and tools=[] must raise its message.
    void skipped_combos_raise() {
        ordered_json m = manifest();
        QVERIFY(!m["skipped"].empty());
        for (const auto& s : m["skipped"]) {
            const ordered_json* e = find_entry(m, s["template"], "user_only");
            QVERIFY(e);
            ordered_json entry = *e;
            entry["case"] = s["case"];
            entry["case_file"] = "cases/" + s["case"].get<std::string>() + ".json";
            entry["add_generation_prompt"] = s["flags"] == "agp1";
            std::string source = read_file(fixtures("templates/" + entry["template_file"].get<std::string>()));
            auto t = bonsai::ChatTemplate::parse(source);
            for (bool empty_tools : {false, true}) {
                try {
                    t.render(variables_for(entry, empty_tools), bonsai::test::fixture_options());
                    QFAIL(("expected an error for " + s.dump()).c_str());
                } catch (const bonsai::TemplateError& err) {
                    QVERIFY(err.raised_by_template());
                    std::string want = s["errors"][empty_tools ? 1 : 0].get<std::string>();
                    QVERIFY2(want.find(err.what()) != std::string::npos, err.what());
                }
            }
        }
    }

    // Hermes tool-use templates iterate `tools`: with tools=None they must fail (TypeError in Python);
    // the fixtures were rendered with tools=[] instead.
    void retried_combos_fail_with_tools_none() {
        ordered_json m = manifest();
        QVERIFY(!m["retried_with_empty_tools"].empty());
        for (const auto& r : m["retried_with_empty_tools"]) {
            const ordered_json* e = nullptr;
            for (const auto& x : m["entries"])
                if (x["template"] == r["template"] && x["case"] == r["case"] &&
                    x["flags"].get<std::string>().rfind(r["flags"].get<std::string>(), 0) == 0)
                    e = &x;
            QVERIFY(e);
            QCOMPARE((*e)["tools"], ordered_json::array());
            std::string source = read_file(fixtures("templates/" + (*e)["template_file"].get<std::string>()));
            ordered_json vars = variables_for(*e, false);
            vars["tools"] = nullptr;
            try {
                bonsai::ChatTemplate::parse(source).render(vars, bonsai::test::fixture_options());
                QFAIL("expected 'NoneType' object is not iterable");
            } catch (const bonsai::TemplateError& err) {
                QVERIFY(!err.raised_by_template());
                QVERIFY2(std::string(err.what()).find("'NoneType' object is not iterable") != std::string::npos, err.what());
            }
        }
    }

    // render_chat() (messages as ChatMessage, tools=None with the tools=[] retry) reproduces every
    // fixture that was rendered without enable_thinking.
    void render_chat_matches_fixtures() {
        ordered_json m = manifest();
        int checked = 0;
        for (const auto& e : m["entries"]) {
            if (!e["enable_thinking"].is_null()) continue;
            ordered_json c = ordered_json::parse(read_file(fixtures("templates/" + e["case_file"].get<std::string>())));
            bonsai::ChatRenderRequest req;
            for (const auto& msg : c["messages"]) req.messages.push_back({msg["role"], msg["content"]});
            req.add_generation_prompt = e["add_generation_prompt"];
            if (!e["bos_token"].is_null()) req.bos_token = e["bos_token"].get<std::string>();
            if (!e["eos_token"].is_null()) req.eos_token = e["eos_token"].get<std::string>();
            std::string source = read_file(fixtures("templates/" + e["template_file"].get<std::string>()));
            std::string expected = read_file(fixtures("templates/" + e["expected_file"].get<std::string>()));
            std::string got = bonsai::render_chat(source, req, bonsai::test::fixture_options());
            std::string diff = bonsai::test::first_difference(got, expected);
            if (!diff.empty()) QFAIL((e["expected_file"].get<std::string>() + ": " + diff).c_str());
            ++checked;
        }
        QVERIFY(checked > 400);
    }

    // The built-in ChatML fallback equals the chatml.jinja fixtures.
    void chatml_fallback_matches_fixtures() {
        ordered_json m = manifest();
        int checked = 0;
        for (const auto& e : m["entries"]) {
            if (e["template"] != "chatml") continue;
            ordered_json c = ordered_json::parse(read_file(fixtures("templates/" + e["case_file"].get<std::string>())));
            std::vector<bonsai::ChatMessage> msgs;
            for (const auto& msg : c["messages"]) msgs.push_back({msg["role"], msg["content"]});
            std::string expected = read_file(fixtures("templates/" + e["expected_file"].get<std::string>()));
            QCOMPARE(bonsai::render_chatml(msgs, e["add_generation_prompt"].get<bool>()), expected);
            ++checked;
        }
        QCOMPARE(checked, 24);
    }
};

QTEST_GUILESS_MAIN(TestTemplateFixtures)
#include "test_template_fixtures.moc"
