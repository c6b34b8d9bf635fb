// Checks the attribution engine against a public reference: a path file in
// the ChannelAttribution format (path;total_conversions;total_conversion_value;
// total_null) and the expected results beside it.
//
//   validate_pathdata --data_dir=../shared/reference/pathdata
//   [--server=HOST:PORT]
//
// Every row becomes its journeys as events: one customer per journey, its
// touches an hour apart, the purchase an hour after the last touch (the row's
// value split over its conversions, exactly, in micros). They are imported
// through IngestEvents into the real server (started here on a temp folder
// unless --server is given), Attribute runs for ACQUISITION, and each model is
// compared with expected_conversions.csv and expected_value.csv. Exit 0 when
// every figure agrees to 1e-6 relative, 1 when one does not, 2 on an error,
// 77 when the data folder is absent (ctest counts that as skipped).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/server_process.h"

ABSL_FLAG(std::string, data_dir, "../shared/reference/pathdata",
          "Folder with PathData.csv, expected_conversions.csv and "
          "expected_value.csv.");
ABSL_FLAG(std::string, server, "",
          "Use this server instead of starting one (host:port).");
ABSL_FLAG(std::string, workspace, "pathdata", "Workspace to import into.");
ABSL_FLAG(double, tolerance, 1e-6, "Largest relative difference accepted.");

namespace attribution {
namespace {

constexpr int64_t kBaseSeconds = 1'767'225'600;  // 2026-01-01T00:00:00Z.
constexpr int64_t kHour = 3600;

// column -> channel -> value.
using Table = std::map<std::string, std::map<std::string, double>>;

bool ReadTable(const std::string& path, Table* table) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return false;
  // Cells are trimmed: the reference files end their lines in CRLF.
  std::vector<std::string> header;
  for (absl::string_view h : absl::StrSplit(line, ',')) {
    header.emplace_back(absl::StripAsciiWhitespace(h));
  }
  while (std::getline(in, line)) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    std::vector<std::string> cells;
    for (absl::string_view c : absl::StrSplit(line, ',')) {
      cells.emplace_back(absl::StripAsciiWhitespace(c));
    }
    for (size_t c = 1; c < cells.size() && c < header.size(); ++c) {
      double v;
      if (!absl::SimpleAtod(cells[c], &v)) return false;
      (*table)[header[c]][cells[0]] = v;
    }
  }
  return true;
}

v1::Event Touch(const std::string& id, const std::string& customer,
                const std::string& channel, int64_t seconds) {
  v1::Event e;
  auto* t = e.mutable_touchpoint();
  t->set_event_id(id);
  t->set_customer_id(customer);
  t->mutable_occurred_at()->set_seconds(seconds);
  t->set_channel(channel);
  t->set_interaction(v1::INTERACTION_CLICK);
  return e;
}

int Import(client::AttributionClient& client, const std::string& path_file,
           int64_t* events_sent) {
  std::ifstream in(path_file);
  std::string line;
  if (!std::getline(in, line)) {
    std::fprintf(stderr, "cannot read %s\n", path_file.c_str());
    return 2;
  }
  auto stream = client.StartIngest();
  v1::IngestEventsRequest batch;
  uint64_t sequence = 0;
  int64_t sent = 0;
  auto flush = [&] {
    if (batch.events_size() == 0) return true;
    batch.set_workspace(absl::GetFlag(FLAGS_workspace));
    batch.set_sequence(++sequence);
    sent += batch.events_size();
    const bool ok = stream->Send(batch);
    batch.clear_events();
    return ok;
  };
  int64_t row = 0;
  while (std::getline(in, line)) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ++row;
    std::vector<std::string> f;
    for (absl::string_view x : absl::StrSplit(line, ';')) {
      f.emplace_back(absl::StripAsciiWhitespace(x));
    }
    int64_t conversions = 0, nulls = 0;
    double value = 0;
    if (f.size() != 4 || !absl::SimpleAtoi(f[1], &conversions) ||
        !absl::SimpleAtod(f[2], &value) || !absl::SimpleAtoi(f[3], &nulls)) {
      std::fprintf(stderr, "row %ld: malformed: %s\n", static_cast<long>(row),
                   line.c_str());
      return 2;
    }
    const std::vector<std::string> channels = absl::StrSplit(f[0], " > ");
    const int64_t value_micros = std::llround(value * 1e6);
    for (int64_t k = 0; k < conversions + nulls; ++k) {
      const std::string customer = absl::StrCat("r", row, "-", k);
      for (size_t i = 0; i < channels.size(); ++i) {
        *batch.add_events() =
            Touch(absl::StrCat(customer, "-t", i), customer,
                  std::string(absl::StripAsciiWhitespace(channels[i])),
                  kBaseSeconds + static_cast<int64_t>(i) * kHour);
      }
      if (k < conversions) {
        // The row's value, split exactly: the first conversion takes the
        // remainder.
        int64_t micros = value_micros / conversions;
        if (k == 0) micros += value_micros % conversions;
        v1::Event e;
        auto* c = e.mutable_conversion();
        c->set_event_id(absl::StrCat(customer, "-p"));
        c->set_customer_id(customer);
        c->mutable_occurred_at()->set_seconds(
            kBaseSeconds + static_cast<int64_t>(channels.size()) * kHour);
        c->set_kind(v1::CONVERSION_KIND_PURCHASE);
        c->set_revenue_micros(micros);
        *batch.add_events() = std::move(e);
      }
      if (batch.events_size() >= 2000 && !flush()) break;
    }
  }
  flush();
  stream->CloseSend();
  v1::IngestEventsResponse ack;
  int64_t stored = 0, duplicates = 0;
  while (stream->Read(&ack)) {
    if (ack.has_error()) {
      std::fprintf(stderr, "batch %lu rejected: %s\n",
                   static_cast<unsigned long>(ack.sequence()),
                   ack.error().message().c_str());
      return 2;
    }
    stored += ack.stored();
    duplicates += ack.duplicates();
  }
  absl::Status s = stream->Finish();
  if (!s.ok() || stored + duplicates != sent) {
    std::fprintf(stderr, "import failed: %s\n", s.ToString().c_str());
    return 2;
  }
  std::printf("imported %ld rows as %ld events (%ld new)\n",
              static_cast<long>(row), static_cast<long>(sent),
              static_cast<long>(stored));
  *events_sent = sent;
  return 0;
}

