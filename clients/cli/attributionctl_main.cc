// attributionctl: command-line client of the attribution service.
// `attributionctl --help` lists the commands, `attributionctl CMD --help`
// one command's flags and an example.
//
// Exit codes: 0 success; 1 some rows were rejected (the rest imported);
// 2 usage error (an unknown command or flag, a bad value, a file that cannot
// be read), nothing sent; 3 the server or the transport failed the call.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "clients/cli/attribution_args.h"
#include "clients/cli/csv.h"
#include "clients/cli/event_rows.h"
#include "clients/cli/experiment_command.h"
#include "clients/cli/figure_import.h"
#include "clients/cli/importer.h"
#include "clients/cli/link_import.h"
#include "clients/cli/mention_import.h"
#include "clients/cli/output.h"
#include "clients/cli/pdf.h"
#include "clients/cli/report_view.h"
#include "clients/cli/spend_import.h"
#include "clients/cli/vocabulary.h"
#include "clients/cpp/attribution_client.h"
#include "service/api/api_keys.h"
#include "service/core/report.h"
#include "service/core/version.h"

namespace {
std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}
}  // namespace

ABSL_FLAG(std::string, server, EnvOr("ATTRIBUTION_SERVER", "127.0.0.1:50051"),
          "Server address host:port (env ATTRIBUTION_SERVER).");
ABSL_FLAG(std::string, workspace, EnvOr("ATTRIBUTION_WORKSPACE", "default"),
          "Workspace (tenant) to act on (env ATTRIBUTION_WORKSPACE).");
ABSL_FLAG(std::string, format, "table",
          "Output: table (rounded for reading), json (the response as its "
          "proto3 JSON mapping, lossless) or csv (proto field names, full "
          "precision). export events: csv or jsonl.");
ABSL_FLAG(std::string, api_key, EnvOr("ATTRIBUTION_API_KEY", ""),
          "API key, sent as `authorization: Bearer KEY` (env "
          "ATTRIBUTION_API_KEY; prefer the variable: flags show in `ps`).");
ABSL_FLAG(
    std::string, tls_ca, EnvOr("ATTRIBUTION_TLS_CA", ""),
    "PEM CA file: connect over TLS, trusting it (env ATTRIBUTION_TLS_CA).");
ABSL_FLAG(std::string, tls_cert, EnvOr("ATTRIBUTION_TLS_CERT", ""),
          "PEM client certificate, for mutual TLS (env ATTRIBUTION_TLS_CERT).");
ABSL_FLAG(std::string, tls_key, EnvOr("ATTRIBUTION_TLS_KEY", ""),
          "PEM client key, for mutual TLS (env ATTRIBUTION_TLS_KEY).");
ABSL_FLAG(std::string, input_format, "",
          "import: csv or jsonl. Default: by file name (.jsonl, .ndjson and "
          ".json are JSONL, anything else CSV); export events likewise, "
          "unless --format says.");
ABSL_FLAG(int, batch_size, 1000,
          "import: events per streamed message, 1 to 10000 (the server's "
          "default --max_batch_events).");
ABSL_FLAG(bool, bulk, false,
          "import events: bulk load for history files. The server parses "
          "the file (sent in parts of about 8 MiB, each stored atomically "
          "as one table file); faster than the stream, same rules.");
ABSL_FLAG(int64_t, bulk_part_bytes, 8 << 20,
          "import events --bulk: bytes of rows per request, 1 KiB to 15 "
          "MiB (under the server's --max_message_bytes, 16 MiB by default).");
ABSL_FLAG(std::string, customer_id, "",
          "export events: only this customer's events.");
ABSL_FLAG(int, window, 16,
          "import: batches in flight before waiting for acks.");
ABSL_FLAG(
    std::string, goal, "acquisition",
    "attribute/paths/explain: acquisition, repeat_purchase or retention.");
ABSL_FLAG(std::string, model, "",
          "attribute/explain: comma-separated models (default linear): "
          "first_touch, last_touch, last_non_direct, linear, "
          "position_based[:FIRST:LAST], time_decay[:HALF_LIFE], "
          "markov[:ORDER], shapley, incremental[:HALF_LIFE] (what each "
          "channel caused; adds a (baseline) row whose share is of all "
          "conversions). report/settings: one model (default: the "
          "workspace's).");
ABSL_FLAG(bool, intervals, false,
          "attribute: add a confidence interval to every credit "
          "(conversions_interval.low/high, revenue_interval.low/high "
          "columns); report "
          "channels: to new customers, revenue, CAC and ROAS (low/high "
          "columns). A customer bootstrap.");
ABSL_FLAG(double, level, 0,
          "attribute/report channels --intervals: the level (default 0.95).");
ABSL_FLAG(int, replicates, 0,
          "attribute/report channels --intervals: bootstrap replicates, 10 to "
          "2000 (default 200).");
ABSL_FLAG(std::string, goal_of_test, "",
          "experiment set: the goal the test measured (acquisition, "
          "repeat_purchase, retention); default --goal.");
ABSL_FLAG(std::string, incremental_conversions, "",
          "experiment set: the incremental conversions the test measured "
          "(alias --estimate).");
ABSL_FLAG(std::string, standard_error, "",
          "experiment set: the standard error of --incremental_conversions.");
ABSL_FLAG(std::string, treated_customers, "",
          "experiment set: customers who could see the channel.");
ABSL_FLAG(std::string, treated_conversions, "",
          "experiment set: their conversions.");
ABSL_FLAG(std::string, holdout_customers, "",
          "experiment set: customers kept from the channel.");
ABSL_FLAG(std::string, holdout_conversions, "",
          "experiment set: their conversions.");
ABSL_FLAG(std::string, compare, "previous",
          "report: previous (the period of equal length before), none, or "
          "FROM..TO.");
ABSL_FLAG(std::string, granularity, "",
          "report cashflow: day (default) or week; report cohorts: month "
          "(default) or week.");
ABSL_FLAG(std::string, horizon_days, "",
          "report cohorts: days after acquisition, e.g. 30,60,90 (default "
          "30,60,90,180,365; alias --horizons).");
ABSL_FLAG(std::string, credit_models, "",
          "report page: the credit chart's models, 1 to 3, comma-separated "
          "(default last_touch, the report's model, incremental).");
ABSL_FLAG(bool, no_intervals, false,
          "report page: no intervals on the credit chart (default 95%, 200 "
          "replicates; --level and --replicates change them).");
ABSL_FLAG(std::string, paper, "a4", "report page: a4 or letter.");
ABSL_FLAG(std::string, title, "",
          "report page: the heading (default \"Marketing report: "
          "WORKSPACE\").");
ABSL_FLAG(std::string, out, "",
          "report page: write the HTML page to this file (\"-\": stdout).");
ABSL_FLAG(std::string, pdf, "",
          "report page: also print the page to this PDF file with headless "
          "Chromium.");
ABSL_FLAG(std::string, chromium, "",
          "report page --pdf: the Chromium to print with (default $CHROMIUM, "
          "else chromium on PATH).");
ABSL_FLAG(std::string, lapse_days, "",
          "settings set: count a customer lost after this many days without a "
          "purchase (1 to 3650; none: only churn events count).");
ABSL_FLAG(std::string, reporting_currency, "",
          "settings set: the reporting currency (alias --currency).");
ABSL_FLAG(std::string, gross_margin, "",
          "settings set: share of revenue that is gross profit, 0 to 1.");
ABSL_FLAG(std::string, metric, "",
          "goal set: the figure, e.g. new_customers, cac, roas, churn_rate.");
ABSL_FLAG(double, target, 0, "goal set: the value to reach (required).");
ABSL_FLAG(std::string, channel, "", "goal set: a channel, or empty for all.");
ABSL_FLAG(std::string, channel_group, "",
          "goal set: a channel group instead of a channel.");
ABSL_FLAG(std::string, owner, "",
          "goal set: the department that owns the goal (marketing, sales, "
          "customer_service, hr, ...); report goals: only its goals.");
ABSL_FLAG(std::string, business_figure, "",
          "goal set: a business figure series instead of --metric.");
ABSL_FLAG(std::string, brand, "",
          "report questions: a competitor's name; empty for your brand.");
ABSL_FLAG(std::string, channels, "",
          "groups set: the group's channels, comma-separated.");
ABSL_FLAG(std::string, start, "",
          "Window or period start: 2026-01-01 (midnight UTC) or RFC 3339 "
          "(aliases --from, --window_start).");
ABSL_FLAG(std::string, end, "",
          "Window or period end, exclusive (aliases --to, --window_end).");
ABSL_FLAG(std::string, lookback, "",
          "e.g. 30d; default 30d for acquisition, 90d otherwise.");
ABSL_FLAG(std::string, retention_horizon, "",
          "retention: how long after a purchase a customer counts as kept, "
          "e.g. 90d (default; alias --horizon).");
ABSL_FLAG(std::string, group_by, "channel",
          "channel, campaign or group (the channel groups: `groups list`).");
ABSL_FLAG(std::string, include_channels, "",
          "Only these channels, comma-separated (alias --include).");
ABSL_FLAG(std::string, exclude_channels, "",
          "Leave these channels out (alias --exclude).");
ABSL_FLAG(bool, honour_stages, false,
          "A touch tagged with a stage counts only toward that stage's goal.");
ABSL_FLAG(int, limit, 20, "paths: how many.");
ABSL_FLAG(bool, collapse_repeats, false,
          "paths: collapse consecutive repeats (alias --collapse).");

