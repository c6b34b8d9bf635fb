// attributiond: the attribution gRPC server on an embedded RocksDB.
#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "service/api/api_keys.h"
#include "service/api/attribution_service_impl.h"
#include "service/api/metrics.h"
#include "service/api/report_service_impl.h"
#include "service/api/request_log.h"
#include "service/core/clock.h"
#include "service/core/limits.h"
#include "service/core/version.h"
#include "storage/rocksdb_event_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to listen on, host:port. Port 0 picks a free port (the "
          "chosen one is printed).");
ABSL_FLAG(
    std::string, data_dir, "attribution-data",
    "RocksDB folder, created if missing. Relative to the working folder.");
ABSL_FLAG(std::string, durability, "process",
          "'process': a batch is acknowledged once in the write-ahead log "
          "(survives a process crash). 'machine': the log is fsynced per "
          "batch (survives a machine crash).");
ABSL_FLAG(int, max_batch_events, 10000,
          "Most events in one RecordEvents call or IngestEvents message.");
ABSL_FLAG(int, max_message_bytes, 16 << 20,
          "Largest request message accepted, in bytes.");
ABSL_FLAG(int, max_id_bytes, 128,
          "Longest event_id and customer_id accepted, 1 to 1024 bytes.");
ABSL_FLAG(int, max_workspace_bytes, 64,
          "Longest workspace name accepted, 1 to 256 characters.");
ABSL_FLAG(int, max_channel_bytes, 64,
          "Longest channel slug accepted, 1 to 256 characters.");
ABSL_FLAG(int, max_campaign_bytes, 256,
          "Longest campaign name accepted, 0 to 4096 bytes.");
ABSL_FLAG(int, max_concurrent_streams, 64,
          "IngestEvents streams open at once; one more is refused with "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int, max_streams_per_key, 16,
          "IngestEvents streams one API key may hold open at once.");
ABSL_FLAG(int, max_streams_per_workspace, 32,
          "IngestEvents streams open at once into one workspace (counted by "
          "the workspace of a stream's first batch).");
ABSL_FLAG(absl::Duration, stream_idle_timeout, absl::Seconds(60),
          "An IngestEvents stream that receives nothing for this long, with "
          "nothing of it pending, ends with DEADLINE_EXCEEDED. 0: never.");
ABSL_FLAG(int, query_workers, 2,
          "Queries (attribution, reports, backups) run at once; more wait "
          "their turn. They run at a lower CPU priority than ingest and "
          "journey reads.");
ABSL_FLAG(bool, allow_empty_key_file, false,
          "Accept a key file with no keys (every call is then refused). "
          "Without it, an empty file at start is an error and on SIGHUP the "
          "old keys are kept.");
ABSL_FLAG(int, query_threads, 2,
          "Threads one attribution query scans customers and solves Markov "
          "removals with.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:9464",
          "Admin HTTP endpoint: /metrics (Prometheus), /healthz, /readyz. No "
          "key is asked there, so it serves figures only, never workspace "
          "data; keep it on loopback or a private network. Empty: off.");
ABSL_FLAG(std::string, config, "",
          "A file of flags, one --flag=value a line (# starts a comment), as "
          "abseil's --flagfile; flags given after it on the command line win. "
          "The systemd unit and the container start the server with one.");
ABSL_FLAG(bool, request_log, true,
          "Write one line per call to stderr: time, method, workspace, status "
          "code, duration, peer and the API key's id (never the key). Denied "
          "calls at most 10 a second.");
ABSL_FLAG(std::string, log_format, "text",
          "Request log lines: 'text' (key=value) or 'json' (one object a "
          "line).");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of the server. With --tls_key_file, serve "
          "TLS only.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of the server.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle: when set, clients must present a certificate it "
          "signed (mutual TLS).");
ABSL_FLAG(bool, allow_plaintext_remote, false,
          "Without TLS the server listens only on a loopback address unless "
          "this is set.");
ABSL_FLAG(std::string, auth, "keys",
          "'keys': every call needs an API key from --api_keys_file. 'off': "
          "no authentication, for local development only.");
