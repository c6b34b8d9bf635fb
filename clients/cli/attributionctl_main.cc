// attributionctl: command-line client of the attribution service.
//
//   attributionctl [flags] import events FILE   (CSV or JSONL; "-" = stdin)
//   attributionctl [flags] journey CUSTOMER
//   attributionctl [flags] erase CUSTOMER
//   attributionctl [flags] describe
//
// Exit codes: 0 success; 1 some rows were rejected (the rest imported);
// 2 usage error, bad file, or a failed call.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/event_rows.h"
#include "clients/cli/importer.h"
#include "clients/cli/output.h"
#include "clients/cpp/attribution_client.h"

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
ABSL_FLAG(std::string, input_format, "",
          "import: csv or jsonl. Default: by file name (.jsonl, .ndjson and "
          ".json are JSONL, anything else CSV).");
ABSL_FLAG(int, batch_size, 1000, "import: events per streamed message.");
ABSL_FLAG(int, window, 16,
          "import: batches in flight before waiting for acks.");

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

int Usage() {
  std::cerr << "usage:\n"
               "  attributionctl [flags] import events FILE\n"
               "  attributionctl [flags] journey CUSTOMER\n"
               "  attributionctl [flags] erase CUSTOMER\n"
               "  attributionctl [flags] describe\n"
               "flags: --server --workspace --format=table|json|csv "
               "--input_format --batch_size --window (--helpfull for all)\n";
  return kFailed;
}

int Main(const std::vector<char*>& args) {
  absl::StatusOr<Format> format = ParseFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) return Fail("usage", format.status());
  if (args.size() < 2) return Usage();
  const std::string command = args[1];
  auto client = client::AttributionClient::Connect(absl::GetFlag(FLAGS_server));
  if (command == "import" && args.size() == 4 &&
      std::string(args[2]) == "events") {
    return ImportEventsCommand(*client, args[3], *format);
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
  return Usage();
}

}  // namespace
}  // namespace attribution::cli

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "attributionctl [flags] import events FILE | journey CUSTOMER | erase "
      "CUSTOMER | describe");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  return attribution::cli::Main(args);
}
