// lathe-cli cost report|card|compare|profiles|profile|budget|power: the cost ledger.
// report: monthly spend, the trend forecast, the budgets and the latest runs' costs; card: one run's cost with
// what-if estimates on the other profiles; compare: a before/after table of two runs as
// Markdown or CSV; profiles/profile: the price profiles (editable); budget: warning
// thresholds and hard limits; power: which power source this machine offers, sampled.
#include "CliCommon.h"
#include "CliStore.h"
#include "Commands.h"
#include "cost/EnergyMeter.h"
#include "cost/Reports.h"
#include "jobs/CostLedger.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

namespace lathe::cli {

namespace {

const char *const kUsage =
    "Usage: lathe-cli cost report|card|compare|profiles|profile|budget|power [OPTIONS]\n\n"
    "  report            monthly spend, trend forecast, budgets, latest runs\n"
    "  card RUN          one run's cost card, with what-if estimates on the other profiles\n"
    "  compare A B       before/after table of two runs (Markdown or CSV)\n"
    "  profiles          the price profiles\n"
    "  profile NAME      create or edit a price profile\n"
    "  budget            show or set the run/day/month budgets\n"
    "  power             the power source on this machine (NVML, RAPL or a TDP estimate), sampled\n\n"
    "Run 'lathe-cli cost SUBCOMMAND --help' for its options.\n";

std::unique_ptr<store::Connection> openLedgerStore(const ArgParser &args)
{
    auto db = store::openStore(dbPath(args)); // profiles and budgets may be set before any job
    jobs::CostLedger(*db).ensureExampleProfiles();
    return db;
}

// The latest runs with their recorded cost (all entries of a run, resumes included).
void printRunCosts(store::Connection &db, int limit, const std::string &currency)
{
    if (limit == 0)
        return;
    const auto runs = store::RunRepository(db).list(limit);
    std::printf("\nLatest runs\n");
    if (runs.empty()) {
        std::printf("  (none)\n");
        return;
    }
    std::printf("  %-6s %-28s %-11s %12s %14s\n", "RUN", "NAME", "STATUS", "COST", "PER 1K TOKENS");
    for (const store::RunSummary &s : runs) {
        const auto per = cost::costPerThousandTokens(s.totalCost, s.run.tokensTrained + s.run.tokensGenerated);
        std::printf("  %-6lld %-28.28s %-11s %12s %14s\n", (long long)s.run.id, s.run.name.c_str(),
                    s.run.status.c_str(), cost::formatMoney(s.totalCost, currency).c_str(),
                    per ? cost::formatMoney(*per, currency).c_str() : "-");
    }
}

int report(const Args &argv)
{
    ArgParser args("cost report", "[--runs N] [--db PATH]",
                   "Monthly spend (UTC months), a linear trend forecast, the budgets, and the latest runs\n"
                   "with what each cost.");
    addDbOption(args).option("runs", "N", "how many of the latest runs to list (0: none)", "10");
    if (!args.parse(argv))
        return 0;
    if (!storeExists(args)) {
        std::printf("No costs recorded yet (no database at %s).\n", dbPath(args).c_str());
        return 0;
    }
    auto db = openCliStore(args);
    jobs::CostLedger ledger(*db);
    const auto months = ledger.monthlyTotals();
    const double now = store::nowSeconds();
    double fraction = 1.0;
    if (!months.empty()) {
        const double start = jobs::utcMonthStart(now), end = jobs::utcNextMonthStart(now);
        char current[16];
        const std::time_t t = std::time_t(now);
        std::tm tm = {};
        gmtime_r(&t, &tm);
        std::strftime(current, sizeof current, "%Y-%m", &tm);
        if (months.back().month == current)
            fraction = std::max(1e-3, (now - start) / (end - start));
    }
    const auto def = ledger.defaultProfile();
    const std::string currency = def ? def->currency : "USD";
    std::fputs(cost::formatMonthlyReport(months, cost::forecastSpend(months, fraction), currency).c_str(), stdout);
    std::printf("\nBudgets\n");
    const auto checks = ledger.check(0, 0, 0.0, 0.0, now);
    const auto budgets = ledger.budgets();
    if (budgets.empty())
        std::printf("  (none; set one with 'lathe-cli cost budget --scope month --limit 20')\n");
    for (size_t i = 0; i < budgets.size(); ++i) {
        const auto &b = budgets[i];
        std::printf("  %-6s warn %-10s limit %-10s", cost::budgetScopeName(b.scope),
                    b.warn ? cost::formatMoney(*b.warn, b.currency).c_str() : "-",
                    b.limit ? cost::formatMoney(*b.limit, b.currency).c_str() : "-");
        if (b.scope != cost::BudgetScope::Run)
            std::printf(" spent %s%s", cost::formatMoney(checks[i].spent, b.currency).c_str(),
                        checks[i].level == cost::BudgetLevel::Ok ? "" : ("  ! " + checks[i].message).c_str());
        std::printf("\n");
    }
    std::printf("\nDefault price profile: %s\n", def ? def->name.c_str() : "(none)");
    printRunCosts(*db, int(args.intValue("runs", 0, 1000000)), currency);
    return 0;
}

int card(const Args &argv)
{
    ArgParser args("cost card", "RUN [--db PATH]", "A run's cost card: time, energy (measured or estimated), cost,\n"
                                                    "per 1k tokens, GPU-hours, and what-if estimates.");
    addDbOption(args).positional("RUN", "run id");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "RUN");
    auto db = openCliStore(args);
    std::fputs(cost::formatCostCard(jobs::CostLedger(*db).costCard(id)).c_str(), stdout);
    return 0;
}

int compare(const Args &argv)
{
    ArgParser args("cost compare", "BEFORE AFTER [--format markdown|csv] [--out FILE] [--db PATH]",
                   "A before/after table of two runs: time, cost, cost per 1k tokens, peak memory and their\n"
                   "quality metrics, with the change and the saving in percent.");
    addDbOption(args)
        .positional("BEFORE", "run id")
        .positional("AFTER", "run id")
        .option("format", "F", "markdown or csv", "markdown")
        .option("out", "FILE", "output file ('-': stdout)", "-");
    if (!args.parse(argv))
        return 0;
    const std::string format = args.value("format");
    if (format != "markdown" && format != "csv")
        throw UsageError("--format: expected markdown or csv, got '" + format + "'");
    auto db = openCliStore(args);
    jobs::CostLedger ledger(*db);
    const cost::RunFigures a = ledger.runFigures(idArgument(args, 0, "BEFORE"));
    const cost::RunFigures b = ledger.runFigures(idArgument(args, 1, "AFTER"));
    const auto rows = cost::compareRuns(a, b);
    writeTextFile(args.value("out"), format == "csv" ? cost::comparisonCsv(rows, a.name, b.name)
                                                     : cost::comparisonMarkdown(rows, a.name, b.name));
    return 0;
}

int profiles(const Args &argv)
{
    ArgParser args("cost profiles", "[--db PATH]", "Lists the price profiles (* marks the default).");
    addDbOption(args);
    if (!args.parse(argv))
        return 0;
    auto db = openLedgerStore(args);
    jobs::CostLedger ledger(*db);
    const auto def = ledger.defaultProfile();
    std::printf("  %-26s %-7s %10s %8s %7s %8s %6s  %s\n", "NAME", "KIND", "PER HOUR", "PER KWH", "TDP W", "TFLOPS",
                "GB", "NOTE");
    for (const cost::PriceProfile &p : ledger.profiles())
        std::printf("%s %-26s %-7s %10s %8s %7.0f %8.1f %6.0f  %s\n", def && def->name == p.name ? "*" : " ",
                    p.name.c_str(), cost::profileKindName(p.kind),
                    cost::formatMoney(p.hourlyRate + p.amortisationPerHour(), p.currency).c_str(),
                    cost::formatMoney(p.kwhPrice, p.currency).c_str(), p.tdpWatts, p.denseTflops, p.memoryGb,
                    p.note.c_str());
    return 0;
}

int profile(const Args &argv)
{
    ArgParser args("cost profile", "NAME [--kind rental|owned] [--hourly X] [--purchase X] [--lifetime-hours H] "
                                   "[--kwh X] [--tdp W] [--tflops T] [--memory-gb G] [--currency C] [--default]",
                   "Creates or edits a price profile; options not given keep their value.");
    addDbOption(args)
        .positional("NAME", "profile name")
        .option("kind", "K", "rental or owned")
        .option("hourly", "X", "price per hour of use")
        .option("purchase", "X", "purchase price (owned)")
        .option("lifetime-hours", "H", "hours of use the purchase is spread over")
        .option("kwh", "X", "electricity price per kWh")
        .option("tdp", "W", "board power: the energy estimate when nothing is measured")
        .option("tflops", "T", "published dense FP16/BF16 throughput (what-if)")
        .option("memory-gb", "G", "memory (what-if)")
        .option("currency", "C", "currency code")
        .option("note", "TEXT", "where the numbers come from")
        .flag("default", "make it the default profile");
    if (!args.parse(argv))
        return 0;
    auto db = openLedgerStore(args);
    jobs::CostLedger ledger(*db);
    const std::string name = args.positionalValue(0);
    cost::PriceProfile p = ledger.profile(name).value_or(cost::PriceProfile{});
    p.name = name;
    if (args.has("kind"))
        p.kind = cost::parseProfileKind(args.value("kind"));
    const double big = 1e12;
    if (args.has("hourly"))
        p.hourlyRate = args.doubleValue("hourly", 0, big);
    if (args.has("purchase"))
        p.purchasePrice = args.doubleValue("purchase", 0, big);
    if (args.has("lifetime-hours"))
        p.lifetimeHours = args.doubleValue("lifetime-hours", 0, big);
    if (args.has("kwh"))
        p.kwhPrice = args.doubleValue("kwh", 0, big);
    if (args.has("tdp"))
        p.tdpWatts = args.doubleValue("tdp", 0, 1e6);
    if (args.has("tflops"))
        p.denseTflops = args.doubleValue("tflops", 0, 1e6);
    if (args.has("memory-gb"))
        p.memoryGb = args.doubleValue("memory-gb", 0, 1e6);
    if (args.has("currency"))
        p.currency = args.value("currency");
    if (args.has("note"))
        p.note = args.value("note");
    ledger.saveProfile(p);
    if (args.has("default"))
        ledger.setDefaultProfile(name);
    std::printf("saved profile '%s'%s\n", name.c_str(), args.has("default") ? " (default)" : "");
    return 0;
}

int budget(const Args &argv)
{
    ArgParser args("cost budget", "[--scope run|day|month --warn X --limit Y | --clear]",
                   "Shows the budgets, or sets one: a warning threshold and/or a hard limit per run, per day\n"
                   "or per month (UTC). A running job that would exceed a hard limit pauses at its next\n"
                   "checkpoint and resumes by itself once the limit allows it.");
    addDbOption(args)
        .option("scope", "S", "run, day or month")
        .option("warn", "X", "warning threshold")
        .option("limit", "X", "hard limit")
        .flag("clear", "remove the scope's warning and limit");
    if (!args.parse(argv))
        return 0;
    auto db = openLedgerStore(args);
    jobs::CostLedger ledger(*db);
    if (args.has("scope")) {
        cost::Budget b;
        b.scope = cost::parseBudgetScope(args.value("scope"));
        for (const cost::Budget &old : ledger.budgets())
            if (old.scope == b.scope)
                b = old;
        if (args.has("clear"))
            b.warn = b.limit = std::nullopt;
        if (args.has("warn"))
            b.warn = args.doubleValue("warn", 0, 1e12);
        if (args.has("limit"))
            b.limit = args.doubleValue("limit", 0, 1e12);
        ledger.setBudget(b);
    } else if (args.has("warn") || args.has("limit") || args.has("clear")) {
        throw UsageError("--warn, --limit and --clear need --scope");
    }
    for (const cost::Budget &b : ledger.budgets())
        std::printf("%-6s warn %-10s limit %s\n", cost::budgetScopeName(b.scope),
                    b.warn ? cost::formatMoney(*b.warn, b.currency).c_str() : "-",
                    b.limit ? cost::formatMoney(*b.limit, b.currency).c_str() : "-");
    return 0;
}

int power(const Args &argv)
{
    ArgParser args("cost power", "[--cpu] [--seconds N] [--gpu N] [--tdp W]",
                   "Opens the power source a job would use (GPU: NVML, else a TDP estimate; --cpu: RAPL,\n"
                   "else a TDP estimate), samples it for N seconds and prints the energy, labelled measured\n"
                   "or estimated.");
    args.flag("cpu", "the CPU package instead of the GPU")
        .option("seconds", "N", "how long to sample", "2")
        .option("gpu", "N", "GPU index", "0")
        .option("tdp", "W", "watts assumed when nothing can be measured", "0");
    if (!args.parse(argv))
        return 0;
    cost::PowerSourceOptions o;
    o.target = args.has("cpu") ? cost::PowerTarget::Cpu : cost::PowerTarget::Gpu;
    o.gpuIndex = int(args.intValue("gpu", 0, 1024));
    o.tdpWatts = args.doubleValue("tdp", 0, 1e6);
    std::string notes;
    auto source = cost::openPowerSource(o, &notes);
    const bool measured = source->measured();
    if (!notes.empty())
        std::printf("note:     %s\n", notes.c_str());
    const double seconds = args.doubleValue("seconds", 0.1, 3600);
    cost::EnergyMeter meter(std::move(source), o.tdpWatts, std::chrono::milliseconds(100));
    std::printf("source:   %s (%s)\n", meter.description().c_str(), measured ? "measured" : "estimated");
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const cost::Energy e = meter.stop();
    std::printf("energy:   %.3f J over %.1f s = %.2f W average (%s)\n", e.joules, seconds, e.joules / seconds,
                e.measured ? "measured" : "estimated");
    std::printf("last:     %.2f W\n", meter.watts());
    return 0;
}

} // namespace

int runCost(const Args &argv)
{
    return dispatchSubcommand(argv, kUsage,
                              {{"report", report},
                               {"card", card},
                               {"compare", compare},
                               {"profiles", profiles},
                               {"profile", profile},
                               {"budget", budget},
                               {"power", power}});
}

} // namespace lathe::cli