ABSL_FLAG(std::string, api_keys_file, "",
          "API keys (hashes, workspaces, roles; see README). Reloaded on "
          "SIGHUP.");
ABSL_FLAG(std::string, backup_root, "",
          "Folder CreateBackup writes backups into (one subfolder each). "
          "Empty: backups are disabled.");
ABSL_FLAG(std::string, restore_from, "",
          "Before opening, copy this backup into --data_dir, which must be "
          "missing or empty.");
ABSL_FLAG(int, shutdown_grace_seconds, 10,
          "On SIGTERM, how long in-flight calls may take before they are "
          "cancelled.");

namespace attribution {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Reads and parses the key file. Errors name the file.
absl::StatusOr<api::KeyRing> LoadKeys(const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  return api::KeyRing::Parse(text);
}

// True if every address `host` resolves to is in 127.0.0.0/8 or is ::1. A
// name is resolved, not read: "127.evil.example" is whatever it resolves to.
bool IsLoopback(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return false;  // ":port" listens on every interface.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  bool all_loopback = found != nullptr;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      all_loopback &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      all_loopback &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) != 0;
    } else {
      all_loopback = false;
    }
  }
  freeaddrinfo(found);
  return all_loopback;
}

// TLS credentials from the flags, plaintext ones when no certificate is
// given. Null (with a message on stderr) on a bad combination.
std::shared_ptr<grpc::ServerCredentials> Credentials(const std::string& host,
                                                     std::string* mode) {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  const std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (cert.empty() != key.empty()) {
    std::cerr << "attributiond: --tls_cert_file and --tls_key_file go "
                 "together\n";
    return nullptr;
  }
  if (cert.empty()) {
    if (!client_ca.empty()) {
      std::cerr << "attributiond: --tls_client_ca_file needs TLS "
                   "(--tls_cert_file, --tls_key_file)\n";
      return nullptr;
    }
    if (!IsLoopback(host) && !absl::GetFlag(FLAGS_allow_plaintext_remote)) {
      std::cerr << "attributiond: refusing plaintext on " << host
                << ": give --tls_cert_file and --tls_key_file, listen on a "
                   "loopback address, or pass --allow_plaintext_remote\n";
      return nullptr;
    }
    *mode = IsLoopback(host) ? "plaintext, loopback only"
                             : "PLAINTEXT ON A NON-LOOPBACK ADDRESS "
                               "(--allow_plaintext_remote)";
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      client_ca.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (!ReadFile(cert, &pair.cert_chain) || !ReadFile(key, &pair.private_key) ||
      (!client_ca.empty() && !ReadFile(client_ca, &options.pem_root_certs))) {
    std::cerr << "attributiond: cannot read a TLS file\n";
    return nullptr;
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  *mode =
      client_ca.empty() ? "TLS" : "mutual TLS (client certificates required)";
  return grpc::SslServerCredentials(options);
}

int Run() {
  // Signals are taken by sigwait below; block them before any thread starts
  // so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StorageOptions storage;
  storage.path = absl::GetFlag(FLAGS_data_dir);
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  if (log_format != "text" && log_format != "json") {
    std::cerr << "attributiond: --log_format must be 'text' or 'json'\n";
    return 2;
  }
  const std::string durability = absl::GetFlag(FLAGS_durability);
  if (durability == "process") {
    storage.durability = Durability::kProcessCrash;
  } else if (durability == "machine") {
    storage.durability = Durability::kMachineCrash;
  } else {
    std::cerr << "attributiond: --durability must be 'process' or 'machine'\n";
    return 2;
  }
  const int max_batch = absl::GetFlag(FLAGS_max_batch_events);
  const int max_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  StringLimits limits;
  const int id_bytes = absl::GetFlag(FLAGS_max_id_bytes);
  const int workspace_bytes = absl::GetFlag(FLAGS_max_workspace_bytes);
  const int channel_bytes = absl::GetFlag(FLAGS_max_channel_bytes);
  const int campaign_bytes = absl::GetFlag(FLAGS_max_campaign_bytes);
  if (id_bytes < 1 || id_bytes > 1024 || workspace_bytes < 1 ||
      workspace_bytes > 256 || channel_bytes < 1 || channel_bytes > 256 ||
      campaign_bytes < 0 || campaign_bytes > 4096) {
    std::cerr << "attributiond: a --max_*_bytes string limit is out of its "
                 "range (see --help)\n";
    return 2;
  }
  limits.id = static_cast<size_t>(id_bytes);
  limits.workspace = static_cast<size_t>(workspace_bytes);
  limits.channel = static_cast<size_t>(channel_bytes);
  limits.campaign = static_cast<size_t>(campaign_bytes);
  SetStringLimits(limits);  // Before anything validates.
  const int query_threads = absl::GetFlag(FLAGS_query_threads);
  if (query_threads < 1 || query_threads > 64) {
    std::cerr << "attributiond: --query_threads must be 1 to 64\n";
    return 2;
  }
  if (max_batch < 1 || max_bytes < 1024) {
    std::cerr << "attributiond: --max_batch_events must be >= 1 and "
                 "--max_message_bytes >= 1024\n";
    return 2;
  }

  const std::string auth = absl::GetFlag(FLAGS_auth);
  const std::string keys_file = absl::GetFlag(FLAGS_api_keys_file);
  absl::StatusOr<api::KeyRing> keys = api::KeyRing();
  if (auth == "keys") {
    if (keys_file.empty()) {
      std::cerr << "attributiond: give --api_keys_file, or --auth=off for "
                   "local development\n";
      return 2;
    }
    keys = LoadKeys(keys_file);
    if (!keys.ok()) {
      std::cerr << "attributiond: " << keys.status() << "\n";
      return 2;
    }
    if (keys->size() == 0 && !absl::GetFlag(FLAGS_allow_empty_key_file)) {
      std::cerr << "attributiond: " << keys_file
                << " holds no API keys, so every call would be refused; add "
                   "a key or pass --allow_empty_key_file\n";
      return 2;
    }
  } else if (auth != "off") {
    std::cerr << "attributiond: --auth must be 'keys' or 'off'\n";
    return 2;
  }
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::string mode;
  std::shared_ptr<grpc::ServerCredentials> credentials =
      Credentials(host, &mode);
  if (credentials == nullptr) return 2;

  if (const std::string from = absl::GetFlag(FLAGS_restore_from);
      !from.empty()) {
    if (absl::Status s = RestoreBackup(from, storage.path); !s.ok()) {
      std::cerr << "attributiond: cannot restore: " << s << "\n";
      return 2;
    }
    std::cerr << "attributiond: restored " << from << " into " << storage.path
              << "\n";
  }

  RealClock clock;
  const absl::Time started = clock.Now();
  // The admin endpoint comes up first, so that /healthz answers and /readyz
  // says "not ready" while the index loads.
  // Static: the endpoint's threads may read them until the process exits.
  static std::atomic<bool> ready{false};
  static std::atomic<RocksDbEventStore*> scraped_store{nullptr};
  static std::atomic<api::AttributionServiceImpl*> scraped_service{nullptr};
  // Without the endpoint nothing is counted either.
  const std::string admin_listen = absl::GetFlag(FLAGS_admin_listen);
  auto metrics =
      admin_listen.empty() ? nullptr : std::make_shared<api::ServerMetrics>();
  auto scraped = std::make_shared<api::ScrapedFigures>([started] {
    return api::ServerFigures(started, ready.load(), scraped_service.load(),
                              scraped_store.load());
  });
  std::unique_ptr<api::AdminEndpoint> admin;
  if (const std::string& a = admin_listen; !a.empty()) {
    auto started_admin = api::AdminEndpoint::Start(
        a, {metrics->registry(), scraped}, &ready, [] {
          RocksDbEventStore* st = scraped_store.load();
          return st != nullptr && st->Writable().ok();
        });
    if (!started_admin.ok()) {
      std::cerr << "attributiond: " << started_admin.status().message() << "\n";
      return 1;
    }
    admin = *std::move(started_admin);
    std::cerr << "attributiond: admin endpoint (metrics, healthz, readyz) on "
              << a.substr(0, a.rfind(':')) << ":" << admin->port() << "\n";
  }
  const absl::Time open_start = clock.Now();
  absl::StatusOr<std::unique_ptr<RocksDbEventStore>> store =
      RocksDbEventStore::Open(storage);
  if (!store.ok()) {
    std::cerr << "attributiond: cannot open " << storage.path << ": "
              << store.status() << "\n";
    return 1;
  }
  std::cerr << "attributiond: opened " << storage.path
            << " and rebuilt the journey index in "
            << absl::FormatDuration(clock.Now() - open_start) << "\n";

  api::ServiceOptions service_options;
  service_options.max_batch_events = static_cast<size_t>(max_batch);
  service_options.query_threads = query_threads;
  service_options.auth_enabled = auth == "keys";
  service_options.durability = durability;
  service_options.tls = !absl::GetFlag(FLAGS_tls_cert_file).empty();
  service_options.metrics = metrics.get();
  service_options.max_concurrent_streams =
      std::max(1, absl::GetFlag(FLAGS_max_concurrent_streams));
  service_options.max_streams_per_key =
      std::max(1, absl::GetFlag(FLAGS_max_streams_per_key));
  service_options.max_streams_per_workspace =
      std::max(1, absl::GetFlag(FLAGS_max_streams_per_workspace));
  service_options.stream_idle_timeout =
      absl::GetFlag(FLAGS_stream_idle_timeout);
  service_options.query_workers = absl::GetFlag(FLAGS_query_workers);
  if (service_options.query_workers < 1 || service_options.query_workers > 64) {
    std::cerr << "attributiond: --query_workers must be 1 to 64\n";
    return 2;
  }
  if (const std::string root = absl::GetFlag(FLAGS_backup_root);
      !root.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    // A backup killed mid-way leaves its private staging folder behind.
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      if (entry.path().filename().string().rfind("~staging-", 0) == 0) {
        std::filesystem::remove_all(entry.path(), ec);
      }
    }
    service_options.backup_root = std::filesystem::absolute(root, ec).string();
  }
  api::WorkspaceSettingsStore settings(**store);
  api::AttributionServiceImpl service(**store, clock, service_options,
                                      &settings);
  service.SetKeys(*std::move(keys));
  api::ReportServiceImpl reports(**store, clock, settings, service,
                                 service_options);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  builder.SetMaxReceiveMessageSize(max_bytes);
  // gRPC turns SO_REUSEPORT on by default, and then a second server on the
  // same port starts too and the kernel splits connections between them.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&service);
  builder.RegisterService(&reports);
  {
    // One interceptor sees every call: the request log and the metrics.
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(std::make_unique<api::RequestLogInterceptorFactory>(
        absl::GetFlag(FLAGS_request_log) ? std::make_shared<api::RequestLog>(
                                               &std::cerr, log_format == "json")
                                         : nullptr,
        metrics));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "attributiond: cannot listen on "
              << absl::GetFlag(FLAGS_listen)
              << ": the port is in use (another server?) or the address is "
                 "not this machine's\n";
    return 1;
  }
  scraped_store = store->get();
  scraped_service = &service;
  ready = true;
  // Tests and scripts read this line to learn the port.
  std::cout << "attributiond listening on " << host << ":" << port << std::endl;
  std::cerr << "attributiond: version " << kVersion << " (" << kBuildType
            << ")\n";
  std::cerr << "attributiond: " << mode << "; data " << storage.path
            << ", durability " << durability << ", max batch " << max_batch
            << " events, max "
            << "message " << max_bytes << " bytes\n";

  std::cerr << "attributiond: "
            << (auth == "keys"
                    ? absl::StrCat(
                          "API keys required (",
                          service_options.auth_enabled ? keys_file : "", ")")
                    : std::string(
                          "AUTHENTICATION OFF (--auth=off, local development)"))
            << "\n";
  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    if (auth != "keys") continue;
    absl::StatusOr<api::KeyRing> reloaded = LoadKeys(keys_file);
    if (!reloaded.ok()) {
      std::cerr << "attributiond: SIGHUP: keeping the old keys: "
                << reloaded.status() << "\n";
      continue;
    }
    if (reloaded->size() == 0 && !absl::GetFlag(FLAGS_allow_empty_key_file)) {
      // Most likely a file caught half-written, or truncated by mistake.
      std::cerr << "attributiond: SIGHUP: keeping the old keys: " << keys_file
                << " holds no API keys (--allow_empty_key_file accepts "
                   "that)\n";
      continue;
    }
    std::cerr << "attributiond: SIGHUP: loaded " << reloaded->size()
              << " API keys\n";
    service.SetKeys(*std::move(reloaded));
  }
  std::cerr << "attributiond: signal " << sig << ", draining calls\n";
  ready = false;
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(
      std::chrono::system_clock::now() +
      std::chrono::seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->Wait();
  scraped_service = nullptr;
  scraped_store = nullptr;
  // Not stopped: civetweb's stop waits out its threads' poll timeouts
  // (about 1.5 s) and the process is about to exit anyway. Kept reachable
  // from a static, so leak checkers see no leak.
  static api::AdminEndpoint* const left_to_exit = admin.release();
  (void)left_to_exit;
  if (absl::Status s = (*store)->Flush(); !s.ok()) {
    std::cerr << "attributiond: flush at shutdown failed: " << s << "\n";
    return 1;
  }
  std::cerr << "attributiond: stopped cleanly\n";
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  // glibc gives each thread that allocates at once an arena of its own, up
  // to 8 per core, and keeps up to 64 MB free at the top of each. Markov
  // orders 3 and 4, Shapley and all eight models by campaign over 1M
  // customers left the server at 1.53-1.76 GiB resident (peak 1.80-1.90
  // GiB; 0.6 GiB before them); with 4 arenas, at 0.98-1.15 GiB (peak
  // 1.18-1.19 GiB), the queries' times within the noise (README "Memory").
  // MALLOC_ARENA_MAX in the environment overrides it.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
  absl::SetProgramUsageMessage(
      "the attribution service: stores customer journeys in RocksDB and "
      "answers attribution and report calls over gRPC.\n\nusage: attributiond "
      "[--listen=HOST:PORT] [--data_dir=DIR] [--durability=process|machine] "
      "[flags]\nFlags may be written --flag=value or --flag value.");
  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--version") {
      std::cout << "attributiond " << attribution::kVersion << " ("
                << attribution::kBuildType << ")\n";
      return 0;
    }
    // --help lists every flag of the server and exits 0 (absl's own lists
    // only the flags of a file named like the binary: none).
    const absl::string_view a = argv[i];
    if (a == "-h" || a == "--help" || a == "-help" || a == "--helpfull") {
      std::cout << "attributiond: " << absl::ProgramUsageMessage()
                << "\n\nflags:\n";
      std::vector<const absl::CommandLineFlag*> flags;
      for (const auto& [name, flag] : absl::GetAllFlags()) {
        if (absl::StrContains(flag->Filename(), "service/")) {
          flags.push_back(flag);
        }
      }
      std::sort(flags.begin(), flags.end(), [](const auto* x, const auto* y) {
        return x->Name() < y->Name();
      });
      for (const absl::CommandLineFlag* f : flags) {
        std::cout << "  --" << f->Name() << "=" << f->DefaultValue()
                  << "\n      " << f->Help() << "\n";
      }
      return 0;
    }
  }
  // --config FILE is abseil's --flagfile: one --flag=value a line, # for
  // comments; flags on the command line after it override it.
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      args[i] = "--flagfile=" + args[i + 1];
      args.erase(args.begin() + static_cast<long>(i) + 1);
    } else if (absl::StartsWith(args[i], "--config=")) {
      args[i] = "--flagfile=" + args[i].substr(strlen("--config="));
    }
  }
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(raw.size()), raw.data());
  return attribution::Run();
}
