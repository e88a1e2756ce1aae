// The built-in code-help plugin end to end through the real host, with a fake provider: language detection
// (fence info string, else heuristics), the task prompt, the code passed verbatim, the answer inserted.
#include <QSignalSpy>
#include <QtTest>

#include "plugin_test_util.h"

using namespace bonsai::plugins;

namespace {
const QString kId = QStringLiteral("org.bonsai.codehelp");
}

class TestBuiltinCodehelp : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;

    std::unique_ptr<PluginHost> makeHost(FakeHostServices& app) {
        auto host = std::make_unique<PluginHost>(&app, plugintest::options(tmp_.path()));
        connect(host.get(), &PluginHost::pluginDisabled, this, [](const QString&, const QString& m) { qWarning("%s", qPrintable(m)); });
        if (!host->loadFolder(QStringLiteral(BONSAI_SOURCE_DIR "/plugins/builtin/codehelp"))) return nullptr;
        return host;
    }

    QList<CompletionRequest> run(FakeHostServices& app, const std::function<void(PluginHost&)>& calls) {
        auto host = makeHost(app);
        if (!host) return {};
        calls(*host);
        if (!host->waitForIdle(kId, 10000) || !host->plugin(kId)->enabled) return {};
        return app.requests();
    }

private slots:
    void detectsLanguage_data() {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("language");
        QTest::addColumn<QString>("tag");
        QTest::newRow("fence py") << "```py\nx = 1\n```" << "Python" << "python";
        QTest::newRow("fence c++") << "```c++\nint x;\n```" << "C++" << "cpp";
        QTest::newRow("fence ts") << "```ts\nlet a = 1\n```" << "TypeScript" << "typescript";
        QTest::newRow("fence bash") << "```bash\nls\n```" << "Shell" << "shell";
        QTest::newRow("c++") << "#include <vector>\nint main() {\n  std::vector<int> v{1, 2};\n  return v.size();\n}" << "C++" << "cpp";
        QTest::newRow("c") << "#include <stdio.h>\nint main(void) {\n  printf(\"hi\\n\");\n  return 0;\n}" << "C" << "c";
        QTest::newRow("python") << "import os\n\ndef size(path):\n    return os.path.getsize(path)\n" << "Python" << "python";
        QTest::newRow("javascript") << "const add = (a, b) => a + b;\nconsole.log(add(1, 2));" << "JavaScript" << "javascript";
        QTest::newRow("typescript") << "interface User { name: string }\nconst greet = (u: User): string => `hi ${u.name}`;" << "TypeScript" << "typescript";
        QTest::newRow("shell") << "#!/bin/bash\nfor f in *.txt; do\n  echo \"$f\"\ndone" << "Shell" << "shell";
        QTest::newRow("json") << "{\"name\": \"bonsai\", \"version\": [1, 2]}" << "JSON" << "json";
        QTest::newRow("rust") << "fn main() {\n    let mut v = Vec::new();\n    v.push(1);\n    println!(\"{:?}\", v);\n}" << "Rust" << "rust";
        QTest::newRow("go") << "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tx := 1\n\tfmt.Println(x)\n}" << "Go" << "go";
        QTest::newRow("java") << "public class Hello {\n  public static void main(String[] a) { System.out.println(\"hi\"); }\n}" << "Java" << "java";
        QTest::newRow("sql") << "SELECT name FROM users WHERE id = 1;" << "SQL" << "sql";
    }
    void detectsLanguage() {
        QFETCH(QString, code);
        QFETCH(QString, language);
        QFETCH(QString, tag);
        FakeHostServices app;
        const auto reqs = run(app, [&](PluginHost& h) { QVERIFY(h.runCommandLine("/explain " + code)); });
        QCOMPARE(reqs.size(), 1);
        const QString sys = reqs[0].messages[0].content;
        QVERIFY2(sys.contains("expert " + language + " programmer"), qPrintable(sys));
        QVERIFY2(sys.contains("fenced code block with a language tag (```" + tag + ")"), qPrintable(sys));
        QVERIFY2(reqs[0].messages[1].content.contains("```" + tag + "\n"), qPrintable(reqs[0].messages[1].content));
    }

    void tasksBuildTheirPrompts_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("expected");
        QTest::newRow("explain") << "explain" << "Explain what this Python code does";
        QTest::newRow("review") << "review" << "Review this Python code";
        QTest::newRow("fix") << "fix" << "Find and fix the bugs in this Python code. Answer with the complete corrected code in one fenced code block";
        QTest::newRow("tests") << "tests" << "Write unit tests for this Python code using pytest";
    }
    void tasksBuildTheirPrompts() {
        QFETCH(QString, command);
        QFETCH(QString, expected);
        const QString code = "def div(a, b):\n    return a / b";
        FakeHostServices app;
        app.reply = [](const CompletionRequest&) { return QStringLiteral("\n```python\nprint(1)\n```\n"); };
        const auto reqs = run(app, [&](PluginHost& h) {
            QVERIFY(h.runCommandLine("/" + command + " Careful with zero!\n```python\n" + code + "\n```"));
        });
        QCOMPARE(reqs.size(), 1);
        const QString user = reqs[0].messages[1].content;
        QVERIFY2(user.startsWith(expected), qPrintable(user));
        // The code exactly as given, in a fence; the text around the block is a note.
        QVERIFY2(user.contains("```python\n" + code + "\n```"), qPrintable(user));
        QVERIFY2(user.endsWith("Note from the user: Careful with zero!"), qPrintable(user));
        QCOMPARE(app.inserted().size(), 1);
        QCOMPARE(app.inserted()[0].content, QStringLiteral("```python\nprint(1)\n```"));
    }

    void messageActionOnACodeBlock() {
        FakeHostServices app;
        const ChatMessage msg{"m1", "assistant", "Two blocks:\n```go\nfunc a() {}\n```\nand\n```rust\nfn b() {}\n```"};
        const auto reqs = run(app, [&](PluginHost& h) {
            QVERIFY(h.runMessageAction(kId, "review-code", msg, "```rust\nfn b() {}\n```"));  // the block clicked
            QVERIFY(h.runMessageAction(kId, "tests-code", msg, QString()));                   // none: the first
        });
        QCOMPARE(reqs.size(), 2);
        QVERIFY(reqs[0].messages[1].content.startsWith("Review this Rust code"));
        QVERIFY(reqs[0].messages[1].content.contains("```rust\nfn b() {}\n```"));
        QVERIFY(reqs[1].messages[1].content.startsWith("Write unit tests for this Go code using the testing package"));
        QVERIFY(reqs[1].messages[1].content.contains("```go\nfunc a() {}\n```"));
    }

    void selectedMessageWithoutArguments() {
        FakeHostServices app;
        app.selected = {"m9", "user", "Look:\n```js\nlet x = 1;\n```"};
        const auto reqs = run(app, [&](PluginHost& h) { QVERIFY(h.runCommandLine("/fix")); });
        QCOMPARE(reqs.size(), 1);
        QVERIFY(reqs[0].messages[1].content.contains("```javascript\nlet x = 1;\n```"));
        FakeHostServices none;
        const auto noReqs = run(none, [&](PluginHost& h) { QVERIFY(h.runCommandLine("/fix")); });
        QVERIFY(noReqs.isEmpty());
        QCOMPARE(none.notifications().size(), 1);
        QVERIFY(none.notifications()[0].startsWith("Usage: /fix"));
    }
};

QTEST_GUILESS_MAIN(TestBuiltinCodehelp)
#include "test_builtin_codehelp.moc"
