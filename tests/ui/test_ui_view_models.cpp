// View-model unit tests (no QML): the code highlighter, the Markdown splitter, search snippets, the
// message and conversation list models, model facts from GGUF headers, the memory estimate and the catalog.
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "bonsai/storage/database.h"
#include "chat_message_model.h"
#include "context_controller.h"
#include "code_highlighter.h"
#include "conversation_list_model.h"
#include "markdown_blocks.h"
#include "model_info.h"
#include "models_controller.h"
#include "search_result_model.h"

using namespace bonsai::ui;

namespace {
// The text of every token of one kind, in order.
QStringList tokensOf(const QString& code, CodeLanguage lang, TokenKind kind) {
    QStringList out;
    for (const CodeToken& t : tokenize(code, lang))
        if (t.kind == kind) out << code.mid(t.start, t.length);
    return out;
}
}  // namespace

class TestUiViewModels : public QObject {
    Q_OBJECT
private slots:
    void fenceTagsNameLanguages() {
        QCOMPARE(languageFromFenceTag("cpp"), CodeLanguage::cpp);
        QCOMPARE(languageFromFenceTag("C++"), CodeLanguage::cpp);
        QCOMPARE(languageFromFenceTag("c"), CodeLanguage::cpp);
        QCOMPARE(languageFromFenceTag("python"), CodeLanguage::python);
        QCOMPARE(languageFromFenceTag("py"), CodeLanguage::python);
        QCOMPARE(languageFromFenceTag("ts"), CodeLanguage::javascript);
        QCOMPARE(languageFromFenceTag("javascript"), CodeLanguage::javascript);
        QCOMPARE(languageFromFenceTag("bash"), CodeLanguage::shell);
        QCOMPARE(languageFromFenceTag("json"), CodeLanguage::json);
        QCOMPARE(languageFromFenceTag(""), CodeLanguage::plain);
        QCOMPARE(languageFromFenceTag("cobol"), CodeLanguage::plain);
    }

    void cppTokens() {
        const QString code = "#include <vector>\nint main() { // entry\n  return 0x1F + 42; /* done */ \"a\\\"b\"; }";
        QCOMPARE(tokensOf(code, CodeLanguage::cpp, TokenKind::preprocessor), QStringList{"#include"});
        QCOMPARE(tokensOf(code, CodeLanguage::cpp, TokenKind::keyword), (QStringList{"int", "return"}));
        QCOMPARE(tokensOf(code, CodeLanguage::cpp, TokenKind::number), (QStringList{"0x1F", "42"}));
        QCOMPARE(tokensOf(code, CodeLanguage::cpp, TokenKind::comment), (QStringList{"// entry", "/* done */"}));
        QCOMPARE(tokensOf(code, CodeLanguage::cpp, TokenKind::string), (QStringList{"<vector>", "\"a\\\"b\""}));
    }

    void pythonTokens() {
        const QString code = "def f(x):\n    '''doc \"q\"'''\n    return None if x else 3.5  # note";
        QCOMPARE(tokensOf(code, CodeLanguage::python, TokenKind::keyword), (QStringList{"def", "return", "if", "else"}));
        QCOMPARE(tokensOf(code, CodeLanguage::python, TokenKind::string), QStringList{"'''doc \"q\"'''"});
        QCOMPARE(tokensOf(code, CodeLanguage::python, TokenKind::literal), QStringList{"None"});
        QCOMPARE(tokensOf(code, CodeLanguage::python, TokenKind::number), QStringList{"3.5"});
        QCOMPARE(tokensOf(code, CodeLanguage::python, TokenKind::comment), QStringList{"# note"});
    }

    void javascriptTokens() {
        const QString code = "const s = `x ${y}`; let n = null; // c";
        QCOMPARE(tokensOf(code, CodeLanguage::javascript, TokenKind::keyword), (QStringList{"const", "let"}));
        QCOMPARE(tokensOf(code, CodeLanguage::javascript, TokenKind::string), QStringList{"`x ${y}`"});
        QCOMPARE(tokensOf(code, CodeLanguage::javascript, TokenKind::literal), QStringList{"null"});
        QCOMPARE(tokensOf(code, CodeLanguage::javascript, TokenKind::comment), QStringList{"// c"});
    }

    void shellTokens() {
        const QString code = "export PATH=$HOME/bin:${PATH} # add\necho 'it''s' \"$1\"";
        QCOMPARE(tokensOf(code, CodeLanguage::shell, TokenKind::keyword), (QStringList{"export", "echo"}));
        QCOMPARE(tokensOf(code, CodeLanguage::shell, TokenKind::variable), (QStringList{"$HOME", "${PATH}"}));
        QCOMPARE(tokensOf(code, CodeLanguage::shell, TokenKind::comment), QStringList{"# add"});
        QCOMPARE(tokensOf(code, CodeLanguage::shell, TokenKind::string), (QStringList{"'it'", "'s'", "\"$1\""}));
    }

