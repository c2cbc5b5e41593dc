// BatchBuilder: turns a TokenizedDataset into TrainBatch micro-batches, deterministically.
//
// Records are taken in an order fixed by (seed, epoch): a seeded shuffle per epoch, or
// file order. Each record is truncated to seqLen tokens, or (splitLong) cut into pieces of
// seqLen tokens that are used as records of their own (long plain-text documents). With packing, records are
// placed one after another in a row while they fit (greedy, no look-ahead, so the
// cursor alone says where the stream is); without, one record per row. The rest of a
// row is padding. Each record is its own segment (positions restart at 0); padding is
// a segment of its own. Target at t is the token at t+1 when t+1 is in the same segment
// and its loss-mask bit is 1, else kIgnoreIndex: nothing is learned across a boundary,
// from padding, or on prompt tokens. Records with no target after truncation are
// skipped (they would cost compute and teach nothing).
//
// The DataCursor (epoch, position in that epoch's order) is the whole state: saving it
// and restoring it into a builder over the same data and options reproduces the batches.
#pragma once

#include "data/TokenizedDataset.h"
#include "train/TrainBatch.h"

#include <cstdint>
#include <vector>

namespace lathe {

struct DataCursor
{
    int64_t epoch = 0;
    int64_t position = 0; // records of this epoch's order already consumed
    bool operator==(const DataCursor &) const = default;
};

struct BatchOptions
{
    int64_t rows = 1;      // micro-batch rows B
    int64_t seqLen = 128;  // T
    bool packing = true;
    bool shuffle = true;   // a new seeded order every epoch; false: dataset order
    uint64_t seed = 0;
    int32_t padId = 0;     // token id placed in padding (never a target)
    bool splitLong = false; // cut records longer than seqLen into pieces instead of truncating
};

// One micro-batch and what it consumed.
struct BuiltBatch
{
    TrainBatch batch;
    int64_t tokens = 0;   // non-padding tokens
    int64_t records = 0;  // records placed
};

class BatchBuilder
{
public:
    // data must outlive the builder. Throws Error when options are out of range or no
    // record has a target within seqLen.
    BatchBuilder(const TokenizedDataset &data, const BatchOptions &options);

    // The next micro-batch of the endless stream (epochs follow one another; a row may
    // hold the end of one epoch and the start of the next). Advances the cursor.
    BuiltBatch next();

    // The next micro-batch from the current epoch only; false (and nothing consumed) once
    // the epoch is exhausted. Used for evaluation, one pass in dataset order.
    bool nextInEpoch(BuiltBatch &out);

    DataCursor cursor() const { return m_cursor; }
    // Throws Error when the cursor lies outside the data (a checkpoint for other data).
    void setCursor(const DataCursor &cursor);

    // Records (pieces, with splitLong) that take part (have a target within seqLen), and
    // the micro-batches one pass over them makes (in epoch 0's order).
    int64_t usableRecords() const { return int64_t(m_usable.size()); }
    int64_t batchesPerEpoch() const;
    // Fractional epochs consumed so far.
    double epochProgress() const;

    const BatchOptions &options() const { return m_options; }

    // Indices into the usable records (pieces) of an epoch, in the order they are consumed.
    std::vector<int64_t> epochOrder(int64_t epoch) const;

private:
    struct Piece
    {
        int64_t begin = 0; // token offset into the dataset
        int64_t length = 0; // <= seqLen
    };
    bool fill(BuiltBatch &out, bool crossEpochs);
    void placePiece(BuiltBatch &out, int64_t row, int64_t at, const Piece &piece, int32_t segment) const;
    const Piece &pieceAt(const DataCursor &c);

    const TokenizedDataset &m_data;
    BatchOptions m_options;
    std::vector<Piece> m_usable; // pieces with a target
    DataCursor m_cursor;
    int64_t m_orderEpoch = -1;
    std::vector<int64_t> m_order;
};

} // namespace lathe
