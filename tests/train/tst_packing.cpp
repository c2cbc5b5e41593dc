// BatchBuilder: packing, padding, truncation, loss masks and the data cursor, on small
// datasets whose batches are written out by hand, and on random ones checked rule by rule.
#include "core/Error.h"
#include "infer/Rng.h"
#include "train/batch/BatchBuilder.h"

#include <QtTest>
#include <algorithm>


using namespace lathe;

namespace {

constexpr int32_t I = kIgnoreIndex;

TokenizedDataset smallData()
{
    TokenizedDataset d;
    d.append({1, 2, 3, 4}, {0, 0, 1, 1});          // r0: prompt 1 2, completion 3 4
    d.append({5, 6, 7}, {0, 1, 1});                // r1
    d.append({8, 9}, {0, 1});                      // r2
    d.append({10}, {1});                           // r3: nothing to predict -> skipped
    d.append({11, 12, 13, 14, 15, 16}, {1, 1, 1, 1, 1, 1}); // r4
    d.append({20, 21, 22}, {1, 0, 0});             // r5: no target -> skipped
    return d;
}

TokenizedDataset randomData(uint64_t seed, int records, int maxLen)
{
    Rng rng(seed);
    TokenizedDataset d;
    for (int r = 0; r < records; ++r) {
        const int len = 1 + int(rng.next() % uint64_t(maxLen));
        const int prompt = int(rng.next() % uint64_t(len));
        std::vector<int32_t> ids;
        std::vector<uint8_t> mask;
        for (int t = 0; t < len; ++t) {
            ids.push_back(1 + int32_t(rng.next() % 500));
            mask.push_back(t >= prompt ? 1 : uint8_t(rng.next() % 4 == 0));
        }
        d.append(ids, mask);
    }
    return d;
}

// Checks every rule of BatchBuilder.h on one batch; returns the number of targets.
int64_t checkRules(const BuiltBatch &bb, const BatchOptions &o)
{
    const TrainBatch &b = bb.batch;
    if (b.rows != o.rows || b.seqLen != o.seqLen || int64_t(b.tokens.size()) != b.size() ||
        int64_t(b.targets.size()) != b.size() || int64_t(b.positions.size()) != b.size() ||
        int64_t(b.segments.size()) != b.size())
        throw Error("batch shape is wrong");
    for (int64_t r = 0; r < b.rows; ++r)
        for (int64_t t = 0; t < b.seqLen; ++t) {
            const size_t i = size_t(r * b.seqLen + t);
            const bool segStart = t == 0 || b.segments[i] != b.segments[i - 1];
            if (segStart != (b.positions[i] == 0))
                throw Error("positions must restart exactly at segment starts");
            if (!segStart && b.positions[i] != b.positions[i - 1] + 1)
                throw Error("positions must count up inside a segment");
            if (t > 0 && b.segments[i] < b.segments[i - 1])
                throw Error("segments must not decrease along a row");
            if (b.targets[i] != kIgnoreIndex) {
                if (t + 1 >= b.seqLen || b.segments[i + 1] != b.segments[i])
                    throw Error("a target crosses a segment or row end");
                if (b.targets[i] != b.tokens[i + 1])
                    throw Error("a target is not the next token");
            }
        }
    return b.targetCount();
}

} // namespace

