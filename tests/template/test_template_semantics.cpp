// Expression and statement semantics of the template interpreter, checked against outputs that
// Python jinja2 3.1.2 produced for the same snippets under Hugging Face's settings
// (semantics_cases.inc), plus a few targeted checks of the public API.
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include "bonsai/chat_template.h"
#include "template_test_util.h"

using nlohmann::ordered_json;

namespace {

struct Case {
    const char* source;
    const char* expected;  // nullptr: jinja2 raised
    const char* error;     // substring of jinja2's error message that ours must contain ("" = any error)
};

const Case kCases[] = {
#include "semantics_cases.inc"
};

ordered_json default_vars() {
    return ordered_json::parse(R"({"messages": [{"role": "user", "content": "hi"}], "tools": null})");
}

std::string render(const std::string& src, const ordered_json& vars = default_vars()) {
    return bonsai::ChatTemplate::parse(src).render(vars, bonsai::test::fixture_options());
}

}  // namespace

class TestTemplateSemantics : public QObject {
    Q_OBJECT

private slots:
    void matches_python_jinja2_data() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < std::size(kCases); ++i) {
            std::string name = std::to_string(i) + ": " + std::string(kCases[i].source).substr(0, 50);
            for (char& ch : name)
                if (ch == '\n') ch = ' ';
            QTest::newRow(name.c_str()) << static_cast<int>(i);
        }
    }

    void matches_python_jinja2() {
        QFETCH(int, index);
        const Case& c = kCases[index];
        if (c.expected) {
            std::string got;
            try {
                got = render(c.source);
            } catch (const std::exception& e) {
                QFAIL(e.what());
            }
            std::string diff = bonsai::test::first_difference(got, c.expected);
            if (!diff.empty()) QFAIL(diff.c_str());
            return;
        }
        try {
            std::string got = render(c.source);
            QFAIL(("expected an error, got: " + got).c_str());
        } catch (const bonsai::TemplateError& e) {
            QVERIFY2(std::string(e.what()).find(c.error) != std::string::npos, e.what());
        }
    }

    void generation_tag_renders_body() {
        QCOMPARE(render("<{% generation %}gen {{ 1 + 1 }}{% endgeneration %}>"), std::string("<gen 2>"));
    }

    void strftime_now_uses_injected_clock() {
        QCOMPARE(render("{{ strftime_now('%Y-%m-%d|%B %d, %Y|%d %b %Y|%A') }}"),
                 std::string("2026-11-26|November 26, 2026|26 Nov 2026|Thursday"));
    }

    void raise_exception_message_is_verbatim() {
        try {
            render("{{ raise_exception('Only user and assistant roles are supported!') }}");
            QFAIL("no exception");
        } catch (const bonsai::TemplateError& e) {
            QVERIFY(e.raised_by_template());
            QCOMPARE(std::string(e.what()), std::string("Only user and assistant roles are supported!"));
        }
    }

    void variables_keep_json_key_order() {
        ordered_json vars = ordered_json::parse(R"({"d": {"z": 1, "a": [true, null, 1.5, "é"]}})");
        QCOMPARE(render("{{ d|tojson }}|{% for k, v in d|items %}{{ k }};{% endfor %}", vars),
                 std::string(R"({"z": 1, "a": [true, null, 1.5, "é"]}|z;a;)"));
    }

    void syntax_errors_report_line_and_column() {
        try {
            bonsai::ChatTemplate::parse("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}");
            QFAIL("no exception");
        } catch (const bonsai::TemplateError& e) {
            QCOMPARE(e.line(), 3);
            QVERIFY(e.column() > 0);
            QVERIFY2(std::string(e.what()).find("line 3") != std::string::npos, e.what());
        }
    }

    void runtime_errors_report_line() {
        try {
            render("a\nb\n{{ 'x' < 1 }}");
            QFAIL("no exception");
        } catch (const bonsai::TemplateError& e) {
            QCOMPARE(e.line(), 3);
            QVERIFY(!e.raised_by_template());
        }
    }

    void render_chat_passes_extra_variables() {
        std::string src = bonsai::test::read_file(bonsai::test::fixtures("templates/jinja/Qwen-Qwen3-0.6B.jinja"));
        bonsai::ChatRenderRequest req;
        req.messages = {{"system", "S"}, {"user", "U"}};
        req.extra = {{"enable_thinking", false}};
        QCOMPARE(bonsai::render_chat(src, req),
                 std::string("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
                             "<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    }
};

QTEST_GUILESS_MAIN(TestTemplateSemantics)
#include "test_template_semantics.moc"
