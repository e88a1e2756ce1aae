// The personal context store: chunking rules, BM25 retrieval with snippets, cosine and hybrid (RRF) ranking
// with a deterministic toy embedding checked against naive float64 math, local_only, tags, removal.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>

#include "bonsai/storage/chunking.h"
#include "bonsai/storage/context_store.h"
#include "bonsai/storage/database.h"
#include "bonsai/storage/error.h"

using namespace bonsai::storage;

namespace {

// Toy embedding: 6 dimensions. Words of a concept group share a dimension (so "automobile" is near
// "car" without sharing the word); every other word adds to dimension 5.
std::vector<float> toy_embed(std::string_view text) {
    static const std::map<std::string, int> concept_of = {
        {"car", 0}, {"automobile", 0}, {"vehicle", 0}, {"tires", 0},
        {"dog", 1}, {"puppy", 1}, {"canine", 1},
        {"recipe", 2}, {"kitchen", 2}, {"cooking", 2}, {"oven", 2},
        {"piano", 3}, {"music", 3},
        {"tax", 4}, {"invoice", 4}};
    std::vector<float> v(6, 0.0f);
    std::string word;
    auto flush = [&] {
        if (word.empty()) return;
        auto it = concept_of.find(word);
        v[it == concept_of.end() ? 5 : static_cast<size_t>(it->second)] += 1.0f;
        word.clear();
    };
    for (char ch : text) {
        if (std::isalpha(static_cast<unsigned char>(ch)))
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        else
            flush();
    }
    flush();
    return v;
}

double naive_cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0, x = 0, y = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d += double(a[i]) * b[i];
        x += double(a[i]) * a[i];
        y += double(b[i]) * b[i];
    }
    return (x == 0 || y == 0) ? 0 : d / std::sqrt(x * y);
}

bool valid_utf8_start(const std::string& s) { return s.empty() || (static_cast<unsigned char>(s[0]) & 0xC0) != 0x80; }

}  // namespace

class TestStorageContext : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int n_ = 0;
    std::string fresh() { return dir_.filePath(QStringLiteral("c%1.sqlite3").arg(++n_)).toStdString(); }

