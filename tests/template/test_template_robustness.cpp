// Sandbox limits and robustness: runaway loops, huge outputs and deep recursion stop with an error
// naming the limit; malformed templates give a positioned syntax error; random mutations of the fixture
// templates never crash or hang (they either render or throw bonsai::TemplateError).
#include <QtTest/QtTest>

#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "bonsai/chat_template.h"
#include "template_test_util.h"

using nlohmann::ordered_json;

namespace {

ordered_json chat_vars() {
    return ordered_json::parse(bonsai::test::read_file(bonsai::test::fixtures("templates/cases/multi_turn.json")));
}

// Renders and returns the error text ("" when it rendered).
std::string error_of(const std::string& src, const bonsai::TemplateLimits& limits = {}, const ordered_json& vars = {}) {
    try {
        bonsai::ChatTemplate::parse(src).render(vars.is_null() ? ordered_json::object() : vars, limits);
    } catch (const bonsai::TemplateError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

class TestTemplateRobustness : public QObject {
    Q_OBJECT

private slots:
    void runaway_loop_hits_max_steps() {
        bonsai::TemplateLimits l;
        l.max_steps = 200000;
        std::string e = error_of("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", l);
        QVERIFY2(e.find("max_steps") != std::string::npos, e.c_str());
    }

    void huge_output_hits_max_output_bytes() {
        bonsai::TemplateLimits l;
        l.max_output_bytes = 1 << 20;
        std::string e = error_of("{% for a in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", l);
        QVERIFY2(e.find("max_output_bytes") != std::string::npos, e.c_str());
        e = error_of("{{ 'x' * 1000000000000 }}", l);
        QVERIFY2(e.find("max_output_bytes") != std::string::npos, e.c_str());
        e = error_of("{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", l);
        QVERIFY2(e.find("max_output_bytes") != std::string::npos, e.c_str());
        e = error_of("{{ [1, [2, [3]]]|tojson(indent=4096) }}{{ 'a'|indent(100000000000) }}", l);
        QVERIFY2(!e.empty(), "huge indents must be refused");
    }

    void deep_recursion_hits_max_recursion_depth() {
        std::string e = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        QVERIFY2(e.find("max_recursion_depth") != std::string::npos, e.c_str());
        // A bounded recursion within the limit works.
        QCOMPARE(bonsai::ChatTemplate::parse("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}")
                     .render(ordered_json::object()),
                 std::string("54321"));
        // Deeply nested input data.
        ordered_json deep = ordered_json::array();
        ordered_json* cur = &deep;
        for (int i = 0; i < 1000; ++i) {
            cur->push_back(ordered_json::array());
            cur = &(*cur)[0];
        }
        e = error_of("{{ x }}", {}, ordered_json{{"x", deep}});
        QVERIFY2(e.find("max_recursion_depth") != std::string::npos, e.c_str());
        // A namespace that contains itself cannot be printed forever.
        e = error_of("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
        QVERIFY2(e.find("max_recursion_depth") != std::string::npos, e.c_str());
    }

    void deeply_nested_source_is_a_syntax_error() {
        std::string src = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
        std::string e = error_of(src);
        QVERIFY2(e.find("syntax error") != std::string::npos, e.c_str());
        std::string ifs;
        for (int i = 0; i < 2000; ++i) ifs += "{% if true %}";
        e = error_of(ifs);
        QVERIFY2(e.find("syntax error") != std::string::npos, e.c_str());
    }

    void malformed_templates_give_positioned_errors_data() {
        QTest::addColumn<QString>("source");
        const char* bad[] = {"{{", "{{ }}", "{% %}", "{% if %}", "{% endif %}", "{% for x in %}{% endfor %}",
                             "{% for x y %}", "{{ 'abc }}", "{{ (1 }}", "{{ [1, }}", "{{ {1: }}", "{# never closed",
                             "{% raw %} no end", "{{ a.}}", "{{ a[] }}", "{% set %}", "{% macro %}", "{{ 1 $ 2 }}",
                             "{% unknown %}", "{% include 'x' %}", "{{ x | }}", "{{ x is }}", "{% if x %}{% else %}{% else %}{% endif %}",
                             "{{ 99999999999999999999999 }}", "{{ '\\x4' }}", "{% break %}", "{% call foo %}{% endcall %}"};
        for (const char* b : bad) QTest::newRow(b) << QString::fromUtf8(b);
    }

    void malformed_templates_give_positioned_errors() {
        QFETCH(QString, source);
        try {
            bonsai::ChatTemplate::parse(source.toStdString());
            QFAIL("expected a syntax error");
        } catch (const bonsai::TemplateError& e) {
            QVERIFY2(e.line() >= 1 && e.column() >= 1, e.what());
            QVERIFY2(std::string(e.what()).find("line") != std::string::npos, e.what());
        }
    }

    // Random byte edits, deletions and splices of the real templates: must never crash or hang.
    void fuzz_mutated_fixture_templates() {
        std::vector<std::string> sources;
        for (const auto& f : std::filesystem::directory_iterator(bonsai::test::fixtures("templates/jinja")))
            sources.push_back(bonsai::test::read_file(f.path().string()));
        QVERIFY(sources.size() == 21);
        const std::string alphabet = "{}%#-+()[]|.,:'\"~ \n\tx0is not in for if endif endfor set = ==";
        std::mt19937 rng(20261126);
        ordered_json vars = chat_vars();
        vars["add_generation_prompt"] = true;
        vars["tools"] = nullptr;
        bonsai::TemplateLimits limits;
        limits.max_steps = 200000;
        limits.max_output_bytes = 1 << 20;
        int rendered = 0, rejected = 0;
        for (int iter = 0; iter < 3000; ++iter) {
            std::string s = sources[rng() % sources.size()];
            int edits = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < edits && !s.empty(); ++k) {
                size_t pos = rng() % s.size();
                switch (rng() % 4) {
                    case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
                    case 1: s.erase(pos, 1 + rng() % 8); break;
                    case 2: s.insert(pos, 1, static_cast<char>(rng() % 256)); break;
                    default: {
                        const std::string& other = sources[rng() % sources.size()];
                        size_t from = rng() % other.size();
                        s.insert(pos, other.substr(from, 1 + rng() % 40));
                    }
                }
            }
            try {
                auto t = bonsai::ChatTemplate::parse(s);
                t.render(vars, limits);
                ++rendered;
            } catch (const bonsai::TemplateError&) {
                ++rejected;
            }
        }
        QCOMPARE(rendered + rejected, 3000);
        QVERIFY(rendered > 0 && rejected > 0);
    }
};

QTEST_GUILESS_MAIN(TestTemplateRobustness)
#include "test_template_robustness.moc"