namespace attribution::cli {
namespace {

constexpr int kOk = 0;
constexpr int kRowsRejected = 1;
constexpr int kUsage = 2;
constexpr int kFailed = 3;

// The most events one IngestEvents message may carry on a server with the
// default --max_batch_events.
constexpr int kMaxBatchSize = 10000;

// A call the server or the transport failed.
int Fail(absl::string_view what, const absl::Status& s) {
  std::cerr << "attributionctl: " << what << ": "
            << absl::StatusCodeToString(s.code()) << ": " << s.message()
            << "\n";
  return kFailed;
}

// Bad input caught before anything was sent.
int UsageError(const absl::Status& s) {
  std::cerr << "attributionctl: usage: " << s.message()
            << "\n(attributionctl --help lists the commands; attributionctl "
               "COMMAND --help gives one command's flags)\n";
  return kUsage;
}

Cell Num(int64_t v) { return {absl::StrCat(v), true}; }
// Full precision, for CSV.
Cell Exact(double v) { return {Shortest(v), true}; }
Cell Money(double v) { return {absl::StrFormat("%.2f", v), true}; }
Cell Number(double v, int decimals = 4) {
  return {absl::StrFormat("%.*f", decimals, v), true};
}

// JSON: the response itself; table: `human`; CSV: `machine`.
int Emit(const google::protobuf::Message& response, const Table& human,
         const Table& machine, Format format, bool single) {
  if (format == Format::kJson) {
    std::cout << MessageJson(response) << "\n";
  } else {
    Print(format == Format::kTable ? human : machine, format, single,
          std::cout);
  }
  return kOk;
}

// Names the channels the server did not know, with the nearest known one.
void WarnUnknownChannels(
    client::AttributionClient& client,
    const google::protobuf::RepeatedPtrField<std::string>& unknown) {
  if (unknown.empty()) return;
  std::vector<std::string> known;
  if (auto d = client.DescribeWorkspace(absl::GetFlag(FLAGS_workspace));
      d.ok()) {
    known.assign(d->channels().begin(), d->channels().end());
  }
  for (const std::string& c : unknown) {
    std::cerr << "attributionctl: warning: channel \"" << c
              << "\" is not a channel of workspace "
              << absl::GetFlag(FLAGS_workspace) << " and selects nothing"
              << DidYouMean(c, known) << "\n";
  }
}

absl::StatusOr<std::string> FileFormat(const std::string& path,
                                       const std::string& given) {
  if (!given.empty()) {
    const std::string f = NormaliseName(given);
    if (f == "csv" || f == "jsonl") return f;
    return absl::InvalidArgumentError(
        absl::StrCat("--input_format: \"", given, "\" is not csv or jsonl",
                     DidYouMean(given, {"csv", "jsonl"})));
  }
  return absl::EndsWith(path, ".jsonl") || absl::EndsWith(path, ".ndjson") ||
                 absl::EndsWith(path, ".json")
             ? "jsonl"
             : "csv";
}

// `path` opened into `file`, or stdin for "-"; null if it cannot be read.
std::istream* OpenInput(const std::string& path, std::ifstream* file) {
  if (path == "-") return &std::cin;
  file->open(path, std::ios::binary);
  return *file ? file : nullptr;
}

absl::StatusOr<size_t> BatchSize() {
  const int n = absl::GetFlag(FLAGS_batch_size);
  if (n < 1 || n > kMaxBatchSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_size: ", n, " is not 1 to ", kMaxBatchSize,
                     " (the server's default --max_batch_events)"));
  }
  return static_cast<size_t>(n);
}

// Streams the file to IngestEvents. InvalidArgument (naming the file) for a
// CSV header missing a column.
absl::StatusOr<ImportSummary> StreamEvents(client::AttributionClient& client,
                                           const std::string& path,
                                           std::istream& in,
                                           const std::string& input_format,
                                           size_t batch_size) {
  std::unique_ptr<RowSource> source;
  if (input_format == "csv") {
    absl::StatusOr<std::unique_ptr<RowSource>> csv = NewCsvSource(in);
    if (!csv.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", csv.status().message()));
    }
    source = std::move(*csv);
  } else {
    source = NewJsonLinesSource(in);
  }
  ImportOptions options;
  options.workspace = absl::GetFlag(FLAGS_workspace);
  options.batch_size = batch_size;
  options.window =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_window)));
  options.log = &std::cerr;
  return ImportEvents(client, *source, options);
}

// The one-row summary of `import events`, and its exit code.
int PrintImportSummary(const ImportSummary& summary, Format format) {
  Table table;
  table.columns = {"rows",     "stored",  "duplicates",     "conflicts",
                   "rejected", "seconds", "rows_per_second"};
  table.rows.push_back(
      {Num(summary.rows),
       Num(summary.stored),
       Num(summary.duplicates),
       Num(summary.conflicts),
       Num(summary.rejected),
       {absl::StrFormat("%.2f", summary.seconds), true},
       Num(summary.seconds > 0
               ? static_cast<int64_t>(summary.rows / summary.seconds)
               : 0)});
  if (format == Format::kJson) {
    google::protobuf::Value doc = RowToJson(table, 0);
    auto* ids =
        (*doc.mutable_struct_value()->mutable_fields())["conflict_event_ids"]
            .mutable_list_value();
    for (const std::string& id : summary.conflict_event_ids) {
      ids->add_values()->set_string_value(id);
    }
    std::cout << ToJson(doc) << "\n";
  } else {
    Print(table, format, /*single=*/true, std::cout);
  }
  if (summary.conflicts > 0) {
    std::cerr << "attributionctl: warning: " << summary.conflicts
              << " events reuse the id of a stored event with different "
                 "content and were not stored (the first write wins), e.g. "
              << absl::StrJoin(summary.conflict_event_ids, ", ")
              << ". Give each source its own ids, or use a new workspace.\n";
  }
  if (summary.batch_too_large) {
    return UsageError(absl::InvalidArgumentError(
        "--batch_size: over the server's --max_batch_events; nothing more "
        "was sent"));
  }
  if (!summary.status.ok()) return Fail("import", summary.status);
  return summary.rejected > 0 ? kRowsRejected : kOk;
}

int ImportEventsCommand(client::AttributionClient& client,
                        const std::string& path, Format format) {
  absl::StatusOr<size_t> batch_size = BatchSize();
  if (!batch_size.ok()) return UsageError(batch_size.status());
  absl::StatusOr<std::string> input_format =
      FileFormat(path, absl::GetFlag(FLAGS_input_format));
  if (!input_format.ok()) return UsageError(input_format.status());
  std::ifstream file;
  std::istream* in = OpenInput(path, &file);
  if (in == nullptr) {
    return UsageError(
        absl::NotFoundError(absl::StrCat(path, ": cannot open the file")));
  }
  if (!absl::GetFlag(FLAGS_bulk)) {
    absl::StatusOr<ImportSummary> streamed =
        StreamEvents(client, path, *in, *input_format, *batch_size);
    if (!streamed.ok()) return UsageError(streamed.status());
    return PrintImportSummary(*streamed, format);
  }
  const int64_t part_bytes = absl::GetFlag(FLAGS_bulk_part_bytes);
  if (part_bytes < 1024 || part_bytes > 15 << 20) {
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        "--bulk_part_bytes: ", part_bytes, " is not 1024 to ", 15 << 20)));
  }
  BulkImportOptions options;
  options.workspace = absl::GetFlag(FLAGS_workspace);
  options.jsonl = *input_format == "jsonl";
  options.part_bytes = static_cast<size_t>(part_bytes);
  options.log = &std::cerr;
  const ImportSummary summary = BulkImportEvents(client, *in, options);
  if (absl::IsInvalidArgument(summary.status) &&
      absl::StartsWith(summary.status.message(), "csv: header")) {
    // The file as a whole is unusable: nothing was stored.
    return UsageError(absl::InvalidArgumentError(
        absl::StrCat(path, ": ", summary.status.message().substr(5))));
  }
  return PrintImportSummary(summary, format);
}

int ExportEventsCommand(client::AttributionClient& client,
                        const std::string& path) {
  const std::string given = absl::GetFlag(FLAGS_format) == "table"
                                ? absl::GetFlag(FLAGS_input_format)
                                : absl::GetFlag(FLAGS_format);
  absl::StatusOr<std::string> file_format = FileFormat(path, given);
  if (!file_format.ok()) return UsageError(file_format.status());
  v1::ExportEventsRequest request;
  request.set_workspace(absl::GetFlag(FLAGS_workspace));
  request.set_customer_id(absl::GetFlag(FLAGS_customer_id));
  if (const std::string v = absl::GetFlag(FLAGS_start); !v.empty()) {
    auto ts = ParseWhen("start", v);
    if (!ts.ok()) return UsageError(ts.status());
    *request.mutable_start() = *ts;
  }
  if (const std::string v = absl::GetFlag(FLAGS_end); !v.empty()) {
    auto ts = ParseWhen("end", v);
    if (!ts.ok()) return UsageError(ts.status());
    *request.mutable_end() = *ts;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (path != "-") {
    file.open(path, std::ios::binary | std::ios::trunc);
    if (!file) {
      return UsageError(absl::PermissionDeniedError(
          absl::StrCat(path, ": cannot write the file")));
    }
    out = &file;
  }
  const bool csv = *file_format == "csv";
  std::string buffer;
  if (csv) {
    for (size_t c = 0; c < kColumnNames.size(); ++c) {
      absl::StrAppend(&buffer, c ? "," : "", kColumnNames[c]);
    }
    buffer.push_back('\n');
  }
  int64_t events = 0;
  const absl::Time started = absl::Now();
  absl::Status s = client.ExportEvents(
      request, [&](const v1::ExportEventsResponse& message) {
        for (const v1::Event& e : message.events()) {
          const RowValues row = EventToRow(e);
          if (csv) {
            for (size_t c = 0; c < row.size(); ++c) {
              if (c) buffer.push_back(',');
              buffer.append(CsvEscape(row[c]));
            }
            buffer.push_back('\n');
          } else {
            // Columns in file order; empty ones left out.
            buffer.push_back('{');
            bool first = true;
            for (size_t c = 0; c < row.size(); ++c) {
              if (row[c].empty()) continue;
              if (!first) buffer.push_back(',');
              first = false;
              absl::StrAppend(&buffer, "\"", kColumnNames[c],
                              "\":", JsonQuote(row[c]));
            }
            buffer.append("}\n");
          }
        }
        events += message.events_size();
        out->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        buffer.clear();
        return *out ? absl::OkStatus()
                    : absl::DataLossError("cannot write the output");
      });
  if (s.ok() && !buffer.empty()) {
    out->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  }
  out->flush();
  if (!s.ok()) return Fail("export events", s);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - started);
  std::cerr << "exported " << events << " events in "
            << absl::StrFormat("%.2f", seconds) << " s\n";
  return kOk;
}

