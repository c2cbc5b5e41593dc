// RecordReaders: the concrete readers behind openRecordReader(). Internal to engine/data.
#pragma once

#include "data/RecordReader.h"

namespace lathe::dataimpl {

std::unique_ptr<RecordReader> makeJsonArrayReader(const std::string &path, const ReadOptions &options,
                                                  IssueList &issues);
std::unique_ptr<RecordReader> makeJsonlReader(const std::string &path, const ReadOptions &options,
                                              IssueList &issues);
std::unique_ptr<RecordReader> makeCsvReader(const std::string &path, char delimiter, const ReadOptions &options,
                                            IssueList &issues);
std::unique_ptr<RecordReader> makeTextReader(const std::string &path, const ReadOptions &options,
                                             IssueList &issues);

} // namespace lathe::dataimpl
