// `bonsai-cli template`: renders fixture templates through the real binary and compares stdout byte for
// byte with the Python jinja2 outputs in fixtures/templates/expected.
#include <QProcess>
#include <QtTest>

#include "template_test_util.h"
#include "test_paths.h"

using bonsai::test::fixtures;

class TestTemplateCli : public QObject {
    Q_OBJECT

    struct Result {
        int code;
        QByteArray out;
        QString err;
    };

    static Result run(const QStringList& args) {
        QProcess p;
        p.start(QString::fromStdString(bonsai::test::cli()), args);
        if (!p.waitForFinished(30000)) return {-1, {}, QStringLiteral("timeout")};
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(),
                QString::fromUtf8(p.readAllStandardError())};
    }

    static QString fx(const std::string& rel) { return QString::fromStdString(fixtures(rel)); }
    static QByteArray expected(const std::string& name) {
        return QByteArray::fromStdString(bonsai::test::read_file(fixtures("templates/expected/" + name)));
    }

private slots:
    // Qwen3 with enable_thinking=false (a --var) and the generation prompt.
    void renders_template_file_like_jinja2() {
        Result r = run({"template", "--template-file", fx("templates/jinja/Qwen-Qwen3-0.6B.jinja"), "--messages",
                        fx("templates/cases/sys_user.json"), "--var", "enable_thinking=false", "--var",
                        "eos_token=\"<|im_end|>\""});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.out, expected("Qwen-Qwen3-0.6B__sys_user__agp1_think0.txt"));
    }

    // Llama 3.1 needs bos_token; no generation prompt.
    void no_generation_prompt_and_string_vars() {
        Result r = run({"template", "--template-file", fx("templates/jinja/meta-llama-Llama-3.1-8B-Instruct.jinja"),
                        "--messages", fx("templates/cases/multi_turn.json"), "--no-generation-prompt", "--var",
                        "bos_token=\"<|begin_of_text|>\"", "--var", "eos_token=\"<|eot_id|>\""});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.out, expected("meta-llama-Llama-3.1-8B-Instruct__multi_turn__agp0.txt"));
    }

    // The model's own tokenizer.chat_template (the Qwen3 template) and its tokens.
    void renders_model_template() {
        Result r = run({"template", fx("models/qwen3-e256-F32.gguf"), "--messages", fx("templates/cases/multi_turn.json")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(r.out, expected("Qwen-Qwen3-0.6B__multi_turn__agp1.txt"));
    }

    // Gemma 2 raises for a system message: message on stderr, exit 1.
    void template_exception_exits_1() {
        Result r = run({"template", "--template-file", fx("templates/jinja/google-gemma-2-2b-it.jinja"), "--messages",
                        fx("templates/cases/sys_user.json"), "--var", "bos_token=\"<bos>\""});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("System role not supported"), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }

    void missing_messages_is_usage_error() {
        Result r = run({"template", "--template-file", fx("templates/jinja/chatml.jinja")});
        QCOMPARE(r.code, 2);
    }
};

QTEST_GUILESS_MAIN(TestTemplateCli)
#include "test_template_cli.moc"
