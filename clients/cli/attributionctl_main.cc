// attributionctl: command-line client of the attribution service.
//
//   attributionctl [flags] import events FILE   (CSV or JSONL; "-" = stdin)
//   attributionctl [flags] journey CUSTOMER
//   attributionctl [flags] erase CUSTOMER
//   attributionctl [flags] describe
//   attributionctl [flags] attribute | paths | explain CUSTOMER
//   attributionctl [flags] backup NAME
//
// Exit codes: 0 success; 1 some rows were rejected (the rest imported);
// 2 usage error, bad file, or a failed call.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "clients/cli/attribution_args.h"
#include "clients/cli/event_rows.h"
#include "clients/cli/experiment_command.h"
#include "clients/cli/importer.h"
#include "clients/cli/output.h"
#include "clients/cli/report_view.h"
#include "clients/cli/spend_import.h"
#include "clients/cpp/attribution_client.h"
#include "service/api/api_keys.h"

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
ABSL_FLAG(std::string, format, "table", "Output: table, json or csv.");
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
          ".json are JSONL, anything else CSV).");
ABSL_FLAG(int, batch_size, 1000, "import: events per streamed message.");
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
          "(conversions_low/high, revenue_low/high columns); report "
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
ABSL_FLAG(std::string, estimate, "",
          "experiment set: the incremental conversions the test measured.");
ABSL_FLAG(std::string, standard_error, "",
          "experiment set: the standard error of --estimate.");
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
ABSL_FLAG(std::string, horizons, "",
          "report cohorts: days after acquisition, e.g. 30,60,90 (default "
          "30,60,90,180,365).");
ABSL_FLAG(std::string, currency, "", "settings set: the reporting currency.");
ABSL_FLAG(std::string, gross_margin, "",
          "settings set: share of revenue that is gross profit, 0 to 1.");
ABSL_FLAG(std::string, metric, "",
          "goal set: the figure, e.g. new_customers, cac, roas, churn_rate.");
ABSL_FLAG(double, target, 0, "goal set: the value to reach.");
ABSL_FLAG(std::string, channel, "", "goal set: a channel, or empty for all.");
ABSL_FLAG(std::string, from, "", "Window start: 2026-01-01 or RFC 3339.");
ABSL_FLAG(std::string, to, "", "Window end (exclusive).");
ABSL_FLAG(std::string, lookback, "",
          "e.g. 30d; default 30d for acquisition, 90d otherwise.");
ABSL_FLAG(std::string, horizon, "", "retention horizon, e.g. 90d (default).");
ABSL_FLAG(std::string, group_by, "channel", "channel or campaign.");
ABSL_FLAG(std::string, include, "", "Only these channels (comma-separated).");
ABSL_FLAG(std::string, exclude, "", "Leave these channels out.");
ABSL_FLAG(bool, honour_stages, false,
          "A touch tagged with a stage counts only toward that stage's goal.");
ABSL_FLAG(int, limit, 20, "paths: how many.");
ABSL_FLAG(bool, collapse, false, "paths: collapse consecutive repeats.");