    void jsonTokens() {
        const QString code = "{\"name\": \"bonsai\", \"size\": -1.5e3, \"ok\": true}";
        QCOMPARE(tokensOf(code, CodeLanguage::json, TokenKind::key), (QStringList{"\"name\"", "\"size\"", "\"ok\""}));
        QCOMPARE(tokensOf(code, CodeLanguage::json, TokenKind::string), QStringList{"\"bonsai\""});
        QCOMPARE(tokensOf(code, CodeLanguage::json, TokenKind::number), QStringList{"-1.5e3"});
        QCOMPARE(tokensOf(code, CodeLanguage::json, TokenKind::literal), QStringList{"true"});
    }

    void htmlIsEscapedAndColoured() {
        const HighlightPalette p = HighlightPalette::light();
        const QString html = highlightToHtml("if (a < b && c > d) return \"<x>\";", CodeLanguage::cpp, p);
        QVERIFY(html.startsWith("<pre"));
        QVERIFY(!html.contains("<x>"));
        QVERIFY(html.contains("&lt;x&gt;"));
        QVERIFY(html.contains("a &lt; b &amp;&amp; c &gt; d"));
        QVERIFY(html.contains(QStringLiteral("<span style=\"color:%1\">if</span>").arg(p.keyword)));
        // Plain code gets no spans at all.
        QVERIFY(!highlightToHtml("int x;", CodeLanguage::plain, p).contains("<span"));
    }

    void markdownSplitsProseAndCode() {
        const QString md = "Intro **bold**\n\n```python\nprint(1)\n```\nMiddle\n~~~~\na\n~~~\nb\n~~~~\nEnd";
        const QList<MarkdownBlock> b = splitMarkdown(md);
        QCOMPARE(b.size(), 5);
        QCOMPARE(b[0].kind, MarkdownBlock::Kind::prose);
        QCOMPARE(b[0].text, QString("Intro **bold**\n"));
        QCOMPARE(b[1].kind, MarkdownBlock::Kind::code);
        QCOMPARE(b[1].language, QString("python"));
        QCOMPARE(b[1].text, QString("print(1)"));
        QVERIFY(b[1].closed);
        QCOMPARE(b[2].text, QString("Middle"));
        // A shorter fence of the same character does not close a longer one.
        QCOMPARE(b[3].text, QString("a\n~~~\nb"));
        QCOMPARE(b[4].text, QString("End"));
    }

    void streamingFenceStaysOpen() {
        const QList<MarkdownBlock> b = splitMarkdown("Here:\n```js\nconst a = 1;\nconst b");
        QCOMPARE(b.size(), 2);
        QCOMPARE(b[1].kind, MarkdownBlock::Kind::code);
        QVERIFY(!b[1].closed);
        QCOMPARE(b[1].text, QString("const a = 1;\nconst b"));
        const QVariantList q = markdownBlocksForQml("```json\n{\"a\": 1}\n```", false);
        QCOMPARE(q.size(), 1);
        QCOMPARE(q[0].toMap().value("kind").toString(), QString("code"));
        QVERIFY(q[0].toMap().value("html").toString().contains("<span"));
    }

    void snippetsBecomeSafeHtml() {
        const QString html = snippetToHtml("a <b> [fox] & [dog]", "[", "]", "#f00");
        QCOMPARE(html, QString("a &lt;b&gt; <b><font color=\"#f00\">fox</font></b> &amp; <b><font color=\"#f00\">dog</font></b>"));
        QCOMPARE(snippetToHtml("no match [open", "[", "]", "#f00"), QString("no match [open"));
    }

    void messageModelStreams() {
        ChatMessageModel m;
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        m.append({1, "user", "hi", "", "", 0, 0, "complete", "", 0, 1});
        m.append({2, "assistant", "", "local", "tiny", 0, 0, "streaming", "", 0, 1});
        m.appendToLast("Hel");
        m.appendToLast("lo");
        QCOMPARE(changed.count(), 2);
        QCOMPARE(m.data(m.index(1), ChatMessageModel::ContentRole).toString(), QString("Hello"));
        QCOMPARE(m.rowOfId(2), 1);
        QCOMPARE(m.rowOfId(9), -1);
        m.truncate(1);
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(m.roleNames().value(ChatMessageModel::BlocksRole), QByteArray("blocks"));
    }

