// The generated Unicode category table (engine/tokenizer/unicode_tables.cpp, from Python's unicodedata)
// against Qt's independent Unicode data, and the strict UTF-8 decoder against Qt's decoder.
#include <QRandomGenerator>
#include <QtTest>

#include "bonsai/tokenizer.h"
#include "tokenizer/unicode.h"

using namespace bonsai::tok;

class TestTokenizerUnicode : public QObject {
    Q_OBJECT

private slots:
    void categoriesMatchQt() {
        // Qt 6.4 and Python 3.11 may use different Unicode versions: compare only code points both assign
        // (Qt reports unassigned ones as Other_NotAssigned, ours have no flags) and allow a handful of
        // version differences, listing them.
        int compared = 0, mismatches = 0;
        for (char32_t cp = 0; cp < 0x110000; ++cp) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            const QChar::Category qc = QChar::category(cp);
            if (qc == QChar::Other_NotAssigned) continue;
            const uint8_t f = category_flags(cp);
            const bool letter = qc >= QChar::Letter_Uppercase && qc <= QChar::Letter_Other;
            const bool number = qc >= QChar::Number_DecimalDigit && qc <= QChar::Number_Other;
            const bool punct = qc >= QChar::Punctuation_Connector && qc <= QChar::Punctuation_Other;
            ++compared;
            if (letter != ((f & kLetter) != 0) || number != ((f & kNumber) != 0) || punct != ((f & kPunct) != 0)) {
                if (++mismatches <= 20) qWarning("U+%04X: Qt category %d, our flags %d", unsigned(cp), int(qc), int(f));
            }
        }
        qInfo("compared %d assigned code points, %d differ", compared, mismatches);
        QVERIFY(compared > 100000);
        QVERIFY(mismatches <= 50);
    }

    void whiteSpaceIsUnicodeWhiteSpace() {
        // \s in the HF regexes = the White_Space property. Qt's QChar::isSpace is exactly that set
        // (it also excludes U+001C..U+001F, unlike Python's str.isspace).
        for (char32_t cp = 0; cp < 0x110000; ++cp) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            const bool ours = (category_flags(cp) & kSpace) != 0;
            if (ours != QChar::isSpace(cp)) QFAIL(qPrintable(QStringLiteral("U+%1").arg(unsigned(cp), 4, 16)));
        }
    }

    void maximalSubpartReplacement() {
        // The Unicode Standard's example (chapter 3, "U+FFFD Substitution of Maximal Subparts"):
        // <61 F1 80 80 E1 80 C2 62 80 63 80 BF 64> -> <0061 FFFD FFFD FFFD 0062 FFFD 0063 FFFD FFFD 0064>.
        const std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
        const std::string r = "\xEF\xBF\xBD";
        QCOMPARE(bonsai::sanitize_utf8(in), "a" + r + r + r + "b" + r + "c" + r + r + "d");
        // Overlong, surrogate and beyond-U+10FFFF forms are ill-formed.
        QCOMPARE(bonsai::sanitize_utf8("\xC0\xAF"), r + r);
        QCOMPARE(bonsai::sanitize_utf8("\xED\xA0\x80"), r + r + r);
        QCOMPARE(bonsai::sanitize_utf8("\xF4\x90\x80\x80"), r + r + r + r);
        QCOMPARE(bonsai::sanitize_utf8("\xF0\x9F\xA6"), r);
        QCOMPARE(bonsai::sanitize_utf8("\xF0\x9F\xA6\x99"), std::string("\xF0\x9F\xA6\x99"));
    }

    void decoderAgreesWithQt() {
        // Random byte strings: our units must give the same characters as Qt's decoder. Qt replaces
        // ill-formed input per byte rather than per maximal subpart, so replacement characters are
        // compared by position only after removing them.
        QRandomGenerator rng(99);
        for (int i = 0; i < 5000; ++i) {
            std::string s;
            const int n = static_cast<int>(rng.bounded(16));
            for (int k = 0; k < n; ++k) {
                // Bias towards bytes that form or almost form multi-byte sequences.
                const quint32 r = rng.bounded(4);
                s += static_cast<char>(r == 0 ? rng.bounded(0x80) : r == 1 ? 0x80 + rng.bounded(0x40) : 0xC0 + rng.bounded(0x40));
            }
            QString ours;
            for (const CodeUnit& u : decode_units(s)) {
                if (u.cp == kInvalidCodePoint) {
                    ours += QChar(0xFFFD);
                } else {
                    const char32_t c = u.cp;
                    ours += QString::fromUcs4(&c, 1);
                }
            }
            QString qt = QString::fromUtf8(QByteArray::fromStdString(s));
            QCOMPARE(QString::fromStdString(bonsai::sanitize_utf8(s)), ours);
            ours.remove(QChar(0xFFFD));
            qt.remove(QChar(0xFFFD));
            if (ours != qt) {
                QFAIL(qPrintable(QStringLiteral("bytes %1: ours %2 Qt %3")
                                     .arg(QString::fromLatin1(QByteArray::fromStdString(s).toHex()))
                                     .arg(QString::fromLatin1(ours.toUtf8().toHex()))
                                     .arg(QString::fromLatin1(qt.toUtf8().toHex()))));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestTokenizerUnicode)
#include "test_tokenizer_unicode.moc"
