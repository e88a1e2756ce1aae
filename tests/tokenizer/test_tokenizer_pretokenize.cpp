// Pre-tokenizer scanners against reference splits computed with Python's third-party `regex` module
// from the original regexes (data/pretokenize_cases.json, made by gen_pretokenize_cases.py): the 46
// llama.cpp test texts and 700 random Unicode-heavy strings, for default / gpt-2 / qwen2 / llama3.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "test_paths.h"
#include "tokenizer/pretokenize.h"

using bonsai::Tokenizer;

class TestTokenizerPretokenize : public QObject {
    Q_OBJECT

private slots:
    void matchesRegexReference() {
        QFile f(QString::fromStdString(bonsai::test::source("tests/tokenizer/data/pretokenize_cases.json")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonArray cases = QJsonDocument::fromJson(f.readAll()).object().value("cases").toArray();
        QVERIFY(cases.size() > 2000);
        int failures = 0;
        for (const QJsonValue& v : cases) {
            const QJsonObject c = v.toObject();
            const QString pre = c.value("pre").toString();
            const std::string text = c.value("text").toString().toStdString();
            Tokenizer::PreTokenizer kind = Tokenizer::PreTokenizer::Default;
            if (pre == "gpt2") kind = Tokenizer::PreTokenizer::Gpt2;
            if (pre == "qwen2") kind = Tokenizer::PreTokenizer::Qwen2;
            if (pre == "llama3") kind = Tokenizer::PreTokenizer::Llama3;
            std::vector<uint32_t> expected;
            for (const QJsonValue& e : c.value("ends").toArray()) expected.push_back(static_cast<uint32_t>(e.toInt()));
            std::vector<uint32_t> got;
            uint32_t prev = 0;
            for (const auto& s : bonsai::tok::pretokenize(kind, text)) {
                QCOMPARE(s.begin, prev);  // pieces are contiguous and non-empty
                QVERIFY(s.end > s.begin);
                got.push_back(s.end);
                prev = s.end;
            }
            if (got != expected && ++failures <= 10) {
                QStringList g, e;
                for (auto x : got) g << QString::number(x);
                for (auto x : expected) e << QString::number(x);
                qWarning("%s '%s'\n  got      %s\n  expected %s", qPrintable(pre), text.c_str(), qPrintable(g.join(',')),
                         qPrintable(e.join(',')));
            }
        }
        QCOMPARE(failures, 0);
    }
};

QTEST_GUILESS_MAIN(TestTokenizerPretokenize)
#include "test_tokenizer_pretokenize.moc"