namespace attribution::cli {
namespace {

constexpr int kOk = 0;
constexpr int kRowsRejected = 1;
constexpr int kFailed = 2;

int Fail(absl::string_view what, const absl::Status& s) {
  std::cerr << "attributionctl: " << what << ": "
            << absl::StatusCodeToString(s.code()) << ": " << s.message()
            << "\n";
  return kFailed;
}

Cell Num(int64_t v) { return {absl::StrCat(v), true}; }

int ImportEventsCommand(client::AttributionClient& client,
                        const std::string& path, Format format) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      return Fail(path, absl::NotFoundError("cannot open the file"));
    }
    in = &file;
  }
  std::string input_format = absl::GetFlag(FLAGS_input_format);
  if (input_format.empty()) {
    input_format = absl::EndsWith(path, ".jsonl") ||
                           absl::EndsWith(path, ".ndjson") ||
                           absl::EndsWith(path, ".json")
                       ? "jsonl"
                       : "csv";
  }
  std::unique_ptr<RowSource> source;
  if (input_format == "csv") {
    absl::StatusOr<std::unique_ptr<RowSource>> csv = NewCsvSource(*in);
    if (!csv.ok()) return Fail(path, csv.status());
    source = std::move(*csv);
  } else if (input_format == "jsonl") {
    source = NewJsonLinesSource(*in);
  } else {
    return Fail("--input_format",
                absl::InvalidArgumentError("must be csv or jsonl"));
  }
  ImportOptions options;
  options.workspace = absl::GetFlag(FLAGS_workspace);
  options.batch_size =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_batch_size)));
  options.window =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_window)));
  options.log = &std::cerr;
  ImportSummary summary = ImportEvents(client, *source, options);

  Table table;
  table.columns = {"rows",     "stored",  "duplicates",
                   "rejected", "seconds", "rows_per_second"};
  table.rows.push_back(
      {Num(summary.rows),
       Num(summary.stored),
       Num(summary.duplicates),
       Num(summary.rejected),
       {absl::StrFormat("%.2f", summary.seconds), true},
       Num(summary.seconds > 0
               ? static_cast<int64_t>(summary.rows / summary.seconds)
               : 0)});
  Print(table, format, /*single=*/true, std::cout);
  if (!summary.status.ok()) return Fail("import stream", summary.status);
  return summary.rejected > 0 ? kRowsRejected : kOk;
}

int JourneyCommand(client::AttributionClient& client,
                   const std::string& customer, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  absl::StatusOr<client::Journey> journey =
      client.GetJourney(workspace, customer);
  if (!journey.ok()) return Fail("journey", journey.status());
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
      cells.push_back({je.event().has_touchpoint()
                           ? (je.stage_derived() ? "true" : "false")
                           : ""});
    }
    table.rows.push_back(std::move(cells));
  }
  if (format == Format::kJson) {
    google::protobuf::Value doc;
    auto* fields = doc.mutable_struct_value()->mutable_fields();
    (*fields)["workspace"].set_string_value(workspace);
    (*fields)["customer_id"].set_string_value(customer);
    if (journey->has_first_purchase) {
      (*fields)["first_purchase_at"].set_string_value(
          FormatTimestamp(journey->first_purchase_at));
    } else {
      (*fields)["first_purchase_at"].set_null_value({});
    }
    *(*fields)["events"].mutable_list_value() = RowsToJson(table).list_value();
    std::cout << ToJson(doc) << "\n";
    return kOk;
  }
  Print(table, format, /*single=*/false, std::cout);
  return kOk;
}

int EraseCommand(client::AttributionClient& client, const std::string& customer,
                 Format format) {
  auto erased = client.EraseCustomer(absl::GetFlag(FLAGS_workspace), customer);
  if (!erased.ok()) return Fail("erase", erased.status());
  Table table;
  table.columns = {"customer_id", "touchpoints_removed", "conversions_removed"};
  table.rows.push_back({{customer},
                        Num(erased->touchpoints_removed()),
                        Num(erased->conversions_removed())});
  Print(table, format, /*single=*/true, std::cout);
  return kOk;
}

int DescribeCommand(client::AttributionClient& client, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  auto described = client.DescribeWorkspace(workspace);
  if (!described.ok()) return Fail("describe", described.status());
  std::string channels;
  for (const auto& c : described->channels()) {
    absl::StrAppend(&channels, channels.empty() ? "" : " ", c);
  }
  Table table;
  table.columns = {"workspace", "customers", "touchpoints", "conversions",
                   "channels"};
  table.rows.push_back({{workspace},
                        Num(described->customers()),
                        Num(described->touchpoints()),
                        Num(described->conversions()),
                        {channels}});
  Print(table, format, /*single=*/true, std::cout);
  return kOk;
}