private slots:
    void shortTextIsOneChunk() {
        auto chunks = split_into_chunks("  A short note.  ");
        QCOMPARE(chunks.size(), size_t(1));
        QCOMPARE(QString::fromStdString(chunks[0].text), QStringLiteral("A short note."));
        QCOMPARE(chunks[0].offset, size_t(2));
        QVERIFY(split_into_chunks(" \n\n\t ").empty());
        QVERIFY(split_into_chunks("").empty());
    }

    void chunksFollowSentencesAndOverlap() {
        // 60 sentences of about 40 bytes, in paragraphs of 6 sentences.
        std::string text;
        std::vector<std::string> sentences;
        for (int i = 0; i < 60; ++i) {
            std::string s = "Sentence " + std::to_string(i) + " talks about topic " + std::to_string(i * 7) + ".";
            sentences.push_back(s);
            text += s + (i % 6 == 5 ? "\n\n" : " ");
        }
        auto chunks = split_into_chunks(text);
        QVERIFY(chunks.size() >= 3);
        for (size_t k = 0; k < chunks.size(); ++k) {
            const auto& c = chunks[k];
            QVERIFY(c.text.size() <= 800);
            QCOMPARE(QString::fromStdString(text.substr(c.offset, c.text.size())), QString::fromStdString(c.text));
            QVERIFY2(c.text.rfind("Sentence ", 0) == 0, c.text.c_str());  // starts at a sentence start
            QVERIFY(c.text.back() == '.');                                // ends at a sentence end
            if (k > 0) {
                size_t prev_end = chunks[k - 1].offset + chunks[k - 1].text.size();
                QVERIFY2(c.offset < prev_end, "consecutive chunks overlap");
                QVERIFY(prev_end - c.offset <= 150);
                QVERIFY(c.offset > chunks[k - 1].offset);
            }
        }
        for (const auto& s : sentences) {  // every sentence is whole in some chunk
            bool found = false;
            for (const auto& c : chunks) found |= c.text.find(s) != std::string::npos;
            QVERIFY2(found, s.c_str());
        }
    }

    void chunksPreferParagraphBreaks() {
        std::string p1, p2;
        while (p1.size() < 500) p1 += "Alpha beta gamma delta. ";
        while (p2.size() < 500) p2 += "Epsilon zeta eta theta. ";
        p1.pop_back();
        p2.pop_back();
        auto chunks = split_into_chunks(p1 + "\n\n" + p2, {800, 0});
        QCOMPARE(chunks.size(), size_t(2));
        QCOMPARE(QString::fromStdString(chunks[0].text), QString::fromStdString(p1));
        QCOMPARE(QString::fromStdString(chunks[1].text), QString::fromStdString(p2));
    }

    void overlongWordIsCutOnUtf8Boundaries() {
        std::string word;
        for (int i = 0; i < 1500; ++i) word += "\xC3\xA9";  // é, 3000 bytes, no space
        auto chunks = split_into_chunks(word, {800, 100});
        QVERIFY(chunks.size() >= 4);
        size_t covered = 0;
        for (const auto& c : chunks) {
            QVERIFY(c.text.size() <= 800);
            QVERIFY(c.text.size() % 2 == 0);
            QVERIFY(valid_utf8_start(c.text));
            covered = std::max(covered, c.offset + c.text.size());
        }
        QCOMPARE(covered, word.size());
    }

    void bm25SearchWithSnippetsAndRemoval() {
        Database db(fresh());
        ContextStore store(db);
        int64_t boots = store.add({ContextKind::fact, "Boots", "My hiking boots are size 43 and waterproof.", "", {"outdoor"}});
        int64_t trip = store.add({ContextKind::note, "Trip", "Next hiking trip: Pyrenees in June. Bring boots, boots, "
                                                              "boots, and more boots.", "", {"outdoor", "travel"}});
        store.add({ContextKind::note, "Piano", "Practice piano scales every morning.", "", {}});
        std::string doc;
        for (int i = 0; i < 40; ++i) doc += "Paragraph " + std::to_string(i) + " of the tax manual explains deductions.\n\n";
        int64_t manual = store.add({ContextKind::document, "Tax manual", doc, "/home/me/tax.txt", {"money"}});

        auto hits = store.search("boots");
        QCOMPARE(hits.size(), size_t(2));
        QCOMPARE(hits[0].item_id, trip);   // four mentions beat one
        QCOMPARE(hits[1].item_id, boots);
        QVERIFY(hits[0].bm25.has_value() && *hits[0].bm25 < *hits[1].bm25);
        QVERIFY2(QString::fromStdString(hits[1].snippet).contains(QStringLiteral("[boots]")), hits[1].snippet.c_str());
        QCOMPARE(hits[0].bm25_rank, 1);
        // Any word may match: a question finds the fact.
        auto q = store.search("what size are my boots");
        QVERIFY(!q.empty());
        QCOMPARE(q[0].item_id, boots);  // "size" only occurs there

        auto item = store.get(manual);
        QVERIFY(item.has_value());
        QVERIFY(item->chunk_count > 1);
        QCOMPARE(static_cast<size_t>(item->chunk_count), store.chunks(manual).size());
        QCOMPARE(QString::fromStdString(item->source), QStringLiteral("/home/me/tax.txt"));
        auto dh = store.search("paragraph 37");
        QVERIFY(!dh.empty());
        QCOMPARE(dh[0].item_id, manual);
        QVERIFY(dh[0].chunk_text.find("Paragraph 37 ") != std::string::npos);

        QCOMPARE(store.list().size(), size_t(4));
        QCOMPARE(store.list(ContextKind::note).size(), size_t(2));
        QCOMPARE(store.list(std::nullopt, "outdoor").size(), size_t(2));
        QCOMPARE(store.list(std::nullopt, "travel")[0].id, trip);
        QVERIFY(store.remove(trip));
        QVERIFY(!store.remove(trip));
        QCOMPARE(store.search("boots").size(), size_t(1));
        QVERIFY(store.remove(manual));
        QVERIFY(store.search("deductions").empty());
        db.exec("INSERT INTO context_chunks_fts(context_chunks_fts) VALUES ('integrity-check')");
        QVERIFY_THROWS_EXCEPTION(Error, store.add({ContextKind::note, "", "text", "", {}}));
        QVERIFY_THROWS_EXCEPTION(Error, store.add({ContextKind::note, "t", "  ", "", {}}));
        QVERIFY_THROWS_EXCEPTION(Error, store.search("boots", {8, RankMode::vector}));  // no embedding function
    }

    void cosineRankingMatchesNaiveMath() {
        Database db(fresh());
        ContextStore store(db, toy_embed);
        std::vector<std::string> texts = {"The automobile needs new tires", "A puppy is a young dog",
                                          "Oven recipe for bread in the kitchen", "Piano music tonight",
                                          "Car and dog trip with the vehicle"};
        for (size_t i = 0; i < texts.size(); ++i)
            store.add({ContextKind::note, "n" + std::to_string(i), texts[i], "", {}});
        for (const auto& it : store.list()) {
            auto ch = store.chunks(it.id);
            QCOMPARE(ch.size(), size_t(1));
            QCOMPARE(ch[0].embedding, toy_embed(ch[0].text));  // stored as given
        }
        const std::string query = "vehicle tires";
        auto hits = store.search(query, {10, RankMode::vector});
        QCOMPARE(hits.size(), texts.size());
        // Expected order by naive float64 cosine.
        std::vector<std::pair<double, std::string>> expect;
        for (const auto& t : texts) expect.push_back({naive_cosine(toy_embed(query), toy_embed(t)), t});
        std::stable_sort(expect.begin(), expect.end(), [](auto& a, auto& b) { return a.first > b.first; });
        for (size_t i = 0; i < hits.size(); ++i) {
            QVERIFY(hits[i].cosine.has_value());
            QVERIFY(std::abs(*hits[i].cosine - expect[i].first) < 1e-9);
            QCOMPARE(hits[i].vector_rank, int(i) + 1);
        }
        QCOMPARE(QString::fromStdString(hits[0].chunk_text), QStringLiteral("The automobile needs new tires"));
    }

    void hybridFusesBothRankings() {
        Database db(fresh());
        ContextStore store(db, toy_embed);
        // both: the word and the concept; keyword: the word in an unrelated text; concept: no shared word.
        int64_t both = store.add({ContextKind::note, "Both", "Car service: check the car tires.", "", {}});
        int64_t keyword = store.add({ContextKind::note, "Keyword", "Cooking recipe: the kitchen oven, not a car, "
                                                                   "bakes bread in the kitchen.", "", {}});
        int64_t concept_only = store.add({ContextKind::note, "Concept", "Automobile vehicle tires.", "", {}});
        store.add({ContextKind::note, "Noise", "Piano music and a dog.", "", {}});

        auto bm = store.search("car", {10, RankMode::bm25});
        QCOMPARE(bm.size(), size_t(2));  // the concept-only note has no "car"
        auto hy = store.search("car", {3});  // automatic = hybrid with an embedding function
        QCOMPARE(hy.size(), size_t(3));
        QCOMPARE(hy[0].item_id, both);   // first in both lists
        std::vector<int64_t> rest = {hy[1].item_id, hy[2].item_id};
        QVERIFY(std::find(rest.begin(), rest.end(), keyword) != rest.end());
        QVERIFY(std::find(rest.begin(), rest.end(), concept_only) != rest.end());
        for (const auto& h : hy) {
            double expect = (h.bm25_rank ? 1.0 / (60 + h.bm25_rank) : 0) + (h.vector_rank ? 1.0 / (60 + h.vector_rank) : 0);
            QVERIFY(std::abs(h.score - expect) < 1e-12);
            QVERIFY(h.vector_rank > 0);
            QVERIFY(h.cosine.has_value());
            QVERIFY(std::abs(*h.cosine - naive_cosine(toy_embed("car"), toy_embed(h.chunk_text))) < 1e-9);
        }
        // By hand: cos(car, both) = 3/sqrt(18) ~ 0.71 < cos(car, concept) = 1, so "both" is second by vector
        // and first by BM25 (two "car" in a short text); 1/61 + 1/62 still beats the concept's 1/61 alone.
        QCOMPARE(hy[0].bm25_rank, 1);
        QCOMPARE(hy[0].vector_rank, 2);
        for (const auto& h : hy)
            if (h.item_id == concept_only) QVERIFY(h.vector_rank == 1 && h.bm25_rank == 0 && !h.bm25.has_value());
    }

    void embedMissingFillsVectorsLater() {
        const std::string path = fresh();
        Database db(path);
        {
            ContextStore plain(db);
            plain.add({ContextKind::note, "a", "dog and puppy", "", {}});
            plain.add({ContextKind::note, "b", "tax invoice", "", {}});
            QVERIFY(plain.chunks(plain.list()[0].id)[0].embedding.empty());
        }
        ContextStore store(db, toy_embed);
        QCOMPARE(store.embed_missing(), 2);
        QCOMPARE(store.embed_missing(), 0);
        auto hits = store.search("canine", {1, RankMode::vector});
        QCOMPARE(QString::fromStdString(hits[0].title), QStringLiteral("a"));
        ContextStore bad(db, [](std::string_view) { return std::vector<float>{}; });
        QVERIFY_THROWS_EXCEPTION(Error, bad.add({ContextKind::note, "x", "y", "", {}}));
        QCOMPARE(store.list().size(), size_t(2));  // the failed add wrote nothing
    }

    void everyItemIsLocalOnly() {
        Database db(fresh());
        ContextStore store(db, toy_embed);
        int64_t id = store.add({ContextKind::fact, "Secret", "My passport number is in the drawer.", "", {}});
        QVERIFY(store.get(id)->local_only);
        for (const auto& it : store.list()) QVERIFY(it.local_only);
        for (auto mode : {RankMode::bm25, RankMode::vector, RankMode::hybrid})
            for (const auto& h : store.search("passport drawer", {5, mode})) QVERIFY(h.local_only);
        // The schema itself refuses an item that is not local-only.
        QVERIFY_THROWS_EXCEPTION(Error, db.exec("UPDATE context_items SET local_only = 0"));
        QVERIFY_THROWS_EXCEPTION(Error, db.exec("INSERT INTO context_items(kind, title, text, created_at, updated_at, "
                                                "local_only) VALUES ('note', 't', 'x', 0, 0, 0)"));
        QVERIFY(store.get(id)->local_only);
    }
};

QTEST_GUILESS_MAIN(TestStorageContext)
#include "test_storage_context.moc"