int JourneyCommand(client::AttributionClient& client,
                   const std::string& customer, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  absl::StatusOr<client::Journey> journey =
      client.GetJourney(workspace, customer);
  if (!journey.ok()) return Fail("journey", journey.status());
  if (format == Format::kJson) {
    v1::GetJourneyResponse all;
    for (const v1::JourneyEvent& je : journey->events) *all.add_events() = je;
    if (journey->has_first_purchase) {
      *all.mutable_first_purchase_at() = journey->first_purchase_at;
    }
    all.set_customer_id(journey->customer_id);
    for (const std::string& id : journey->linked_identities) {
      all.add_linked_identities(id);
    }
    std::cout << MessageJson(all) << "\n";
    return kOk;
  }
  Table table;
  if (format == Format::kTable) {
    table.columns = {"occurred_at", "type",    "channel",    "campaign",
                     "interaction", "stage",   "conversion", "revenue",
                     "currency",    "event_id"};
  } else {
    for (const char* c : kColumnNames) table.columns.push_back(c);
    table.columns.push_back("effective_stage");
    table.columns.push_back("stage_derived");
  }
  for (const v1::JourneyEvent& je : journey->events) {
    const RowValues row = EventToRow(je.event());
    std::string stage = StageName(je.effective_stage());
    std::vector<Cell> cells;
    if (format == Format::kTable) {
      if (je.stage_derived() && !stage.empty()) stage += " (derived)";
      for (Column c : {kOccurredAt, kType, kChannel, kCampaign, kInteraction}) {
        cells.push_back({row[c]});
      }
      cells.push_back({stage});
      cells.push_back({row[kConversion]});
      cells.push_back({row[kRevenue], true});
      cells.push_back({row[kCurrency]});
      cells.push_back({row[kEventId]});
    } else {
      for (const std::string& v : row) cells.push_back({v});
      cells.push_back({stage});
      cells.push_back({je.stage_derived() ? "true" : "false"});
    }
    table.rows.push_back(std::move(cells));
  }
  Print(table, format, /*single=*/false, std::cout);
  return kOk;
}

int EraseCommand(client::AttributionClient& client, const std::string& customer,
                 Format format) {
  auto erased = client.EraseCustomer(absl::GetFlag(FLAGS_workspace), customer);
  if (!erased.ok()) return Fail("erase", erased.status());
  Table table;
  table.columns = {"customer_id", "touchpoints_removed", "conversions_removed",
                   "linked_identities_removed"};
  table.rows.push_back({{customer},
                        Num(erased->touchpoints_removed()),
                        Num(erased->conversions_removed()),
                        Num(erased->linked_identities_removed())});
  return Emit(*erased, table, table, format, /*single=*/true);
}

// The frame of `import figures|mentions|links`: the batch size, the file,
// the import (`import(in, batch_size)`), and its one-row summary
// (`summary(counts)`); exit 1 when rows were rejected.
template <typename Import, typename Summary>
int ImportRowsCommand(const std::string& path, Format format, Import import,
                      Summary summary) {
  absl::StatusOr<size_t> batch_size = BatchSize();
  if (!batch_size.ok()) return UsageError(batch_size.status());
  std::ifstream file;
  std::istream* in = OpenInput(path, &file);
  if (in == nullptr) {
    return UsageError(
        absl::NotFoundError(absl::StrCat(path, ": cannot open the file")));
  }
  auto counts = import(*in, *batch_size);
  if (!counts.ok()) {
    return absl::IsInvalidArgument(counts.status())
               ? UsageError(absl::InvalidArgumentError(
                     absl::StrCat(path, ": ", counts.status().message())))
               : Fail(path, counts.status());
  }
  Print(summary(*counts), format, /*single=*/true, std::cout);
  return counts->rejected > 0 ? kRowsRejected : kOk;
}

int ImportFiguresCommand(client::AttributionClient& client,
                         const std::string& path, Format format) {
  return ImportRowsCommand(
      path, format,
      [&](std::istream& in, size_t batch_size) {
        return ImportFigures(client, absl::GetFlag(FLAGS_workspace), in,
                             batch_size, std::cerr);
      },
      [](const FigureImportCounts& c) {
        Table t;
        t.columns = {"values", "changed", "rejected"};
        t.rows.push_back({Num(c.values), Num(c.changed), Num(c.rejected)});
        return t;
      });
}

int ImportMentionsCommand(client::AttributionClient& client,
                          const std::string& path, Format format) {
  return ImportRowsCommand(
      path, format,
      [&](std::istream& in, size_t batch_size) {
        return ImportMentions(client, absl::GetFlag(FLAGS_workspace), in,
                              batch_size, std::cerr);
      },
      [](const MentionImportCounts& c) {
        Table t;
        t.columns = {"stored", "duplicates", "answered", "conflicts",
                     "rejected"};
        t.rows.push_back({Num(c.stored), Num(c.duplicates), Num(c.answered),
                          Num(c.conflicts), Num(c.rejected)});
        return t;
      });
}

int ImportLinksCommand(client::AttributionClient& client,
                       const std::string& path, Format format) {
  return ImportRowsCommand(
      path, format,
      [&](std::istream& in, size_t batch_size) {
        return ImportLinks(client, absl::GetFlag(FLAGS_workspace), in,
                           batch_size, std::cerr);
      },
      [](const LinkImportCounts& c) {
        Table t;
        t.columns = {"linked", "unchanged", "moved", "rejected"};
        t.rows.push_back(
            {Num(c.linked), Num(c.unchanged), Num(c.moved), Num(c.rejected)});
        return t;
      });
}

int LinkCommand(client::AttributionClient& client,
                const std::vector<std::string>& ids, Format format) {
  v1::LinkIdentitiesRequest request;
  request.set_workspace(absl::GetFlag(FLAGS_workspace));
  v1::IdentityLink* link = request.add_links();
  link->set_identity_id(ids[0]);
  link->set_customer_id(ids[1]);
  auto linked = client.LinkIdentities(request);
  if (!linked.ok()) return Fail("link", linked.status());
  Table table;
  table.columns = {"identity_id", "customer_id", "result"};
  table.rows.push_back({{ids[0]},
                        {ids[1]},
                        {linked->unchanged() > 0 ? "unchanged"
                         : linked->moved() > 0   ? "moved"
                                                 : "linked"}});
  return Emit(*linked, table, table, format, /*single=*/true);
}

int UnlinkCommand(client::AttributionClient& client,
                  const std::string& identity, Format format) {
  auto unlinked =
      client.UnlinkIdentity(absl::GetFlag(FLAGS_workspace), identity);
  if (!unlinked.ok()) return Fail("unlink", unlinked.status());
  Table table;
  table.columns = {"identity_id", "was_linked_to"};
  table.rows.push_back({{identity}, {unlinked->was_linked_to()}});
  return Emit(*unlinked, table, table, format, /*single=*/true);
}

int DescribeCommand(client::AttributionClient& client, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  auto described = client.DescribeWorkspace(workspace);
  if (!described.ok()) return Fail("describe", described.status());
  Table table;
  table.columns = {"workspace",   "customers", "touchpoints",
                   "conversions", "channels",  "linked_identities",
                   "index_bytes"};
  table.rows.push_back({{workspace},
                        Num(described->customers()),
                        Num(described->touchpoints()),
                        Num(described->conversions()),
                        {absl::StrJoin(described->channels(),
                                       format == Format::kCsv ? ";" : " ")},
                        Num(described->linked_identities()),
                        Num(described->index_bytes())});
  return Emit(*described, table, table, format, /*single=*/true);
}

int ServerInfoCommand(client::AttributionClient& client, Format format) {
  auto info = client.GetServerInfo();
  if (!info.ok()) return Fail("server-info", info.status());
  Table table;
  table.columns = {"version",    "build_type", "started_at", "uptime_seconds",
                   "durability", "auth",       "tls"};
  table.rows.push_back({{info->version()},
                        {info->build_type()},
                        {FormatTimestamp(info->started_at())},
                        Num(info->uptime().seconds()),
                        {info->durability()},
                        {info->auth()},
                        {info->tls() ? "true" : "false"}});
  return Emit(*info, table, table, format, /*single=*/true);
}

int WorkspacesCommand(client::AttributionClient& client, Format format) {
  auto list = client.ListWorkspaces();
  if (!list.ok()) return Fail("workspaces", list.status());
  Table table;
  table.columns = {"workspace"};
  for (const std::string& w : list->workspaces()) table.rows.push_back({{w}});
  return Emit(*list, table, table, format, /*single=*/false);
}