int Run() {
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  const std::string paths = dir + "/PathData.csv";
  if (!std::filesystem::exists(paths)) {
    std::printf("no %s: skipped\n", paths.c_str());
    return 77;
  }
  Table expected;
  if (!ReadTable(dir + "/expected_conversions.csv", &expected) ||
      !ReadTable(dir + "/expected_value.csv", &expected)) {
    std::fprintf(stderr, "cannot read the expected tables in %s\n",
                 dir.c_str());
    return 2;
  }

  testing::TempDir tmp;
  std::unique_ptr<testing::ServerProcess> server;
  std::string address = absl::GetFlag(FLAGS_server);
  if (address.empty()) {
    auto started = testing::ServerProcess::Start(tmp.path() + "/db");
    if (!started.ok()) {
      std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
      return 2;
    }
    server = std::move(*started);
    address = server->address();
  }
  auto client = client::AttributionClient::Connect(address);
  int64_t events = 0;
  if (int rc = Import(*client, paths, &events); rc != 0) return rc;

  struct Column {
    const char* name;
    v1::ModelSpec spec;
  };
  auto spec = [](v1::Model m, int order = 0) {
    v1::ModelSpec s;
    s.set_model(m);
    if (order > 0) s.set_order(order);
    return s;
  };
  const std::vector<Column> columns = {
      {"first_touch", spec(v1::MODEL_FIRST_TOUCH)},
      {"last_touch", spec(v1::MODEL_LAST_TOUCH)},
      {"linear", spec(v1::MODEL_LINEAR)},
      {"position_based_40_20_40", spec(v1::MODEL_POSITION_BASED)},
      {"markov_order1", spec(v1::MODEL_MARKOV, 1)},
      {"markov_order2", spec(v1::MODEL_MARKOV, 2)},
      {"markov_order3", spec(v1::MODEL_MARKOV, 3)},
  };
  v1::AttributeRequest request;
  request.set_workspace(absl::GetFlag(FLAGS_workspace));
  request.set_goal(v1::GOAL_ACQUISITION);
  request.mutable_window_start()->set_seconds(kBaseSeconds);
  request.mutable_window_end()->set_seconds(kBaseSeconds + 30 * 86400);
  for (const Column& c : columns) *request.add_models() = c.spec;

  grpc::ClientContext ctx;
  v1::AttributeResponse response;
  auto stub = v1::AttributionService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::Status s = stub->Attribute(&ctx, request, &response);
  if (!s.ok()) {
    std::fprintf(stderr, "Attribute: %s\n", s.error_message().c_str());
    return 2;
  }
  const auto& t = response.totals();
  std::printf(
      "conversions %ld, converting journeys %ld, non-converting %ld, "
      "distinct paths %ld\n",
      static_cast<long>(t.conversions()),
      static_cast<long>(t.converting_journeys()),
      static_cast<long>(t.non_converting_journeys()),
      static_cast<long>(t.distinct_paths()));

  const double tolerance = absl::GetFlag(FLAGS_tolerance);
  double worst = 0;
  int failures = 0;
  int compared = 0;
  std::printf("%-26s %-8s %16s %16s %10s\n", "column", "channel", "expected",
              "got", "rel.diff");
  for (size_t m = 0; m < columns.size(); ++m) {
    for (const bool value : {false, true}) {
      const std::string column =
          absl::StrCat(columns[m].name, value ? "_value" : "");
      auto want = expected.find(column);
      if (want == expected.end()) continue;
      for (const v1::GroupCredit& g : response.results(m).groups()) {
        auto e = want->second.find(g.channel());
        if (e == want->second.end()) continue;
        const double got = value ? g.revenue() : g.conversions();
        const double rel =
            std::abs(got - e->second) / std::max(std::abs(e->second), 1e-12);
        worst = std::max(worst, rel);
        ++compared;
        const bool bad = rel > tolerance;
        failures += bad;
        std::printf("%-26s %-8s %16.6f %16.6f %10.2e%s\n", column.c_str(),
                    g.channel().c_str(), e->second, got, rel,
                    bad ? "  MISMATCH" : "");
      }
    }
  }
  std::printf(
      "%d figures compared, %d over %.0e, worst relative difference "
      "%.2e\n",
      compared, failures, tolerance, worst);
  return failures == 0 && compared > 0 ? 0 : 1;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}