    void conversationListSortsPinnedFirstThenRecent() {
        ConversationListModel m;
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1000);
        m.setRows({{1, "old", false, "local", t0}, {2, "new", false, "cloud", t0.addSecs(60)}, {3, "pinned", true, "local", t0}});
        QCOMPARE(m.data(m.index(0), ConversationListModel::TitleRole).toString(), QString("pinned"));
        QCOMPARE(m.data(m.index(1), ConversationListModel::TitleRole).toString(), QString("new"));
        QCOMPARE(m.data(m.index(2), ConversationListModel::IdRole).toLongLong(), 1);
    }

    void ggufFactsOfTheFixture() {
        const InstalledModel m = readInstalledModel(QStringLiteral(BONSAI_FIXTURES_DIR "/models/qwen3-e256-F32.gguf"));
        QVERIFY2(m.error.isEmpty(), qPrintable(m.error));
        // Values from the fixture README: n_embd 256, 2 layers, 4 heads, 2 kv heads, head_dim 64, F32.
        QCOMPARE(m.architecture, QString("qwen3"));
        QCOMPARE(m.tensorType, QString("F32"));
        QCOMPARE(m.shape.layers, 2);
        QCOMPARE(m.shape.kvHeads, 2);
        QCOMPARE(m.shape.headDim, 64);
        QCOMPARE(m.sizeBytes, 8426912);
        const InstalledModel bad = readInstalledModel(QStringLiteral(BONSAI_SOURCE_DIR "/README.md"));
        QVERIFY(!bad.error.isEmpty());
    }

    void memoryEstimateMatchesTheFormula() {
        // Bonsai-8B at 4096 tokens: 36 layers, 8 kv heads, head_dim 128, f16 K and V.
        const qint64 file = 1151820864;
        const double kv = 2.0 * 36 * 4096 * 8 * 128 * 2;  // 603,979,776 bytes
        QCOMPARE(estimateMemoryBytes(file, {36, 8, 128, 65536}, 4096), qint64((file + kv) * 1.1));
        QCOMPARE(estimateMemoryBytes(file, {0, 8, 128, 0}, 4096), 0);
        QCOMPARE(formatBytes(1536), QString("1.50 KiB"));
    }

    void personalContextAddSearchImportDelete() {
        QTemporaryDir dir;
        bonsai::storage::Database db(dir.filePath("p.sqlite3").toStdString());
        ContextController c(db);
        QCOMPARE(c.items().size(), 0);
        const qint64 fact = c.add("fact", "Home", "I live in Lyon and cycle to work.");
        QVERIFY(fact > 0);
        QCOMPARE(c.add("note", "", "   "), 0);  // empty text refused
        QFile txt(dir.filePath("notes.md"));
        QVERIFY(txt.open(QIODevice::WriteOnly));
        txt.write("# Garden\nThe tomatoes need water every evening.\n");
        txt.close();
        const qint64 doc = c.importFile(QUrl::fromLocalFile(txt.fileName()).toString());
        QVERIFY(doc > 0);
        QCOMPARE(c.items().size(), 2);
        QCOMPARE(c.importFile(dir.filePath("missing.pdf")), 0);
        QVERIFY(!c.status().isEmpty());
        QCOMPARE(c.importFile(dir.filePath("letter.docx")), 0);
        QVERIFY(c.status().contains(".pdf"));
        c.search("tomatoes");
        QCOMPARE(c.results().size(), 1);
        QCOMPARE(c.results()[0].toMap()["id"].toLongLong(), doc);
        QVERIFY(c.results()[0].toMap()["snippet"].toString().contains(">tomatoes</font></b>"));
        QVERIFY(c.remove(doc));
        QCOMPARE(c.items().size(), 1);
        QCOMPARE(c.items()[0].toMap()["kind"].toString(), QString("fact"));
    }

    void catalogJudgesWhatFits() {
        QFile f(QStringLiteral(BONSAI_SOURCE_DIR "/resources/catalog/models.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray json = f.readAll();
        QString err;
        const qint64 gib = 1024LL * 1024 * 1024;
        const QVariantList small = ModelsController::parseCatalog(json, 2 * gib, 4096, &err);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        QVERIFY(small.size() >= 8);
        QVariantMap b8, b17;
        for (const QVariant& v : small) {
            const QVariantMap m = v.toMap();
            if (m["file"] == "Bonsai-8B-Q1_0.gguf") b8 = m;
            if (m["file"] == "Bonsai-1.7B-Q1_0.gguf") b17 = m;
        }
        QCOMPARE(b8.value("source").toString(), QString("prism-ml/Bonsai-8B-gguf/Bonsai-8B-Q1_0.gguf"));
        // 8B needs ~1.9 GB at 4096 tokens: not within 75 % of 2 GiB; 1.7B (~0.76 GB) is.
        QCOMPARE(b8.value("canRun").toString(), QString("no"));
        QCOMPARE(b17.value("canRun").toString(), QString("yes"));
        const QVariantList big = ModelsController::parseCatalog(json, 64 * gib, 4096, &err);
        for (const QVariant& v : big)
            if (v.toMap()["file"] == "Bonsai-8B-Q1_0.gguf") QCOMPARE(v.toMap()["canRun"].toString(), QString("yes"));
        QVERIFY(ModelsController::parseCatalog("{\"format\":\"other\"}", gib, 4096, &err).isEmpty());
        QVERIFY(!err.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestUiViewModels)
#include "test_ui_view_models.moc"