absl::StatusOr<v1::AttributeRequest> SelectionFromFlags(bool models_required) {
  AttributionArgs a;
  a.workspace = absl::GetFlag(FLAGS_workspace);
  a.goal = absl::GetFlag(FLAGS_goal);
  a.models = models_required ? absl::GetFlag(FLAGS_model) : "";
  if (models_required && a.models.empty()) a.models = "linear";
  a.from = absl::GetFlag(FLAGS_from);
  a.to = absl::GetFlag(FLAGS_to);
  a.lookback = absl::GetFlag(FLAGS_lookback);
  a.horizon = absl::GetFlag(FLAGS_horizon);
  a.group_by = absl::GetFlag(FLAGS_group_by);
  a.include = absl::GetFlag(FLAGS_include);
  a.exclude = absl::GetFlag(FLAGS_exclude);
  a.honour_stages = absl::GetFlag(FLAGS_honour_stages);
  a.intervals = absl::GetFlag(FLAGS_intervals);
  a.level = absl::GetFlag(FLAGS_level);
  a.replicates = absl::GetFlag(FLAGS_replicates);
  return BuildAttributeRequest(a, models_required);
}

Cell Money(double v) { return {absl::StrFormat("%.2f", v), true}; }
Cell Number(double v, int decimals = 4) {
  return {absl::StrFormat("%.*f", decimals, v), true};
}

int AttributeCommand(client::AttributionClient& client, Format format) {
  auto request = SelectionFromFlags(/*models_required=*/true);
  if (!request.ok()) return Fail("usage", request.status());
  auto response = client.Attribute(*request);
  if (!response.ok()) return Fail("attribute", response.status());
  const v1::AttributionTotals& t = response->totals();
  Table table;
  table.columns = {"model",       "channel", "campaign",
                   "conversions", "revenue", "share"};
  const bool intervals = request->has_intervals();
  if (intervals) {
    table.columns.insert(
        table.columns.end(),
        {"conversions_low", "conversions_high", "revenue_low", "revenue_high"});
  }
  auto add_interval = [&](std::vector<Cell>& row, const v1::Interval& c,
                          const v1::Interval& v) {
    if (!intervals) return;
    row.push_back(Number(c.low()));
    row.push_back(Number(c.high()));
    row.push_back(Money(v.low()));
    row.push_back(Money(v.high()));
  };
  for (const v1::ModelResult& r : response->results()) {
    const std::string model = ModelName(r.model());
    for (const v1::GroupCredit& g : r.groups()) {
      std::vector<Cell> row = {{model},
                               {g.channel()},
                               {g.campaign()},
                               Number(g.conversions()),
                               Money(g.revenue()),
                               Number(g.share())};
      add_interval(row, g.conversions_interval(), g.revenue_interval());
      table.rows.push_back(std::move(row));
    }
    if (r.has_baseline()) {
      // incremental: what no channel caused; its share is of all the goal's
      // conversions.
      std::vector<Cell> row = {{model},
                               {"(baseline)"},
                               {""},
                               Number(r.baseline().conversions()),
                               Money(r.baseline().revenue()),
                               Number(r.baseline().share_of_conversions())};
      add_interval(row, r.baseline().conversions_interval(),
                   r.baseline().revenue_interval());
      table.rows.push_back(std::move(row));
    }
  }
  if (format == Format::kJson) {
    google::protobuf::Value doc;
    auto* fields = doc.mutable_struct_value()->mutable_fields();
    auto number = [&](const char* k, double v) {
      (*fields)[k].set_number_value(v);
    };
    number("conversions", static_cast<double>(t.conversions()));
    number("revenue", t.revenue());
    number("converting_journeys", static_cast<double>(t.converting_journeys()));
    number("non_converting_journeys",
           static_cast<double>(t.non_converting_journeys()));
    number("distinct_paths", static_cast<double>(t.distinct_paths()));
    number("conversions_without_touch",
           static_cast<double>(t.conversions_without_touch()));
    number("censored_customers", static_cast<double>(t.censored_customers()));
    *(*fields)["rows"].mutable_list_value() = RowsToJson(table).list_value();
    std::cout << ToJson(doc) << "\n";
    return kOk;
  }
  if (format == Format::kTable) {
    std::cout << absl::StrFormat(
        "%s, %s to %s: %d conversions (%.2f revenue), %d credited, %d "
        "without a touch in the lookback, %d non-converting journeys, %d "
        "distinct paths%s\n\n",
        absl::GetFlag(FLAGS_goal), absl::GetFlag(FLAGS_from),
        absl::GetFlag(FLAGS_to), t.conversions(), t.revenue(),
        t.converting_journeys(), t.conversions_without_touch(),
        t.non_converting_journeys(), t.distinct_paths(),
        t.censored_customers() > 0
            ? absl::StrCat(", ", t.censored_customers(),
                           " customers censored (horizon not elapsed)")
            : "");
  }
  Print(table, format, /*single=*/false, std::cout);
  return kOk;
}