absl::StatusOr<v1::AttributeRequest> SelectionFromFlags(bool models_required) {
  AttributionArgs a;
  a.workspace = absl::GetFlag(FLAGS_workspace);
  a.goal = absl::GetFlag(FLAGS_goal);
  a.models = models_required ? absl::GetFlag(FLAGS_model) : "";
  if (models_required && a.models.empty()) a.models = "linear";
  a.from = absl::GetFlag(FLAGS_start);
  a.to = absl::GetFlag(FLAGS_end);
  a.lookback = absl::GetFlag(FLAGS_lookback);
  a.horizon = absl::GetFlag(FLAGS_retention_horizon);
  a.group_by = absl::GetFlag(FLAGS_group_by);
  a.include = absl::GetFlag(FLAGS_include_channels);
  a.exclude = absl::GetFlag(FLAGS_exclude_channels);
  a.honour_stages = absl::GetFlag(FLAGS_honour_stages);
  a.intervals = absl::GetFlag(FLAGS_intervals);
  a.level = absl::GetFlag(FLAGS_level);
  a.replicates = absl::GetFlag(FLAGS_replicates);
  return BuildAttributeRequest(a, models_required);
}

int AttributeCommand(client::AttributionClient& client, Format format) {
  auto request = SelectionFromFlags(/*models_required=*/true);
  if (!request.ok()) return UsageError(request.status());
  auto response = client.Attribute(*request);
  if (!response.ok()) return Fail("attribute", response.status());
  WarnUnknownChannels(client, response->unknown_channels());
  const v1::AttributionTotals& t = response->totals();
  const bool intervals = request->has_intervals();
  // human: rounded for reading; otherwise full precision.
  auto table_of = [&](bool human) {
    Table table;
    table.columns = {"model",       "channel", "campaign",
                     "conversions", "revenue", "share"};
    if (intervals) {
      table.columns.insert(
          table.columns.end(),
          {"conversions_interval.low", "conversions_interval.high",
           "revenue_interval.low", "revenue_interval.high"});
    }
    auto number = [&](double v) { return human ? Number(v) : Exact(v); };
    auto money = [&](double v) { return human ? Money(v) : Exact(v); };
    auto add = [&](const std::string& model, const std::string& channel,
                   const std::string& campaign, double conversions,
                   double revenue, double share, const v1::Interval& c,
                   const v1::Interval& v) {
      std::vector<Cell> row = {{model},        {channel},
                               {campaign},     number(conversions),
                               money(revenue), number(share)};
      if (intervals) {
        row.insert(row.end(), {number(c.low()), number(c.high()),
                               money(v.low()), money(v.high())});
      }
      table.rows.push_back(std::move(row));
    };
    for (const v1::ModelResult& r : response->results()) {
      const std::string model = ModelName(r.model());
      for (const v1::GroupCredit& g : r.groups()) {
        add(model, g.channel(), g.campaign(), g.conversions(), g.revenue(),
            g.share(), g.conversions_interval(), g.revenue_interval());
      }
      if (r.has_baseline()) {
        // incremental: what no channel caused; its share is of all the
        // goal's conversions.
        const v1::BaselineCredit& b = r.baseline();
        add(model, "(baseline)", "", b.conversions(), b.revenue(),
            b.share_of_conversions(), b.conversions_interval(),
            b.revenue_interval());
      }
    }
    return table;
  };
  if (format == Format::kTable) {
    std::cout << absl::StrFormat(
        "%s, %s to %s: %d conversions (%.2f revenue), %d credited, %d "
        "without a touch in the lookback, %d non-converting journeys, %d "
        "distinct paths%s\n\n",
        EnumWord(request->goal()), absl::GetFlag(FLAGS_start),
        absl::GetFlag(FLAGS_end), t.conversions(), t.revenue(),
        t.converting_journeys(), t.conversions_without_touch(),
        t.non_converting_journeys(), t.distinct_paths(),
        t.censored_customers() > 0
            ? absl::StrCat(", ", t.censored_customers(),
                           " customers censored (horizon not elapsed)")
            : "");
  }
  return Emit(*response, table_of(true), table_of(false), format,
              /*single=*/false);
}

int PathsCommand(client::AttributionClient& client, Format format) {
  auto selection = SelectionFromFlags(/*models_required=*/false);
  if (!selection.ok()) return UsageError(selection.status());
  v1::TopPathsRequest request;
  *request.mutable_selection() = *selection;
  request.set_collapse_repeats(absl::GetFlag(FLAGS_collapse_repeats));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  auto response = client.TopPaths(request);
  if (!response.ok()) return Fail("paths", response.status());
  WarnUnknownChannels(client, response->unknown_channels());
  Table human, machine;
  human.columns = {
      "path",   "journeys", "conversions", "non_conversions", "conversion_rate",
      "revenue"};
  machine.columns = {"steps", "conversions", "non_conversions",
                     "conversion_rate", "revenue"};
  for (const v1::PathStats& p : response->paths()) {
    const std::string steps = absl::StrJoin(p.steps(), " > ");
    human.rows.push_back({{steps},
                          Num(p.conversions() + p.non_conversions()),
                          Num(p.conversions()),
                          Num(p.non_conversions()),
                          Number(p.conversion_rate()),
                          Money(p.revenue())});
    machine.rows.push_back({{steps},
                            Num(p.conversions()),
                            Num(p.non_conversions()),
                            Exact(p.conversion_rate()),
                            Exact(p.revenue())});
  }
  return Emit(*response, human, machine, format, /*single=*/false);
}

int ExplainCommand(client::AttributionClient& client,
                   const std::string& customer, Format format) {
  auto selection = SelectionFromFlags(/*models_required=*/true);
  if (!selection.ok()) return UsageError(selection.status());
  v1::ExplainCustomerRequest request;
  *request.mutable_selection() = *selection;
  request.set_customer_id(customer);
  auto response = client.ExplainCustomer(request);
  if (!response.ok()) return Fail("explain", response.status());
  WarnUnknownChannels(client, response->unknown_channels());
  auto table_of = [&](bool human) {
    Table table;
    table.columns = {
        "event_id",         "occurred_at",         "revenue",
        "touches.event_id", "touches.occurred_at", "touches.channel",
        "touches.campaign"};
    if (human) {
      table.columns = {"conversion", "converted_at", "revenue", "touch",
                       "touched_at", "channel",      "campaign"};
    }
    for (const v1::ModelSpec& m : response->selection().models()) {
      table.columns.push_back(
          human ? ModelName(m)
                : absl::StrCat("touches.credits.", ModelName(m)));
    }
    for (const v1::ConversionExplanation& c : response->conversions()) {
      const Cell revenue = human ? Money(c.revenue()) : Exact(c.revenue());
      if (c.touches().empty()) {
        std::vector<Cell> row = {{c.event_id()},
                                 {FormatTimestamp(c.occurred_at())},
                                 revenue,
                                 {human ? "(no touch in lookback)" : ""},
                                 {""},
                                 {""},
                                 {""}};
        row.resize(table.columns.size());
        table.rows.push_back(std::move(row));
        continue;
      }
      for (const v1::TouchCredit& t : c.touches()) {
        std::vector<Cell> row = {
            {c.event_id()}, {FormatTimestamp(c.occurred_at())}, revenue,
            {t.event_id()}, {FormatTimestamp(t.occurred_at())}, {t.channel()},
            {t.campaign()}};
        for (double credit : t.credits()) {
          row.push_back(human ? Number(credit) : Exact(credit));
        }
        table.rows.push_back(std::move(row));
      }
    }
    return table;
  };
  return Emit(*response, table_of(true), table_of(false), format,
              /*single=*/false);
}

int BackupCommand(client::AttributionClient& client, const std::string& name,
                  Format format) {
  auto backup = client.CreateBackup(name);
  if (!backup.ok()) return Fail("backup", backup.status());
  Table table;
  table.columns = {"path", "sequence_number", "taken_at"};
  table.rows.push_back({{backup->path()},
                        Num(static_cast<int64_t>(backup->sequence_number())),
                        {FormatTimestamp(backup->taken_at())}});
  return Emit(*backup, table, table, format, /*single=*/true);
}

// A random key and the line that grants it, for the server's key file.
int NewKeyCommand() {
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::string bytes(32, '\0');
  if (!urandom.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    return Fail("new-key", absl::UnavailableError("cannot read /dev/urandom"));
  }
  const std::string key = absl::StrCat("ak_", absl::WebSafeBase64Escape(bytes));
  std::cout << "key (give it to the caller; it is not stored):\n  " << key
            << "\nkey file line (edit workspaces and roles):\n  "
            << api::HashKeyForFile(key) << "  WORKSPACE  reader,writer\n";
  return kOk;
}

ReportArgs ReportFlags() {
  ReportArgs a;
  a.workspace = absl::GetFlag(FLAGS_workspace);
  a.from = absl::GetFlag(FLAGS_start);
  a.to = absl::GetFlag(FLAGS_end);
  a.compare = absl::GetFlag(FLAGS_compare);
  a.model = absl::GetFlag(FLAGS_model);
  a.lookback = absl::GetFlag(FLAGS_lookback);
  a.group_by = absl::GetFlag(FLAGS_group_by);
  a.granularity = absl::GetFlag(FLAGS_granularity);
  a.horizons = absl::GetFlag(FLAGS_horizon_days);
  a.intervals = absl::GetFlag(FLAGS_intervals);
  a.level = absl::GetFlag(FLAGS_level);
  a.replicates = absl::GetFlag(FLAGS_replicates);
  a.credit_models = absl::GetFlag(FLAGS_credit_models);
  a.no_intervals = absl::GetFlag(FLAGS_no_intervals);
  a.paper = absl::GetFlag(FLAGS_paper);
  a.title = absl::GetFlag(FLAGS_title);
  return a;
}

