// The lathe-cli subcommands, one file each. Each takes its arguments (after the
// subcommand name) and returns the exit code: 0 success, 1 an engine error (main()
// prints "error: ..."), 2 bad arguments (UsageError).
#pragma once

#include <string>
#include <vector>

namespace lathe::cli {

using Args = std::vector<std::string>;

int runInfo(const Args &args);
int runData(const Args &args); // data inspect|validate|stats|prepare
int runInit(const Args &args);
int runGenerate(const Args &args);
int runPerplexity(const Args &args);
int runBench(const Args &args);
int runDemo(const Args &args);
int runTokenize(const Args &args);
int runTemplate(const Args &args);
// `bench tokenizer`: runBench hands its arguments after the word "tokenizer" here.
int runBenchTokenizer(const Args &args);
int runTrain(const Args &args);
int runMerge(const Args &args);
// `bench train`: runBench hands its arguments after the word "train" here.
int runBenchTrain(const Args &args);

// The store: run history, the job queue and the cost ledger (CmdRuns/CmdJobs/CmdCost.cpp).
int runRuns(const Args &args);
int runJobs(const Args &args);
int runCost(const Args &args);
// `bench store`: runBench hands its arguments after the word "store" here.
int runBenchStore(const Args &args);

} // namespace lathe::cli