int PathsCommand(client::AttributionClient& client, Format format) {
  auto selection = SelectionFromFlags(/*models_required=*/false);
  if (!selection.ok()) return Fail("usage", selection.status());
  v1::TopPathsRequest request;
  *request.mutable_selection() = *selection;
  request.set_collapse_repeats(absl::GetFlag(FLAGS_collapse));
  request.set_limit(absl::GetFlag(FLAGS_limit));
  auto response = client.TopPaths(request);
  if (!response.ok()) return Fail("paths", response.status());
  Table table;
  table.columns = {
      "path",   "journeys", "conversions", "non_conversions", "conversion_rate",
      "revenue"};
  for (const v1::PathStats& p : response->paths()) {
    table.rows.push_back({{absl::StrJoin(p.steps(), " > ")},
                          Num(p.conversions() + p.non_conversions()),
                          Num(p.conversions()),
                          Num(p.non_conversions()),
                          Number(p.conversion_rate()),
                          Money(p.revenue())});
  }
  Print(table, format, /*single=*/false, std::cout);
  return kOk;
}

int ExplainCommand(client::AttributionClient& client,
                   const std::string& customer, Format format) {
  auto selection = SelectionFromFlags(/*models_required=*/true);
  if (!selection.ok()) return Fail("usage", selection.status());
  v1::ExplainCustomerRequest request;
  *request.mutable_selection() = *selection;
  request.set_customer_id(customer);
  auto response = client.ExplainCustomer(request);
  if (!response.ok()) return Fail("explain", response.status());
  Table table;
  table.columns = {"conversion", "converted_at", "revenue", "touch",
                   "touched_at", "channel",      "campaign"};
  for (const v1::ModelSpec& m : response->selection().models()) {
    table.columns.push_back(ModelName(m));
  }
  for (const v1::ConversionExplanation& c : response->conversions()) {
    if (c.touches().empty()) {
      std::vector<Cell> row = {{c.event_id()},
                               {FormatTimestamp(c.occurred_at())},
                               Money(c.revenue()),
                               {"(no touch in lookback)"},
                               {""},
                               {""},
                               {""}};
      row.resize(table.columns.size());
      table.rows.push_back(std::move(row));
      continue;
    }
    for (const v1::TouchCredit& t : c.touches()) {
      std::vector<Cell> row = {{c.event_id()},
                               {FormatTimestamp(c.occurred_at())},
                               Money(c.revenue()),
                               {t.event_id()},
                               {FormatTimestamp(t.occurred_at())},
                               {t.channel()},
                               {t.campaign()}};
      for (double credit : t.credits()) row.push_back(Number(credit));
      table.rows.push_back(std::move(row));
    }
  }
  Print(table, format, /*single=*/false, std::cout);
  return kOk;
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
  Print(table, format, /*single=*/true, std::cout);
  return kOk;
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
  a.from = absl::GetFlag(FLAGS_from);
  a.to = absl::GetFlag(FLAGS_to);
  a.compare = absl::GetFlag(FLAGS_compare);
  a.model = absl::GetFlag(FLAGS_model);
  a.lookback = absl::GetFlag(FLAGS_lookback);
  a.group_by = absl::GetFlag(FLAGS_group_by);
  a.granularity = absl::GetFlag(FLAGS_granularity);
  a.horizons = absl::GetFlag(FLAGS_horizons);
  a.intervals = absl::GetFlag(FLAGS_intervals);
  a.level = absl::GetFlag(FLAGS_level);
  a.replicates = absl::GetFlag(FLAGS_replicates);
  return a;
}