// report page: the page from the server, written to --out and printed to
// --pdf.
int ReportPageCommand(client::AttributionClient& client, Format format) {
  const std::string out = absl::GetFlag(FLAGS_out);
  const std::string pdf = absl::GetFlag(FLAGS_pdf);
  if (out.empty() && pdf.empty()) {
    return UsageError(absl::InvalidArgumentError(
        "--out: give --out FILE.html (\"-\" for stdout), --pdf FILE.pdf, or "
        "both"));
  }
  auto request = BuildReportPageRequest(ReportFlags());
  if (!request.ok()) return UsageError(request.status());
  std::string chromium;
  if (!pdf.empty()) {
    absl::StatusOr<std::string> found =
        FindChromium(absl::GetFlag(FLAGS_chromium));
    if (!found.ok()) return UsageError(found.status());
    chromium = *found;
  }
  auto response = client.ReportPage(*request);
  if (!response.ok()) return Fail("report page", response.status());
  Table table;
  table.columns = {"file", "bytes", "pages"};
  if (out == "-") {
    std::cout << response->html();
  } else if (!out.empty()) {
    std::ofstream file(out, std::ios::binary);
    file << response->html();
    file.close();
    if (!file) {
      return UsageError(absl::InvalidArgumentError(
          absl::StrCat("--out: cannot write ", out)));
    }
    table.rows.push_back(
        {{out}, Num(static_cast<int64_t>(response->html().size())), {""}});
  }
  if (!pdf.empty()) {
    absl::StatusOr<int> pages = PrintToPdf(chromium, response->html(), pdf);
    if (!pages.ok()) {
      std::cerr << "attributionctl: report page --pdf: "
                << pages.status().message() << "\n";
      return kFailed;
    }
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(pdf, ec);
    table.rows.push_back(
        {{pdf}, Num(static_cast<int64_t>(ec ? 0 : bytes)), Num(*pages)});
  }
  // The page itself went to stdout: nothing else may.
  if (out != "-") Print(table, format, /*single=*/false, std::cout);
  return kOk;
}

int ImportSpendCommand(client::AttributionClient& client,
                       const std::string& path, Format format) {
  absl::StatusOr<size_t> batch_size = BatchSize();
  if (!batch_size.ok()) return UsageError(batch_size.status());
  std::ifstream file;
  std::istream* in = OpenInput(path, &file);
  if (in == nullptr) {
    return UsageError(
        absl::NotFoundError(absl::StrCat(path, ": cannot open the file")));
  }
  const SpendImportSummary summary = ImportSpend(
      client, *in, absl::GetFlag(FLAGS_workspace), *batch_size, &std::cerr);
  if (!summary.status.ok() && summary.rows == 0) {
    return absl::IsInvalidArgument(summary.status)
               ? UsageError(absl::InvalidArgumentError(
                     absl::StrCat(path, ": ", summary.status.message())))
               : Fail(path, summary.status);
  }
  Table table;
  table.columns = {"rows", "stored", "changed", "rejected"};
  table.rows.push_back({Num(summary.rows), Num(summary.stored),
                        Num(summary.changed), Num(summary.rejected)});
  Print(table, format, /*single=*/true, std::cout);
  if (!summary.status.ok()) return Fail("import spend", summary.status);
  return summary.rejected > 0 ? kRowsRejected : kOk;
}

// Sends a report request built from the flags and prints the answer:
// table(response, human) as a table or CSV, the message itself as JSON.
template <typename Request, typename Call, typename ToTable>
int RunReport(const absl::StatusOr<Request>& request, Format format, Call call,
              ToTable table) {
  if (!request.ok()) return UsageError(request.status());
  auto response = call(*request);
  if (!response.ok()) return Fail("report", response.status());
  return Emit(*response, table(*response, true), table(*response, false),
              format, /*single=*/false);
}

int ReportCommand(client::AttributionClient& client, const std::string& kind,
                  Format format) {
  const ReportArgs args = ReportFlags();
  if (kind == "page") return ReportPageCommand(client, format);
  if (kind == "channels" || kind == "summary") {
    auto request = BuildChannelReportRequest(args);
    if (!request.ok()) return UsageError(request.status());
    auto response = client.ChannelReport(*request);
    if (!response.ok()) return Fail("report", response.status());
    if (kind == "summary") {
      const std::vector<SummaryLine> lines = Summary(*response);
      if (format == Format::kTable) {
        for (const SummaryLine& line : lines) std::cout << line.text << "\n";
        return kOk;
      }
      Print(SummaryTable(lines), format, /*single=*/false, std::cout);
      return kOk;
    }
    return Emit(*response, ChannelReportTable(*response, true),
                ChannelReportTable(*response, false), format,
                /*single=*/false);
  }
  if (kind == "cashflow" || kind == "cash_flow") {
    return RunReport(
        BuildCashFlowRequest(args), format,
        [&](const auto& r) { return client.CashFlow(r); },
        [](const auto& r, bool human) { return CashFlowTable(r, human); });
  }
  if (kind == "conversation") {
    auto period = BuildPeriod(args);
    if (!period.ok()) return UsageError(period.status());
    v1::ConversationReportRequest request;
    request.set_workspace(args.workspace);
    *request.mutable_period() = *period;
    // The comparison as report channels takes it.
    auto channels = BuildChannelReportRequest(args);
    if (!channels.ok()) return UsageError(channels.status());
    request.set_no_comparison(channels->no_comparison());
    if (channels->has_compare())
      *request.mutable_compare() = channels->compare();
    auto response = client.ConversationReport(request);
    if (!response.ok()) return Fail("report conversation", response.status());
    const Table table = ConversationTable(*response);
    return Emit(*response, table, table, format, /*single=*/false);
  }
  if (kind == "questions") {
    v1::ListUnansweredQuestionsRequest request;
    request.set_workspace(args.workspace);
    request.set_brand(absl::GetFlag(FLAGS_brand));
    request.set_page_size(1000);
    Table table;
    table.columns = {"mention_id", "brand", "channel", "occurred_at", "author"};
    v1::ListUnansweredQuestionsResponse all;
    do {
      auto page = client.ListUnansweredQuestions(request);
      if (!page.ok()) return Fail("report questions", page.status());
      for (const v1::Mention& m : page->questions()) {
        table.rows.push_back({{m.mention_id()},
                              {m.brand()},
                              {m.channel()},
                              {FormatTimestamp(m.occurred_at())},
                              {m.author()}});
        *all.add_questions() = m;
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return Emit(all, table, table, format, /*single=*/false);
  }
  if (kind == "cohorts" || kind == "retention_cohorts") {
    return RunReport(
        BuildCohortsRequest(args), format,
        [&](const auto& r) { return client.RetentionCohorts(r); },
        [](const auto& r, bool human) { return CohortsTable(r, human); });
  }
  // goals
  auto settings = client.GetSettings(args.workspace);
  if (!settings.ok()) return Fail("report", settings.status());
  v1::ListGoalsRequest goals_request;
  goals_request.set_workspace(args.workspace);
  goals_request.set_owner(NormaliseName(absl::GetFlag(FLAGS_owner)));
  auto response = client.ListGoals(goals_request);
  if (!response.ok()) return Fail("report", response.status());
  return Emit(
      *response,
      GoalsTable(response->goals(), settings->reporting_currency(), true),
      GoalsTable(response->goals(), settings->reporting_currency(), false),
      format, /*single=*/false);
}

int SettingsCommand(client::AttributionClient& client, bool set,
                    Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  v1::WorkspaceSettings next;
  const std::string lookback = absl::GetFlag(FLAGS_lookback);
  const std::string horizon = absl::GetFlag(FLAGS_retention_horizon);
  const std::string lapse = absl::GetFlag(FLAGS_lapse_days);
  if (set) {
    // Check every flag before the first call.
    if (const std::string m = absl::GetFlag(FLAGS_gross_margin); !m.empty()) {
      double margin;
      if (!absl::SimpleAtod(m, &margin)) {
        return UsageError(absl::InvalidArgumentError(
            absl::StrCat("--gross_margin: \"", m, "\" is not a number")));
      }
      next.set_gross_margin(margin);
    }
    if (const std::string m = absl::GetFlag(FLAGS_model); !m.empty()) {
      auto model = ParseModelFlag(m);
      if (!model.ok()) return UsageError(model.status());
      *next.mutable_model() = *model;
    }
    if (!lookback.empty()) {
      auto d = ParseDurationFlag("lookback", lookback);
      if (!d.ok()) return UsageError(d.status());
      *next.mutable_lookback() = *d;
    }
    if (!horizon.empty()) {
      auto d = ParseDurationFlag("retention_horizon", horizon);
      if (!d.ok()) return UsageError(d.status());
      *next.mutable_retention_horizon() = *d;
    }
    if (!lapse.empty() && NormaliseName(lapse) != "none") {
      int days;
      if (!absl::SimpleAtoi(lapse, &days)) {
        return UsageError(absl::InvalidArgumentError(absl::StrCat(
            "--lapse_days: \"", lapse, "\" is not whole days or none")));
      }
      next.set_lapse_days(days);
    }
  }
  auto settings = client.GetSettings(workspace);
  if (!settings.ok()) return Fail("settings", settings.status());
  if (set) {
    v1::WorkspaceSettings merged = *settings;
    if (const std::string c = absl::GetFlag(FLAGS_reporting_currency);
        !c.empty()) {
      merged.set_reporting_currency(c);
    }
    if (!absl::GetFlag(FLAGS_gross_margin).empty()) {
      merged.set_gross_margin(next.gross_margin());
    }
    if (next.has_model()) *merged.mutable_model() = next.model();
    if (!lookback.empty()) *merged.mutable_lookback() = next.lookback();
    if (!horizon.empty()) {
      *merged.mutable_retention_horizon() = next.retention_horizon();
    }
    if (next.has_lapse_days()) {
      merged.set_lapse_days(next.lapse_days());
    } else if (!lapse.empty()) {
      merged.clear_lapse_days();  // none
    }
    settings = client.UpdateSettings(merged);
    if (!settings.ok()) return Fail("settings", settings.status());
  }
  Table table;
  table.columns = {"workspace", "reporting_currency", "gross_margin",
                   "model",     "lookback_days",      "retention_horizon_days",
                   "lapse_days"};
  table.rows.push_back(
      {{settings->workspace()},
       {settings->reporting_currency()},
       Exact(settings->gross_margin()),
       {ModelName(settings->model())},
       Exact(settings->lookback().seconds() / 86400.0),
       Exact(settings->retention_horizon().seconds() / 86400.0),
       settings->has_lapse_days() ? Num(settings->lapse_days())
                                  : Cell{"none"}});
  return Emit(*settings, table, table, format, /*single=*/true);
}

int GoalCommand(client::AttributionClient& client, const std::string& action,
                const std::string& name, Format format,
                const absl::flat_hash_set<std::string>& given) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  if (action == "delete") {
    auto deleted = client.DeleteGoal(workspace, name);
    if (!deleted.ok()) return Fail("goal delete", deleted.status());
    if (format == Format::kJson) {
      std::cout << MessageJson(*deleted) << "\n";
    } else {
      std::cout << (deleted->deleted() ? "deleted " : "no goal named ") << name
                << "\n";
    }
    return kOk;
  }
  if (!given.contains("target")) {
    return UsageError(absl::InvalidArgumentError(
        "--target: is required (the value the goal is to reach)"));
  }
  const std::string business_figure =
      NormaliseName(absl::GetFlag(FLAGS_business_figure));
  const std::string metric = business_figure.empty()
                                 ? NormaliseName(absl::GetFlag(FLAGS_metric))
                                 : std::string();
  if (business_figure.empty() && !MetricByName(metric).has_value()) {
    std::vector<std::string> names;
    for (int i = 0; i < kMetricCount; ++i) {
      names.push_back(Info(static_cast<MetricId>(i)).name);
    }
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        "--metric: \"", absl::GetFlag(FLAGS_metric), "\" is not one of ",
        absl::StrJoin(names, ", "), DidYouMean(metric, names))));
  }
  v1::SetGoalRequest request;
  request.set_workspace(workspace);
  v1::BusinessGoal* goal = request.mutable_goal();
  goal->set_name(name);
  goal->set_channel(
      std::string(absl::StripAsciiWhitespace(absl::GetFlag(FLAGS_channel))));
  goal->set_channel_group(NormaliseName(absl::GetFlag(FLAGS_channel_group)));
  goal->set_owner(NormaliseName(absl::GetFlag(FLAGS_owner)));
  goal->set_business_figure(business_figure);
  goal->set_metric(metric);
  goal->set_target(absl::GetFlag(FLAGS_target));
  auto period = BuildPeriod(ReportFlags());
  if (!period.ok()) return UsageError(period.status());
  *goal->mutable_period() = *period;
  if (!goal->channel().empty()) {
    auto d = client.DescribeWorkspace(workspace);
    if (d.ok() && std::find(d->channels().begin(), d->channels().end(),
                            goal->channel()) == d->channels().end()) {
      std::cerr << "attributionctl: warning: channel \"" << goal->channel()
                << "\" is not a channel of workspace " << workspace << " yet"
                << DidYouMean(goal->channel(),
                              {d->channels().begin(), d->channels().end()})
                << "\n";
    }
  }
  auto stored = client.SetGoal(request);
  if (!stored.ok()) return Fail("goal set", stored.status());
  if (format == Format::kJson) {
    std::cout << MessageJson(*stored) << "\n";
  } else {
    std::cout << "goal " << stored->name() << " set\n";
  }
  return kOk;
}

