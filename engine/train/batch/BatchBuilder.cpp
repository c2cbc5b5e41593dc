// Packing records into micro-batches (see BatchBuilder.h for the rules).
#include "train/batch/BatchBuilder.h"

#include "core/Error.h"
#include "infer/Rng.h"

#include <algorithm>

namespace lathe {

BatchBuilder::BatchBuilder(const TokenizedDataset &data, const BatchOptions &options)
    : m_data(data), m_options(options)
{
    if (options.rows < 1 || options.rows > 4096)
        fail("micro_batch " + std::to_string(options.rows) + " is outside [1, 4096]");
    if (options.seqLen < 2 || options.seqLen > (1 << 20))
        fail("seq_len " + std::to_string(options.seqLen) + " is outside [2, 1048576]");
    if (options.padId < 0)
        fail("padding id " + std::to_string(options.padId) + " is negative");
    const int64_t n = data.records();
    if (n < 0 || data.offsets.empty() || data.offsets.front() != 0 ||
        data.offsets.back() != int64_t(data.tokens.size()) || data.lossMask.size() != data.tokens.size())
        fail("the tokenized dataset is inconsistent (offsets, tokens and loss mask disagree)");
    for (int64_t r = 0; r < n; ++r) {
        const int64_t len = data.recordLength(r), off = data.offsets[size_t(r)];
        if (len < 0)
            fail("record " + std::to_string(r) + " has a negative length");
        for (int64_t at = 0; at < len; at += options.seqLen) {
            const Piece p{off + at, std::min(len - at, options.seqLen)};
            bool hasTarget = false;
            for (int64_t t = 1; t < p.length && !hasTarget; ++t)
                hasTarget = data.lossMask[size_t(p.begin + t)] != 0;
            if (hasTarget)
                m_usable.push_back(p);
            if (!options.splitLong)
                break;
        }
    }
    if (m_usable.empty())
        fail("no record has a token to learn within seq_len " + std::to_string(options.seqLen) + " (" +
             std::to_string(n) + " records; check the loss mask and the sequence length)");
}

std::vector<int64_t> BatchBuilder::epochOrder(int64_t epoch) const
{
    std::vector<int64_t> order(m_usable.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = int64_t(i);
    if (!m_options.shuffle)
        return order;
    // Fisher-Yates with a generator seeded by (seed, epoch): the same order on every platform.
    Rng rng(m_options.seed * 0x9e3779b97f4a7c15ull + uint64_t(epoch) * 0xd1b54a32d192ed03ull + 0x5851f42dull);
    for (size_t i = order.size(); i > 1; --i) {
        const size_t j = size_t(rng.next() % uint64_t(i));
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

const BatchBuilder::Piece &BatchBuilder::pieceAt(const DataCursor &c)
{
    if (m_orderEpoch != c.epoch) {
        m_order = epochOrder(c.epoch);
        m_orderEpoch = c.epoch;
    }
    return m_usable[size_t(m_order[size_t(c.position)])];
}

void BatchBuilder::placePiece(BuiltBatch &out, int64_t row, int64_t at, const Piece &piece, int32_t segment) const
{
    TrainBatch &b = out.batch;
    const int64_t off = piece.begin, len = piece.length;
    const int64_t base = row * b.seqLen + at;
    for (int64_t t = 0; t < len; ++t) {
        b.tokens[size_t(base + t)] = m_data.tokens[size_t(off + t)];
        b.positions[size_t(base + t)] = int32_t(t);
        b.segments[size_t(base + t)] = segment;
        const bool learn = t + 1 < len && m_data.lossMask[size_t(off + t + 1)] != 0;
        b.targets[size_t(base + t)] = learn ? m_data.tokens[size_t(off + t + 1)] : kIgnoreIndex;
    }
    out.tokens += len;
    ++out.records;
}

bool BatchBuilder::fill(BuiltBatch &out, bool crossEpochs)
{
    const int64_t B = m_options.rows, T = m_options.seqLen, usable = int64_t(m_usable.size());
    out = BuiltBatch{};
    TrainBatch &b = out.batch;
    b.rows = B;
    b.seqLen = T;
    b.tokens.assign(size_t(B * T), m_options.padId);
    b.targets.assign(size_t(B * T), kIgnoreIndex);
    b.positions.assign(size_t(B * T), 0);
    b.segments.assign(size_t(B * T), 0);
    bool exhausted = false;
    for (int64_t row = 0; row < B; ++row) {
        int64_t at = 0;
        int32_t segment = 0;
        while (!exhausted) {
            if (m_cursor.position >= usable) {
                if (!crossEpochs) {
                    exhausted = true;
                    break;
                }
                ++m_cursor.epoch;
                m_cursor.position = 0;
            }
            const Piece &piece = pieceAt(m_cursor);
            const int64_t len = piece.length;
            if (at > 0 && (!m_options.packing || at + len > T))
                break;
            placePiece(out, row, at, piece, segment++);
            at += len;
            ++m_cursor.position;
            if (!m_options.packing || at >= T)
                break;
        }
        for (int64_t t = at; t < T; ++t) { // padding: its own segment, never a target
            b.positions[size_t(row * T + t)] = int32_t(t - at);
            b.segments[size_t(row * T + t)] = segment;
        }
    }
    return out.records > 0;
}

BuiltBatch BatchBuilder::next()
{
    BuiltBatch out;
    fill(out, true);
    return out;
}

bool BatchBuilder::nextInEpoch(BuiltBatch &out)
{
    return fill(out, false);
}

void BatchBuilder::setCursor(const DataCursor &cursor)
{
    if (cursor.epoch < 0 || cursor.position < 0 || cursor.position > int64_t(m_usable.size()))
        fail("data cursor (epoch " + std::to_string(cursor.epoch) + ", position " +
             std::to_string(cursor.position) + ") lies outside the dataset of " + std::to_string(m_usable.size()) +
             " usable records");
    m_cursor = cursor;
}

int64_t BatchBuilder::batchesPerEpoch() const
{
    BatchBuilder probe(*this);
    probe.setCursor({});
    int64_t n = 0;
    BuiltBatch b;
    while (probe.nextInEpoch(b))
        ++n;
    return n;
}

double BatchBuilder::epochProgress() const
{
    return double(m_cursor.epoch) + double(m_cursor.position) / double(m_usable.size());
}

} // namespace lathe