int Usage();

int ImportSpendCommand(client::AttributionClient& client,
                       const std::string& path, Format format) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Fail(path, absl::NotFoundError("cannot open the file"));
    in = &file;
  }
  const SpendImportSummary summary = ImportSpend(
      client, *in, absl::GetFlag(FLAGS_workspace),
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_batch_size))),
      &std::cerr);
  if (!summary.status.ok() && summary.rows == 0) {
    return Fail(path, summary.status);
  }
  Table table;
  table.columns = {"rows", "stored", "changed", "rejected"};
  table.rows.push_back({Num(summary.rows), Num(summary.stored),
                        Num(summary.changed), Num(summary.rejected)});
  Print(table, format, /*single=*/true, std::cout);
  if (!summary.status.ok()) return Fail("import spend", summary.status);
  return summary.rejected > 0 ? kRowsRejected : kOk;
}

// Prints a report: JSON as the response message, else the table.
int PrintReport(const google::protobuf::Message& response, const Table& human,
                const Table& raw, Format format) {
  if (format == Format::kJson) {
    std::cout << ReportJson(response) << "\n";
  } else {
    Print(format == Format::kTable ? human : raw, format, /*single=*/false,
          std::cout);
  }
  return kOk;
}

// Sends a report request built from the flags and prints the answer:
// table(response, human) as a table or CSV, the message itself as JSON.
template <typename Request, typename Call, typename ToTable>
int RunReport(const absl::StatusOr<Request>& request, Format format, Call call,
              ToTable table) {
  if (!request.ok()) return Fail("usage", request.status());
  auto response = call(*request);
  if (!response.ok()) return Fail("report", response.status());
  return PrintReport(*response, table(*response, true), table(*response, false),
                     format);
}

int ReportCommand(client::AttributionClient& client, const std::string& kind,
                  Format format) {
  const ReportArgs args = ReportFlags();
  if (kind == "channels" || kind == "summary") {
    auto request = BuildChannelReportRequest(args);
    if (!request.ok()) return Fail("usage", request.status());
    auto response = client.ChannelReport(*request);
    if (!response.ok()) return Fail("report", response.status());
    if (kind == "summary") {
      const std::vector<std::string> lines = Summary(*response);
      if (format == Format::kJson) {
        google::protobuf::Value doc;
        for (const std::string& line : lines) {
          doc.mutable_list_value()->add_values()->set_string_value(line);
        }
        std::cout << ToJson(doc) << "\n";
      } else {
        for (const std::string& line : lines) std::cout << line << "\n";
      }
      return kOk;
    }
    return PrintReport(*response, ChannelReportTable(*response, true),
                       ChannelReportTable(*response, false), format);
  }
  if (kind == "cashflow") {
    return RunReport(
        BuildCashFlowRequest(args), format,
        [&](const auto& r) { return client.CashFlow(r); },
        [](const auto& r, bool human) { return CashFlowTable(r, human); });
  }
  if (kind == "cohorts") {
    return RunReport(
        BuildCohortsRequest(args), format,
        [&](const auto& r) { return client.RetentionCohorts(r); },
        [](const auto& r, bool human) { return CohortsTable(r, human); });
  }
  if (kind == "goals") {
    auto settings = client.GetSettings(args.workspace);
    if (!settings.ok()) return Fail("report", settings.status());
    auto response = client.ListGoals(args.workspace);
    if (!response.ok()) return Fail("report", response.status());
    return PrintReport(
        *response,
        GoalsTable(response->goals(), settings->reporting_currency(), true),
        GoalsTable(response->goals(), settings->reporting_currency(), false),
        format);
  }
  return Usage();
}