class TestPacking : public QObject
{
    Q_OBJECT
private slots:
    void packedRowsByHand()
    {
        TokenizedDataset d = smallData();
        BatchOptions o;
        o.rows = 2;
        o.seqLen = 8;
        o.shuffle = false;
        o.padId = 0;
        BatchBuilder bb(d, o);
        QCOMPARE(bb.usableRecords(), int64_t(4)); // r3 and r5 teach nothing
        const BuiltBatch b = bb.next();
        // Row 0: r0 + r1 (7 tokens; r2 does not fit in the last slot). Row 1: r2 + r4.
        QCOMPARE(b.batch.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 0, 8, 9, 11, 12, 13, 14, 15, 16}));
        QCOMPARE(b.batch.targets, (std::vector<int32_t>{I, 3, 4, I, 6, 7, I, I, 9, I, 12, 13, 14, 15, 16, I}));
        QCOMPARE(b.batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, 0, 0, 1, 0, 1, 2, 3, 4, 5}));
        QCOMPARE(b.batch.segments, (std::vector<int32_t>{0, 0, 0, 0, 1, 1, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1}));
        QCOMPARE(b.tokens, int64_t(15));
        QCOMPARE(b.records, int64_t(4));
        QCOMPARE(bb.cursor(), (DataCursor{0, 4}));
        QCOMPARE(bb.batchesPerEpoch(), int64_t(1));
        // The stream goes on into epoch 1 (same order without shuffle).
        const BuiltBatch b2 = bb.next();
        QCOMPARE(std::vector<int32_t>(b2.batch.tokens.begin(), b2.batch.tokens.begin() + 4),
                 (std::vector<int32_t>{1, 2, 3, 4}));
        QCOMPARE(bb.cursor(), (DataCursor{1, 4}));
        QVERIFY(std::abs(bb.epochProgress() - 2.0) < 1e-12);
    }

    void oneRecordPerRowAndTruncation()
    {
        TokenizedDataset d = smallData();
        BatchOptions o;
        o.rows = 3;
        o.seqLen = 4;
        o.packing = false;
        o.shuffle = false;
        o.padId = 99;
        BatchBuilder bb(d, o);
        BuiltBatch b;
        QVERIFY(bb.nextInEpoch(b));
        QCOMPARE(b.batch.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 99, 8, 9, 99, 99}));
        QCOMPARE(b.batch.targets, (std::vector<int32_t>{I, 3, 4, I, 6, 7, I, I, 9, I, I, I}));
        QCOMPARE(b.batch.segments, (std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1}));
        QCOMPARE(b.batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, 0, 0, 1, 0, 1}));
        // r4 truncated to its first 4 tokens: the 4th predicts nothing (its successor was cut).
        QVERIFY(bb.nextInEpoch(b));
        QCOMPARE(std::vector<int32_t>(b.batch.tokens.begin(), b.batch.tokens.begin() + 4),
                 (std::vector<int32_t>{11, 12, 13, 14}));
        QCOMPARE(std::vector<int32_t>(b.batch.targets.begin(), b.batch.targets.begin() + 4),
                 (std::vector<int32_t>{12, 13, 14, I}));
        QCOMPARE(b.records, int64_t(1)); // the epoch ends: the other rows are padding
        QCOMPARE(b.batch.targetCount(), int64_t(3));
        QVERIFY(!bb.nextInEpoch(b));
        QCOMPARE(bb.batchesPerEpoch(), int64_t(2));
    }

    void longRecordsSplit()
    {
        // A 10-token record with seq_len 4: truncated, only its first 4 tokens take part;
        // split, it becomes pieces [0, 4), [4, 8), [8, 10), each its own segment.
        TokenizedDataset d;
        d.append({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, std::vector<uint8_t>(10, 1));
        BatchOptions o;
        o.rows = 3;
        o.seqLen = 4;
        o.packing = false;
        o.shuffle = false;
        o.padId = 0;
        BuiltBatch b;
        BatchBuilder truncated(d, o);
        QCOMPARE(truncated.usableRecords(), int64_t(1));
        o.splitLong = true;
        BatchBuilder split(d, o);
        QCOMPARE(split.usableRecords(), int64_t(3));
        QVERIFY(split.nextInEpoch(b));
        QCOMPARE(b.batch.tokens, (std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0}));
        QCOMPARE(b.batch.targets, (std::vector<int32_t>{2, 3, 4, I, 6, 7, 8, I, 10, I, I, I}));
        QCOMPARE(b.batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 0, 1}));
        QCOMPARE(b.tokens, int64_t(10));
        QVERIFY(!split.nextInEpoch(b));
        // Packed with seq_len 6, the 4-token tail piece is padded: the next piece does not fit.
        o.packing = true;
        o.rows = 1;
        o.seqLen = 6;
        BatchBuilder packed(d, o); // pieces [0, 6), [6, 10)
        packed.next();
        const BuiltBatch p = packed.next();
        QCOMPARE(p.batch.tokens, (std::vector<int32_t>{7, 8, 9, 10, 0, 0}));
        QCOMPARE(p.batch.segments, (std::vector<int32_t>{0, 0, 0, 0, 1, 1}));
    }

    void randomDataFollowsTheRules()
    {
        for (bool packing : {true, false}) {
            TokenizedDataset d = randomData(7, 200, 40);
            BatchOptions o;
            o.rows = 3;
            o.seqLen = 32;
            o.packing = packing;
            o.seed = 11;
            BatchBuilder bb(d, o);
            // Every target of one epoch, counted from the records, must appear in the batches.
            int64_t expected = 0;
            for (int64_t r = 0; r < d.records(); ++r) {
                const int64_t len = std::min<int64_t>(d.recordLength(r), o.seqLen);
                for (int64_t t = 1; t < len; ++t)
                    expected += d.lossMask[size_t(d.offsets[size_t(r)] + t)];
            }
            int64_t seen = 0;
            BuiltBatch b;
            while (bb.nextInEpoch(b))
                seen += checkRules(b, o);
            QCOMPARE(seen, expected);
            // Targets honour the mask: a record whose mask is all zero after t=0 has none.
            TokenizedDataset masked;
            masked.append({1, 2, 3}, {1, 0, 0});
            masked.append({4, 5, 6}, {0, 0, 1});
            BatchBuilder mb(masked, o);
            QCOMPARE(mb.usableRecords(), int64_t(1));
            const BuiltBatch m = mb.next();
            QCOMPARE(m.batch.targets[1], 6);
            QCOMPARE(m.batch.targets[0], I);
        }
    }

    void shuffleIsASeededPermutation()
    {
        TokenizedDataset d = randomData(3, 50, 10);
        BatchOptions o;
        o.seqLen = 16;
        o.seed = 5;
        BatchBuilder a(d, o), b(d, o);
        const std::vector<int64_t> e0 = a.epochOrder(0), e1 = a.epochOrder(1);
        QCOMPARE(e0, b.epochOrder(0));
        QVERIFY(e0 != e1);
        std::vector<int64_t> sorted = e0;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(sorted.size(), size_t(a.usableRecords()));
        QVERIFY(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
        o.seed = 6;
        BatchBuilder c(d, o);
        QVERIFY(c.epochOrder(0) != e0);
    }

    void cursorRestoreReproducesBatches()
    {
        TokenizedDataset d = randomData(9, 37, 30);
        BatchOptions o;
        o.rows = 2;
        o.seqLen = 24;
        o.seed = 42;
        BatchBuilder a(d, o);
        for (int i = 0; i < 13; ++i)
            a.next();
        const DataCursor saved = a.cursor();
        std::vector<TrainBatch> expected;
        for (int i = 0; i < 40; ++i) // crosses several epoch boundaries
            expected.push_back(a.next().batch);
        QVERIFY(a.cursor().epoch > saved.epoch);

        BatchBuilder b(d, o);
        b.setCursor(saved);
        for (int i = 0; i < 40; ++i) {
            const TrainBatch got = b.next().batch;
            QCOMPARE(got.tokens, expected[size_t(i)].tokens);
            QCOMPARE(got.targets, expected[size_t(i)].targets);
            QCOMPARE(got.positions, expected[size_t(i)].positions);
            QCOMPARE(got.segments, expected[size_t(i)].segments);
        }
        QCOMPARE(b.cursor(), a.cursor());
        // A cursor from other data is refused.
        QVERIFY_THROWS_EXCEPTION(Error, b.setCursor(DataCursor{0, 1000}));
        QVERIFY_THROWS_EXCEPTION(Error, b.setCursor(DataCursor{-1, 0}));
    }

    void badInputRefused()
    {
        TokenizedDataset d = smallData();
        BatchOptions o;
        o.seqLen = 1;
        QVERIFY_THROWS_EXCEPTION(Error, BatchBuilder(d, o));
        o.seqLen = 8;
        o.rows = 0;
        QVERIFY_THROWS_EXCEPTION(Error, BatchBuilder(d, o));
        TokenizedDataset nothing;
        nothing.append({1}, {1});
        o.rows = 1;
        QVERIFY_THROWS_EXCEPTION(Error, BatchBuilder(nothing, o));
        TokenizedDataset broken = smallData();
        broken.lossMask.pop_back();
        QVERIFY_THROWS_EXCEPTION(Error, BatchBuilder(broken, o));
    }
};

QTEST_GUILESS_MAIN(TestPacking)
#include "tst_packing.moc"