// groups set NAME --channels a,b | list | delete NAME
int GroupsCommand(client::AttributionClient& client, const std::string& action,
                  const std::string& name, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  if (action == "list") {
    auto list = client.ListChannelGroups(workspace);
    if (!list.ok()) return Fail("groups list", list.status());
    Table table;
    table.columns = {"name", "channels", "assigned"};
    for (const v1::ChannelGroup& g : list->groups()) {
      table.rows.push_back(
          {{g.name()},
           {absl::StrJoin(g.channels(), format == Format::kCsv ? ";" : " ")},
           {g.assigned() ? "true" : "false"}});
    }
    return Emit(*list, table, table, format, /*single=*/false);
  }
  if (action == "delete") {
    auto deleted = client.DeleteChannelGroup(workspace, name);
    if (!deleted.ok()) return Fail("groups delete", deleted.status());
    if (format == Format::kJson) {
      std::cout << MessageJson(*deleted) << "\n";
    } else {
      std::cout << "group " << name
                << " deleted: its channels are in their default groups\n";
    }
    return kOk;
  }
  v1::SetChannelGroupRequest request;
  request.set_workspace(workspace);
  request.mutable_group()->set_name(NormaliseName(name));
  for (const std::string& c : SplitList(absl::GetFlag(FLAGS_channels))) {
    request.mutable_group()->add_channels(NormaliseName(c));
  }
  if (request.group().channels().empty()) {
    return UsageError(absl::InvalidArgumentError(
        "--channels: is required (the group's channels, comma-separated)"));
  }
  auto set = client.SetChannelGroup(request);
  if (!set.ok()) return Fail("groups set", set.status());
  Table table;
  table.columns = {"name", "channels"};
  table.rows.push_back(
      {{set->name()},
       {absl::StrJoin(set->channels(), format == Format::kCsv ? ";" : " ")}});
  return Emit(*set, table, table, format, /*single=*/true);
}

// experiment set NAME | list | delete NAME
int ExperimentCommand(client::AttributionClient& client,
                      const std::vector<std::string>& args, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  const std::string& action = args[1];
  if (action == "list") {
    auto list = client.ListExperiments(workspace);
    if (!list.ok()) return Fail("experiment list", list.status());
    if (format == Format::kJson) {
      std::cout << MessageJson(*list) << "\n";
      return kOk;
    }
    Print(ExperimentsTable(
              {list->experiments().begin(), list->experiments().end()}),
          format, /*single=*/false, std::cout);
    return kOk;
  }
  if (action == "delete") {
    auto deleted = client.DeleteExperiment(workspace, args[2]);
    if (!deleted.ok()) return Fail("experiment delete", deleted.status());
    if (format == Format::kJson) {
      std::cout << MessageJson(*deleted) << "\n";
    } else {
      std::cout << "deleted " << args[2] << "\n";
    }
    return kOk;
  }
  ExperimentFields f;
  f.workspace = workspace;
  f.name = args[2];
  f.channel = absl::GetFlag(FLAGS_channel);
  f.goal = absl::GetFlag(FLAGS_goal_of_test).empty()
               ? absl::GetFlag(FLAGS_goal)
               : absl::GetFlag(FLAGS_goal_of_test);
  f.from = absl::GetFlag(FLAGS_start);
  f.to = absl::GetFlag(FLAGS_end);
  f.incremental_conversions = absl::GetFlag(FLAGS_incremental_conversions);
  f.standard_error = absl::GetFlag(FLAGS_standard_error);
  f.treated_customers = absl::GetFlag(FLAGS_treated_customers);
  f.treated_conversions = absl::GetFlag(FLAGS_treated_conversions);
  f.holdout_customers = absl::GetFlag(FLAGS_holdout_customers);
  f.holdout_conversions = absl::GetFlag(FLAGS_holdout_conversions);
  auto experiment = BuildExperiment(f);
  if (!experiment.ok()) return UsageError(experiment.status());
  auto stored = client.RecordExperiment(*experiment);
  if (!stored.ok()) return Fail("experiment set", stored.status());
  if (format == Format::kJson) {
    std::cout << MessageJson(*stored) << "\n";
  } else {
    std::cout << "experiment " << stored->name() << " set\n";
  }
  return kOk;
}

int ImportExperimentsCommand(client::AttributionClient& client,
                             const std::string& path, Format format) {
  std::ifstream in(path);
  if (!in) {
    return UsageError(
        absl::NotFoundError(absl::StrCat(path, ": cannot open the file")));
  }
  int recorded = 0;
  auto rejected = ImportExperiments(client, absl::GetFlag(FLAGS_workspace), in,
                                    std::cerr, &recorded);
  if (!rejected.ok()) {
    return absl::IsInvalidArgument(rejected.status())
               ? UsageError(absl::InvalidArgumentError(
                     absl::StrCat(path, ": ", rejected.status().message())))
               : Fail(path, rejected.status());
  }
  Table table;
  table.columns = {"recorded", "rejected"};
  table.rows.push_back({Num(recorded), Num(*rejected)});
  Print(table, format, /*single=*/true, std::cout);
  return *rejected > 0 ? kRowsRejected : kOk;
}

// --- Commands, their help, and the command line ---------------------------