int SettingsCommand(client::AttributionClient& client, bool set,
                    Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  auto settings = client.GetSettings(workspace);
  if (!settings.ok()) return Fail("settings", settings.status());
  if (set) {
    v1::WorkspaceSettings next = *settings;
    if (const std::string c = absl::GetFlag(FLAGS_currency); !c.empty()) {
      next.set_reporting_currency(c);
    }
    if (const std::string m = absl::GetFlag(FLAGS_gross_margin); !m.empty()) {
      double margin;
      if (!absl::SimpleAtod(m, &margin)) {
        return Fail("usage", absl::InvalidArgumentError(
                                 "--gross_margin: a number from 0 to 1"));
      }
      next.set_gross_margin(margin);
    }
    if (const std::string m = absl::GetFlag(FLAGS_model); !m.empty()) {
      auto model = ParseModelFlag(m);
      if (!model.ok()) return Fail("usage", model.status());
      *next.mutable_model() = *model;
    }
    for (auto [flag, field] :
         {std::pair{&FLAGS_lookback, next.mutable_lookback()},
          std::pair{&FLAGS_horizon, next.mutable_retention_horizon()}}) {
      if (const std::string v = absl::GetFlag(*flag); !v.empty()) {
        auto d = ParseDurationFlag(
            flag == &FLAGS_lookback ? "lookback" : "horizon", v);
        if (!d.ok()) return Fail("usage", d.status());
        *field = *d;
      }
    }
    settings = client.UpdateSettings(next);
    if (!settings.ok()) return Fail("settings", settings.status());
  }
  if (format == Format::kJson) {
    std::cout << ReportJson(*settings) << "\n";
    return kOk;
  }
  Table table;
  table.columns = {"workspace", "reporting_currency", "gross_margin",
                   "model",     "lookback_days",      "retention_horizon_days"};
  table.rows.push_back(
      {{settings->workspace()},
       {settings->reporting_currency()},
       {absl::StrFormat("%g", settings->gross_margin()), true},
       {ModelName(settings->model())},
       {absl::StrFormat("%g", settings->lookback().seconds() / 86400.0), true},
       {absl::StrFormat("%g",
                        settings->retention_horizon().seconds() / 86400.0),
        true}});
  Print(table, format, /*single=*/true, std::cout);
  return kOk;
}

int GoalCommand(client::AttributionClient& client, const std::string& action,
                const std::string& name, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  if (action == "delete") {
    auto deleted = client.DeleteGoal(workspace, name);
    if (!deleted.ok()) return Fail("goal delete", deleted.status());
    std::cout << (deleted->deleted() ? "deleted " : "no goal named ") << name
              << "\n";
    return kOk;
  }
  if (action != "set") return Usage();
  v1::SetGoalRequest request;
  request.set_workspace(workspace);
  v1::BusinessGoal* goal = request.mutable_goal();
  goal->set_name(name);
  goal->set_channel(absl::GetFlag(FLAGS_channel));
  goal->set_metric(absl::GetFlag(FLAGS_metric));
  goal->set_target(absl::GetFlag(FLAGS_target));
  auto period = BuildPeriod(ReportFlags());
  if (!period.ok()) return Fail("usage", period.status());
  *goal->mutable_period() = *period;
  auto stored = client.SetGoal(request);
  if (!stored.ok()) return Fail("goal set", stored.status());
  if (format == Format::kJson) {
    std::cout << ReportJson(*stored) << "\n";
  } else {
    std::cout << "goal " << stored->name() << " set\n";
  }
  return kOk;
}

