// FormatDetect: guesses a dataset's layout from a sample of its records, with a
// confidence (the share of sampled records that have the layout's fields) and a reason
// a user can check ("999 of 999 sampled records have instruction and output").
#pragma once

#include "data/DatasetFormat.h"
#include "data/RecordReader.h"

#include <map>
#include <string>
#include <vector>

namespace lathe {

struct FormatGuess
{
    DatasetFormat format;    // format "" when nothing matched
    double confidence = 0.0; // 0..1
    int64_t matched = 0;
    int64_t sampled = 0;
    std::string reason;
    // Every layout tried, best first: ("sharegpt", 1.0), ("alpaca", 0.0), ...
    std::vector<std::pair<std::string, double>> scores;
};

// Detects the layout of sample (records of a file read by a reader of readerKind).
// `format` is "auto" or a format name the user chose: then only its styles are
// considered and the confidence says how well the data fits that choice.
// fieldMap (the user's) is applied before matching.
FormatGuess detectFormat(const std::vector<RawRecord> &sample, const std::string &readerKind,
                         const std::string &format, const std::map<std::string, std::string> &fieldMap);

} // namespace lathe