struct Command {
  const char* name;      // Words, e.g. "report channels".
  const char* operands;  // e.g. "FILE", "" for none.
  const char* summary;
  std::vector<const char*> flags;
  const char* example;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"import events",
       "FILE",
       "Stream an event file (CSV or JSONL, \"-\" for stdin) to "
       "IngestEvents; with --bulk, send it to BulkImportEvents in parts "
       "for the server to parse and store as table files (history "
       "files).",
       {"input_format", "batch_size", "window", "bulk", "bulk_part_bytes"},
       "attributionctl import events events.csv"},
      {"import spend",
       "FILE",
       "Record spend rows (CSV: date,channel,campaign,amount,currency).",
       {"batch_size"},
       "attributionctl import spend spend.csv"},
      {"import experiments",
       "FILE",
       "Record lift or holdout tests (CSV: name,channel,goal,start,end, then "
       "incremental_conversions,standard_error or the four counts).",
       {},
       "attributionctl import experiments tests.csv"},
      {"import figures",
       "FILE",
       "Record business figures (CSV: series,date,value[,unit,good_when,"
       "aggregation,granularity]): employee turnover, hiring cost, rent...",
       {"batch_size"},
       "attributionctl import figures figures.csv"},
      {"import mentions",
       "FILE",
       "Record the public conversation (CSV: mention_id,brand,channel,"
       "occurred_at,sentiment,author,is_question,answered_at; brand empty "
       "for your own).",
       {"batch_size"},
       "attributionctl import mentions mentions.csv"},
      {"import links",
       "FILE",
       "Link identities to customers (CSV: identity_id,customer_id): their "
       "events join the customer's journey.",
       {"batch_size"},
       "attributionctl import links links.csv"},
      {"link",
       "IDENTITY CUSTOMER",
       "Link one identity (a social profile, a visitor) to a customer.",
       {},
       "attributionctl link visitor-9 c-42"},
      {"unlink",
       "IDENTITY",
       "Undo an identity's link: its events form its own journey again.",
       {},
       "attributionctl unlink visitor-9"},
      {"export events",
       "FILE",
       "Write the workspace's events as an event file (CSV or JSONL by "
       "--format or the file name; \"-\" for stdout) that re-imports into "
       "an empty workspace.",
       {"format", "customer_id", "start", "end"},
       "attributionctl export events backup.jsonl"},
      {"workspaces",
       "",
       "List the workspaces the key may read.",
       {},
       "attributionctl workspaces"},
      {"server-info",
       "",
       "The server's version, build, uptime, durability and auth modes.",
       {},
       "attributionctl server-info"},
      {"describe",
       "",
       "Count customers, touchpoints, conversions, channels.",
       {},
       "attributionctl describe"},
      {"journey",
       "CUSTOMER",
       "A customer's events in time order.",
       {},
       "attributionctl journey c-42"},
      {"erase",
       "CUSTOMER",
       "Remove every event of a customer (admin).",
       {},
       "attributionctl erase c-42"},
      {"attribute",
       "",
       "Which channels drove the goal: credit per model and channel.",
       {"goal", "model", "start", "end", "lookback", "retention_horizon",
        "group_by", "include_channels", "exclude_channels", "honour_stages",
        "intervals", "level", "replicates"},
       "attributionctl attribute --start 2026-01-01 --end 2026-04-01 "
       "--model linear,markov:2,shapley"},
      {"paths",
       "",
       "The most frequent paths (TopPaths; alias top-paths).",
       {"goal", "start", "end", "lookback", "retention_horizon", "group_by",
        "include_channels", "exclude_channels", "honour_stages", "limit",
        "collapse_repeats"},
       "attributionctl paths --start 2026-01-01 --end 2026-04-01 --limit 10"},
      {"explain",
       "CUSTOMER",
       "Credit of each touch of one customer's conversions (ExplainCustomer).",
       {"goal", "model", "start", "end", "lookback", "retention_horizon",
        "group_by", "include_channels", "exclude_channels", "honour_stages"},
       "attributionctl explain c-42 --start 2026-01-01 --end 2026-04-01 "
       "--model linear,shapley"},
      {"report channels",
       "",
       "The CFO's figures per channel against the comparison period.",
       {"start", "end", "compare", "model", "lookback", "group_by", "intervals",
        "level", "replicates"},
       "attributionctl report channels --start 2026-01-01 --end 2026-04-01"},
      {"report summary",
       "",
       "The few sentences that matter for the period.",
       {"start", "end", "compare", "model", "lookback", "group_by"},
       "attributionctl report summary --start 2026-01-01 --end 2026-04-01"},
      {"report cashflow",
       "",
       "Revenue in, spend out and running net per day or week.",
       {"start", "end", "model", "lookback", "granularity", "group_by"},
       "attributionctl report cashflow --start 2026-01-01 --end 2026-04-01 "
       "--granularity week"},
      {"report cohorts",
       "",
       "Retention, revenue per customer, LTV:CAC and payback by acquisition "
       "cohort.",
       {"start", "end", "model", "lookback", "granularity", "horizon_days",
        "group_by"},
       "attributionctl report cohorts --start 2026-01-01 --end 2026-07-01 "
       "--horizon_days 30,90"},
      {"report page",
       "",
       "The executive page: one self-contained HTML file (tiles, summary, "
       "charts, goals) for a browser or, with --pdf, paper.",
       {"start", "end", "compare", "model", "lookback", "group_by",
        "granularity", "credit_models", "no_intervals", "level", "replicates",
        "paper", "title", "out", "pdf", "chromium"},
       "attributionctl report page --start 2026-01-01 --end 2026-04-01 "
       "--out q1.html --pdf q1.pdf"},
      {"report conversation",
       "",
       "Share of voice, sentiment and answered questions per brand and "
       "channel, against the comparison period.",
       {"start", "end", "compare"},
       "attributionctl report conversation --start 2026-03-01 --end "
       "2026-04-01"},
      {"report questions",
       "",
       "The questions not answered yet, oldest first (--brand: a "
       "competitor's).",
       {"brand"},
       "attributionctl report questions"},
      {"report goals",
       "",
       "Every goal with its progress (--owner: one department's).",
       {"owner"},
       "attributionctl report goals --owner hr"},
      {"settings",
       "",
       "Show the workspace's settings.",
       {},
       "attributionctl settings"},
      {"settings set",
       "",
       "Change settings (only the flags given).",
       {"reporting_currency", "gross_margin", "model", "lookback",
        "retention_horizon", "lapse_days"},
       "attributionctl settings set --reporting_currency EUR "
       "--gross_margin 0.6"},
      {"goal set",
       "NAME",
       "Set a goal on a report figure.",
       {"metric", "target", "channel", "channel_group", "business_figure",
        "owner", "start", "end"},
       "attributionctl goal set q3-customers --metric new_customers --target "
       "500 --start 2026-07-01 --end 2026-10-01"},
      {"groups set",
       "NAME",
       "Put channels in a channel group of the workspace (they leave their "
       "default group).",
       {"channels"},
       "attributionctl groups set communities --channels discord,reddit"},
      {"groups list",
       "",
       "Every channel group in force with its channels.",
       {},
       "attributionctl groups list"},
      {"groups delete",
       "NAME",
       "Give a group's channels back to their default groups.",
       {},
       "attributionctl groups delete communities"},
      {"goal delete",
       "NAME",
       "Delete a goal.",
       {},
       "attributionctl goal delete q3-customers"},
      {"experiment set",
       "NAME",
       "Record a lift or holdout test the incremental model calibrates on.",
       {"channel", "goal_of_test", "goal", "start", "end",
        "incremental_conversions", "standard_error", "treated_customers",
        "treated_conversions", "holdout_customers", "holdout_conversions"},
       "attributionctl experiment set tiktok-q1 --channel tiktok --start "
       "2026-01-01 --end 2026-04-01 --incremental_conversions 40 "
       "--standard_error 12"},
      {"experiment list",
       "",
       "List the workspace's experiments.",
       {},
       "attributionctl experiment list"},
      {"experiment delete",
       "NAME",
       "Delete an experiment.",
       {},
       "attributionctl experiment delete tiktok-q1"},
      {"backup",
       "NAME",
       "Take an online backup under the server's --backup_root (admin on *).",
       {},
       "attributionctl backup nightly-2026-03-01"},
      {"new-key",
       "",
       "Make an API key and its key file line.",
       {},
       "attributionctl new-key"},
  };
  return kCommands;
}

constexpr const char* kGlobalFlags[] = {"server",  "workspace", "format",
                                        "api_key", "tls_ca",    "tls_cert",
                                        "tls_key"};

// Command-word aliases, after NormaliseName.
std::string CanonicalWord(const std::string& w) {
  if (w == "top_paths") return "paths";
  if (w == "explain_customer") return "explain";
  if (w == "get_journey") return "journey";
  if (w == "erase_customer") return "erase";
  if (w == "describe_workspace") return "describe";
  if (w == "list_workspaces") return "workspaces";
  if (w == "cash_flow") return "cashflow";
  if (w == "retention_cohorts") return "cohorts";
  if (w == "new_key") return "new-key";
  if (w == "server_info" || w == "get_server_info") return "server-info";
  return w;
}

// The command the first words of `words` name (the longest match), or null.
const Command* FindCommand(const std::vector<std::string>& words,
                           size_t* used) {
  const Command* best = nullptr;
  for (const Command& c : Commands()) {
    std::vector<std::string> parts = absl::StrSplit(c.name, ' ');
    if (parts.size() > words.size()) continue;
    bool match = true;
    for (size_t i = 0; i < parts.size(); ++i) {
      match = match && words[i] == parts[i];
    }
    if (match && (best == nullptr || parts.size() > *used)) {
      best = &c;
      *used = parts.size();
    }
  }
  return best;
}

void PrintFlag(const char* name, std::ostream& out) {
  const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name);
  if (f == nullptr) return;
  std::string def = f->DefaultValue();
  out << "  --" << name
      << (f->IsOfType<bool>() ? ""
                              : absl::StrCat("=", def.empty() ? "\"\"" : def))
      << "\n      " << f->Help() << "\n";
}