// experiment set NAME | list | delete NAME
int ExperimentCommand(client::AttributionClient& client,
                      const std::vector<char*>& args, Format format) {
  const std::string workspace = absl::GetFlag(FLAGS_workspace);
  const std::string action = args[2];
  if (action == "list" && args.size() == 3) {
    auto list = client.ListExperiments(workspace);
    if (!list.ok()) return Fail("experiment list", list.status());
    if (format == Format::kJson) {
      std::cout << ReportJson(*list) << "\n";
      return kOk;
    }
    Print(ExperimentsTable(
              {list->experiments().begin(), list->experiments().end()}),
          format, /*single=*/false, std::cout);
    return kOk;
  }
  if (action == "delete" && args.size() == 4) {
    auto deleted = client.DeleteExperiment(workspace, args[3]);
    if (!deleted.ok()) return Fail("experiment delete", deleted.status());
    std::cout << "deleted " << args[3] << "\n";
    return kOk;
  }
  if (action != "set" || args.size() != 4) return Usage();
  ExperimentFields f;
  f.workspace = workspace;
  f.name = args[3];
  f.channel = absl::GetFlag(FLAGS_channel);
  f.goal = absl::GetFlag(FLAGS_goal_of_test).empty()
               ? absl::GetFlag(FLAGS_goal)
               : absl::GetFlag(FLAGS_goal_of_test);
  f.from = absl::GetFlag(FLAGS_from);
  f.to = absl::GetFlag(FLAGS_to);
  f.incremental_conversions = absl::GetFlag(FLAGS_estimate);
  f.standard_error = absl::GetFlag(FLAGS_standard_error);
  f.treated_customers = absl::GetFlag(FLAGS_treated_customers);
  f.treated_conversions = absl::GetFlag(FLAGS_treated_conversions);
  f.holdout_customers = absl::GetFlag(FLAGS_holdout_customers);
  f.holdout_conversions = absl::GetFlag(FLAGS_holdout_conversions);
  auto experiment = BuildExperiment(f);
  if (!experiment.ok()) return Fail("usage", experiment.status());
  auto stored = client.RecordExperiment(*experiment);
  if (!stored.ok()) return Fail("experiment set", stored.status());
  if (format == Format::kJson) {
    std::cout << ReportJson(*stored) << "\n";
  } else {
    std::cout << "experiment " << stored->name() << " set\n";
  }
  return kOk;
}

int ImportExperimentsCommand(client::AttributionClient& client,
                             const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(path, absl::NotFoundError("cannot open the file"));
  int recorded = 0;
  auto rejected = ImportExperiments(client, absl::GetFlag(FLAGS_workspace), in,
                                    std::cerr, &recorded);
  if (!rejected.ok()) return Fail(path, rejected.status());
  std::cout << "experiments: recorded " << recorded << ", rejected "
            << *rejected << "\n";
  return *rejected > 0 ? kRowsRejected : kOk;
}

int Usage() {
  std::cerr
      << "usage:\n"
         "  attributionctl [flags] import events FILE\n"
         "  attributionctl [flags] journey CUSTOMER\n"
         "  attributionctl [flags] erase CUSTOMER\n"
         "  attributionctl [flags] describe\n"
         "  attributionctl [flags] attribute   (--goal --model --from --to "
         "--lookback --group-by ...)\n"
         "  attributionctl [flags] paths       (--goal --from --to "
         "--limit --collapse ...)\n"
         "  attributionctl [flags] explain CUSTOMER (--goal --model "
         "--from --to ...)\n"
         "  attributionctl [flags] import spend FILE   (CSV: "
         "date,channel,campaign,amount,currency)\n"
         "  attributionctl [flags] report channels|summary (--from --to "
         "[--compare --model --lookback --group-by --intervals])\n"
         "  attributionctl [flags] report cashflow (--from --to "
         "[--granularity=day|week])\n"
         "  attributionctl [flags] report cohorts  (--from --to "
         "[--granularity=month|week --horizons=30,60,90])\n"
         "  attributionctl [flags] report goals\n"
         "  attributionctl [flags] settings [set --currency --gross-margin "
         "--model --lookback --horizon]\n"
         "  attributionctl [flags] goal set NAME --metric --target "
         "[--channel] --from --to\n"
         "  attributionctl [flags] goal delete NAME\n"
         "  attributionctl [flags] experiment set NAME --channel --goal "
         "--from --to (--estimate --standard_error | --treated_customers "
         "--treated_conversions --holdout_customers --holdout_conversions)\n"
         "  attributionctl [flags] experiment list | experiment delete NAME\n"
         "  attributionctl [flags] import experiments FILE   (CSV: "
         "name,channel,goal,start,end, then estimate or counts columns)\n"
         "flags: --server --workspace --format=table|json|csv "
         "--input_format --batch_size --window (--helpfull for all)\n";
  return kFailed;
}

int Main(const std::vector<char*>& args) {
  absl::StatusOr<Format> format = ParseFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) return Fail("usage", format.status());
  if (args.size() < 2) return Usage();
  const std::string command = args[1];
  if (command == "new-key" && args.size() == 2) return NewKeyCommand();
  std::unique_ptr<client::AttributionClient> client;
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
      return Fail("--tls_ca/--tls_cert/--tls_key",
                  absl::NotFoundError("cannot read a TLS file"));
    }
    client =
        client::AttributionClient::Connect(absl::GetFlag(FLAGS_server), tls);
  } else {
    client = client::AttributionClient::Connect(absl::GetFlag(FLAGS_server));
  }
  client->set_api_key(absl::GetFlag(FLAGS_api_key));
  if (command == "import" && args.size() == 4 &&
      std::string(args[2]) == "events") {
    return ImportEventsCommand(*client, args[3], *format);
  }
  if (command == "import" && args.size() == 4 &&
      std::string(args[2]) == "spend") {
    return ImportSpendCommand(*client, args[3], *format);
  }
  if (command == "import" && args.size() == 4 &&
      std::string(args[2]) == "experiments") {
    return ImportExperimentsCommand(*client, args[3]);
  }
  if (command == "experiment" && args.size() >= 3) {
    return ExperimentCommand(*client, args, *format);
  }
  if (command == "report" && args.size() == 3) {
    return ReportCommand(*client, args[2], *format);
  }
  if (command == "settings" && args.size() <= 3) {
    if (args.size() == 3 && std::string(args[2]) != "set") return Usage();
    return SettingsCommand(*client, args.size() == 3, *format);
  }
  if (command == "goal" && args.size() == 4) {
    return GoalCommand(*client, args[2], args[3], *format);
  }
  if (command == "journey" && args.size() == 3) {
    return JourneyCommand(*client, args[2], *format);
  }
  if (command == "erase" && args.size() == 3) {
    return EraseCommand(*client, args[2], *format);
  }
  if (command == "describe" && args.size() == 2) {
    return DescribeCommand(*client, *format);
  }
  if (command == "backup" && args.size() == 3) {
    return BackupCommand(*client, args[2], *format);
  }
  if (command == "attribute" && args.size() == 2) {
    return AttributeCommand(*client, *format);
  }
  if (command == "paths" && args.size() == 2) {
    return PathsCommand(*client, *format);
  }
  if (command == "explain" && args.size() == 3) {
    return ExplainCommand(*client, args[2], *format);
  }
  return Usage();
}

}  // namespace
}  // namespace attribution::cli

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "attributionctl [flags] import events FILE | journey CUSTOMER | erase "
      "CUSTOMER | describe");
  // Flags may be spelled with dashes (--group-by) as well as underscores.
  std::vector<std::string> normalised(argv, argv + argc);
  for (std::string& a : normalised) {
    if (a.rfind("--", 0) != 0) continue;
    const size_t end = std::min(a.find('='), a.size());
    std::replace(a.begin() + 2, a.begin() + static_cast<long>(end), '-', '_');
  }
  std::vector<char*> raw;
  for (std::string& a : normalised) raw.push_back(a.data());
  std::vector<char*> args =
      absl::ParseCommandLine(static_cast<int>(raw.size()), raw.data());
  return attribution::cli::Main(args);
}