int GeneralHelp() {
  std::cout << "attributionctl: the command-line client of attributiond.\n\n"
               "usage: attributionctl [flags] COMMAND [operands] [flags]\n\n"
               "commands:\n";
  for (const Command& c : Commands()) {
    const std::string call =
        absl::StrCat(c.name, *c.operands ? " " : "", c.operands);
    std::cout << absl::StrFormat("  %-26s %s\n", call, c.summary);
  }
  std::cout << "\nflags of every command:\n";
  for (const char* f : kGlobalFlags) PrintFlag(f, std::cout);
  std::cout
      << "\n`attributionctl COMMAND --help` gives a command's flags and an "
         "example.\nFlags may be written --group_by or --group-by, "
         "--flag=value or --flag value.\n\nexit codes: 0 ok; 1 some rows "
         "were rejected (the rest imported); 2 usage error (unknown command "
         "or flag, bad value, unreadable file), nothing sent; 3 the server "
         "or the transport failed the call.\n";
  return kOk;
}

int CommandHelp(const Command& c) {
  std::cout << "usage: attributionctl [flags] " << c.name
            << (*c.operands ? " " : "") << c.operands << "\n\n"
            << c.summary << "\n";
  if (!c.flags.empty()) {
    std::cout << "\nflags:\n";
    for (const char* f : c.flags) PrintFlag(f, std::cout);
  }
  std::cout << "\nflags of every command: --"
            << absl::StrJoin(kGlobalFlags, " --")
            << " (attributionctl --help)\n\nexample:\n  " << c.example << "\n";
  return kOk;
}

// Flag aliases -> the flag's name.
std::string CanonicalFlag(const std::string& name) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"from", "start"},
      {"to", "end"},
      {"window_start", "start"},
      {"window_end", "end"},
      {"include", "include_channels"},
      {"exclude", "exclude_channels"},
      {"horizon", "retention_horizon"},
      {"collapse", "collapse_repeats"},
      {"estimate", "incremental_conversions"},
      {"horizons", "horizon_days"},
      {"currency", "reporting_currency"},
      {"models", "model"},
  };
  for (const auto& [alias, flag] : kAliases) {
    if (name == alias) return flag;
  }
  return name;
}

std::vector<std::string> OurFlagNames() {
  std::vector<std::string> names;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "attributionctl")) {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct CommandLine {
  std::vector<std::string> words;          // Command words and operands.
  absl::flat_hash_set<std::string> given;  // Flags set, by name.
  bool help = false;
  bool version = false;
};

// Parses argv: flags anywhere (--name=value, --name value, --name and
// --noname for booleans), "--" ends them. InvalidArgument naming the flag,
// with "did you mean", on an unknown flag or a bad value.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv) {
  CommandLine out;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (flags_done || a == "-" || a.size() < 2 || a[0] != '-') {
      out.words.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "-h" || a == "--help" || a == "-help" || a == "--helpfull" ||
        a == "--helpshort") {
      out.help = true;
      continue;
    }
    if (a == "--version") {
      out.version = true;
      continue;
    }
    a = a.substr(a[1] == '-' ? 2 : 1);
    const size_t eq = a.find('=');
    std::string name = CanonicalFlag(NormaliseName(a.substr(0, eq)));
    std::optional<std::string> value;
    if (eq != std::string::npos) value = a.substr(eq + 1);
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no") && !value) {
      const absl::CommandLineFlag* negated =
          absl::FindCommandLineFlag(name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        flag = negated;
        name = name.substr(2);
        value = "false";
      }
    }
    if (flag == nullptr ||
        !absl::StrContains(flag->Filename(), "attributionctl")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", a.substr(0, eq),
                       DidYouMean(name, OurFlagNames())));
    }
    if (!value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": needs a value"));
      }
    }
    std::string error;
    if (!absl::FindCommandLineFlag(name)->ParseFrom(*value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": \"", *value, "\": ", error));
    }
    out.given.insert(name);
  }
  return out;
}

std::unique_ptr<client::AttributionClient> Connect(int* failed) {
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    client::TlsOptions tls;
    const std::string cert = absl::GetFlag(FLAGS_tls_cert);
    const std::string key = absl::GetFlag(FLAGS_tls_key);
    auto read = [](const std::string& path, std::string* out) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      *out = ss.str();
      return static_cast<bool>(in);
    };
    if (!read(ca, &tls.root_certs) ||
        (!cert.empty() && !read(cert, &tls.client_cert)) ||
        (!key.empty() && !read(key, &tls.client_key))) {
      *failed = UsageError(absl::NotFoundError(
          "--tls_ca/--tls_cert/--tls_key: cannot read a TLS file"));
      return nullptr;
    }
    return client::AttributionClient::Connect(absl::GetFlag(FLAGS_server), tls);
  }
  return client::AttributionClient::Connect(absl::GetFlag(FLAGS_server));
}

int Main(int argc, char** argv) {
  absl::StatusOr<CommandLine> line = ParseCommandLine(argc, argv);
  if (!line.ok()) return UsageError(line.status());
  const std::vector<std::string>& words = line->words;
  // Command words are normalised; operands (file names, ids) are kept.
  std::vector<std::string> normalised;
  for (const std::string& w : words) {
    normalised.push_back(CanonicalWord(NormaliseName(w)));
  }
  size_t used = 0;
  const Command* command = FindCommand(normalised, &used);
  if (line->help) return command ? CommandHelp(*command) : GeneralHelp();
  if (line->version) {
    std::cout << "attributionctl " << kVersion << " (" << kBuildType << ")\n";
    return kOk;
  }
  if (words.empty()) return GeneralHelp(), kUsage;
  if (command == nullptr) {
    // The nearest whole command ("report chanels"), else the nearest
    // first word ("atribute").
    std::vector<std::string> full, first;
    for (const Command& c : Commands()) {
      full.push_back(c.name);
      first.push_back(full.back().substr(0, full.back().find(' ')));
    }
    std::string hint = DidYouMean(absl::StrJoin(normalised, " "), full);
    if (hint.empty()) hint = DidYouMean(normalised[0], first);
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        "unknown command \"", absl::StrJoin(words, " "), "\"", hint)));
  }
  const std::vector<std::string> operands(words.begin() + used, words.end());
  const size_t wanted = *command->operands
                            ? std::vector<absl::string_view>(
                                  absl::StrSplit(command->operands, ' '))
                                  .size()
                            : 0;
  if (operands.size() != wanted) {
    return UsageError(absl::InvalidArgumentError(absl::StrCat(
        command->name, ": takes ",
        wanted == 1  ? absl::StrCat("one operand, ", command->operands)
        : wanted > 1 ? absl::StrCat(wanted, " operands, ", command->operands)
                     : "no operand",
        operands.empty()
            ? ""
            : absl::StrCat(", not \"", absl::StrJoin(operands, " "), "\""))));
  }
  const std::string name = command->name;
  const std::string operand = wanted ? operands[0] : "";
  if (name == "new-key") return NewKeyCommand();
  absl::StatusOr<Format> format = Format::kTable;
  if (name != "export events") {
    format = ParseFormat(NormaliseName(absl::GetFlag(FLAGS_format)));
    if (!format.ok()) return UsageError(format.status());
  }
  int failed = kOk;
  std::unique_ptr<client::AttributionClient> client = Connect(&failed);
  if (client == nullptr) return failed;
  client->set_api_key(absl::GetFlag(FLAGS_api_key));
  if (name == "import events") {
    return ImportEventsCommand(*client, operand, *format);
  }
  if (name == "import spend") {
    return ImportSpendCommand(*client, operand, *format);
  }
  if (name == "import experiments") {
    return ImportExperimentsCommand(*client, operand, *format);
  }
  if (name == "import figures") {
    return ImportFiguresCommand(*client, operand, *format);
  }
  if (name == "import mentions") {
    return ImportMentionsCommand(*client, operand, *format);
  }
  if (name == "import links") {
    return ImportLinksCommand(*client, operand, *format);
  }
  if (name == "link") return LinkCommand(*client, operands, *format);
  if (name == "unlink") return UnlinkCommand(*client, operand, *format);
  if (name == "export events") return ExportEventsCommand(*client, operand);
  if (name == "workspaces") return WorkspacesCommand(*client, *format);
  if (name == "server-info") return ServerInfoCommand(*client, *format);
  if (name == "describe") return DescribeCommand(*client, *format);
  if (name == "journey") return JourneyCommand(*client, operand, *format);
  if (name == "erase") return EraseCommand(*client, operand, *format);
  if (name == "attribute") return AttributeCommand(*client, *format);
  if (name == "paths") return PathsCommand(*client, *format);
  if (name == "explain") return ExplainCommand(*client, operand, *format);
  if (name == "backup") return BackupCommand(*client, operand, *format);
  if (absl::StartsWith(name, "report ")) {
    return ReportCommand(*client, name.substr(7), *format);
  }
  if (name == "settings" || name == "settings set") {
    return SettingsCommand(*client, name == "settings set", *format);
  }
  if (absl::StartsWith(name, "groups ")) {
    return GroupsCommand(*client, name.substr(7), operand, *format);
  }
  if (absl::StartsWith(name, "goal ")) {
    return GoalCommand(*client, name.substr(5), operand, *format, line->given);
  }
  // experiment set|list|delete
  std::vector<std::string> args = {"experiment", name.substr(11), operand};
  return ExperimentCommand(*client, args, *format);
}

}  // namespace
}  // namespace attribution::cli

int main(int argc, char** argv) { return attribution::cli::Main(argc, argv); }
